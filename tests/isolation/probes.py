"""The kinds of isolation probe: how a route answers the owner's colleagues and other tenants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # formatted with the world's ids
    data: dict[str, Any] | None = None
    format: str = "json"


@dataclass(frozen=True)
class Owned:
    """Names an object of the owner's: another member and another tenant get `member` and
    `stranger` (404 unless said otherwise), and never the secret."""

    call: Call
    member: frozenset[int] = frozenset({404})
    stranger: frozenset[int] = frozenset({404})
    why: str = ""

    def expected(self, *, same_tenant: bool) -> frozenset[int]:
        return self.member if same_tenant else self.stranger


@dataclass(frozen=True)
class Mine:
    """Lists, searches or creates the caller's own objects: the answer holds nothing of the owner's."""

    call: Call
    status: frozenset[int] = frozenset({200})

    def expected(self, *, same_tenant: bool) -> frozenset[int]:
        return self.status


@dataclass(frozen=True)
class TenantWide:
    """The whole tenant's by design (docs/security.md): the owner's colleagues may see it,
    another tenant gets `stranger` and never the tenant's mark or the owner's secret."""

    call: Call
    stranger: frozenset[int] = frozenset({200})

    def expected(self, *, same_tenant: bool) -> frozenset[int]:
        return frozenset({200}) if same_tenant else self.stranger


@dataclass(frozen=True)
class NoTenantData:
    """Serves nothing of any tenant (the login page, the API schema)."""

    call: Call
    why: str
    status: frozenset[int] = frozenset(range(200, 500))

    def expected(self, *, same_tenant: bool) -> frozenset[int]:
        return self.status


Probe = Owned | Mine | TenantWide | NoTenantData
