"""Token authentication that reads the user's tenant in the same query.

Every API view asks for the caller's tenant (`core.tenancy.tenant_for_user`) right after
authenticating; DRF's `TokenAuthentication` reads the token and user, then the tenancy
read the membership in a second round trip. Here the token, the user, the membership and
the tenant come in one statement, and `tenant_for_user` uses them for this request's user.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

# Set on a user whose membership (or its absence) was read with the token, in this request.
MEMBERSHIP_READ = "_membership_read_with_token"


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        model: Any = self.get_model()
        try:
            token = model.objects.select_related("user", "user__membership__tenant").get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        setattr(token.user, MEMBERSHIP_READ, True)
        return (token.user, token)
