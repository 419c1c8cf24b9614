"""Spans produced by real instrumentation, through the real OTLP encoders, decode into the right
columns: the OTel SDK itself, any-agent's recorded traces, and pydantic-ai (TestModel)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, StatusCode

from collector.decode import decode_traces, parse_traces
from tests.collector.fixtures.decode_support import EXTERNAL, FIXTURES, js, kvs, request

# Three traces are fixtures; the full set of seven is used when the shared data is present.
_ANY_AGENT_DIRS = (FIXTURES / "any_agent_traces", EXTERNAL / "otel_genai" / "any_agent_traces")
ANY_AGENT = {p.name: p for d in reversed(_ANY_AGENT_DIRS) for p in sorted(d.glob("*_trace.json"))}


@pytest.fixture
def sdk() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "agents"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def _through_the_wire(spans: Sequence[ReadableSpan]) -> list[dict[str, Any]]:
    """Encode with the OTLP exporter's encoder, send as protobuf and as OTLP/JSON; both decode
    to the same rows."""
    body = encode_spans(spans).SerializeToString()
    via_protobuf = decode_traces(parse_traces(body, "protobuf"))
    doc = json_format.MessageToDict(encode_spans(spans))
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                for obj in (s, *s.get("links", ())):
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in obj:
                            obj[key] = base64.b64decode(obj[key]).hex()
    via_json = decode_traces(parse_traces(orjson.dumps(doc), "json"))
    assert via_json.batch.spans.equals(via_protobuf.batch.spans)
    rows: list[dict[str, Any]] = via_protobuf.batch.spans.to_pylist()
    return rows


def test_otel_sdk_genai_spans(sdk: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    provider, exporter = sdk
    tracer = provider.get_tracer("my.agents", "0.1")
    with tracer.start_as_current_span(
        "invoke_agent planner",
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "planner",
            "gen_ai.agent.id": "p-1",
        },
    ) as agent:
        with tracer.start_as_current_span(
            "chat gpt-4o",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 33,
                "gen_ai.usage.output_tokens": 7,
                "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "2+2?"}]}]',
                "gen_ai.output.messages": '[{"role": "assistant", "finish_reason": "stop", '
                '"parts": [{"type": "text", "content": "4"}]}]',
                "gen_ai.response.finish_reasons": ("stop",),
            },
        ):
            pass
        with tracer.start_as_current_span(
            "execute_tool calc",
            links=[Link(agent.get_span_context())],
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "calc"},
        ) as tool:
            tool.set_status(StatusCode.ERROR, "deadline")
            tool.set_attribute("error.type", "TimeoutError")
            tool.add_event("exception", {"exception.type": "TimeoutError"})
    rows = {r["name"]: r for r in _through_the_wire(exporter.get_finished_spans())}
    agent_row, chat, tool_row = rows["invoke_agent planner"], rows["chat gpt-4o"], rows["execute_tool calc"]
    assert (agent_row["agent_name"], agent_row["agent_id"], agent_row["parent_span_id"]) == (
        "planner",
        "p-1",
        None,
    )
    assert chat["parent_span_id"] == agent_row["span_id"] and chat["trace_id"] == agent_row["trace_id"]
    assert (chat["kind"], chat["operation"], chat["request_model"]) == (3, "chat", "gpt-4o")
    assert (chat["input_tokens"], chat["output_tokens"]) == (33, 7)
    assert js(chat["output_messages"])[0]["finish_reason"] == "stop"
    assert js(chat["finish_reasons"]) == ["stop"]
    assert (chat["service_name"], chat["scope_name"], chat["scope_version"]) == ("agents", "my.agents", "0.1")
    assert (tool_row["status_code"], tool_row["status_message"], tool_row["error_type"]) == (
        2,
        "deadline",
        "TimeoutError",
    )
    assert tool_row["tool_name"] == "calc"
    assert chat["duration_ns"] == chat["end_ns"] - chat["start_ns"] >= 0


def _any_agent_request(path_name: str) -> ExportTraceServiceRequest:
    """any-agent's recorded SDK-JSON spans (Apache-2.0) as one OTLP request: decimal ids → bytes."""
    doc = json.loads(ANY_AGENT[path_name].read_text())
    spans = []
    for s in doc["spans"]:
        parent = s.get("parent") or {}
        attrs = {k: v for k, v in s["attributes"].items() if v is not None}
        spans.append(
            Span(
                trace_id=s["context"]["trace_id"].to_bytes(16, "big"),
                span_id=s["context"]["span_id"].to_bytes(8, "big"),
                parent_span_id=parent["span_id"].to_bytes(8, "big") if parent.get("span_id") else b"",
                name=s["name"],
                kind=Span.SPAN_KIND_INTERNAL,
                start_time_unix_nano=s["start_time"],
                end_time_unix_nano=s["end_time"],
                attributes=kvs(attrs),
            )
        )
    return request(*spans, service="unknown_service")


