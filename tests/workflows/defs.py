"""Workflows the tests run, registered in every test process and test worker
(`WORKFLOW_MODULES`). Steps that matter record each execution in `wf_test_effects`, a table
of committed side effects that a killed worker cannot take back."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection
from django.utils import timezone
from pydantic import BaseModel

from workflows.context import StepContext
from workflows.definition import RetryPolicy, Workflow, step
from workflows.steps import AgentAnswer, Approval, agent_step, approval_step

EFFECTS_DDL = (
    "CREATE TABLE IF NOT EXISTS wf_test_effects (id bigserial PRIMARY KEY, run_id text, path text, "
    "label text, pid int, at timestamptz DEFAULT now())"
)


def effect(ctx: StepContext, label: str = "") -> None:
    with connection.cursor() as cursor:
        cursor.execute(EFFECTS_DDL)
        cursor.execute(
            "INSERT INTO wf_test_effects (run_id, path, label, pid) VALUES (%s, %s, %s, %s)",
            [str(ctx.run_id), ctx.path, label, os.getpid()],
        )


def effects(run_id: Any) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(EFFECTS_DDL)
        cursor.execute("SELECT path, label FROM wf_test_effects WHERE run_id = %s ORDER BY id", [str(run_id)])
        return [(p, label) for p, label in cursor.fetchall()]


class N(BaseModel):
    value: int


class Items(BaseModel):
    values: list[int]


class Question(BaseModel):
    question: str


class Answer(BaseModel):
    answer: int


class Flaky(Exception):
    pass


class Fatal(Exception):
    pass


@step(id="add-one", input=N, output=N)
def add_one(data: N, ctx: StepContext) -> N:
    effect(ctx)
    return N(value=data.value + 1)


@step(id="double", input=N, output=N)
async def double(data: N, ctx: StepContext) -> N:
    await sync_to_async(effect)(ctx)
    return N(value=data.value * 2)


@step(id="remember", input=N, output=N)
def remember(data: N, ctx: StepContext) -> N:
    ctx.set_state(seen=[*ctx.state.get("seen", []), data.value])
    ctx.write({"remembered": data.value})
    return data


@step(id="flaky", input=N, output=N, retry=RetryPolicy(attempts=3, backoff_s=0.2, jitter=0.1))
def flaky(data: N, ctx: StepContext) -> N:
    effect(ctx, f"attempt-{ctx.attempt}")
    if ctx.attempt < 3:
        raise Flaky(f"failure {ctx.attempt}")
    return N(value=data.value + 100)


@step(id="broken", input=N, output=N, retry=RetryPolicy(attempts=2, backoff_s=0.1))
def broken(data: N, ctx: StepContext) -> N:
    effect(ctx)
    raise Flaky("always broken")


@step(id="fatal", input=N, output=N, retry=RetryPolicy(attempts=5, backoff_s=0.1, non_retryable=(Fatal,)))
def fatal(data: N, ctx: StepContext) -> N:
    effect(ctx)
    raise Fatal("not worth retrying")


@step(id="too-slow", input=N, output=N, timeout_s=0.3, retry=RetryPolicy(attempts=2, backoff_s=0.1))
def too_slow(data: N, ctx: StepContext) -> N:
    effect(ctx)
    time.sleep(2)
    return data


@step(id="ask", input=N, output=N, suspend_schema=Question, resume_schema=Answer)
def ask(data: N, ctx: StepContext) -> N:
    effect(ctx, "resumed" if ctx.resumed else "asked")
    if not ctx.resumed:
        ctx.suspend({"question": f"what to add to {data.value}?"})
    return N(value=data.value + ctx.resume_data.answer)


@step(id="ask-other", input=N, output=N, suspend_schema=Question, resume_schema=Answer)
def ask_other(data: N, ctx: StepContext) -> N:
    if not ctx.resumed:
        ctx.suspend({"question": "other?"})
    return N(value=data.value * ctx.resume_data.answer)


@step(id="slow", input=N, output=N, retry=RetryPolicy(attempts=3, backoff_s=0.1))
def slow(data: N, ctx: StepContext) -> N:
    effect(ctx, "start")
    time.sleep(float(os.environ.get("WF_TEST_SLOW_S", "0.2")))
    effect(ctx, "end")
    return N(value=data.value + 10)


@step(id="once", input=N, output=N, at_most_once=True)
def once(data: N, ctx: StepContext) -> N:
    effect(ctx, "start")
    time.sleep(float(os.environ.get("WF_TEST_SLOW_S", "0.2")))
    return data


@step(id="until-cancelled", input=N, output=N)
def until_cancelled(data: N, ctx: StepContext) -> N:
    effect(ctx, "start")
    deadline = time.monotonic() + 20
    while not ctx.cancelled and time.monotonic() < deadline:
        time.sleep(0.05)
    effect(ctx, "saw-cancel" if ctx.cancelled else "timeout")
    return data


def _merge(data: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {"value": sum(v["value"] for v in data.values())}


def _first(data: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return next(iter(data.values()))


def _to_items(data: dict[str, Any], ctx: Any) -> list[dict[str, Any]]:
    return [{"value": v} for v in data["values"]]


def _from_items(data: list[dict[str, Any]], ctx: Any) -> dict[str, Any]:
    return {"values": [d["value"] for d in data]}


def _soon(data: Any) -> Any:
    return timezone.now() + timedelta(seconds=0.2)


sequence = Workflow(id="t-sequence", input=N, output=N).then(add_one).then(double).then(add_one).commit()
parallel = Workflow(id="t-parallel", input=N, output=N).parallel([add_one, double]).map(_merge).commit()
branch = (
    Workflow(id="t-branch", input=N, output=N)
    .branch([(lambda d: d["value"] > 10, double), (lambda d: d["value"] <= 10, add_one)])
    .map(_first)
    .commit()
)
dountil = Workflow(id="t-dountil", input=N, output=N).dountil(add_one, lambda o: o["value"] >= 5).commit()
dowhile = Workflow(id="t-dowhile", input=N, output=N).dowhile(double, lambda o: o["value"] < 20).commit()
foreach = (
    Workflow(id="t-foreach", input=Items, output=Items)
    .map(_to_items, id="items")
    .foreach(double, concurrency=2)
    .map(_from_items, id="collect")
    .commit()
)
sleeps = (
    Workflow(id="t-sleep", input=N, output=N)
    .then(add_one)
    .sleep(0.2)
    .sleep_until(_soon)
    .then(add_one)
    .commit()
)
long_sleep = Workflow(id="t-long-sleep", input=N, output=N).sleep(1.5).then(add_one).commit()
child = Workflow(id="t-child", input=N, output=N).then(add_one).then(double)
nested = Workflow(id="t-nested", input=N, output=N).then(add_one).then(child).then(add_one).commit()
state = Workflow(id="t-state", input=N, output=N).then(remember).then(add_one).then(remember).commit()
retries = Workflow(id="t-retry", input=N, output=N).then(add_one).then(flaky).commit()
failing = Workflow(id="t-failing", input=N, output=N).then(add_one).then(broken).then(add_one).commit()
fatal_wf = Workflow(id="t-fatal", input=N, output=N).then(fatal).commit()
timeout_wf = Workflow(id="t-timeout", input=N, output=N).then(too_slow).commit()
suspend = Workflow(id="t-suspend", input=N, output=N).then(add_one).then(ask).then(add_one).commit()
parallel_suspend = (
    Workflow(id="t-parallel-suspend", input=N, output=N).parallel([ask, ask_other]).map(_merge).commit()
)
foreach_suspend = (
    Workflow(id="t-foreach-suspend", input=Items, output=Items)
    .map(_to_items, id="items")
    .foreach(ask, concurrency=3)
    .map(_from_items, id="collect")
    .commit()
)
crash = Workflow(id="t-crash", input=N, output=N).then(add_one).then(slow).then(add_one).commit()
at_most_once = Workflow(id="t-once", input=N, output=N).then(add_one).then(once).then(add_one).commit()
cancel_child = Workflow(id="t-cancel-child", input=N, output=N).then(until_cancelled).then(add_one)
cancel_nested = (
    Workflow(id="t-cancel-nested", input=N, output=N).then(add_one).then(cancel_child).then(add_one).commit()
)
versioned_v1 = Workflow(id="t-versioned", input=N, output=N, version="1").then(ask).then(add_one).commit()


def define_versioned_v2() -> Workflow:
    return Workflow(id="t-versioned", input=N, output=N, version="2").then(ask).then(double).commit()


if os.environ.get("WF_TEST_VERSIONED") == "2":
    define_versioned_v2()


class Text(BaseModel):
    text: str


@step(id="hold", input=Text, output=Text, suspend_schema=Question, resume_schema=Answer)
def hold(data: Text, ctx: StepContext) -> Text:
    if not ctx.resumed:
        ctx.suspend({"question": f"about {data.text}"})
    return data


held = Workflow(id="t-hold", input=Text, output=Text).then(hold).commit()


@step(id="big", input=Text, output=Text)
def big(data: Text, ctx: StepContext) -> Text:
    return Text(text=data.text * 300_000)


too_big = Workflow(id="t-big", input=Text, output=Text).then(big).commit()


class Verdict(BaseModel):
    approved: bool
    reason: str
    value: int


sign_off = approval_step(
    id="sign-off", input=N, question=lambda d: f"Sign off on {d.value}?", agent="t-approver"
)


@step(id="verdict", input=Approval, output=Verdict)
def verdict(data: Approval, ctx: StepContext) -> Verdict:
    return Verdict(approved=data.approved, reason=data.reason, value=int(data.data["value"]))


approve_wf = (
    Workflow(id="t-approve", input=N, output=Verdict).then(add_one).then(sign_off).then(verdict).commit()
)


slow_answer = agent_step(
    id="ask-agent",
    agent="t-slow",
    input=N,
    prompt=lambda d: f"Think about {d.value}.",
    retry=RetryPolicy(attempts=2, backoff_s=0.1),
)
agent_cancel = Workflow(id="t-agent-cancel", input=N, output=AgentAnswer).then(slow_answer).commit()


class Size(BaseModel):
    size: int


@step(id="measure", input=Text, output=Size)
def measure(data: Text, ctx: StepContext) -> Size:
    return Size(size=len(data.text))


big_then = Workflow(id="t-big-then", input=Text, output=Size).then(big).then(measure).commit()


@step(id="plus", input=N, output=N)
def plus(data: N, ctx: StepContext) -> N:
    """No side effect: what the engine costs per step is all there is to count."""
    return N(value=data.value + 1)


five = Workflow(id="t-five", input=N, output=N)
for _ in range(5):
    five.then(plus)
five.commit()
ten = Workflow(id="t-ten", input=N, output=N)
for _ in range(10):
    ten.then(plus)
ten.commit()
