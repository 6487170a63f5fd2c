"""The scripted server in a process of its own, and its command line.

python -m tests.fakes.openai_server --port 8765 --responder demo
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from tests.fakes.openai_server import ChatReply, ScriptedOpenAIServer
from tests.fakes.responders import RESPONDERS


class ServerProcess:
    """The scripted server in a process of its own, so a benchmark's client does not share its GIL.

    `always(reply)` sets the answer over a control route; `base_url` as for the in-process server.
    """

    def __init__(self, responder: str = "none") -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.responder = responder
        self._process: Any = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ServerProcess:
        import socket
        import subprocess
        import sys
        from pathlib import Path

        root = Path(__file__).resolve().parents[2]
        self._process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [
                sys.executable,
                "-m",
                "tests.fakes.openai_server",
                "--port",
                str(self.port),
                "--responder",
                self.responder,
            ],
            cwd=root,
            stdout=subprocess.DEVNULL,
        )
        import atexit

        atexit.register(self.stop)  # a benchmark that dies must not leave its server behind
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("scripted server process did not start")

    def always(self, reply: ChatReply | None) -> ServerProcess:
        import dataclasses
        import urllib.request

        body = json.dumps(dataclasses.asdict(reply) if reply is not None else {}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/_control/always",
            data=body,
            method="POST",
            headers={"content-type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=5).close()  # noqa: S310
        return self

    def last_chat_messages(self) -> list[dict[str, Any]]:
        """The messages of the last chat completion the server received."""
        import urllib.request

        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.port}/_control/last-chat", timeout=5
        ) as response:
            return list(json.loads(response.read()).get("messages", []))

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(5)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Run the scripted OpenAI-compatible server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--responder", choices=sorted(RESPONDERS), default="demo")
    parser.add_argument(
        "--models",
        default="gpt-test,gpt-test-mini",
        help="comma-separated ids that GET /v1/models lists (to try model resolution and the tiers)",
    )
    args = parser.parse_args()
    server = ScriptedOpenAIServer(args.host, args.port).respond_with(RESPONDERS[args.responder])
    server.set_models([m.strip() for m in args.models.split(",") if m.strip()])
    server.start()
    print(f"Scripted OpenAI-compatible server at {server.base_url}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
