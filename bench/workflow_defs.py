"""The workflows and the bare Celery task `bench/workflows.py` measures (imported by its
workers through WORKFLOW_MODULES)."""

from __future__ import annotations

from celery import shared_task
from pydantic import BaseModel

from workflows.context import StepContext
from workflows.definition import Workflow, step


class N(BaseModel):
    value: int


def work(value: int) -> int:
    """The same trivial work in both: one addition."""
    return value + 1


@step(id="inc", input=N, output=N)
def inc(data: N, ctx: StepContext) -> N:
    return N(value=work(data.value))


ten = Workflow(id="bench-ten", input=N, output=N)
for _ in range(10):
    ten.then(inc)
ten.commit()
three = Workflow(id="bench-three", input=N, output=N).then(inc).then(inc).then(inc).commit()


@shared_task(name="bench.inc")
def inc_task(value: int) -> int:
    return work(value)
