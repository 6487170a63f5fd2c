"""The owner model for every route and every WebSocket frame type (docs/security.md).

The routes come from Django's URL resolver and the frame types from the chat consumer's
frame union; the tables below say, for each, how to reach an object the owner made. Every
request is then sent as another member of the owner's tenant, as a member of another
tenant and anonymously: nothing of the owner's may come back (404 where an object is
named, 401 anonymous), and the owner must still reach the object afterwards. A route,
method or frame type missing from the tables fails the test, so a new one cannot ship
without saying who may reach it.
"""

from __future__ import annotations

import re
import typing
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from chat.frames import ClientFrame
from core.models import Membership
from tests.agents.conftest import make_agent  # noqa: F401  (fixture)
from tests.factories import TenantFactory, UserFactory
from tests.fakes.openai_server import ChatReply
from tests.storage_kit.conftest import moto_server, s3_settings  # noqa: F401  (fixtures)

SECRET = "zebra-secret-4419"  # in everything the owner makes; no one else may ever see it
TENANT_MARK = "tenant-a-mark-8820"  # in the owner's tenant-wide objects; another tenant may not see it
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # formatted with the world's ids
    data: dict[str, Any] | None = None
    format: str = "json"


@dataclass(frozen=True)
class Owned:
    """Names an object of the owner's: another member and another tenant get `member` and
    `stranger` (404 unless said otherwise), and never the secret."""

    call: Call
    member: frozenset[int] = frozenset({404})
    stranger: frozenset[int] = frozenset({404})
    why: str = ""

    def expected(self, *, same_tenant: bool) -> frozenset[int]:
        return self.member if same_tenant else self.stranger


@dataclass(frozen=True)
class Mine:
    """Lists, searches or creates the caller's own objects: the answer holds nothing of the owner's."""

    call: Call
    status: frozenset[int] = frozenset({200})

    def expected(self, *, same_tenant: bool) -> frozenset[int]:
        return self.status


@dataclass(frozen=True)
class TenantWide:
    """The whole tenant's by design (docs/security.md): the owner's colleagues may see it,
    another tenant gets `stranger` and never the tenant's mark or the owner's secret."""

    call: Call
    stranger: frozenset[int] = frozenset({200})

    def expected(self, *, same_tenant: bool) -> frozenset[int]:
        return frozenset({200}) if same_tenant else self.stranger


@dataclass(frozen=True)
class NoTenantData:
    """Serves nothing of any tenant (the login page, the API schema)."""

    call: Call
    why: str
    status: frozenset[int] = frozenset(range(200, 500))

    def expected(self, *, same_tenant: bool) -> frozenset[int]:
        return self.status


Probe = Owned | Mine | TenantWide | NoTenantData

