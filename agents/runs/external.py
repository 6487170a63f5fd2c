"""Runs that stand in for another engine's wait, so its approvals go through this service.

A workflow's approval step (`workflows.approvals`) stores an agent `Run` with status
`suspended` and one approval `ToolCallGate`, marked in `Run.state` as `{"external": {"kind":
..., ...}}`. Such a gate is listed, approved, declined, expired and cancelled exactly like a
tool call's (admin pending approvals, REST approve/decline, the chat's approval cards, the
409 on a second decision, the owner/tenant-admin rule), but a decision does not continue an
agent loop: the handler registered for its kind is called in the deciding transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.models import Run, ToolCallGate


@dataclass(frozen=True)
class ExternalHandler:
    # (carrier run, decided gate, deciding user id): the gate's decision was just stored.
    decided: Callable[[Run, ToolCallGate, int | None], None]
    # (carrier run, gate status, reason): the carrier ended undecided (expired, cancelled, superseded).
    ended: Callable[[Run, str, str], None]


_handlers: dict[str, ExternalHandler] = {}


def external_register(kind: str, handler: ExternalHandler) -> None:
    _handlers[kind] = handler


def external_of(run: Run) -> ExternalHandler | None:
    """The handler of a carrier run; None for an agent's own run."""
    state: Any = run.state
    marker = state.get("external") if isinstance(state, dict) else None
    if not isinstance(marker, dict):
        return None
    return _handlers.get(str(marker.get("kind")))
