"""One model call with retries (exponential backoff with jitter) and the fallback chain.

Every attempt is a `model` span. Retried: 429, 5xx, timeouts, connection
errors. Other provider errors (a rejected key, an unknown model) move straight
to the next model of the chain. When the chain is exhausted the caller gets
`ProviderUnavailable` (HTTP 502) naming each provider and what it answered.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import aclosing, contextmanager
from typing import Any

from django.conf import settings

from agents.providers import openai_client
from agents.providers.config import ModelRef, ProviderNotConfigured
from agents.providers.openai_client import RETRYABLE, ModelResponse, StreamDelta
from core.errors import PlatformError, UpstreamError
from observability.redaction import scrub_text
from observability.tracing import Span, Trace


class ProviderUnavailable(UpstreamError):
    code = "provider_unavailable"


class ModelNotFound(PlatformError):
    """Every model of the chain was refused by its provider as unknown (HTTP 404)."""

    code = "model_not_found"
    status = 404


def _describe(error: BaseException) -> str:
    status = openai_client.status_of(error)
    kind = type(error).__name__
    message = scrub_text(str(getattr(error, "message", "") or error))[:300]
    return f"HTTP {status}: {message}" if status else f"{kind}: {message}"


def _delay(attempt: int, error: BaseException) -> float:
    response = getattr(error, "response", None)
    retry_after = response.headers.get("retry-after") if response is not None else None
    if retry_after:
        try:
            return min(float(retry_after), 10.0)
        except ValueError:
            pass
    base: float = settings.MODEL_RETRY_BASE_DELAY_S
    return float(base * (2**attempt) * (0.5 + random.random()))  # noqa: S311 - jitter, not crypto


@contextmanager
def _attempt_span(trace: Trace, ref: ModelRef, attempt: int, fallback: int) -> Iterator[Span]:
    with trace.span(
        "model.call",
        kind="model",
        model=ref.id,
        provider=ref.provider,
        attempt=attempt + 1,
        fallback=fallback,
    ) as span:
        yield span


def _record(span: Span, response: ModelResponse) -> None:
    span.set(
        input_tokens=response.prompt_tokens,
        output_tokens=response.completion_tokens,
        finish_reason=response.finish_reason,
        latency_ms=round(span.duration_ms, 3),
    )


class _Chain:
    """Walks (model, attempt) pairs, decides what each failure means, collects them for the final error."""

    def __init__(self, chain: list[ModelRef]) -> None:
        self.chain = chain
        self.failures: list[dict[str, Any]] = []
        self._skip: ModelRef | None = None

    def attempts(self) -> Iterator[tuple[int, ModelRef, int]]:
        for fallback, ref in enumerate(self.chain):
            for attempt in range(settings.MODEL_MAX_RETRIES + 1):
                if ref is not self._skip:
                    yield fallback, ref, attempt

    def failed(self, ref: ModelRef, attempt: int, error: Exception, span: Span) -> float | None:
        """Record a failure on its span; the delay before retrying the same model, or None to move on."""
        if isinstance(error, ProviderNotConfigured):
            span.record_error(error.message)
            self.failures.append(
                {"model": ref.id, "attempt": 1, "error": error.message, "unconfigured": True}
            )
            self._skip = ref
            return None
        span.record_error(_describe(error))
        failure: dict[str, Any] = {"model": ref.id, "attempt": attempt + 1, "error": _describe(error)}
        if openai_client.status_of(error) == 404:
            failure["notFound"] = True
            if ref.requested:
                failure["requested"] = ref.requested
            failure["candidates"] = list(ref.candidates)
        self.failures.append(failure)
        if isinstance(error, RETRYABLE) and attempt < settings.MODEL_MAX_RETRIES:
            return _delay(attempt, error)
        self._skip = ref
        return None

    def exhausted(self) -> PlatformError:
        only_unconfigured = self.failures and all(f.get("unconfigured") for f in self.failures)
        if only_unconfigured:
            return ProviderNotConfigured(self.failures[0]["error"], details={"attempts": self.failures})
        if self.failures and all(f.get("notFound") for f in self.failures):
            return self._not_found()
        providers = ", ".join(dict.fromkeys(f["model"].split("/")[0] for f in self.failures))
        last = self.failures[-1]["error"] if self.failures else "no model configured"
        return ProviderUnavailable(
            f"Model provider {providers} failed after {len(self.failures)} attempt(s): {last}",
            details={"attempts": self.failures},
        )

    def _not_found(self) -> ModelNotFound:
        first = self.failures[0]
        closest = first.get("candidates") or []
        hint = f" Closest it lists: {', '.join(closest)}." if closest else ""
        return ModelNotFound(
            f"Provider {first['model'].split('/')[0]} has no model {first['model'].split('/', 1)[1]!r} "
            f"({first['error']}).{hint} GET /api/models lists what is deployed.",
            details={"model": first["model"], "candidates": closest, "attempts": self.failures},
        )


_FAILURES = (ProviderNotConfigured, *openai_client.ProviderError)


def call_sync(
    *, chain: list[ModelRef], request: dict[str, Any], trace: Trace
) -> tuple[ModelRef, ModelResponse]:
    walker = _Chain(chain)
    for fallback, ref, attempt in walker.attempts():
        with _attempt_span(trace, ref, attempt, fallback) as span:
            try:
                response = openai_client.complete_sync(ref, request)
            except _FAILURES as error:
                delay = walker.failed(ref, attempt, error, span)
                if delay is not None:
                    time.sleep(delay)
                continue
            _record(span, response)
            return ref, response
    raise walker.exhausted()


async def call_async(
    *, chain: list[ModelRef], request: dict[str, Any], trace: Trace
) -> tuple[ModelRef, ModelResponse]:
    walker = _Chain(chain)
    for fallback, ref, attempt in walker.attempts():
        with _attempt_span(trace, ref, attempt, fallback) as span:
            try:
                response = await openai_client.complete_async(ref, request)
            except _FAILURES as error:
                delay = walker.failed(ref, attempt, error, span)
                if delay is not None:
                    await asyncio.sleep(delay)
                continue
            _record(span, response)
            return ref, response
    raise walker.exhausted()


async def call_stream(
    *,
    chain: list[ModelRef],
    request: dict[str, Any],
    trace: Trace,
    on_first: Callable[[ModelRef], None] | None = None,
) -> AsyncGenerator[list[StreamDelta], None]:
    """Stream (batches of deltas) with retries and fallback until the first batch; after that a failure is final."""
    walker = _Chain(chain)
    for fallback, ref, attempt in walker.attempts():
        started = False
        with _attempt_span(trace, ref, attempt, fallback) as span:
            try:
                deltas = openai_client.stream_async(ref, request)
                async with aclosing(deltas):
                    async for batch in deltas:
                        if not started:
                            started = True
                            span.set(time_to_first_chunk_ms=round(span.duration_ms, 3))
                            if on_first is not None:
                                on_first(ref)
                        if batch[-1][0] == "done":
                            _record(span, batch[-1][1])
                        yield batch
                return
            except _FAILURES as error:
                if started:
                    span.record_error(_describe(error))
                    raise ProviderUnavailable(
                        f"Model provider {ref.provider} failed mid-stream: {_describe(error)}",
                        details={"model": ref.id},
                    ) from error
                delay = walker.failed(ref, attempt, error, span)
                if delay is not None:
                    await asyncio.sleep(delay)
                continue
    raise walker.exhausted()
