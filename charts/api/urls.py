from django.urls import path

from charts.api import views

urlpatterns = [
    path("embed/chart/<uuid:chart_id>", views.ChartEmbedApi.as_view(), name="embed-chart"),
]
