"""Whom scoring works for: the tenant and owner of the experiment or live scoring being scored,
so the judge's trace belongs to them (`scoring_for` around the scorers' calls)."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class ScoringOwner:
    tenant_id: int | None = None
    owner_id: int | None = None


_NOBODY = ScoringOwner()
_owner: contextvars.ContextVar[ScoringOwner] = contextvars.ContextVar("evals_scoring", default=_NOBODY)


@contextmanager
def scoring_for(*, tenant_id: int | None, owner_id: int | None) -> Iterator[None]:
    token = _owner.set(ScoringOwner(tenant_id=tenant_id, owner_id=owner_id))
    try:
        yield
    finally:
        _owner.reset(token)


def scoring_owner() -> ScoringOwner:
    return _owner.get()
