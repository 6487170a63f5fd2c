"""`make run`'s process supervisor: web, worker and beat under supervisord.

A child that dies is restarted on its own (the worker or beat crashing leaves web
serving; chats go on, and background work waits for the worker or, for memory,
runs in the web process). The configuration is generated from the environment
into `var/supervisord.conf` on every start:

    python -m config.supervisor          # write the configuration and run supervisord
    .venv/bin/supervisorctl -c var/supervisord.conf status
"""

from __future__ import annotations

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
    venv = Path(os.environ.get("VENV", BASE_DIR / ".venv")).resolve()
    run_dir = BASE_DIR / "var"
    run_dir.mkdir(parents=True, exist_ok=True)
    config = run_dir / "supervisord.conf"
    config.write_text(
        supervisor_config(
            run_dir=run_dir,
            cwd=BASE_DIR,
            programs=programs(
                venv=venv,
                host=os.environ.get("HOST", "127.0.0.1"),
                port=int(os.environ.get("WEB_PORT", "8000")),
                concurrency=int(os.environ.get("CELERY_CONCURRENCY", "2")),
            ),
        )
    )
    supervisord = str(venv / "bin" / "supervisord")
    os.execv(supervisord, [supervisord, "-c", str(config)])  # noqa: S606 - our own binary


if __name__ == "__main__":
    main()
