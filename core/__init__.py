"""Bottom layer shared by every app: tenancy, the error shape, request context, encryption."""
