"""The world the isolation tests probe: an owner with one of everything, a colleague, a stranger."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from asgiref.sync import async_to_sync
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import TenantFactory, UserFactory
from tests.isolation.entries import SECRET, TENANT_MARK, Call


@dataclass
class World:
    owner: Any
    colleague: Any
    stranger: Any
    ids: dict[str, Any] = field(default_factory=dict)

    def newcomers(self) -> tuple[Any, Any]:
        """A fresh colleague and a fresh stranger (in a fresh tenant), so what one probe created
        in their names (a thread of the same id in another tenant) cannot answer the next."""
        return UserFactory(tenant=self.owner.membership.tenant), UserFactory(tenant=TenantFactory())

    def fill(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                text = value.format(**self.ids)
            except (KeyError, IndexError, ValueError):
                return value
            return int(text) if value.startswith("{") and value.endswith("}") and text.isdigit() else text
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        return value


def client_for(user: Any | None) -> APIClient:
    """A client with the user's API token, and a browser session for the chat page."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        client.force_login(user)
    return client


def send_call(client: APIClient, world: World, call: Call) -> Any:
    path = world.fill(call.path)
    data = world.fill(call.data)
    return (
        getattr(client, call.method)(path, data, format=call.format)
        if data is not None
        else getattr(client, call.method)(path)
    )


def body_of(response: Any) -> str:
    if getattr(response, "streaming", False):
        if not getattr(response, "is_async", False):
            return b"".join(response.streaming_content).decode(errors="replace")

        async def drain() -> bytes:  # the chat route streams from an async iterator
            return b"".join([part async for part in response.streaming_content])

        return async_to_sync(drain)().decode(errors="replace")
    return response.content.decode(errors="replace")


def storage_objects(world: World, tenant: Any) -> None:
    from storage_kit.models import (
        Checkpoint,
        Coordination,
        Dataset,
        Fork,
        ForkSet,
        WebhookDelivery,
        Workspace,
    )

    later = timezone.now() + timedelta(hours=1)
    owner = world.owner
    name = f"ws-owned-{uuid.uuid4().hex[:8]}"
    workspace = Workspace.objects.create(tenant=tenant, owner=owner, name=name, bucket=name, expires_at=later)
    checkpoint = Checkpoint.objects.create(tenant=tenant, owner=owner, bucket=name, name=f"cp-{SECRET}")
    fork_set = ForkSet.objects.create(
        tenant=tenant, owner=owner, source_bucket=name, checkpoint=checkpoint, requested=1
    )
    fork = Fork.objects.create(
        tenant=tenant,
        owner=owner,
        fork_set=fork_set,
        name=f"fork-{SECRET}",
        checkpoint=checkpoint,
        bucket="forks",
        prefix=f"fork-{SECRET}/",
        expires_at=later,
    )
    coordination = Coordination.objects.create(
        tenant=tenant, owner=owner, bucket=name, webhook_url=f"https://hooks.example.com/{SECRET}"
    )
    delivery = WebhookDelivery.objects.create(
        tenant=tenant, owner=owner, coordination=coordination, payload={"key": SECRET}
    )
    dataset = Dataset.objects.create(tenant=tenant, name=TENANT_MARK, bucket=f"data-{TENANT_MARK}")
    world.ids.update(
        workspace=workspace.pk,
        workspace_name=name,
        workspace_bucket=name,
        checkpoint=checkpoint.pk,
        fork=fork.pk,
        coordination=coordination.pk,
        delivery=delivery.pk,
        dataset=dataset.pk,
    )


def chart_object(world: World, openai_server: Any) -> str:
    """A chart of the owner's, planned (its title and option hold the secret)."""
    from charts.services import chart_create
    from tests.fakes.openai_server import ChatReply
    from tests.fakes.responders import chart_plan_for

    rows: list[dict[str, str | int | float | bool | None]] = [
        {"label": SECRET, "value": 1},
        {"label": "b", "value": 2},
    ]
    openai_server.script(ChatReply(text=json.dumps(chart_plan_for({"title": SECRET, "rows": rows}))))
    return chart_create(
        tenant_id=world.owner.membership.tenant_id,
        owner_id=world.owner.pk,
        title=SECRET,
        description=None,
        rows=rows,
        model="scripted/gpt-test",
    )


def eval_objects(world: World, tenant: Any) -> None:
    from evals.models import Case, CaseResult, Dataset, Experiment, LiveScoring, Score

    dataset = Dataset.objects.create(tenant=tenant, owner=world.owner, name="owned-set", description=SECRET)
    case = Case.objects.create(
        dataset=dataset, name="owned-case", input_messages=[{"role": "user", "content": SECRET}]
    )
    experiment = Experiment.objects.create(
        tenant=tenant,
        owner=world.owner,
        dataset=dataset,
        dataset_version=1,
        agent_slug="helper",
        agent_version=1,
    )
    result = CaseResult.objects.create(
        experiment=experiment,
        case=case,
        case_name=case.name,
        case_data={"name": case.name},
        run_id=world.ids["run"],
        output={"text": SECRET},
    )
    Score.objects.create(result=result, scorer="contains", value=1.0, passed=True, reason=SECRET)
    live = LiveScoring.objects.create(
        tenant=tenant, owner=world.owner, agent_slug="helper", sample_rate=0.5,
        scorers=[{"scorer": "regex", "pattern": SECRET}],
    )  # fmt: skip
    world.ids.update(
        eval_dataset=dataset.pk,
        dataset_name=dataset.name,
        eval_case=case.pk,
        experiment=experiment.pk,
        live_scoring=live.pk,
    )


def workflow_objects(world: World) -> None:
    """A run of the owner's suspended at a step, its input and payload holding the secret."""
    from core.access import actor_for_user
    from workflows.services import run_start

    run = run_start(actor=actor_for_user(world.owner), workflow_id="t-hold", input_data={"text": SECRET})
    run.refresh_from_db()
    assert run.status == "suspended", run.error
    world.ids.update(workflow_run=str(run.pk))


def leaks(body: str, *, tenant_mark: bool, world: World) -> list[str]:
    marks = [SECRET, str(world.ids["run"]), str(world.ids["trace"])]
    if "workflow_run" in world.ids:
        marks.append(world.ids["workflow_run"])
    if tenant_mark:
        marks.append(TENANT_MARK)
    return [m for m in marks if m in body]
