"""decode_logs (GenAI events → normalized message columns) and decode_metrics (GenAI points only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, SeverityNumber
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource

from collector.decode import decode_logs, decode_metrics, parse_logs, parse_metrics
from store import schema
from tests.collector.fixtures.decode_support import SPAN_ID, TRACE_ID, any_value, js, kvs


def _logs(*records: LogRecord, service: str = "svc") -> ExportLogsServiceRequest:
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.extend(kvs({"service.name": service}))
    sl = rl.scope_logs.add()
    sl.scope.name = "genai.events"
    sl.log_records.extend(records)
    return req


def _record(
    event: str | None, attrs: Mapping[str, Any] | None = None, body: Any = None, *, in_attribute: bool = False
) -> LogRecord:
    rec = LogRecord(
        time_unix_nano=5,
        observed_time_unix_nano=6,
        trace_id=TRACE_ID,
        span_id=SPAN_ID,
        severity_number=SeverityNumber.SEVERITY_NUMBER_INFO,
        severity_text="INFO",
    )
    all_attrs = dict(attrs or {})
    if event is not None and in_attribute:
        all_attrs["event.name"] = event
    elif event is not None:
        rec.event_name = event
    rec.attributes.extend(kvs(all_attrs))
    if body is not None:
        rec.body.CopyFrom(any_value(body))
    return rec


def _rows(req: ExportLogsServiceRequest) -> list[dict[str, Any]]:
    decoded = decode_logs(req)
    assert decoded.batch.logs.schema == schema.LOGS and decoded.rejected == 0
    out: list[dict[str, Any]] = decoded.batch.logs.to_pylist()
    return out


def test_inference_operation_details_event() -> None:
    out = [
        {
            "role": "assistant",
            "parts": [{"type": "reasoning", "content": "Think."}, {"type": "text", "content": "Done."}],
            "finish_reason": "stop",
        }
    ]
    (row,) = _rows(
        _logs(
            _record(
                "gen_ai.client.inference.operation.details",
                {
                    "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": "Go"}]}],
                    "gen_ai.output.messages": orjson.dumps(out).decode(),
                    "gen_ai.system_instructions": '[{"type": "text", "content": "Rules."}]',
                },
            )
        )
    )
    assert (row["trace_id"], row["span_id"]) == (TRACE_ID.hex(), SPAN_ID.hex())
    assert row["event_name"] == "gen_ai.client.inference.operation.details"
    assert js(row["input_messages"]) == [{"role": "user", "parts": [{"type": "text", "content": "Go"}]}]
    assert js(row["output_messages"]) == out
    assert js(row["system_instructions"]) == [{"type": "text", "content": "Rules."}]
    assert row["reasoning"] == "Think."
    assert (row["time_ns"], row["observed_ns"], row["severity_number"], row["severity_text"]) == (
        5,
        6,
        9,
        "INFO",
    )
    assert (row["service_name"], row["scope_name"]) == ("svc", "genai.events")
    assert len(row["log_id"]) == 32 and int(row["log_id"], 16) >= 0


def test_deprecated_per_message_events_as_log_records() -> None:
    rows = _rows(
        _logs(
            _record("gen_ai.system.message", {"gen_ai.system": "openai"}, {"content": "Be kind."}),
            _record("gen_ai.user.message", {"gen_ai.system": "openai"}, {"content": "Hi"}, in_attribute=True),
            _record("gen_ai.tool.message", None, {"content": "42", "id": "c1"}),
            _record(
                "gen_ai.choice",
                None,
                {"index": 0, "finish_reason": "stop", "message": {"content": "<think>hmm</think>Hello"}},
            ),
        )
    )
    system, user, tool, choice = rows
    assert js(system["input_messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be kind."}]}
    ]
    assert js(system["system_instructions"]) == [{"type": "text", "content": "Be kind."}]
    assert user["event_name"] == "gen_ai.user.message"  # from the event.name attribute
    assert js(user["input_messages"]) == [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]
    assert js(tool["input_messages"]) == [
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "42"}]}
    ]
    assert js(choice["output_messages"]) == [
        {
            "role": "assistant",
            "finish_reason": "stop",
            "parts": [{"type": "text", "content": "<think>hmm</think>Hello"}],
        }
    ]
    assert choice["reasoning"] == "hmm" and choice["input_messages"] is None


def test_plain_log_records_have_no_message_columns_and_ids_may_be_absent() -> None:
    rec = LogRecord(
        severity_number=SeverityNumber.SEVERITY_NUMBER_ERROR, trace_id=bytes(16), span_id=b"\x01\x02"
    )
    rec.body.string_value = "disk full"
    (row,) = _rows(_logs(rec))
    assert (row["trace_id"], row["span_id"], row["event_name"]) == (None, None, None)
    assert (row["body"], row["input_messages"], row["reasoning"]) == ('"disk full"', None, None)
    (row,) = _rows(_logs(LogRecord()))
    assert row["body"] is None


def test_log_id_is_a_stable_content_hash() -> None:
    a = _rows(_logs(_record("x", {"k": 1})))[0]["log_id"]
    assert _rows(_logs(_record("x", {"k": 1})))[0]["log_id"] == a
    assert _rows(_logs(_record("x", {"k": 2})))[0]["log_id"] != a
    assert _rows(_logs(_record("x", {"k": 1}), service="other"))[0]["log_id"] != a
    body = _logs(_record("x", {"k": 1})).SerializeToString()
    assert decode_logs(parse_logs(body, "protobuf")).batch.logs.to_pylist()[0]["log_id"] == a


def test_json_log_ids_are_hex() -> None:
    doc = {
        "resourceLogs": [
            {
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "traceId": TRACE_ID.hex().upper(),
                                "spanId": SPAN_ID.hex(),
                                "eventName": "gen_ai.user.message",
                                "body": {
                                    "kvlistValue": {
                                        "values": [{"key": "content", "value": {"stringValue": "hey"}}]
                                    }
                                },
                            }
                        ]
                    }
                ]
            }
        ]
    }
    (row,) = decode_logs(parse_logs(orjson.dumps(doc), "json")).batch.logs.to_pylist()
    assert (row["trace_id"], row["span_id"]) == (TRACE_ID.hex(), SPAN_ID.hex())
    assert js(row["input_messages"]) == [{"role": "user", "parts": [{"type": "text", "content": "hey"}]}]


def test_metrics_keep_genai_points_only() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=Resource.create({"service.name": "agents"}), metric_readers=[reader])
    meter = provider.get_meter("genai")
    usage = meter.create_histogram("gen_ai.client.token.usage", unit="{token}")
    usage.record(100, {"gen_ai.token.type": "input", "gen_ai.request.model": "gpt-4o"})
    usage.record(300, {"gen_ai.token.type": "input", "gen_ai.request.model": "gpt-4o"})
    meter.create_counter("gen_ai.client.requests").add(2, {"gen_ai.operation.name": "chat"})
    meter.create_counter("http.server.requests").add(5)
    meter.create_up_down_counter("gen_ai.inflight").add(-1)
    data = reader.get_metrics_data()
    assert data is not None
    body = encode_metrics(data).SerializeToString()
    decoded = decode_metrics(parse_metrics(body, "protobuf"))
    assert decoded.batch.metrics.schema == schema.METRICS and decoded.rejected == 0
    rows = {r["name"]: r for r in decoded.batch.metrics.to_pylist()}
    assert set(rows) == {"gen_ai.client.token.usage", "gen_ai.client.requests", "gen_ai.inflight"}
    hist = rows["gen_ai.client.token.usage"]
    assert (hist["type"], hist["unit"], hist["count"], hist["sum"], hist["min"], hist["max"]) == (
        "histogram",
        "{token}",
        2,
        400.0,
        100.0,
        300.0,
    )
    assert (
        sum(js(hist["bucket_counts"])) == 2
        and len(js(hist["explicit_bounds"])) == len(js(hist["bucket_counts"])) - 1
    )
    assert js(hist["attributes"]) == {"gen_ai.token.type": "input", "gen_ai.request.model": "gpt-4o"}
    assert (rows["gen_ai.client.requests"]["type"], rows["gen_ai.client.requests"]["value"]) == ("sum", 2.0)
    assert rows["gen_ai.inflight"]["value"] == -1.0
    assert hist["service_name"] == "agents" and hist["scope_name"] == "genai"
    assert len({r["point_id"] for r in rows.values()}) == 3
    provider.shutdown()
