"""Logs and metrics through the real SDK exporters: GenAI events join their span whichever arrives
first; GenAI metrics are stored, others accepted."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetricExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from collector.config import ReceiverConfig
from faultlens.app import AnalysisConfig, FaultlensServer, ServeConfig
from store.reader import open_reader

RESOURCE = Resource.create({"service.name": "chat-svc"})


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FaultlensServer]:
    srv = FaultlensServer(
        ServeConfig(
            db=tmp_path / "lm.duckdb",
            receivers=ReceiverConfig(grpc_port=0, http_port=0),
            analysis=AnalysisConfig(enabled=False),
        )
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def query(srv: FaultlensServer, sql: str) -> list[dict[str, object]]:
    reader = open_reader(str(srv.config.db))
    try:
        return reader.query(sql).to_pylist()  # type: ignore[no-any-return]
    finally:
        reader.close()


def eventually(srv: FaultlensServer, sql: str, expect: object, within: float = 2.0) -> None:
    """The store's joins run shortly after the commit: within the 2 s visibility bound."""
    deadline = time.monotonic() + within
    while True:
        rows = query(srv, sql)
        if rows == expect or time.monotonic() > deadline:
            assert rows == expect
            return
        time.sleep(0.05)


@pytest.mark.parametrize("protocol", ["grpc", "http"])
@pytest.mark.parametrize("event_first", [True, False])
def test_genai_event_joins_its_span_whichever_arrives_first(
    server: FaultlensServer, protocol: str, event_first: bool
) -> None:
    if protocol == "grpc":
        span_exp = GrpcSpanExporter(endpoint=f"127.0.0.1:{server.grpc_port}", insecure=True)
        log_exp = GrpcLogExporter(endpoint=f"127.0.0.1:{server.grpc_port}", insecure=True)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter

        span_exp = HttpSpanExporter(endpoint=f"http://127.0.0.1:{server.http_port}/v1/traces")
        log_exp = HttpLogExporter(endpoint=f"http://127.0.0.1:{server.http_port}/v1/logs")
    tp = TracerProvider(resource=RESOURCE)
    lp = LoggerProvider(resource=RESOURCE)
    lp.add_log_record_processor(SimpleLogRecordProcessor(log_exp))
    tracer = tp.get_tracer("t")
    logger = lp.get_logger("t")
    span = tracer.start_span(
        "chat gpt-4o", attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}
    )
    ctx = trace.set_span_in_context(span)
    question = [{"role": "user", "parts": [{"type": "text", "content": "Where is the Eiffel Tower?"}]}]
    answer = [
        {"role": "assistant", "parts": [{"type": "text", "content": "In Paris."}], "finish_reason": "stop"}
    ]

    def send_event() -> None:
        logger.emit(
            event_name="gen_ai.client.inference.operation.details",
            context=ctx,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.input.messages": json.dumps(question),
                "gen_ai.output.messages": json.dumps(answer),
            },
        )
        lp.force_flush()

    if event_first:
        send_event()
    span.end()
    tp.add_span_processor(SimpleSpanProcessor(span_exp))
    tp.get_tracer("t")  # processors added after end: export the span explicitly
    span_exp.export([span])  # type: ignore[list-item]
    if not event_first:
        send_event()
    span_id = format(span.get_span_context().span_id, "016x")
    rows = query(server, f"select event_name, trace_id, span_id from logs where span_id = '{span_id}'")
    assert rows and rows[0]["event_name"] == "gen_ai.client.inference.operation.details"
    sql = f"select input_messages, output_messages from spans where span_id = '{span_id}'"
    deadline = time.monotonic() + 2.0
    while True:
        got = query(server, sql)
        if (got and got[0]["input_messages"]) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert json.loads(str(got[0]["input_messages"]))[0]["parts"][0]["content"] == "Where is the Eiffel Tower?"
    assert json.loads(str(got[0]["output_messages"]))[0]["parts"][0]["content"] == "In Paris."
    tp.shutdown()
    lp.shutdown()


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_genai_metrics_are_stored(server: FaultlensServer, protocol: str) -> None:
    exporter = (
        GrpcMetricExporter(endpoint=f"127.0.0.1:{server.grpc_port}", insecure=True)
        if protocol == "grpc"
        else HttpMetricExporter(endpoint=f"http://127.0.0.1:{server.http_port}/v1/metrics")
    )
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=60_000)
    mp = MeterProvider(resource=RESOURCE, metric_readers=[reader])
    meter = mp.get_meter("t")
    usage = meter.create_histogram("gen_ai.client.token.usage", unit="{token}")
    usage.record(120, {"gen_ai.token.type": "input", "gen_ai.request.model": "gpt-4o"})
    usage.record(30, {"gen_ai.token.type": "output", "gen_ai.request.model": "gpt-4o"})
    meter.create_counter("http.server.requests").add(5)  # not GenAI: accepted, not stored
    mp.shutdown()  # exports once (a flush before it would export the cumulative points again)
    rows = query(server, "select name, type, count, sum from metrics order by sum")
    assert [(r["name"], r["type"], r["count"], r["sum"]) for r in rows] == [
        ("gen_ai.client.token.usage", "histogram", 1, 30.0),
        ("gen_ai.client.token.usage", "histogram", 1, 120.0),
    ]
