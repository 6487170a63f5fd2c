"""OTLP/HTTP export: a real local receiver gets the stored spans with GenAI attribute names."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from observability import export
from observability.tracing import trace_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def otlp_receiver():
    received: list[ExportTraceServiceRequest] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            message = ExportTraceServiceRequest()
            message.ParseFromString(body)
            received.append(message)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


def test_spans_are_exported_with_genai_conventions_and_redacted(otlp_receiver, settings, tenant):
    endpoint, received = otlp_receiver
    settings.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint
    export._provider.cache_clear()
    try:
        trace = trace_start(name="agent.run demo", tenant_id=tenant.pk)
        with (
            trace.span("agent.run", kind="run", agent_id="demo"),
            trace.span(
                "model.call",
                kind="model",
                model="scripted/gpt-test",
                input_tokens=12,
                api_key="sk-should-not-leave",
            ),
        ):
            pass
        trace.flush()
        provider = export._provider()
        assert provider is not None
        provider.force_flush()
    finally:
        settings.OTEL_EXPORTER_OTLP_ENDPOINT = ""
        export._provider.cache_clear()

    spans = [s for req in received for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]
    by_name = {s.name: s for s in spans}
    assert set(by_name) == {"agent.run", "model.call"}
    model = {a.key: a.value for a in by_name["model.call"].attributes}
    assert model["gen_ai.request.model"].string_value == "scripted/gpt-test"
    assert model["gen_ai.usage.input_tokens"].int_value == 12
    assert model["gen_ai.operation.name"].string_value == "chat"
    assert model["platform.api_key"].string_value == "[REDACTED]"
    assert by_name["model.call"].parent_span_id == by_name["agent.run"].span_id
