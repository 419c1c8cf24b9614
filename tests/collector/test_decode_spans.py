"""decode_traces: core span columns, events, links, rejections and odd values."""

from __future__ import annotations

import orjson
import pyarrow as pa
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from collector.decode import decode_traces
from store import schema
from tests.collector.fixtures.decode_support import SPAN_ID, TRACE_ID, request, rows, span


def test_tables_match_the_store_schemas_exactly() -> None:
    decoded = decode_traces(request(span({"a": 1})))
    assert decoded.batch.spans.schema == schema.SPAN_ROWS  # the stored form: see store.span_text
    assert decoded.batch.span_events.schema == schema.SPAN_EVENTS
    assert decoded.batch.span_links.schema == schema.SPAN_LINKS
    assert decoded.batch.logs.num_rows == decoded.batch.metrics.num_rows == 0
    assert (decoded.rejected, decoded.error_message) == (0, None)


def test_core_columns() -> None:
    s = span(
        {"k": "v"},
        name="GET /x",
        parent=bytes.fromhex("00f067aa0ba902b7"),
        kind=Span.SPAN_KIND_SERVER,
        start=10,
        end=25,
    )
    s.trace_state = "vendor=1"
    s.status.code = Status.STATUS_CODE_ERROR
    s.status.message = "failed"
    (row,) = rows(decode_traces(request(s, service="checkout", resource={"deployment.environment": "prod"})))
    assert row["trace_id"] == TRACE_ID.hex() and row["span_id"] == SPAN_ID.hex()
    assert row["parent_span_id"] == "00f067aa0ba902b7"
    assert (row["name"], row["kind"], row["trace_state"]) == ("GET /x", 2, "vendor=1")
    assert (row["start_ns"], row["end_ns"], row["duration_ns"]) == (10, 25, 15)
    assert (row["status_code"], row["status_message"]) == (2, "failed")
    assert row["service_name"] == "checkout"
    assert orjson.loads(row["resource_attributes"]) == {
        "service.name": "checkout",
        "deployment.environment": "prod",
    }
    assert (row["scope_name"], row["scope_version"]) == ("test.scope", "1.2.3")
    assert row["ingested_ns"] is None and row["resolved_agent_name"] is None


def test_negative_duration_is_zero_and_far_future_times_are_clamped() -> None:
    (row,) = rows(decode_traces(request(span(start=100, end=50))))
    assert row["duration_ns"] == 0
    (row,) = rows(decode_traces(request(span(start=2**64 - 1, end=2**64 - 1))))
    assert row["start_ns"] == row["end_ns"] == 2**63 - 1


def test_invalid_ids_are_rejected_and_counted_others_kept() -> None:
    good = span(span_id=bytes.fromhex("0000000000000001"))
    bad = [
        span(trace_id=bytes(16), span_id=bytes.fromhex("0000000000000002")),
        span(trace_id=b"\x01" * 8, span_id=bytes.fromhex("0000000000000003")),
        span(span_id=bytes(8)),
        span(span_id=b"\x01" * 4),
        span(span_id=bytes.fromhex("0000000000000004"), parent=b"\x01" * 3),
    ]
    decoded = decode_traces(request(good, *bad))
    assert [r["span_id"] for r in rows(decoded)] == ["0000000000000001"]
    assert decoded.rejected == 5
    assert decoded.error_message is not None and decoded.error_message.startswith("rejected 5 spans: ")
    assert "trace_id" in decoded.error_message and "\n" not in decoded.error_message


def test_all_zero_parent_is_null() -> None:
    (row,) = rows(decode_traces(request(span(parent=bytes(8)))))
    assert row["parent_span_id"] is None


def test_attribute_value_types_are_lossless_json() -> None:
    attrs = {
        "s": "héllo ✓",
        "i": -(2**63),
        "big": 2**63 - 1,
        "d": 1.5,
        "b": True,
        "raw": b"\x00\xff",
        "arr": ["a", 1, 2.5, False],
        "map": {"x": {"y": [1, {"z": None}]}},
        "nan": float("nan"),
        "inf": float("inf"),
        "ninf": float("-inf"),
        "empty": "",
    }
    (row,) = rows(decode_traces(request(span(attrs))))
    assert orjson.loads(row["attributes"]) == {
        "s": "héllo ✓",
        "i": -(2**63),
        "big": 2**63 - 1,
        "d": 1.5,
        "b": True,
        "raw": "AP8=",
        "arr": ["a", 1, 2.5, False],
        "map": {"x": {"y": [1, {"z": None}]}},
        "nan": "NaN",
        "inf": "Infinity",
        "ninf": "-Infinity",
        "empty": "",
    }


