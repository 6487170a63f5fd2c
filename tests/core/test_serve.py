"""The product's daphne command line (`config.serve`)."""

from __future__ import annotations

from config.serve import LISTEN_BACKLOG, with_backlog


def test_tcp_endpoints_get_the_listen_backlog() -> None:
    assert with_backlog("tcp:port=8000:interface=127.0.0.1") == (
        f"tcp:port=8000:interface=127.0.0.1:backlog={LISTEN_BACKLOG}"
    )
    assert (
        with_backlog("tcp6:port=8000:interface=\\:\\:1", 64) == "tcp6:port=8000:interface=\\:\\:1:backlog=64"
    )


def test_a_backlog_named_or_another_kind_of_endpoint_is_kept() -> None:
    assert with_backlog("tcp:port=8000:backlog=10") == "tcp:port=8000:backlog=10"
    assert with_backlog("unix:/run/app.sock") == "unix:/run/app.sock"
    assert with_backlog("fd:fileno=3") == "fd:fileno=3"
