"""`make run`'s process supervisor: web, worker and beat under supervisord.

With no `S3_ENDPOINT_URL` (in the environment or `.env`), an embedded S3-compatible server
(moto in server mode, `s3`) runs beside them on 127.0.0.1 and every program is pointed at
it, so workspaces, forks and checkpoints work on a fresh clone; its objects live in that
process's memory (docs/storage_kit.md says what that means). `S3_EMBEDDED=false` turns it
off (then boto3's own chain reaches AWS); `S3_EMBEDDED_PORT` moves it (default WEB_PORT+1000).

A child that dies is restarted on its own (the worker or beat crashing leaves web
serving; chats go on, and background work waits for the worker or, for memory,
runs in the web process). The configuration is generated from the environment
into `var/supervisord.conf` on every start:

    python -m config.supervisor          # write the configuration and run supervisord
    .venv/bin/supervisorctl -c var/supervisord.conf status
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, kw_only=True, slots=True)
class Program:
    name: str
    command: str


def programs(*, venv: Path, host: str, port: int, concurrency: int) -> list[Program]:
    """What `make run` runs: web (daphne, through config.serve), the Celery worker and beat."""
    bin_dir = venv / "bin"
    return [
        Program(
            name="web",
            command=f"{bin_dir}/python -m config.serve -b {host} -p {port} config.asgi:application",
        ),
        Program(
            name="worker",
            command=f"{bin_dir}/celery -A config worker --loglevel=INFO --concurrency={concurrency}",
        ),
        Program(name="beat", command=f"{bin_dir}/celery -A config beat --loglevel=INFO"),
    ]


EMBEDDED_S3_KEY = "embedded-s3"  # any key works: the embedded server checks no signature or policy


def embedded_s3(
    *, venv: Path, environ: dict[str, str], web_port: int
) -> tuple[Program | None, dict[str, str]]:
    """The embedded S3 server's program and the variables that point the others at it;
    (None, {}) when an S3 endpoint is configured or the embedded server is turned off."""
    if environ.get("S3_ENDPOINT_URL") or environ.get("S3_EMBEDDED", "true").lower() in ("0", "false", "no"):
        return None, {}
    port = int(environ.get("S3_EMBEDDED_PORT") or web_port + 1000)
    program = Program(name="s3", command=f"{venv / 'bin'}/moto_server -H 127.0.0.1 -p {port}")
    variables = {
        "S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "S3_ACCESS_KEY_ID": environ.get("S3_ACCESS_KEY_ID") or EMBEDDED_S3_KEY,
        "S3_SECRET_ACCESS_KEY": environ.get("S3_SECRET_ACCESS_KEY") or EMBEDDED_S3_KEY,
    }
    return program, variables


def supervisor_config(*, run_dir: Path, cwd: Path, programs: list[Program]) -> str:
    """A supervisord configuration that keeps every program running and logs to its own output."""
    sections = [
        "[supervisord]",
        "nodaemon=true",
        f"logfile={run_dir / 'supervisord.log'}",
        f"pidfile={run_dir / 'supervisord.pid'}",
        f"childlogdir={run_dir}",
        "",
        "[unix_http_server]",
        f"file={run_dir / 'supervisor.sock'}",
        "chmod=0700",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{run_dir / 'supervisor.sock'}",
        "",
    ]
    for program in programs:
        sections += [
            f"[program:{program.name}]",
            f"command={program.command}",
            f"directory={cwd}",
            "autostart=true",
            "autorestart=true",
            "startsecs=2",
            "startretries=1000",
            # Celery's prefork children and daphne's threads go down with their parent.
            "stopasgroup=true",
            "killasgroup=true",
            "stopwaitsecs=20",
            "redirect_stderr=true",
            "stdout_logfile=/dev/stdout",
            "stdout_logfile_maxbytes=0",
            "",
        ]
    return "\n".join(sections)


def main() -> None:
    importlib.import_module("config.env")  # reads .env into the environment, as the settings do

    venv = Path(os.environ.get("VENV", BASE_DIR / ".venv")).resolve()
    run_dir = BASE_DIR / "var"
    run_dir.mkdir(parents=True, exist_ok=True)
    config = run_dir / "supervisord.conf"
    port = int(os.environ.get("WEB_PORT", "8000"))
    children = programs(
        venv=venv,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=port,
        concurrency=int(os.environ.get("CELERY_CONCURRENCY", "2")),
    )
    s3, s3_variables = embedded_s3(venv=venv, environ=dict(os.environ), web_port=port)
    if s3 is not None:
        children = [s3, *children]
        os.environ.update(s3_variables)  # supervisord's children inherit them
        print(f"==> embedded S3 server (in memory) at {s3_variables['S3_ENDPOINT_URL']}", flush=True)
    config.write_text(supervisor_config(run_dir=run_dir, cwd=BASE_DIR, programs=children))
    supervisord = str(venv / "bin" / "supervisord")
    os.execv(supervisord, [supervisord, "-c", str(config)])  # noqa: S606 - our own binary


if __name__ == "__main__":
    main()
