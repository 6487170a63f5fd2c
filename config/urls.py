"""URL routing: the admin, the REST API under /api/, its docs, and the chat UI."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.views import HealthApi

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/health", HealthApi.as_view(), name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("agents.api.urls")),
    path("api/", include("observability.api.urls")),
    path("api/", include("chat.api.urls")),
    path("api/", include("evals.api.urls")),
    path("api/", include("workflows.api.urls")),
    path("api/", include("charts.api.urls")),
    path("api/memory/", include("memory.api.urls")),
    path("api/storage/", include("storage_kit.api.urls")),
    path("", include("chat.urls")),
]

# Outside DEBUG Django renders these; under /api/ they answer the JSON error shape.
handler400 = "core.api.middleware.bad_request"
handler403 = "core.api.middleware.permission_denied"
handler404 = "core.api.middleware.page_not_found"
handler500 = "core.api.middleware.server_error"
