"""Tenants and who belongs to them.

Every object a user can reach is scoped to a tenant. A user belongs to exactly
one tenant through a Membership; staff may act across tenants only where a
service says so explicitly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Tenant(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    """A user's place in a tenant. Members reach their own objects; tenant admins every
    object of their tenant (see docs/security.md)."""

    class Role(models.TextChoices):
        MEMBER = "member"
        ADMIN = "admin", "tenant admin"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    def __str__(self) -> str:
        return f"{self.user_id}@{self.tenant_id}"
