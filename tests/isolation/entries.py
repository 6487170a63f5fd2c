"""What the isolation tests probe: an entry for every route, method and WebSocket frame type.

The routes come from Django's URL resolver and the frame types from the chat consumer's
frame union; the tables say, for each, how to reach an object the owner made and who may.
A route, method or frame type missing from them fails `test_entries.py`, so a new one
cannot ship without saying who may reach it (docs/security.md).
"""

from __future__ import annotations

from tests.isolation.probes import Call, Mine, NoTenantData, Owned, Probe, TenantWide
from tests.isolation.walk import METHODS, every_frame_type, every_route, route_key

__all__ = [
    "ENTRIES",
    "FRAMES",
    "METHODS",
    "OWNER_READS",
    "ROUTES",
    "SECRET",
    "TENANT_MARK",
    "Call",
    "Mine",
    "NoTenantData",
    "Owned",
    "Probe",
    "TenantWide",
    "every_frame_type",
    "every_route",
]

SECRET = "zebra-secret-4419"  # in everything the owner makes; no one else may ever see it
TENANT_MARK = "tenant-a-mark-8820"  # in the owner's tenant-wide objects; another tenant may not see it


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
    "api/runs/<uuid:run_id>/cancel": {"post": [Owned(Call("post", "/api/runs/{waiting_run}/cancel"))]},
    # Deciding or resuming the owner's waiting call: 404 for everyone but its owner (and admins).
    **{
        f"api/agents/<slug:agent_id>/{action}": {
            "post": [
                Owned(
                    Call(
                        "post",
                        f"/api/agents/helper/{action}",
                        {"runId": "{waiting_run}", "toolCallId": "{waiting_call}", "reason": "mine now"},
                    )
                )
            ]
        }
        for action in (
            "approve-tool-call",
            "decline-tool-call",
            "approve-tool-call-generate",
            "decline-tool-call-generate",
        )
    },
    **{
        f"api/agents/<slug:agent_id>/{action}": {
            "post": [
                Owned(
                    Call(
                        "post",
                        f"/api/agents/helper/{action}",
                        {"runId": "{waiting_run}", "toolCallId": "{waiting_call}", "resumeData": {"x": 1}},
                    )
                )
            ]
        }
        for action in ("resume-stream", "resume-generate")
    },
    "api/agents/<slug:agent_id>/suspended-runs": {
        "get": [
            Mine(Call("get", "/api/agents/helper/suspended-runs")),
            Mine(Call("get", "/api/agents/helper/suspended-runs?threadId=t-waiting")),
        ]
    },
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
            Owned(
                Call(
                    "post",
                    "/api/agents/helper/chat",
                    {
                        "id": "{thread}",
                        "messages": [
                            {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "hi"}]},
                            {
                                "id": "{waiting_run}",
                                "role": "assistant",
                                "metadata": {"runId": "{waiting_run}"},
                                "parts": [
                                    {
                                        "type": "tool-test_add",
                                        "toolCallId": "{waiting_call}",
                                        "state": "approval-responded",
                                        "approval": {"id": "a1", "approved": True},
                                    }
                                ],
                            },
                        ],
                    },
                ),
                why="an approval response (useChat's addToolApprovalResponse) for the owner's waiting call",
            ),
        ]
    },
    "api/agents/<str:agent_id>/chat/<str:chat_id>/stream": {
        "get": [
            Owned(
                Call("get", "/api/agents/helper/chat/{thread}/stream"),
                member=frozenset({204}),
                stranger=frozenset({204}),
                why="runs in flight are looked up per user: another user's chat id has none to resume",
            ),
            Owned(
                Call("get", "/api/agents/{tenant_agent}/chat/{thread}/stream"),
                member=frozenset({204}),
                why="a tenant's agent: its members may resume their own chats with it, other tenants not",
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
    # Chart ids belong to their tenant and owner: anyone else's lookup finds nothing.
    "api/embed/chart/<uuid:chart_id>": {"get": [Owned(Call("get", "/api/embed/chart/{chart}"))]},
}

EVALS: dict[str, dict[str, list[Probe]]] = {
    "api/evals/datasets": {
        "get": [Mine(Call("get", "/api/evals/datasets"))],
        "post": [
            Owned(
                Call("post", "/api/evals/datasets", {"name": "{dataset_name}"}),
                member=frozenset({201}),
                stranger=frozenset({201}),
                why="names are unique per owner: another member's or tenant's name is free",
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
    "api/evals/live-scorings": {
        "get": [Mine(Call("get", "/api/evals/live-scorings"))],
        "post": [
            Mine(
                Call(
                    "post",
                    "/api/evals/live-scorings",
                    {"agent_id": "helper", "sample_rate": 0.5, "scorers": []},
                ),
                frozenset({403}),  # members read; tenant admins configure
            )
        ],
    },
    "api/evals/live-scorings/<id:config_id>": {
        "get": [Owned(Call("get", "/api/evals/live-scorings/{live_scoring}"))],
        "patch": [Owned(Call("patch", "/api/evals/live-scorings/{live_scoring}", {"sample_rate": 1.0}))],
        "delete": [Owned(Call("delete", "/api/evals/live-scorings/{live_scoring}"))],
    },
    "api/scores/run/<uuid:run_id>": {"get": [Mine(Call("get", "/api/scores/run/{run}"))]},
    "api/scores/scorers": {"get": [TenantWide(Call("get", "/api/scores/scorers"))]},
}
ROUTES.update(EVALS)

# Workflow definitions are code, the same for every tenant; runs are the owner's.
_WF = "/api/workflows/t-hold"
_WF_RUN = _WF + "{path}?runId={{workflow_run}}"
WORKFLOWS: dict[str, dict[str, list[Probe]]] = {
    "api/workflows": {"get": [TenantWide(Call("get", "/api/workflows"))]},
    "api/workflows/<workflow_id>": {"get": [TenantWide(Call("get", _WF))]},
    "api/workflows/<workflow_id>/create-run": {
        "post": [
            Mine(Call("post", _WF + "/create-run", {})),
            # Another owner's run id answers as a run that does not exist; the owner gets its run back.
            Owned(Call("post", _WF_RUN.format(path="/create-run"), {})),
        ]
    },
    **{
        f"api/workflows/<workflow_id>/{name}": {
            "post": [
                Mine(Call("post", f"{_WF}/{name}", {"inputData": {"text": "mine"}})),
                Owned(Call("post", _WF_RUN.format(path=f"/{name}"), {"inputData": {"text": "mine"}})),
            ]
        }
        for name in ("start", "start-async", "stream")
    },
    "api/workflows/<workflow_id>/watch": {"get": [Owned(Call("get", _WF_RUN.format(path="/watch")))]},
    **{
        f"api/workflows/<workflow_id>/{name}": {
            "post": [Owned(Call("post", _WF_RUN.format(path=f"/{name}"), {"resumeData": {"answer": 1}}))]
        }
        for name in ("resume", "resume-async", "resume-all")
    },
    "api/workflows/<workflow_id>/restart": {
        "post": [Owned(Call("post", _WF_RUN.format(path="/restart"), {"step": "hold"}))]
    },
    "api/workflows/<workflow_id>/runs": {"get": [Mine(Call("get", _WF + "/runs"))]},
    "api/workflows/<workflow_id>/runs/<run_id>": {"get": [Owned(Call("get", _WF + "/runs/{workflow_run}"))]},
    "api/workflows/<workflow_id>/runs/<run_id>/cancel": {
        "post": [Owned(Call("post", _WF + "/runs/{workflow_run}/cancel"))]
    },
}
ROUTES.update(WORKFLOWS)

# What the owner reads afterwards, to show the probes neither changed nor deleted its objects.
OWNER_READS = [
    "/api/runs/{run}",
    "/api/runs/{waiting_run}",
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
    "/api/evals/live-scorings/{live_scoring}",
    "/api/workflows/t-hold/runs/{workflow_run}",
    "/api/embed/chart/{chart}",
]


FRAMES: dict[str, str] = {
    "message": "a message on the owner's thread id runs on the sender's own thread (or ends 'not found')",
    "subscribe": "subscribing to the owner's thread id delivers none of the owner's frames",
    "replay": "replaying the owner's run id returns none of its frames",
    "abort": "aborting the owner's run id leaves it running to the end",
    "approve": "approving the owner's waiting tool call answers not_found; the call keeps waiting",
    "decline": "declining the owner's waiting tool call answers not_found; the call keeps waiting",
    "resume": "resuming the owner's tool call answers not_found; the run keeps waiting",
    "workflow-start": "starts a workflow run of the sender's own; none of the owner's runs or events",
    "workflow-watch": "watching the owner's workflow run answers not_found and sends none of its events",
    "workflow-resume": "resuming the owner's workflow run answers not_found; its step keeps waiting",
}


ENTRIES = {route_key(route): methods for route, methods in ROUTES.items()}
