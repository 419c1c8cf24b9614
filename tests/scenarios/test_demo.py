"""``run_demo`` / ``faultlens demo`` through the real OTel SDK exporters, against the real
``faultlens serve`` (gRPC and HTTP) and an in-test OTLP gRPC receiver."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from sample_traces.demo import DemoError, run_demo
from tests.conftest import run_cli, start_serve, stop_serve


class CountingTraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans = 0
        self.trace_ids: set[str] = set()

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        with self.lock:
            for rs in request.resource_spans:
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        self.spans += 1
                        self.trace_ids.add(span.trace_id.hex())
        return trace_service_pb2.ExportTraceServiceResponse()


@pytest.fixture
def receiver() -> Iterator[tuple[CountingTraceService, int]]:
    service = CountingTraceService()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield service, port
    finally:
        server.stop(None)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_every_span_is_acknowledged_and_repeated_demos_add_new_traces(
    receiver: tuple[CountingTraceService, int],
) -> None:
    service, port = receiver
    calls: list[tuple[int, int]] = []
    first = run_demo(f"http://127.0.0.1:{port}", "grpc", 6, None, lambda d, t: calls.append((d, t)))
    assert calls == [(i, 6) for i in range(1, 7)]
    assert first.traces == 6 and first.failed_exports == 0
    assert first.spans_sent == first.spans_acked == service.spans > 6
    assert len(service.trace_ids) == 6
    second = run_demo(f"http://127.0.0.1:{port}", "grpc", 6, None, None)
    assert second.spans_acked == second.spans_sent
    assert len(service.trace_ids) == 12  # fresh random ids every run


def test_refused_endpoint_is_one_clear_error() -> None:
    port = _closed_port()
    with pytest.raises(DemoError, match=f"cannot connect to http://127.0.0.1:{port}"):
        run_demo(f"http://127.0.0.1:{port}", "http", 1, None, None)
    res = run_cli("demo", "--endpoint", f"http://127.0.0.1:{port}", "--traces", "2")
    assert res.returncode == 3, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot connect" in lines[0] and "Traceback" not in res.stderr


def test_demo_into_faultlens_serve_over_grpc_and_http(tmp_path: Path) -> None:
    sp = start_serve(tmp_path / "demo.duckdb", "--no-analysis")
    try:
        acked = 0
        for protocol, endpoint in (("grpc", f"http://127.0.0.1:{sp.grpc_port}"), ("http", sp.http_endpoint)):
            res = run_demo(endpoint, protocol, 8, None, None)  # type: ignore[arg-type]
            assert res.spans_acked == res.spans_sent > 8
            acked += res.spans_acked
        cli = run_cli("demo", "--protocol", "http", "--endpoint", sp.http_endpoint, "--traces", "3")
        assert cli.returncode == 0, cli.stderr
        assert "spans acknowledged" in cli.stdout and "not acknowledged" not in cli.stdout
        out = run_cli(
            "sql",
            "--db",
            str(sp.db),
            "--format",
            "json",
            "select count(*) as spans, count(distinct trace_id) as traces from spans",
        )
        assert out.returncode == 0, out.stderr
        row = json.loads(out.stdout)[0]
        assert row["traces"] == 19
        assert row["spans"] > acked
    finally:
        stop_serve(sp)
