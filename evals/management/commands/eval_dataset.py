"""Load a dataset from a fixture file (JSON or YAML) or write one to a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import PlatformError
from evals.management.commands._actor import command_actor
from evals.selectors import dataset_get_by_name
from evals.services.datasets import dataset_as_dict, dataset_import, fixture_read, fixture_write


class Command(BaseCommand):
    help = "eval_dataset import <file> | eval_dataset export <name> <file>  (JSON or YAML by extension)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["import", "export"])
        parser.add_argument("paths", nargs="+", metavar="arg")
        parser.add_argument("--tenant", default="default", help="Tenant slug (default: default).")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = command_actor(options["tenant"])
        values: list[str] = options["paths"]
        try:
            if options["action"] == "import":
                dataset = dataset_import(actor=actor, data=fixture_read(Path(values[0])), tenant_wide=True)
                self.stdout.write(
                    f"Dataset {dataset.name} v{dataset.version}: {dataset.cases.count()} cases."
                )
                return
            if len(values) != 2:
                raise CommandError("export needs a dataset name and a file.")
            dataset = dataset_get_by_name(actor=actor, name=values[0])
            fixture_write(Path(values[1]), dataset_as_dict(dataset))
            self.stdout.write(f"Wrote {dataset.name} v{dataset.version} to {values[1]}.")
        except PlatformError as error:
            raise CommandError(f"{error.message} {error.details or ''}".strip()) from error
