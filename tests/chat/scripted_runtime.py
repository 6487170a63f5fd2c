"""A stand-in for the agent runtime that talks to the scripted model server.

It drives the edges (SSE route, WebSocket consumer) with real provider
streams over HTTP: the `openai` SDK streams from the scripted server, tool
calls run a small table of tools, and closing the stream closes the provider's
HTTP response, so abort tests can see the server notice the disconnect.
Selected with `CHAT_RUNTIME = "tests.chat.scripted_runtime.ScriptedRuntime"`.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

from openai import AsyncOpenAI

from agents.runtime import events as ev
from chat.runtime import ChatRequest

AGENTS = {"demo"}
TOOLS: dict[str, tuple[str, Any]] = {
    "check_availability": ("Checking machine availability…", lambda args: {"available": True, **args}),
    "explode": ("Exploding…", None),
}
TOOL_SPECS = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": {}}}}
    for name in TOOLS
]
# thread id -> list of (role, text, status); what a run persisted (in this process).
PERSISTED: dict[str, list[tuple[str, str, str]]] = {}


class ScriptedRuntime:
    def agent_exists(self, *, agent_id: str, tenant_id: int) -> bool:
        return agent_id in AGENTS

    def model_check(self, *, agent_id: str, tenant_id: int, model: str) -> None:
        return None

    def thread_check(self, *, agent_id: str, tenant_id: int, resource_id: str, thread_id: str) -> None:
        return None

    # One function on purpose: it reads like the loop it stands in for.
    async def stream(self, request: ChatRequest) -> AsyncIterator[ev.Event]:  # noqa: C901
        base_url = os.environ["SCRIPTED_BASE_URL"]
        client = AsyncOpenAI(
            base_url=base_url, api_key=os.environ.get("SCRIPTED_API_KEY", "x"), max_retries=0
        )
        thread = PERSISTED.setdefault(request.thread_id, [])
        thread.append(("user", request.text, "done"))
        messages: list[dict[str, Any]] = [{"role": "user", "content": request.text}]
        text: list[str] = []
        status = "aborted"
        run_id = uuid.uuid4().hex
        yield ev.Start(message_id=f"msg-{run_id}")
        yield ev.Data(name="run", data={"runId": run_id, "traceId": f"trace-{run_id}"})
        try:
            for _step in range(4):
                yield ev.StartStep()
                response: Any = await client.chat.completions.create(
                    model=request.model or "gpt-test",
                    messages=cast(Any, messages),
                    stream=True,
                    tools=cast(Any, TOOL_SPECS),
                )
                calls: dict[int, dict[str, str]] = {}
                text_id = f"txt-{uuid.uuid4().hex[:8]}"
                started = False
                async with response:
                    async for chunk in response:
                        delta = chunk.choices[0].delta if chunk.choices else None
                        if delta is None:
                            continue
                        if delta.content:
                            if not started:
                                started = True
                                yield ev.TextStart(id=text_id)
                            text.append(delta.content)
                            yield ev.TextDelta(id=text_id, delta=delta.content)
                        for tc in delta.tool_calls or []:
                            entry = calls.setdefault(tc.index, {"id": "", "name": "", "args": ""})
                            entry["id"] = tc.id or entry["id"]
                            if tc.function and tc.function.name:
                                entry["name"] = tc.function.name
                            if tc.function and tc.function.arguments:
                                entry["args"] += tc.function.arguments
                if started:
                    yield ev.TextEnd(id=text_id)
                if not calls:
                    yield ev.FinishStep()
                    break
                messages.append(
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": c["id"],
                                "type": "function",
                                "function": {"name": c["name"], "arguments": c["args"]},
                            }
                            for c in calls.values()
                        ],
                    }
                )
                for call in calls.values():
                    yield ev.ToolInputStart(
                        tool_call_id=call["id"], tool_name=call["name"], title=TOOLS[call["name"]][0]
                    )
                    args = json.loads(call["args"] or "{}")
                    yield ev.ToolInputAvailable(tool_call_id=call["id"], tool_name=call["name"], input=args)
                    fn = TOOLS[call["name"]][1]
                    if fn is None:
                        raise RuntimeError("tool exploded with a secret sk-should-not-leak")
                    output = fn(args)
                    yield ev.ToolOutputAvailable(tool_call_id=call["id"], output=output)
                    messages.append(
                        {"role": "tool", "tool_call_id": call["id"], "content": json.dumps(output)}
                    )
                yield ev.FinishStep()
            status = "done"
            yield ev.Finish(finish_reason="stop")
        except Exception:
            status = "failed"
            raise
        finally:
            thread.append(("assistant", "".join(text), status))
            await client.close()