# Every route (as the resolver spells it) and method. `admin/` is the Django admin: staff only.
ROUTES: dict[str, dict[str, list[Probe]]] = {
    "api/health": {
        "get": [
            NoTenantData(
                Call("get", "/api/health"),
                "the platform's components, for load balancers",
                frozenset({200, 503}),
            )
        ]
    },
    "api/schema/": {"get": [NoTenantData(Call("get", "/api/schema/"), "the OpenAPI document")]},
    "api/docs/": {"get": [NoTenantData(Call("get", "/api/docs/"), "the Swagger page")]},
    "login/": {
        "get": [NoTenantData(Call("get", "/login/"), "the login form")],
        "post": [
            NoTenantData(Call("post", "/login/", {"username": "x", "password": "y"}, "multipart"), "login")
        ],
        "put": [NoTenantData(Call("put", "/login/"), "the login form")],
    },
    "logout/": {
        "get": [NoTenantData(Call("get", "/logout/"), "logs the caller out")],
        "post": [NoTenantData(Call("post", "/logout/"), "logs the caller out")],
    },
    "": {"get": [TenantWide(Call("get", "/"), stranger=frozenset({200}))]},
    "api/agents": {"get": [TenantWide(Call("get", "/api/agents"))]},
    "api/agents/<slug:agent_id>": {
        "get": [TenantWide(Call("get", "/api/agents/{tenant_agent}"), stranger=frozenset({404}))]
    },
    "api/agents/<slug:agent_id>/generate": {
        "post": [
            # The owner's idempotency key: everyone else gets a run of its own, never the owner's.
            Mine(Call("post", "/api/agents/helper/generate", {"prompt": "hello", "idempotencyKey": "{key}"})),
            Owned(
                Call(
                    "post", "/api/agents/helper/generate", {"prompt": "hi", "memory": {"thread": "{thread}"}}
                ),
                stranger=frozenset({200}),
                why="the thread id is the owner's in its tenant; another tenant's own thread of that id",
            ),
            Owned(
                Call("post", "/api/agents/{tenant_agent}/generate", {"prompt": "hi"}),
                member=frozenset({200}),
                why="a tenant's agent: its members may run it, other tenants not",
            ),
        ]
    },
    "api/tools": {"get": [TenantWide(Call("get", "/api/tools"))]},
    "api/tools/<slug:tool_id>/execute": {
        "post": [Mine(Call("post", "/api/tools/current_time/execute", {"data": {"timezone": "UTC"}}))]
    },
    "api/runs/<uuid:run_id>": {"get": [Owned(Call("get", "/api/runs/{run}"))]},
    "api/models": {"get": [TenantWide(Call("get", "/api/models"))]},
    "api/traces/<uuid:trace_id>": {"get": [Owned(Call("get", "/api/traces/{trace}"))]},
    "api/agents/<str:agent_id>/chat": {
        "post": [
            Owned(
                Call(
                    "post",
                    "/api/agents/helper/chat",
                    {
                        "id": "{thread}",
                        "messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": "hi"}]}],
                    },
                ),
                member=frozenset({200, 404}),
                stranger=frozenset({200}),
                why="a stream that ends with 'not found' for another member's thread",
            ),
            Owned(
                Call(
                    "post",
                    "/api/agents/{tenant_agent}/chat",
                    {
                        "id": "other",
                        "messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": "hi"}]}],
                    },
                ),
                member=frozenset({200}),
                why="a tenant's agent: its members may chat with it, other tenants not",
            ),
        ]
    },
    # A single-use ticket for the caller's own socket (it opens a socket as the caller, no one else).
    "api/ws-tickets": {"post": [Mine(Call("post", "/api/ws-tickets"), frozenset({201}))]},
    "api/memory/threads": {
        "get": [Mine(Call("get", "/api/memory/threads"))],
        "post": [
            Owned(
                Call("post", "/api/memory/threads", {"threadId": "{thread}"}),
                member=frozenset({409}),
                stranger=frozenset({201}),
                why="an id taken in the tenant is a bare 409; another tenant's ids are free",
            )
        ],
    },
    "api/memory/threads/<str:thread_id>": {
        "get": [Owned(Call("get", "/api/memory/threads/{thread}"))],
        "patch": [Owned(Call("patch", "/api/memory/threads/{thread}", {"title": "mine now"}))],
        "delete": [Owned(Call("delete", "/api/memory/threads/{thread}"))],
    },
    "api/memory/threads/<str:thread_id>/messages": {
        "get": [Owned(Call("get", "/api/memory/threads/{thread}/messages"))]
    },
    "api/memory/threads/<str:thread_id>/working-memory": {
        "get": [Owned(Call("get", "/api/memory/threads/{thread}/working-memory"))],
        "post": [
            Owned(
                Call("post", "/api/memory/threads/{thread}/working-memory", {"workingMemory": "overwritten"})
            )
        ],
    },
    "api/memory/search": {
        "get": [
            Mine(Call("get", f"/api/memory/search?searchQuery={SECRET}&topK=50")),
            Owned(Call("get", f"/api/memory/search?searchQuery={SECRET}&threadId={{thread}}")),
            Owned(Call("get", f"/api/memory/search?searchQuery={SECRET}&resourceId={{owner}}")),
        ]
    },
    "api/memory/resources/<str:resource_id>": {
        "delete": [Owned(Call("delete", "/api/memory/resources/{owner}"))]
    },
    "api/memory/knowledge/documents": {
        "get": [TenantWide(Call("get", "/api/memory/knowledge/documents"))],
        "post": [
            Mine(
                Call("post", "/api/memory/knowledge/documents", {"title": "notes", "text": "plain"}),
                frozenset({201}),
            )
        ],
    },
    "api/memory/knowledge/documents/<id:document_id>": {
        "get": [
            TenantWide(Call("get", "/api/memory/knowledge/documents/{document}"), stranger=frozenset({404}))
        ],
        "delete": [Owned(Call("delete", "/api/memory/knowledge/documents/{document}"))],
    },
    "api/memory/knowledge/search": {
        "get": [TenantWide(Call("get", f"/api/memory/knowledge/search?query={TENANT_MARK}"))]
    },
    "api/storage/workspaces/": {
        "get": [Mine(Call("get", "/api/storage/workspaces/"))],
        "post": [
            Mine(Call("post", "/api/storage/workspaces/", {"name": "{workspace_name}"}), frozenset({409}))
        ],
    },
    "api/storage/workspaces/<id:pk>/": {"get": [Owned(Call("get", "/api/storage/workspaces/{workspace}/"))]},
    "api/storage/workspaces/<id:pk>/teardown/": {
        "post": [Owned(Call("post", "/api/storage/workspaces/{workspace}/teardown/"))]
    },
    "api/storage/forks/": {
        "get": [Mine(Call("get", "/api/storage/forks/"))],
        "post": [
            Owned(Call("post", "/api/storage/forks/", {"count": 1, "source_bucket": "{workspace_bucket}"})),
            Owned(Call("post", "/api/storage/forks/", {"count": 1, "checkpoint_id": "{checkpoint}"})),
        ],
    },
    "api/storage/forks/<id:pk>/": {"get": [Owned(Call("get", "/api/storage/forks/{fork}/"))]},
    "api/storage/forks/<id:pk>/teardown/": {
        "post": [Owned(Call("post", "/api/storage/forks/{fork}/teardown/"))]
    },
    "api/storage/checkpoints/": {
        "get": [Mine(Call("get", "/api/storage/checkpoints/"))],
        "post": [
            Owned(
                Call("post", "/api/storage/checkpoints/", {"bucket": "{workspace_bucket}", "name": "theirs"})
            )
        ],
    },
    "api/storage/checkpoints/<id:pk>/": {
        "get": [Owned(Call("get", "/api/storage/checkpoints/{checkpoint}/"))],
        "delete": [Owned(Call("delete", "/api/storage/checkpoints/{checkpoint}/"))],
    },
    "api/storage/checkpoints/<id:pk>/restore/": {
        "post": [
            Owned(
                Call("post", "/api/storage/checkpoints/{checkpoint}/restore/", {"fork_name": "stolen-fork"})
            )
        ]
    },
    "api/storage/datasets/": {"get": [TenantWide(Call("get", "/api/storage/datasets/"))]},
    "api/storage/datasets/<id:pk>/": {
        "get": [TenantWide(Call("get", "/api/storage/datasets/{dataset}/"), stranger=frozenset({404}))]
    },
    "api/storage/coordinations/": {
        "get": [Mine(Call("get", "/api/storage/coordinations/"))],
        "post": [
            Owned(
                Call(
                    "post",
                    "/api/storage/coordinations/",
                    {"bucket": "{workspace_bucket}", "webhook_url": "https://hooks.example.com/x"},
                )
            )
        ],
    },
    "api/storage/coordinations/<id:pk>/": {
        "get": [Owned(Call("get", "/api/storage/coordinations/{coordination}/"))]
    },
    "api/storage/coordinations/<id:pk>/teardown/": {
        "post": [Owned(Call("post", "/api/storage/coordinations/{coordination}/teardown/"))]
    },
    "api/storage/deliveries/": {"get": [Mine(Call("get", "/api/storage/deliveries/"))]},
    "api/storage/deliveries/<id:pk>/": {"get": [Owned(Call("get", "/api/storage/deliveries/{delivery}/"))]},
}

