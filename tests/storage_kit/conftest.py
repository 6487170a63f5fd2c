"""A real S3/IAM/STS/SQS server (moto in server mode) on a local port, with IAM enforcement on,
and a scripted webhook receiver on another port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
SIGNING_SECRET = "whsec-planted-signing-secret-5b1e"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MotoServer:
    url: str
    admin_key: str
    admin_secret: str
    process: subprocess.Popen[bytes]

    def client(
        self, service: str, key: str | None = None, secret: str | None = None, token: str | None = None
    ) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key or self.admin_key,
            aws_secret_access_key=secret or self.admin_secret,
            aws_session_token=token,
            config=Config(max_pool_connections=32),
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def moto_start(*, enforce_auth: bool = True) -> MotoServer:
    port = _free_port()
    env = {**os.environ, "MOTO_PORT": str(port)}
    env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
    binary = os.path.join(os.path.dirname(sys.executable), "moto_server")
    process = subprocess.Popen(  # noqa: S603 - our own venv's binary
        [binary, "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(f"{url}/moto-api/", timeout=0.5)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    # Bootstrap an administrator while auth is off, then switch enforcement on for everything after.
    iam = boto3.client(
        "iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    iam.create_user(UserName="platform-admin")
    iam.put_user_policy(UserName="platform-admin", PolicyName="all", PolicyDocument=json.dumps(ADMIN_POLICY))
    key = iam.create_access_key(UserName="platform-admin")["AccessKey"]
    if enforce_auth:
        requests.post(f"{url}/moto-api/reset-auth", data=b"0", timeout=5).raise_for_status()
    return MotoServer(
        url=url, admin_key=key["AccessKeyId"], admin_secret=key["SecretAccessKey"], process=process
    )


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = moto_start()
    yield server
    server.stop()


@pytest.fixture
def s3_settings(moto_server: MotoServer, settings: Any) -> MotoServer:
    settings.S3_ENDPOINT_URL = moto_server.url
    settings.S3_ACCESS_KEY_ID = moto_server.admin_key
    settings.S3_SECRET_ACCESS_KEY = moto_server.admin_secret
    settings.S3_REGION = "us-east-1"
    settings.STORAGE_CREDENTIALS_STRATEGY = "iam_user"
    settings.WEBHOOK_SIGNING_SECRET = SIGNING_SECRET
    settings.STORAGE_MAX_FORKS = 10
    return moto_server


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def actor(user: Any) -> Any:
    """The test user (a member of `tenant`) as the storage services see it."""
    from core.access import Actor

    return Actor(tenant_id=user.membership.tenant_id, user_id=user.pk)


@pytest.fixture
def source_bucket(s3_settings: MotoServer, tenant: Any) -> str:
    """A versioned bucket with three objects, registered as a dataset of `tenant`."""
    from storage_kit.services.locations import dataset_register

    s3 = s3_settings.client("s3")
    name = unique("src")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for key, body in {"data/a.txt": b"alpha", "data/b.txt": b"bravo", "readme.md": b"# dataset"}.items():
        s3.put_object(Bucket=name, Key=key, Body=body)
    dataset_register(tenant_id=tenant.pk, name=name, bucket=name)
    return name


@dataclass
class Receiver:
    """A webhook receiver answering the scripted status codes in order, then 200."""

    url: str
    script: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def webhook_receiver(settings: Any) -> Iterator[Receiver]:
    """A receiver on loopback, which webhooks may reach only because the allowlist says so."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    receiver = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                status = receiver.script.pop(0) if receiver.script else 200
                receiver.received.append({"headers": dict(self.headers), "body": body, "status": status})
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield receiver
    server.shutdown()
    server.server_close()