@pytest.mark.parametrize("path_name", sorted(ANY_AGENT))
def test_any_agent_recorded_traces(path_name: str) -> None:
    decoded = decode_traces(_any_agent_request(path_name))
    assert decoded.rejected == 0
    rows = decoded.batch.spans.to_pylist()
    agents = [r for r in rows if r["operation"] == "invoke_agent"]
    assert len(agents) == 1 and agents[0]["agent_name"]
    assert agents[0]["parent_span_id"] is None
    for r in rows:
        assert r["convention"] == "genai"
        if r["operation"] == "chat":  # any-agent's call_llm
            assert r["request_model"] and r["input_tokens"] is not None and r["output_messages"]
        if r["operation"] == "execute_tool":
            assert r["tool_name"] and r["tool_arguments"] is not None and r["tool_result"] is not None
    assert any(r["operation"] == "execute_tool" for r in rows)


def test_any_agent_openai_trace_details() -> None:
    rows = decode_traces(_any_agent_request("OPENAI_trace.json")).batch.spans.to_pylist()
    first_llm = min((r for r in rows if r["operation"] == "chat"), key=lambda r: r["start_ns"])
    assert js(first_llm["input_messages"])[0] == {
        "role": "system",
        "parts": [{"type": "text", "content": "Use the available tools to answer."}],
    }
    assert js(first_llm["system_instructions"]) == [
        {"type": "text", "content": "Use the available tools to answer."}
    ]
    assert js(first_llm["output_messages"]) == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": None,
                    "name": "get_current_time",
                    "arguments": {"timezone": "America/New_York"},
                }
            ],
        }
    ]
    tool = next(r for r in rows if r["tool_name"] == "get_current_time")
    assert js(tool["tool_arguments"]) == {"timezone": "America/New_York"}
    assert js(tool["tool_result"])["timezone"] == "America/New_York"


def test_pydantic_ai_test_model(sdk: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    pydantic_ai = pytest.importorskip("pydantic_ai")
    from pydantic_ai.models.instrumented import InstrumentationSettings
    from pydantic_ai.models.test import TestModel

    provider, exporter = sdk
    agent = pydantic_ai.Agent(TestModel(), name="weather_agent", instructions="You report weather.")
    agent.instrument = InstrumentationSettings(tracer_provider=provider)

    @agent.tool_plain  # type: ignore[untyped-decorator]
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"sunny in {city}"

    agent.run_sync("Weather in Paris?")
    rows = _through_the_wire(exporter.get_finished_spans())
    by_op: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_op.setdefault(r["operation"], []).append(r)
    (run,) = by_op["invoke_agent"]
    assert run["agent_name"] == "weather_agent"
    assert js(run["input_messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}
    ]
    assert js(run["output_messages"])[0]["role"] == "assistant"
    assert js(run["system_instructions"]) == [{"type": "text", "content": "You report weather."}]
    first, second = sorted(by_op["chat"], key=lambda r: r["start_ns"])
    assert (first["provider"], first["request_model"], first["agent_name"]) == (
        "test",
        "test",
        "weather_agent",
    )
    assert first["input_tokens"] > 0 and first["output_tokens"] > 0
    call = js(first["output_messages"])[0]["parts"][0]
    assert (call["type"], call["name"]) == ("tool_call", "get_weather")
    assert [d["name"] for d in js(first["tool_definitions"])] == ["get_weather"]
    response = js(second["input_messages"])[-1]["parts"][0]
    assert (response["type"], response["id"]) == ("tool_call_response", call["id"])
    assert response["response"].startswith("sunny in")  # pydantic-ai sends `result`
    (tool,) = by_op["execute_tool"]
    assert (tool["tool_name"], tool["tool_call_id"]) == ("get_weather", call["id"])
    assert js(tool["tool_arguments"]) == call["arguments"] and tool["tool_result"].startswith("sunny in")
    assert tool["parent_span_id"] == run["span_id"] or tool["trace_id"] == run["trace_id"]