EVALS: dict[str, dict[str, list[Probe]]] = {
    "api/evals/datasets": {
        "get": [Mine(Call("get", "/api/evals/datasets"))],
        "post": [
            Owned(
                Call("post", "/api/evals/datasets", {"name": "{dataset_name}"}),
                member=frozenset({409}),
                stranger=frozenset({201}),
                why="a name taken in the tenant is a bare 409; another tenant's names are free",
            )
        ],
    },
    "api/evals/datasets/<id:dataset_id>": {
        "get": [Owned(Call("get", "/api/evals/datasets/{eval_dataset}"))],
        "patch": [Owned(Call("patch", "/api/evals/datasets/{eval_dataset}", {"description": "mine now"}))],
        "delete": [Owned(Call("delete", "/api/evals/datasets/{eval_dataset}"))],
    },
    "api/evals/datasets/<id:dataset_id>/cases": {
        "get": [Owned(Call("get", "/api/evals/datasets/{eval_dataset}/cases"))],
        "post": [
            Owned(
                Call("post", "/api/evals/datasets/{eval_dataset}/cases", {"name": "planted", "input": "hi"})
            )
        ],
    },
    "api/evals/datasets/<id:dataset_id>/cases/<id:case_id>": {
        "get": [Owned(Call("get", "/api/evals/datasets/{eval_dataset}/cases/{eval_case}"))],
        "patch": [
            Owned(Call("patch", "/api/evals/datasets/{eval_dataset}/cases/{eval_case}", {"input": "changed"}))
        ],
        "delete": [Owned(Call("delete", "/api/evals/datasets/{eval_dataset}/cases/{eval_case}"))],
    },
    "api/evals/experiments": {
        "get": [Mine(Call("get", "/api/evals/experiments"))],
        "post": [
            Owned(
                Call("post", "/api/evals/experiments", {"dataset_id": "{eval_dataset}", "agent_id": "helper"})
            )
        ],
    },
    "api/evals/experiments/<id:experiment_id>": {
        "get": [Owned(Call("get", "/api/evals/experiments/{experiment}"))]
    },
    "api/evals/experiments/<id:experiment_id>/cancel": {
        "post": [Owned(Call("post", "/api/evals/experiments/{experiment}/cancel"))]
    },
    "api/evals/experiments/<id:experiment_id>/compare/<id:candidate_id>": {
        "get": [Owned(Call("get", "/api/evals/experiments/{experiment}/compare/{experiment}"))]
    },
    "api/evals/experiments/<id:experiment_id>/results": {
        "get": [Owned(Call("get", "/api/evals/experiments/{experiment}/results"))]
    },
    # Scores of a run are those of the caller's experiments: another's run answers an empty list.
    "api/scores/run/<uuid:run_id>": {"get": [Mine(Call("get", "/api/scores/run/{run}"))]},
    "api/scores/scorers": {"get": [TenantWide(Call("get", "/api/scores/scorers"))]},
}
ROUTES.update(EVALS)

