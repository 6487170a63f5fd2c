# mypy: disable-error-code="union-attr,arg-type,misc"
"""Webhooks reach public addresses only, checked at registration and again at delivery."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from core.errors import ValidationFailed
from storage_kit.models import DeliveryAttempt, DeliveryStatus, WebhookDelivery
from storage_kit.services.coordination import coordination_setup
from storage_kit.services.workspaces import workspace_create, workspace_teardown
from tests.storage_kit.conftest import unique

REFUSED = [
    "http://127.0.0.1/hook",
    "http://localhost:8000/hook",  # a name that resolves to loopback
    "http://2130706433/hook",  # 127.0.0.1 in decimal
    "http://0x7f000001/hook",  # and in hex
    "http://127.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "http://[::ffff:a9fe:a9fe]/hook",  # the metadata address, mapped
    "http://[2002:7f00:1::]/hook",  # 6to4 of loopback
    "http://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
    "http://10.0.0.1/hook",
    "http://172.16.5.4/hook",
    "http://192.168.1.1/hook",
    "http://[fd00::1]/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[fe80::1]/hook",
    "http://224.0.0.1/hook",
    "http://[ff02::1]/hook",
    "http://0.0.0.0/hook",
    "http://[::]/hook",
    "http://240.0.0.1/hook",
    "http://100.64.0.1/hook",  # shared address space
    "http://does-not-resolve.invalid/hook",
]


@pytest.fixture
def workspace(s3_settings: Any, actor: Any) -> Any:
    handle = workspace_create(actor=actor, name=unique("hook"))
    yield handle
    workspace_teardown(actor=actor, workspace_id=handle.id)


@pytest.mark.parametrize("url", REFUSED)
def test_non_public_targets_are_refused_at_registration(workspace, actor, settings, url):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(ValidationFailed) as excinfo:
        coordination_setup(actor=actor, bucket=workspace.bucket, webhook_url=url)
    assert list(excinfo.value.details) == ["webhook_url"]


def test_a_public_address_and_allowlisted_ones_are_accepted(workspace, actor, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    assert coordination_setup(actor=actor, bucket=workspace.bucket, webhook_url="https://93.184.216.34/h").id
    settings.WEBHOOK_ALLOWED_HOSTS = ["10.0.0.0/8", "localhost"]
    assert coordination_setup(actor=actor, bucket=workspace.bucket, webhook_url="http://10.1.2.3/h").id
    assert coordination_setup(actor=actor, bucket=workspace.bucket, webhook_url="http://localhost/h").id
    with pytest.raises(ValidationFailed):
        coordination_setup(actor=actor, bucket=workspace.bucket, webhook_url="http://192.168.0.1/h")


def test_the_api_answers_a_private_target_with_a_400_naming_the_field(s3_settings, api_client, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    ws = api_client.post("/api/storage/workspaces/", {"name": unique("apih")}, format="json").json()
    response = api_client.post(
        "/api/storage/coordinations/",
        {"bucket": ws["bucket"], "webhook_url": "http://169.254.169.254/latest"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"
    assert "webhook_url" in response.json()["details"]
    assert api_client.get("/api/storage/coordinations/").json()["results"] == []
    assert api_client.post(f"/api/storage/workspaces/{ws['id']}/teardown/").json()["ok"] is True


def _deliver_one(workspace: Any, django_capture_on_commit_callbacks: Any) -> WebhookDelivery:
    with django_capture_on_commit_callbacks(execute=True):
        workspace.objects.put("a.txt", "x")
    return WebhookDelivery.objects.get()


def test_a_target_no_longer_allowed_is_refused_at_delivery(
    workspace, actor, settings, webhook_receiver, django_capture_on_commit_callbacks
):
    coordination_setup(actor=actor, bucket=workspace.bucket, webhook_url=webhook_receiver.url)
    settings.WEBHOOK_ALLOWED_HOSTS = []
    delivery = _deliver_one(workspace, django_capture_on_commit_callbacks)
    assert webhook_receiver.received == []
    assert delivery.status == DeliveryStatus.FAILED
    assert "TargetRefused" in DeliveryAttempt.objects.get(delivery=delivery).error


def test_a_name_rebound_to_loopback_after_registration_is_not_called(
    workspace, actor, settings, webhook_receiver, django_capture_on_commit_callbacks, monkeypatch
):
    """DNS rebinding: public when registered, loopback when delivered."""
    settings.WEBHOOK_ALLOWED_HOSTS = []
    port = int(webhook_receiver.url.rsplit(":", 1)[1].split("/")[0])
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1", "127.0.0.1"])
    real = socket.getaddrinfo

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "hooks.rebind.test":
            return real(next(answers), *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    coordination_setup(
        actor=actor, bucket=workspace.bucket, webhook_url=f"http://hooks.rebind.test:{port}/hook"
    )
    delivery = _deliver_one(workspace, django_capture_on_commit_callbacks)
    assert webhook_receiver.received == []
    assert delivery.status == DeliveryStatus.FAILED


def _tls_files(tmp_path: Any, hostname: str) -> tuple[str, str, str]:
    """A throwaway CA and a server certificate for `hostname` signed by it (PEM files)."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test ca")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    paths = (tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(paths[0]), str(paths[1]), str(paths[2])


@pytest.mark.parametrize(
    ("cert_for", "delivered"), [("hooks.pinned.test", True), ("someone.else.test", False)]
)
def test_tls_goes_to_the_checked_address_and_verifies_the_name(
    workspace, actor, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks, cert_for, delivered
):
    """The connection goes to the resolved (allowed) address; SNI and the certificate check use the name."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    ca, cert, key = _tls_files(tmp_path, cert_for)
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hits.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    real = socket.getaddrinfo

    def resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == "hooks.pinned.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_CA_BUNDLE = ca
    try:
        port = server.server_address[1]
        coordination_setup(
            actor=actor, bucket=workspace.bucket, webhook_url=f"https://hooks.pinned.test:{port}/h"
        )
        delivery = _deliver_one(workspace, django_capture_on_commit_callbacks)
    finally:
        server.shutdown()
        server.server_close()
    assert (delivery.status == DeliveryStatus.DELIVERED) is delivered
    assert hits == ([f"hooks.pinned.test:{port}"] if delivered else [])
