"""Model factories shared by every app's tests."""

from __future__ import annotations

from typing import Any, cast

import factory
from django.contrib.auth import get_user_model

from core.models import Membership, Tenant


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


class UserFactory(factory.django.DjangoModelFactory):
    """A user with a membership in `tenant` (a new tenant unless given)."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-123")

    @factory.post_generation
    def tenant(obj: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create:
            return
        Membership.objects.update_or_create(
            user_id=obj.pk,
            defaults={
                "tenant": cast(Tenant, extracted or TenantFactory()),
                "role": kwargs.get("role", Membership.Role.MEMBER),
            },
        )
        obj.save()