# What the owner reads afterwards, to show the probes neither changed nor deleted its objects.
OWNER_READS = [
    "/api/runs/{run}",
    "/api/traces/{trace}",
    "/api/memory/threads/{thread}",
    "/api/memory/threads/{thread}/messages",
    "/api/memory/threads/{thread}/working-memory",
    "/api/memory/knowledge/documents/{document}",
    "/api/storage/workspaces/{workspace}/",
    "/api/storage/forks/{fork}/",
    "/api/storage/checkpoints/{checkpoint}/",
    "/api/storage/coordinations/{coordination}/",
    "/api/storage/deliveries/{delivery}/",
    "/api/evals/datasets/{eval_dataset}",
    "/api/evals/datasets/{eval_dataset}/cases/{eval_case}",
    "/api/evals/experiments/{experiment}",
]


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern) == "admin/":
                yield "admin/", None  # the Django admin: staff only (checked separately)
                continue
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _methods(callback: Any) -> set[str]:
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view is None:  # a function view: the methods its table entry names
        return set(ROUTES.get("", {}))
    return {m for m in METHODS if hasattr(view, m)}


def route_key(route: str) -> str:
    """The route without its converters (`<id:pk>` -> `<pk>`), so retyping a parameter keeps its entry."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", route)


def every_route() -> dict[str, set[str]]:
    return {
        route_key(route): _methods(cb)
        for route, cb in _routes(get_resolver().url_patterns)
        if route != "admin/"
    }


ENTRIES = {route_key(route): methods for route, methods in ROUTES.items()}


def every_frame_type() -> set[str]:
    types: set[str] = set()
    for model in typing.get_args(ClientFrame):
        types.update(typing.get_args(model.model_fields["type"].annotation))
    return types


def test_every_route_and_method_has_an_entry():
    missing = [
        f"{route} {method.upper()}"
        for route, methods in every_route().items()
        for method in sorted(methods)
        if not ENTRIES.get(route, {}).get(method)
    ]
    assert not missing, (
        "Routes without an isolation entry (add one to ROUTES in tests/test_isolation.py saying how "
        f"to reach an owner's object and who may): {missing}"
    )
    stale = [route for route in ENTRIES if route not in every_route()]
    assert not stale, f"Entries for routes that no longer exist: {stale}"


def test_every_websocket_frame_type_has_an_entry():
    missing = every_frame_type() - set(FRAMES)
    assert not missing, (
        "WebSocket frame types without an isolation entry (add one to FRAMES in tests/test_isolation.py): "
        f"{sorted(missing)}"
    )


# -- the world: an owner with one of everything, a colleague, a stranger ---------------------------


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


def _send(client: APIClient, world: World, call: Call) -> Any:
    path = world.fill(call.path)
    data = world.fill(call.data)
    return (
        getattr(client, call.method)(path, data, format=call.format)
        if data is not None
        else getattr(client, call.method)(path)
    )


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        if not getattr(response, "is_async", False):
            return b"".join(response.streaming_content).decode(errors="replace")

        async def drain() -> bytes:  # the chat route streams from an async iterator
            return b"".join([part async for part in response.streaming_content])

        return async_to_sync(drain)().decode(errors="replace")
    return response.content.decode(errors="replace")


def _storage_objects(world: World, tenant: Any) -> None:
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


def _eval_objects(world: World, tenant: Any) -> None:
    from evals.models import Case, CaseResult, Dataset, Experiment, Score

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
    world.ids.update(
        eval_dataset=dataset.pk, dataset_name=dataset.name, eval_case=case.pk, experiment=experiment.pk
    )


@pytest.fixture
def world(openai_server: Any, settings: Any, s3_settings: Any, make_agent: Any) -> World:  # noqa: F811
    """The owner's objects, each holding SECRET where a reader would see it; the thread id and
    the workspace name are ids a caller sends, so they hold none (an echo of one's own input is
    no leak)."""
    settings.EMBEDDER = "scripted/embed-test"
    tenant = TenantFactory()
    world = World(
        owner=UserFactory(tenant=tenant),
        colleague=UserFactory(tenant=tenant),
        stranger=UserFactory(tenant=TenantFactory()),
    )
    make_agent(memory={"last_messages": 10})  # "helper": every tenant may use it
    make_agent(
        slug="tenant-a-agent",
        tenant=tenant,
        description=TENANT_MARK,
        model=f"scripted/{TENANT_MARK}",
    )
    owner = client_for(world.owner)
    openai_server.script(ChatReply(text=f"the answer is {SECRET}"))
    run = owner.post(
        "/api/agents/helper/generate",
        {
            "prompt": f"remember {SECRET}",
            "idempotencyKey": "key-owned",
            "memory": {"thread": "t-owned", "resource": str(world.owner.pk)},
        },
        format="json",
    )
    assert run.status_code == 200, run.json()
    thread = "t-owned"
    assert owner.patch(f"/api/memory/threads/{thread}", {"title": SECRET}, format="json").status_code == 200
    wm = owner.post(f"/api/memory/threads/{thread}/working-memory", {"workingMemory": SECRET}, format="json")
    assert wm.status_code == 200
    document = owner.post(
        "/api/memory/knowledge/documents",
        {"title": TENANT_MARK, "text": f"{TENANT_MARK} opening hours"},
        format="json",
    )
    assert document.status_code == 201
    world.ids.update(
        run=run.json()["runId"],
        trace=run.json()["traceId"],
        key="key-owned",
        thread=thread,
        owner=world.owner.pk,
        document=document.json()["id"],
        tenant_agent="tenant-a-agent",
    )
    _storage_objects(world, tenant)
    _eval_objects(world, tenant)
    openai_server.always(ChatReply(text="an answer of its own"))
    return world


def _leaks(body: str, *, tenant_mark: bool, world: World) -> list[str]:
    marks = [SECRET, str(world.ids["run"]), str(world.ids["trace"])]
    if tenant_mark:
        marks.append(TENANT_MARK)
    return [m for m in marks if m in body]


def _probe(world: World, route: str, method: str, probe: Probe) -> list[str]:
    """The failures of one probe, sent as a fresh colleague, a fresh stranger and anonymously."""
    failures = []
    where = f"{method.upper()} {route} ({world.fill(probe.call.path)})"
    member, stranger = world.newcomers()
    for who, user, same_tenant in (("another member", member, True), ("another tenant", stranger, False)):
        response = _send(client_for(user), world, probe.call)
        expected = probe.expected(same_tenant=same_tenant)
        if response.status_code not in expected:
            failures.append(f"{where} as {who}: {response.status_code}, expected {sorted(expected)}")
        if leaked := _leaks(_body(response), tenant_mark=not same_tenant, world=world):
            failures.append(f"{where} as {who} leaked {leaked}")
    if isinstance(probe, NoTenantData):
        return failures
    response = _send(client_for(None), world, probe.call)
    refused = {401, 403} if route.startswith("api/") else {302}
    if response.status_code not in refused:
        failures.append(f"{where} anonymous: {response.status_code}, expected {sorted(refused)}")
    if _leaks(_body(response), tenant_mark=True, world=world):
        failures.append(f"{where} anonymous leaked")
    return failures


@pytest.mark.django_db(transaction=True)
def test_no_route_reaches_another_owners_object(world: World, openai_server: Any):
    seen_before = len(openai_server.chat_requests)
    failures = [
        failure
        for route, methods in ROUTES.items()
        for method, probes in methods.items()
        for probe in probes
        for failure in _probe(world, route, method, probe)
    ]
    # Nothing of the owner's reached the model on anyone else's behalf.
    for request in openai_server.chat_requests[seen_before:]:
        if SECRET in str(request.body):
            failures.append(f"the owner's secret reached the model in another caller's run: {request.body}")
    # The owner still reaches everything, unchanged.
    owner = client_for(world.owner)
    for path in OWNER_READS:
        response = owner.get(world.fill(path))
        if response.status_code != 200:
            failures.append(f"the owner lost {path}: {response.status_code}")
    assert owner.get(f"/api/memory/threads/{world.ids['thread']}").json()["title"] == SECRET
    assert SECRET in owner.get(f"/api/memory/threads/{world.ids['thread']}/working-memory").content.decode()
    assert not failures, "\n".join(failures)


@pytest.mark.django_db(transaction=True)
def test_the_django_admin_is_for_staff_only(world: World, client: Any):
    for user in (world.owner, world.colleague, world.stranger):
        client.force_login(user)
        response = client.get("/admin/memory/thread/")
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


@pytest.mark.django_db(transaction=True)
def test_tenant_wide_routes_show_the_tenant_to_a_tenant_admin_and_nothing_else(world: World):
    admin = client_for(UserFactory(tenant=TenantFactory(), tenant__role=Membership.Role.ADMIN))
    for path in (
        "/api/agents",
        "/api/models",
        "/api/memory/knowledge/documents",
        "/api/storage/datasets/",
        "/",
    ):
        body = _body(admin.get(path))
        assert TENANT_MARK not in body, path
        assert SECRET not in body, path


# -- WebSocket frames ------------------------------------------------------------------------------

FRAMES: dict[str, str] = {
    "message": "a message on the owner's thread id runs on the sender's own thread (or ends 'not found')",
    "subscribe": "subscribing to the owner's thread id delivers none of the owner's frames",
    "replay": "replaying the owner's run id returns none of its frames",
    "abort": "aborting the owner's run id leaves it running to the end",
    "approve": "approval does not exist yet: refused for everyone",
    "decline": "approval does not exist yet: refused for everyone",
    "resume": "suspension does not exist yet: refused for everyone",
}


async def _socket(user: Any | None) -> Any:
    from tests.chat.helpers import connect, token_for

    token = await sync_to_async(token_for)(user) if user is not None else None
    comm = await connect("helper", token)
    connected, _ = await comm.connect()
    assert connected
    return comm


async def _until_ack(comm: Any, thread: str) -> list[dict[str, Any]]:
    """Everything the consumer sent before answering a `subscribe` sent now (frames are handled in order)."""
    await comm.send_json_to({"type": "subscribe", "threadId": f"sync-{thread}"})
    frames: list[dict[str, Any]] = []
    while True:
        frame = await comm.receive_json_from(timeout=10)
        if frame.get("type") == "subscribed" and frame.get("threadId") == f"sync-{thread}":
            return frames
        frames.append(frame)


async def _intruder_failures(who: str, comm: Any, *, thread: str, run_id: str) -> list[str]:
    """What an intruder's socket received after its abort, replay and decision frames, and
    what its own message on the owner's thread id answered."""
    from tests.chat.helpers import frames_until_end

    failures = []
    frames = await _until_ack(comm, who.replace(" ", "-"))
    leaked = [f for f in frames if SECRET in str(f) or f.get("runId") == run_id]
    if leaked:
        failures.append(f"{who} received the owner's frames {leaked}")
    if len([f for f in frames if f.get("type") == "error"]) < 3:
        failures.append(f"{who}: approve, decline and resume were not refused: {frames}")
    # A message on the owner's thread id: the intruder's own thread or "not found", never the history.
    await comm.send_json_to({"type": "message", "threadId": thread, "text": "what did I say?"})
    mine = await frames_until_end(comm, wait_s=10)
    if any(SECRET in str(f) for f in mine):
        failures.append(f"{who}'s message on the owner's thread id leaked {mine}")
    return failures


