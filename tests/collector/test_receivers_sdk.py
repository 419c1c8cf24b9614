"""The real OTel SDK exporters (gRPC and HTTP) against a real faultlens server on free ports."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter

from collector.config import ReceiverConfig
from faultlens.app import AnalysisConfig, FaultlensServer, ServeConfig
from store.reader import open_reader
from tests.traffic import SPANS_PER_TRACE, Fleet, emit_trace


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FaultlensServer]:
    srv = FaultlensServer(
        ServeConfig(
            db=tmp_path / "store.duckdb",
            receivers=ReceiverConfig(grpc_port=0, http_port=0),
            analysis=AnalysisConfig(enabled=False),
        )
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def count(server: FaultlensServer, sql: str = "select count(*) from spans") -> int:
    reader = open_reader(str(server.config.db))
    try:
        return int(reader.query(sql).column(0)[0].as_py())
    finally:
        reader.close()


def _send(fleet: Fleet, traces: int) -> int:
    t0 = time.time_ns() - 10_000_000_000
    for i in range(traces):
        emit_trace(fleet, t0 + i * 1_000_000_000, i)
    assert fleet.flush()
    fleet.shutdown()
    return traces * SPANS_PER_TRACE


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_grpc_exporter_spans_land_normalized(server: FaultlensServer, compression: str) -> None:
    import grpc

    comp = grpc.Compression.Gzip if compression == "gzip" else grpc.Compression.NoCompression
    fleet = Fleet(
        lambda: GrpcSpanExporter(endpoint=f"127.0.0.1:{server.grpc_port}", insecure=True, compression=comp)
    )
    sent = _send(fleet, 12)
    assert count(server) == sent
    reader = open_reader(str(server.config.db))
    try:
        rows = reader.query(
            "select operation, count(*) n from spans group by operation order by operation"
        ).to_pylist()
        ops = {r["operation"]: r["n"] for r in rows}
        assert ops["invoke_agent"] == 24 and ops["chat"] == 24 and ops["execute_tool"] == 36
        assert ops["search_memory"] == 12 and ops["update_memory"] == 12
        services = {
            r["service_name"] for r in reader.query("select distinct service_name from spans").to_pylist()
        }
        assert services == {"planner-svc", "research-svc", "memory-svc"}
    finally:
        reader.close()


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_http_exporter_spans_land(server: FaultlensServer, compression: Compression) -> None:
    fleet = Fleet(
        lambda: HttpSpanExporter(
            endpoint=f"http://127.0.0.1:{server.http_port}/v1/traces", compression=compression
        )
    )
    sent = _send(fleet, 10)
    assert count(server) == sent
    # OpenInference LLM span normalized into the same columns
    reader = open_reader(str(server.config.db))
    try:
        row = reader.query(
            "select request_model, input_tokens, output_tokens, convention from spans "
            "where name = 'ChatOpenAI' limit 1"
        ).to_pylist()[0]
    finally:
        reader.close()
    assert row == {
        "request_model": "gpt-4o-mini",
        "input_tokens": 40,
        "output_tokens": 12,
        "convention": "openinference",
    }


def test_agents_resolved_from_nearest_agent_ancestor(server: FaultlensServer) -> None:
    fleet = Fleet(lambda: GrpcSpanExporter(endpoint=f"127.0.0.1:{server.grpc_port}", insecure=True))
    _send(fleet, 2)
    deadline = time.monotonic() + 2.0
    sql = (
        "select name, resolved_agent_name from spans where name in "
        "('execute_tool web_search', 'chat gpt-4o', 'execute_tool send_report', 'update_memory facts')"
    )
    while True:
        reader = open_reader(str(server.config.db))
        try:
            rows = reader.query(sql).to_pylist()
        finally:
            reader.close()
        got = {r["name"]: r["resolved_agent_name"] for r in rows}
        if all(v is not None for v in got.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert got == {
        "execute_tool web_search": "researcher",
        "update_memory facts": "researcher",  # another service, same agent: resolved through the parent
        "chat gpt-4o": "planner",
        "execute_tool send_report": "planner",
    }
