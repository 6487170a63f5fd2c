"""Keep one chat WebSocket idle against a running server and check it is still open at the end.

    .venv/bin/python scripts/ws_idle_check.py --url http://127.0.0.1:8000 --token <api token> \\
        [--agent assistant] [--seconds 600]

The slow form of tests/chat/test_daphne.py's idle test (`make run` serves on the Redis
channel layer): it asks for a ticket (POST /api/ws-tickets), opens the socket with it,
sends nothing for `--seconds`, counts the heartbeat frames, then subscribes to a thread
and expects the answer. Exit 0 when the socket stayed open, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import httpx
import websockets


async def check(*, url: str, token: str, agent: str, seconds: float) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(f"{url}/api/ws-tickets", headers={"Authorization": f"Token {token}"})
    response.raise_for_status()
    ticket = response.json()["ticket"]
    ws_url = url.replace("http", "ws", 1) + f"/ws/agents/{agent}/?ticket={ticket}"
    beats, started = 0, time.monotonic()
    try:
        async with websockets.connect(ws_url) as ws:
            while (left := seconds - (time.monotonic() - started)) > 0:
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), left))
                except TimeoutError:
                    break
                if frame.get("type") == "heartbeat":
                    beats += 1
                else:
                    print(f"unexpected frame: {frame}")
            await ws.send(json.dumps({"type": "subscribe", "threadId": "idle-check"}))
            answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
            while answer.get("type") == "heartbeat":
                answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
    except websockets.ConnectionClosed as exc:
        print(f"closed after {time.monotonic() - started:.1f} s: {exc.rcvd}")
        return 1
    ok = answer.get("type") == "subscribed"
    print(
        f"open after {time.monotonic() - started:.1f} s idle, {beats} heartbeats, then {answer.get('type')}"
    )
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True)
    parser.add_argument("--agent", default="assistant")
    parser.add_argument("--seconds", type=float, default=600)
    args = parser.parse_args()
    sys.exit(asyncio.run(check(url=args.url, token=args.token, agent=args.agent, seconds=args.seconds)))


if __name__ == "__main__":
    main()
