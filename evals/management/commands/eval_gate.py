"""Run a dataset against an agent (or a workflow) and exit non-zero when a scorer falls below its threshold.

    manage.py eval_gate evals/fixtures/demo.yaml --agent assistant --threshold contains=0.8 --junit evals.xml
    manage.py eval_gate tickets.yaml --workflow triage --scorer no_side_effect

The dataset is a fixture file (imported first, as a tenant-wide dataset) or a dataset's name.
The cases run one after another in this process, through the real runtime.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import PlatformError
from evals import selectors
from evals.gate import gate_evaluate, junit_xml
from evals.management.commands._actor import command_actor
from evals.services.datasets import dataset_import, fixture_read
from evals.services.experiments import experiment_drain, experiment_start


def _threshold(value: str) -> tuple[str, float]:
    name, sep, number = value.partition("=")
    try:
        threshold = float(number)
    except ValueError:
        threshold = -1.0
    if not sep or not name or not 0.0 <= threshold <= 1.0:
        raise CommandError(f"--threshold {value!r}: expected scorer=<number from 0 to 1>.")
    return name, threshold


class Command(BaseCommand):
    help = "Run a dataset against an agent or a workflow; exit 1 when a scorer's mean is below its threshold."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset", help="A fixture file (JSON or YAML) or the name of a dataset.")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--agent", help="The agent id.")
        target.add_argument(
            "--workflow",
            help="A registered workflow's id: every case runs as a run of it (instead of an agent).",
        )
        parser.add_argument(
            "--agent-version",
            type=int,
            help="Run this stored version of the agent (default: its current one).",
        )
        parser.add_argument("--threshold", action="append", default=[], help="scorer=0.8 (repeatable).")
        parser.add_argument("--default-threshold", type=float, default=1.0, help="For scorers without one.")
        parser.add_argument(
            "--scorer", action="append", default=[], help="A scorer for every case (repeatable)."
        )
        parser.add_argument(
            "--exclude-tag", action="append", default=[], help="Leave out cases with this tag."
        )
        parser.add_argument("--repeats", type=int, default=1)
        parser.add_argument("--allow-errors", action="store_true", help="Errored cases do not fail the gate.")
        parser.add_argument("--junit", help="Write JUnit XML to this path.")
        parser.add_argument("--tenant", default="default", help="Tenant slug (default: default).")

    def handle(self, *args: Any, **options: Any) -> None:
        thresholds = dict(_threshold(value) for value in options["threshold"])
        actor = command_actor(options["tenant"])
        try:
            path = Path(options["dataset"])
            if path.suffix in {".json", ".yaml", ".yml"}:
                dataset = dataset_import(actor=actor, data=fixture_read(path), tenant_wide=True)
            else:
                dataset = selectors.dataset_get_by_name(actor=actor, name=options["dataset"])
            experiment = experiment_start(
                actor=actor,
                dataset_id=dataset.pk,
                agent_id=options["agent"],
                workflow_id=options["workflow"],
                scorers=[{"scorer": name} for name in options["scorer"]],
                repeats=options["repeats"],
                concurrency=1,
                exclude_tags=options["exclude_tag"],
                agent_version=options["agent_version"],
                enqueue=lambda _id: None,
            )
        except PlatformError as error:
            raise CommandError(f"{error.message} {error.details or ''}".strip()) from error
        experiment_drain(experiment_id=experiment.pk)
        experiment.refresh_from_db()
        results = list(selectors.result_list(actor=actor, experiment_id=experiment.pk))
        report = gate_evaluate(
            experiment=experiment,
            summary=selectors.experiment_summary(experiment=experiment),
            results=results,
            thresholds=thresholds,
            default_threshold=options["default_threshold"],
            allow_errors=options["allow_errors"],
        )
        self.stdout.write(report.text)
        if options["junit"]:
            Path(options["junit"]).write_text(junit_xml(experiment=experiment, results=results))
        if not report.passed:
            raise CommandError(
                "The eval gate failed: a scorer is below its threshold or a case errored.", returncode=1
            )
