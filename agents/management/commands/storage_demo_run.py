"""An orchestrated run end to end: provision a workspace, run the research agent on it, tear down.

    python manage.py storage_demo_run --tenant default --topic "tidal energy" [--model openai/gpt-4o-mini]

The agent's tools write notes into the workspace through the handle in the
request context; the workspace is torn down whether the run succeeds or fails. Without
`--model` the agent runs on `DEFAULT_MODEL`, or the first deployed model of the catalogue.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import agents.builtin_tools.workspace  # noqa: F401 - registers the workspace tools
from agents.runtime import RunOptions, generate
from agents.services import agent_save, tools_sync
from core.context import RequestContext
from core.errors import PlatformError
from core.tenancy import tenant_get_or_create
from storage_kit import workspace_for_run

AGENT = "research-agent"
INSTRUCTIONS = (
    "You are a research agent. Use workspace_append_note to persist intermediate findings, one note per "
    "topic, and workspace_list_notes to see what you wrote. The workspace is configured for you; "
    "never ask for credentials."
)


class Command(BaseCommand):
    help = "Run the research agent on a fresh workspace and tear it down afterwards."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", default="default")
        parser.add_argument("--topic", default="the history of object storage")
        parser.add_argument(
            "--model", default="", help="provider/model; empty: DEFAULT_MODEL or the catalogue"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_get_or_create(slug=options["tenant"])
        tools_sync()
        agent_save(
            slug=AGENT,
            name="Research Agent",
            description="Researches a topic and writes intermediate notes to its workspace.",
            instructions=INSTRUCTIONS,
            model=options["model"],
            max_steps=6,
            tools=["workspace_append_note", "workspace_list_notes"],
        )
        context = RequestContext(tenant_id=tenant.pk, resource_id="storage-demo")
        name = f"research-{secrets.token_hex(4)}"
        with workspace_for_run(context=context, name=name, ttl_s=3600) as run:
            try:
                result = generate(
                    AGENT, context=run.context, prompt=options["topic"], options=RunOptions(max_steps=6)
                )
            except PlatformError as error:  # no provider configured, the provider down, ...
                raise CommandError(f"The run failed: {error.message}") from error
            notes = [o.key for o in run.handle.objects.list("notes/")]
        self.stdout.write(
            f"run {result.run_id} ({result.status}) wrote {len(notes)} note(s): {', '.join(notes)}"
        )
        self.stdout.write(result.text)
        teardown = "clean" if run.report.ok else "; ".join(run.report.errors)
        self.stdout.write(f"workspace {name} torn down: {teardown}")
