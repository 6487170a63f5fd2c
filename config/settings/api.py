"""Django REST framework and the OpenAPI schema."""

from __future__ import annotations

from config.env import env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.TokenAuthentication",  # with the tenant, in one query
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    # Parsers that refuse NUL characters and lone surrogates in every value and key (a 400).
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",
        "core.api.parsers.FormParser",
        "core.api.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Pages hold at most this many results (`?limit=` above it is a 400).
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=500)
# Request bodies: uploads (multipart) up to API_MAX_UPLOAD_BYTES, everything else up to
# DATA_UPLOAD_MAX_MEMORY_SIZE; larger ones are answered 413 before they are read.
API_MAX_UPLOAD_BYTES = env.int("API_MAX_UPLOAD_BYTES", default=21 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=4 * 1024 * 1024)

SPECTACULAR_SETTINGS = {
    "TITLE": "Agent platform API",
    "DESCRIPTION": "Agents, tools, memory, runs, storage workspaces, forks and checkpoints, eval datasets and experiments, traces and health.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StorageRoleEnum": "storage_kit.models.Role",
        "ForkModeEnum": "storage_kit.models.ForkMode",
        "LifecycleEnum": "storage_kit.models.Lifecycle",
        "InputRoleEnum": ["user", "assistant", "system"],
    },
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}},
}