def test_huge_attribute_values_are_kept() -> None:
    big = "x" * 5_000_000
    (row,) = rows(
        decode_traces(request(span({"gen_ai.operation.name": "chat", "gen_ai.input.messages": big})))
    )
    assert len(orjson.loads(row["attributes"])["gen_ai.input.messages"]) == 5_000_000
    assert orjson.loads(row["input_messages"])[0]["parts"][0]["content"] == big


def test_events_and_links() -> None:
    s = span(events=[("exception", {"exception.type": "TimeoutError"}), ("retry", {"attempt": 2})])
    link = s.links.add(trace_id=bytes.fromhex("11" * 16), span_id=bytes.fromhex("22" * 8), trace_state="a=b")
    link.attributes.add(key="cause", value={"string_value": "handoff"})
    s.links.add(trace_id=bytes(16), span_id=b"")
    decoded = decode_traces(request(s))
    ev = decoded.batch.span_events.to_pylist()
    assert [(e["idx"], e["name"]) for e in ev] == [(0, "exception"), (1, "retry")]
    assert orjson.loads(ev[0]["attributes"]) == {"exception.type": "TimeoutError"}
    assert ev[1]["time_ns"] == s.start_time_unix_nano + 1
    assert {e["span_id"] for e in ev} == {SPAN_ID.hex()}
    links = decoded.batch.span_links.to_pylist()
    assert links[0]["linked_trace_id"] == "11" * 16 and links[0]["linked_span_id"] == "22" * 8
    assert (links[0]["trace_state"], orjson.loads(links[0]["attributes"])) == ("a=b", {"cause": "handoff"})
    assert (links[1]["idx"], links[1]["linked_trace_id"], links[1]["linked_span_id"]) == (1, None, None)


def test_unknown_enum_values_do_not_break_the_table() -> None:
    s = span()
    s.kind = Span.SpanKind.ValueType(99999)  # proto3 enums are open
    s.status.code = Status.StatusCode.ValueType(7)
    (row,) = rows(decode_traces(request(s)))
    assert (row["kind"], row["status_code"]) == (0, 7)


def test_empty_request() -> None:
    decoded = decode_traces(request())
    assert decoded.batch.spans.num_rows == 0
    assert isinstance(decoded.batch.spans, pa.Table)


def test_many_resources_and_scopes() -> None:
    req = request(span(span_id=b"\x00" * 7 + b"\x01"), service="a")
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value={"string_value": "b"})
    rs.scope_spans.add().spans.append(span(span_id=b"\x00" * 7 + b"\x02"))
    got = [(r["span_id"][-1], r["service_name"], r["scope_name"]) for r in rows(decode_traces(req))]
    assert got == [("1", "a", "test.scope"), ("2", "b", None)]


def test_a_span_too_deep_to_normalize_is_kept_raw_and_does_not_sink_its_request() -> None:
    """Messages nested past Python's recursion limit: the span is stored with its raw attributes
    and no normalized columns, the response warns, and the request's other spans are unaffected."""
    deep = '{"message": ' * 990 + '"x"' + "}" * 990
    poison = span(
        {"gen_ai.operation.name": "chat", "gen_ai.input.messages": f"[{deep}]"},
        span_id=bytes.fromhex("00000000000000aa"),
    )
    fine = span({"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"})
    decoded = decode_traces(request(poison, fine))
    assert decoded.rejected == 0
    assert decoded.error_message is not None and "not normalized" in decoded.error_message
    by_id = {r["span_id"]: r for r in rows(decoded)}
    kept = by_id["00000000000000aa"]
    assert kept["operation"] is None and kept["input_messages"] is None
    assert orjson.loads(kept["attributes"])["gen_ai.input.messages"].startswith('[{"message"')
    assert by_id[SPAN_ID.hex()]["request_model"] == "gpt-4o"