@pytest.mark.django_db(transaction=True)
async def test_no_websocket_frame_reaches_another_owners_run_or_thread(world: World, openai_server: Any):
    from tests.chat.helpers import frames_until_end

    thread = world.ids["thread"]
    owner = await _socket(world.owner)
    intruders = {
        "another member": await _socket(world.colleague),
        "another tenant": await _socket(world.stranger),
    }
    for comm in intruders.values():  # subscribed to the owner's thread id before the owner's run
        await comm.send_json_to({"type": "subscribe", "threadId": thread})
        assert (await comm.receive_json_from(timeout=10))["type"] == "subscribed"

    openai_server.script(ChatReply(text=" ".join([SECRET] * 30), chunk_delay_s=0.01))
    await owner.send_json_to({"type": "message", "threadId": thread, "text": f"again {SECRET}"})
    run_id = (await owner.receive_json_from(timeout=10))["runId"]
    while (await owner.receive_json_from(timeout=10)).get("chunk", {}).get("type") != "text-delta":
        pass
    for comm in intruders.values():
        await comm.send_json_to({"type": "abort", "threadId": thread, "runId": run_id})
        await comm.send_json_to({"type": "replay", "threadId": thread, "runId": run_id, "afterSeq": 0})
        for kind in ("approve", "decline", "resume"):
            await comm.send_json_to({"type": kind, "threadId": thread, "runId": run_id})
    failures: list[str] = []
    end = await frames_until_end(owner, wait_s=10)
    if end[-1]["status"] != "completed":
        failures.append(f"an intruder's abort stopped the owner's run: {end[-1]}")
    for who, comm in intruders.items():
        failures += await _intruder_failures(who, comm, thread=thread, run_id=run_id)
    for request in openai_server.chat_requests:  # the intruders' turns carried none of the owner's history
        if "what did I say?" in str(request.messages) and SECRET in str(request.body):
            failures.append(f"the owner's history reached the model for another caller: {request.messages}")
    anonymous = await _socket(None)
    closed = await anonymous.receive_output(timeout=10)
    if closed.get("code") != 4401:
        failures.append(f"an anonymous socket was not closed with 4401: {closed}")
    for comm in [owner, *intruders.values()]:
        await comm.disconnect()
    assert not failures, "\n".join(failures)
