from django.urls import path

from observability.api.views import TraceDetailApi

urlpatterns = [
    path("traces/<uuid:trace_id>", TraceDetailApi.as_view(), name="trace-detail"),
]
