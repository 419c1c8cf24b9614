"""Property: generated requests (ids, every AnyValue type, unicode) survive protobuf and OTLP/JSON
encoding, parsing and decoding with their values intact."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from collector.decode import decode_logs, decode_traces, parse_traces
from tests.collector.fixtures.decode_support import (
    any_value,
    attribute_values,
    expected_json_value,
    kvs,
    request,
    rows,
    span,
)

_VALUES = attribute_values()
_ATTRS = st.dictionaries(st.text(max_size=20), _VALUES, max_size=6)
_NONZERO16 = st.binary(min_size=16, max_size=16).filter(any)
_NONZERO8 = st.binary(min_size=8, max_size=8).filter(any)
_U63 = st.integers(min_value=0, max_value=2**63 - 1)


@st.composite
def _spans(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(min_value=1, max_value=4))
    ids = draw(st.lists(_NONZERO8, min_size=n, max_size=n, unique=True))
    return [
        {
            "trace_id": draw(_NONZERO16),
            "span_id": sid,
            "parent": draw(st.one_of(st.just(b""), _NONZERO8)),
            "name": draw(st.text(max_size=40)),
            "start": draw(_U63),
            "end": draw(_U63),
            "attrs": draw(_ATTRS),
            "events": draw(st.lists(st.tuples(st.text(max_size=10), _ATTRS), max_size=2)),
        }
        for sid in ids
    ]


def _to_otlp_json(body: bytes, upper: bool) -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    doc = json_format.MessageToDict(ExportTraceServiceRequest.FromString(body))
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for s in ss.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in s:
                        hexed = base64.b64decode(s[key]).hex()
                        s[key] = hexed.upper() if upper else hexed
    return orjson.dumps(doc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_spans(), st.booleans())
def test_round_trip_protobuf_and_json(spec: list[dict[str, Any]], upper: bool) -> None:
    req = request(
        *(
            span(
                s["attrs"],
                name=s["name"],
                trace_id=s["trace_id"],
                span_id=s["span_id"],
                parent=s["parent"],
                start=s["start"],
                end=s["end"],
                events=s["events"],
            )
            for s in spec
        )
    )
    body = req.SerializeToString()
    via_protobuf = decode_traces(parse_traces(body, "protobuf"))
    via_json = decode_traces(parse_traces(_to_otlp_json(body, upper), "json"))
    for decoded in (via_protobuf, via_json):
        assert decoded.rejected == 0
        spans = rows(decoded)
        assert len(spans) == len(spec)
        for row, s in zip(spans, spec, strict=True):
            assert (row["trace_id"], row["span_id"]) == (s["trace_id"].hex(), s["span_id"].hex())
            assert row["parent_span_id"] == (s["parent"].hex() if s["parent"] else None)
            assert (row["name"], row["start_ns"], row["end_ns"]) == (s["name"], s["start"], s["end"])
            assert row["duration_ns"] == max(s["end"] - s["start"], 0)
            assert orjson.loads(row["attributes"]) == expected_json_value(s["attrs"])
        events = decoded.batch.span_events.to_pylist()
        expected_events = [
            (s["span_id"].hex(), i, name, expected_json_value(attrs))
            for s in spec
            for i, (name, attrs) in enumerate(s["events"])
        ]
        assert [
            (e["span_id"], e["idx"], e["name"], orjson.loads(e["attributes"])) for e in events
        ] == expected_events
    assert via_json.batch.spans.equals(via_protobuf.batch.spans)


_CONVENTION_KEYS = [
    "gen_ai.operation.name", "gen_ai.input.messages", "gen_ai.output.messages",
    "gen_ai.system_instructions", "gen_ai.prompt", "gen_ai.completion", "gen_ai.tool.definitions",
    "gen_ai.response.finish_reasons", "gen_ai.usage.input_tokens", "gen_ai.agent.name", "gen_ai.output",
    "gen_ai.memory.records", "pydantic_ai.all_messages", "final_result", "http.response.status_code",
    "faultlens.memory.version", "openinference.span.kind", "llm.input_messages.0.message.role",
    "llm.input_messages.0.message.content", "llm.output_messages.0.message.contents.0.message_content.type",
    "llm.tools.0.tool.json_schema", "llm.invocation_parameters", "llm.token_count.prompt", "input.value",
    "output.value", "input.mime_type", "tool.parameters", "traceloop.span.kind", "traceloop.entity.input",
    "gen_ai.prompt.0.content", "gen_ai.prompt.0.tool_calls.0.name", "gen_ai.completion.0.function_call.name",
    "llm.request.functions.0.parameters",
]  # fmt: skip
_WORDS = st.sampled_from(
    ["user", "tool", "text", "reasoning", "tool_call", "tool_call_response", "parts", "role", "content",
     "<think>x</think>", "AGENT", "TOOL", "LLM", "invoke_agent", "application/json"]
)  # fmt: skip
_KEYS = st.sampled_from(
    ["role", "parts", "type", "content", "message", "tool_calls", "function", "name", "id"]
)
_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=6), _WORDS)
_JSONISH = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=10,
)
_AS_ATTR = st.one_of(
    _JSONISH.map(lambda v: orjson.dumps(v).decode()), _JSONISH.filter(lambda v: v is not None)
)
_EVENT_NAMES = st.sampled_from(
    [
        "gen_ai.user.message",
        "gen_ai.choice",
        "gen_ai.tool.message",
        "gen_ai.client.inference.operation.details",
    ]
)
_EVENT_KEYS = st.sampled_from(["content", "message", "id", "gen_ai.input.messages"])
_EVENTS = st.lists(st.tuples(_EVENT_NAMES, st.dictionaries(_EVENT_KEYS, _AS_ATTR, max_size=3)), max_size=3)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(_CONVENTION_KEYS), _AS_ATTR, max_size=8),
    _EVENTS,
    st.sampled_from(["x", "invoke_agent a", "chat m", "execute_tool t"]),
)
def test_any_convention_content_decodes_without_raising(
    attrs: dict[str, Any], events: list[tuple[str, dict[str, Any]]], name: str
) -> None:
    """Decoding never raises on content: every structured column stays valid JSON."""
    decoded = decode_traces(request(span(attrs, name=name, events=events)))
    (row,) = rows(decoded)
    for column in ("input_messages", "output_messages", "system_instructions", "tool_definitions",
                   "finish_reasons", "attributes"):  # fmt: skip
        if row[column] is not None:
            orjson.loads(row[column])
    for column in ("input_messages", "output_messages"):
        for message in orjson.loads(row[column] or "[]"):
            assert isinstance(message, dict) and isinstance(message["parts"], list)
    # The same events as log records, their payload once as attributes and once as the body.
    logs = ExportLogsServiceRequest()
    records = logs.resource_logs.add().scope_logs.add().log_records
    for event_name, payload in events:
        records.add(event_name=event_name, attributes=kvs(payload))
        records.add(event_name=event_name, body=any_value(payload))
    for log in decode_logs(logs).batch.logs.to_pylist():
        for column in ("input_messages", "output_messages", "system_instructions", "body"):
            if log[column] is not None:
                orjson.loads(log[column])
