"""Workflows on real Celery workers: per-step overhead against a chain of bare Celery tasks,
and 500 concurrent runs on 2 workers with every step counted from the journal.

    REDIS_URL=redis://127.0.0.1:6379/N .venv/bin/python bench/workflows.py

Starts its own worker processes (`celery -A config worker`) on the product settings.
"""

from __future__ import annotations

import os

os.environ.setdefault("WORKFLOW_MODULES", "workflows.examples.research,bench.workflow_defs")
os.environ.setdefault("WORKFLOW_INLINE_WAIT_S", "2")
# A worker process loads the embedder in a background thread when it starts; no workflow here
# embeds anything, and that load (seconds of CPU) would land in the first rounds' timings.
os.environ.setdefault("EMBEDDER_PRELOAD", "false")

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from celery import chain
from django.db import connections
from django.db.models import Count

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import machine  # noqa: E402 - sets Django up before the platform is imported
from bench.workflow_defs import inc_task  # noqa: E402
from core.access import Actor  # noqa: E402
from core.tenancy import tenant_get_or_create  # noqa: E402
from workflows.models import StepAttempt, WorkflowRun  # noqa: E402
from workflows.services import run_start  # noqa: E402
from workflows.sweeps import runs_sweep  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
CONCURRENT = int(os.environ.get("BENCH_CONCURRENT_RUNS", "500"))


def worker(name: str, concurrency: int) -> subprocess.Popen[bytes]:
    log = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")[1])
    process = subprocess.Popen(  # noqa: S603 - our own app
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING",
         f"--concurrency={concurrency}", "--pool=prefork", "--without-gossip", "--without-mingle",
         "--without-heartbeat", f"--hostname={name}-{os.getpid()}@bench"],
        env={**os.environ}, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # warm: a bare task answers once the pool is up
        try:
            inc_task.apply_async((0,)).get(timeout=5)
            return process
        except Exception:
            time.sleep(0.5)
    raise RuntimeError(f"worker {name} did not start: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, 15)
    process.wait(30)


def wait_done(run_ids: list[Any], timeout_s: float) -> float:
    start = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        left = WorkflowRun.objects.filter(pk__in=run_ids).exclude(status__in=WorkflowRun.TERMINAL).count()
        if not left:
            return time.perf_counter() - start
        time.sleep(0.002 if len(run_ids) == 1 else 0.2)
    raise RuntimeError("runs did not finish in time")


def one_workflow(actor: Actor) -> float:
    start = time.perf_counter()
    run = run_start(actor=actor, workflow_id="bench-ten", input_data={"value": 0})
    wait_done([run.pk], 60)
    elapsed = time.perf_counter() - start
    run.refresh_from_db()
    assert run.output == {"value": 10}, run.error
    return elapsed


def one_chain() -> float:
    start = time.perf_counter()
    result = chain(inc_task.s(0), *[inc_task.s() for _ in range(9)]).apply_async()
    assert result.get(timeout=60, interval=0.002) == 10
    return time.perf_counter() - start


class Sweeper(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            runs_sweep()
        connections.close_all()


def main() -> None:
    tenant = tenant_get_or_create(slug="bench-workflows", name="Bench workflows")
    actor = Actor(tenant_id=tenant.pk, user_id=None, is_tenant_admin=True)
    print(f"machine: {machine()}, load {os.getloadavg()[0]:.1f}")
    single = worker("one", 1)
    try:
        for _ in range(3):
            one_workflow(actor), one_chain()
        flows, chains = [], []
        for _ in range(ROUNDS):  # interleaved, so drift of the machine hits both alike
            flows.append(one_workflow(actor))
            chains.append(one_chain())
        flow_ms, chain_ms = statistics.median(flows) * 1000, statistics.median(chains) * 1000
        print(f"10-step workflow: median {flow_ms:.1f} ms ({flow_ms / 10:.2f} ms a step)")
        print(f"chain of 10 bare Celery tasks: median {chain_ms:.1f} ms ({chain_ms / 10:.2f} ms a task)")
        print(f"ratio: {flow_ms / chain_ms:.2f}x")
    finally:
        stop(single)

    pair = [worker("a", 2), worker("b", 2)]
    sweeper = Sweeper()
    sweeper.start()
    try:
        start = time.perf_counter()
        runs = [
            run_start(actor=actor, workflow_id="bench-three", input_data={"value": i}).pk
            for i in range(CONCURRENT)
        ]
        wait_done(runs, 600)
        wall = time.perf_counter() - start
    finally:
        sweeper.stopped.set()
        for process in pair:
            stop(process)
    statuses = dict(WorkflowRun.objects.filter(pk__in=runs).values_list("status").annotate(n=Count("pk")))
    per_step = (
        StepAttempt.objects.filter(run_id__in=runs, status="success")
        .values("run_id", "path")
        .annotate(n=Count("pk"))
    )
    twice = sum(1 for row in per_step if row["n"] != 1)
    executions = StepAttempt.objects.filter(run_id__in=runs).exclude(status="carried").count()
    wrong = sum(
        1
        for run_id, output, value in WorkflowRun.objects.filter(pk__in=runs).values_list(
            "pk", "output", "input__value"
        )
        if output != {"value": value + 3}
    )
    print(
        f"{CONCURRENT} runs of 3 steps on 2 workers: {wall:.1f} s ({CONCURRENT / wall:.0f} runs/s); "
        f"statuses {statuses}; completed step paths {len(per_step)} (expected {3 * CONCURRENT}), "
        f"completed twice {twice}, step executions {executions}, wrong outputs {wrong}"
    )


if __name__ == "__main__":
    main()
