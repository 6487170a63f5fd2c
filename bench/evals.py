"""An eval experiment on real workers against the same model calls made directly with the SDK.

200 cases, three scorers (`contains`, `regex` and the model-judged `answer_relevancy`), run by
two real Celery worker processes (`celery -A config worker`, one case at a time each) through
the real runtime: each case is one agent model call and one judge call, its run, spans, result
and scores persisted. The direct side makes the same 400 calls (the agent's messages, then the
judge's prompt) with the `openai` SDK from two processes, 100 cases each. Both talk to the
scripted server in a process of its own, in the same run. The ratio is the experiment's wall
time over the direct side's: what the eval machinery costs per case on top of its model calls.

Fairness: the experiment's time runs from just before `experiment_start` to the `finished_at`
the worker that completed it wrote (same clock), and this process polls for it every 0.2 s,
so the wait itself neither adds a polling delay nor loads the two cores the workers share
(it polled every 10 ms before). The direct side's time is its slower process's loop, after the
same warm-up of connections the workers get. "Machinery" is everything the experiment does
besides the two model calls: the run through the runtime (its records and trace), the claim,
the scorers, the judge's trace, the result and scores, the Celery messages.

Counts: before the timed runs, a 20-case experiment is driven in this process through the
worker task's own function, with its Celery sends counted instead of sent, and every SQL
statement captured: statements (all, and the evals tables' own) and messages per case.

It runs at each model latency of BENCH_EVAL_DELAYS (seconds the scripted model waits before
answering; default "0,0.05"): 0 is an instant model, which no hosted model is.

Run: `.venv/bin/python bench/evals.py` (after `make migrate`; REDIS_URL names the broker).
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import machine  # noqa: I001 - sets Django up before the platform is imported

import openai
import redis
from django.conf import settings

from agents.services import agent_save, tools_sync
from core.access import Actor
from core.tenancy import tenant_get_or_create
from evals.models import Experiment, Score
from evals.scorers import CaseSpec, RunOutcome
from evals.scorers.judged import judge_messages
from evals.selectors import experiment_summary
from evals.services.datasets import dataset_import
from evals.services.experiments import experiment_start
from tests.fakes.openai_server import ChatReply
from tests.fakes.server_process import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
CASES = int(os.environ.get("BENCH_EVAL_CASES", "200"))
WORKERS = 2
DELAYS = [float(d) for d in os.environ.get("BENCH_EVAL_DELAYS", "0,0.05").split(",")]
KEY = "sk-bench-key-0000000"
INSTRUCTIONS = "You answer briefly."
# The one reply the scripted model gives: the agent's answer, and a verdict the judge parses.
ANSWER = '{"score": 0.9, "reason": "The answer addresses the question."}'
SCORERS = [
    {"scorer": "contains", "text": "score"},
    {"scorer": "regex", "pattern": r"\"reason\""},
    {"scorer": "answer_relevancy", "model": "bench/gpt-test"},
]


def _direct_worker(args: tuple[str, int, int]) -> float:
    """One direct-SDK process: for each of its cases, the agent's call and then the judge's."""
    base_url, start, count = args
    client: Any = openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0)
    for i in range(2):  # warm the connection
        client.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": f"warm {i}"}])
    began = time.perf_counter()
    for i in range(start, start + count):
        question = f"Question {i}: what is worth knowing?"
        messages = [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": question}]
        answer = client.chat.completions.create(model="gpt-test", messages=messages)
        case = CaseSpec.from_dict({"name": f"q{i}", "input_messages": [messages[1]]})
        run = RunOutcome(status="completed", text=answer.choices[0].message.content or "")
        judged = judge_messages("answer_relevancy", case=case, run=run, nonce="0123456789abcdef")
        client.chat.completions.create(model="gpt-test", messages=judged, temperature=0)
    return time.perf_counter() - began


def direct_seconds(base_url: str) -> float:
    """The wall time of the direct side: two processes, each timing its own loop."""
    share = CASES // WORKERS
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(WORKERS) as pool:
        times = pool.map(_direct_worker, [(base_url, w * share, share) for w in range(WORKERS)])
    return max(times)


def start_workers(base_url: str) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "MODEL_PROVIDERS": f"bench={base_url}|BENCH_KEY",
        "BENCH_KEY": KEY,
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
        # Nothing here embeds; a worker would otherwise load the embedder in a background
        # thread as it starts (seconds of CPU), inside the first experiment's timing.
        "EMBEDDER_PRELOAD": "false",
    }
    log = (ROOT / "var" / "bench-evals-workers.log").open("ab")
    workers = [
        subprocess.Popen(  # noqa: S603 - our own app, fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=WARNING",
                "--concurrency=1",
                "--pool=prefork",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=bench-evals-{n}@%h",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for n in range(WORKERS)
    ]
    return workers


def run_experiment(actor: Actor, dataset_id: int, *, only: str) -> tuple[float, Experiment]:
    """Start an experiment and wait for it: its wall time, from the start to the `finished_at`
    its last worker wrote."""
    began = datetime.now(UTC)
    experiment = experiment_start(
        actor=actor,
        dataset_id=dataset_id,
        agent_id="bench-evals",
        scorers=SCORERS,
        concurrency=WORKERS,
        exclude_tags=[tag for tag in ("main", "warm", "count") if tag != only],
    )
    while experiment.status != Experiment.Status.COMPLETED:
        time.sleep(0.2)
        experiment.refresh_from_db(fields=["status", "finished_at"])
    assert experiment.finished_at is not None
    return (experiment.finished_at - began).total_seconds(), experiment


def count_per_case(actor: Actor, dataset_id: int, cases: int) -> str:
    """SQL statements (all, and the evals tables' own) and Celery messages per case, counted in
    this process by driving the worker task's function with its sends captured."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from evals import tasks
    from evals.services import experiments

    sent: list[int] = []
    real = experiments._celery_enqueue
    experiments._celery_enqueue = sent.append  # type: ignore[assignment]  # counted, not sent
    try:
        experiment = experiment_start(
            actor=actor, dataset_id=dataset_id, agent_id="bench-evals", scorers=SCORERS, concurrency=1,
            exclude_tags=["main", "warm"],
        )  # fmt: skip
        sent.clear()  # experiment_start's own first message is not per case
        queue = [experiment.pk]
        messages = 0
        with CaptureQueriesContext(connection) as captured:
            while queue:
                tasks.experiment_step.run(queue.pop())
                messages += len(sent)
                queue.extend(sent)
                sent.clear()
    finally:
        experiments._celery_enqueue = real
    statements = [q["sql"] for q in captured.captured_queries]
    own = [q for q in statements if "evals_" in q]
    return (
        f"{len(statements) / cases:.1f} SQL statements per case ({len(own) / cases:.1f} on the evals tables), "
        f"{messages / cases:.2f} Celery messages per case (in-process count over {cases} cases, one worker)"
    )


def main() -> None:
    server = ServerProcess(responder="none").start()
    os.environ["BENCH_KEY"] = KEY
    settings.MODEL_PROVIDERS = {
        **settings.MODEL_PROVIDERS,
        "bench": {"base_url": server.base_url, "api_key_env": "BENCH_KEY"},
    }
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")  # no stale task of an earlier run
    tools_sync()
    tenant = tenant_get_or_create(slug="bench")
    actor = Actor.system(tenant_id=tenant.pk)
    agent_save(
        slug="bench-evals", name="Bench evals", instructions=INSTRUCTIONS, model="bench/gpt-test", tools=[]
    )
    cases = [
        {"name": f"q{i}", "input": f"Question {i}: what is worth knowing?", "tags": ["main"]}
        for i in range(CASES)
    ]
    warm = [{"name": f"warm{i}", "input": f"Warm-up {i}", "tags": ["warm"]} for i in range(10)]
    counted = [{"name": f"count{i}", "input": f"Counted {i}", "tags": ["count"]} for i in range(20)]
    dataset = dataset_import(actor=actor, data={"name": "bench-evals", "cases": [*cases, *warm, *counted]})
    server.always(ChatReply(text=ANSWER))
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    print(count_per_case(actor, dataset.pk, len(counted)))
    workers = start_workers(server.base_url)
    print(f"{CASES} cases, 3 scorers (one judged), {WORKERS} worker processes")
    try:
        for delay in DELAYS:
            server.always(ChatReply(text=ANSWER, delay_s=delay))
            run_experiment(actor, dataset.pk, only="warm")  # warm the workers (imports, connections)
            load = os.getloadavg()[0]
            direct = direct_seconds(server.base_url)
            platform, experiment = run_experiment(actor, dataset.pk, only="main")
            summary = experiment_summary(experiment=experiment)
            scores = Score.objects.filter(result__experiment=experiment)
            judged = scores.filter(scorer="answer_relevancy", errored=False).count()
            per_case = WORKERS * 1000 / CASES
            print(
                f"model latency {delay * 1000:.0f} ms: experiment {platform:.2f} s "
                f"({platform * per_case:.2f} ms per case per worker), direct SDK {direct:.2f} s "
                f"({direct * per_case:.2f} ms), machinery {(platform - direct) * per_case:.2f} ms per case, "
                f"ratio {platform / direct:.2f}x (bar < 1.2x); load average {load:.1f}"
            )
            print(
                f"  results: {summary.counts['passed']} passed, {summary.counts['failed']} failed, "
                f"{summary.counts['errored']} errored; {scores.count()} scores, {judged} judged"
            )
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(60)  # a warm shutdown on a loaded machine
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(10)
        server.stop()


if __name__ == "__main__":
    main()
