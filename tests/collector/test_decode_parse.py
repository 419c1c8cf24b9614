"""parse_traces / parse_logs / parse_metrics: OTLP/JSON quirks, and MalformedPayload for anything bad."""

from __future__ import annotations

import base64
import contextlib
import gzip
import random
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from collector.decode import (
    decode_logs,
    decode_metrics,
    decode_traces,
    otlp_json,
    parse_logs,
    parse_metrics,
    parse_traces,
)
from collector.errors import MalformedPayload
from tests.collector.fixtures.decode_support import FIXTURES, length_field, request, rows, span

EXAMPLES = FIXTURES / "otlp_proto_examples"


def _json_span(**fields: object) -> bytes:
    base: dict[str, object] = {
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "EEE19B7EC3C1B174",
        "name": "s",
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": 1544712661000000000,
    }
    base.update(fields)
    return orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [base]}]}]})


def test_canonical_otlp_json_trace_example_upper_case_hex() -> None:
    decoded = decode_traces(parse_traces((EXAMPLES / "trace.json").read_bytes(), "json"))
    (row,) = rows(decoded)
    assert row["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert (row["span_id"], row["parent_span_id"]) == ("eee19b7ec3c1b174", "eee19b7ec3c1b173")
    assert (row["kind"], row["service_name"], row["scope_name"], row["scope_version"]) == (
        2,
        "my.service",
        "my.library",
        "1.0.0",
    )
    assert (row["start_ns"], row["duration_ns"]) == (1544712660000000000, 1_000_000_000)
    assert orjson.loads(row["attributes"]) == {"my.span.attr": "some value"}


def test_canonical_otlp_json_log_examples() -> None:
    for name in ("logs.json", "events.json"):
        decoded = decode_logs(parse_logs((EXAMPLES / name).read_bytes(), "json"))
        assert decoded.batch.logs.num_rows >= 1
    (row,) = decode_logs(parse_logs((EXAMPLES / "events.json").read_bytes(), "json")).batch.logs.to_pylist()
    assert row["event_name"] == "browser.page_view"
    assert orjson.loads(row["body"])["type"] == 0  # intValue "0" (a string) → 0


def test_json_quirks_ints_enums_snake_case_unknown_fields() -> None:
    body = _json_span(
        kind=3,
        status={"code": 2, "message": "boom"},
        unknownField={"x": 1},
        attributes=[
            {"key": "n", "value": {"intValue": "9007199254740993"}},
            {"key": "b", "value": {"bytesValue": "aGk="}},
        ],
        parent_span_id="",
    )
    (row,) = rows(decode_traces(parse_traces(body, "json")))
    assert (row["kind"], row["status_code"], row["status_message"]) == (3, 2, "boom")
    assert row["parent_span_id"] is None
    assert orjson.loads(row["attributes"]) == {"n": 9007199254740993, "b": "aGk="}


def test_json_all_zero_parent_means_none_and_lower_case_hex() -> None:
    body = _json_span(traceId="5b8efff798038103d269b633813fc60c", parentSpanId="0000000000000000")
    (row,) = rows(decode_traces(parse_traces(body, "json")))
    assert row["parent_span_id"] is None


def test_base64_ids_from_generic_proto3_json_writers_are_accepted() -> None:
    body = _json_span(traceId="W47/95gDgQPSabYzgT/GDA==", spanId="7uGbfsPBsXQ=")
    (row,) = rows(decode_traces(parse_traces(body, "json")))
    assert (row["trace_id"], row["span_id"]) == ("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174")


def test_protobuf_round_trip() -> None:
    body = request(span({"k": "v"})).SerializeToString()
    assert rows(decode_traces(parse_traces(body, "protobuf")))[0]["attributes"] == '{"k":"v"}'


@pytest.mark.parametrize(
    ("body", "fmt", "reason"),
    [
        (b"\xff\xff\xff\xff", "protobuf", "invalid protobuf"),
        (b"{", "json", "invalid JSON"),
        (b"[1, 2]", "json", "must be a JSON object"),
        (b'"text"', "json", "must be a JSON object"),
        (b'{"resourceSpans": {"not": "a list"}}', "json", "invalid OTLP/JSON"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}', "json", "not hex"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 5}]}]}]}', "json", "invalid OTLP/JSON"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "\xff"}]}]}]}', "json", "invalid JSON"),
        (gzip.compress(b"{}"), "json", "invalid JSON"),
    ],
)
def test_malformed_payloads(body: bytes, fmt: str, reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason) as info:
        parse_traces(body, fmt)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_invalid_utf8_in_protobuf_string() -> None:
    good = request(span({"k": "v"}, name="abc")).SerializeToString()
    bad = good.replace(b"abc", b"a\xffc")
    with pytest.raises(MalformedPayload):
        parse_traces(bad, "protobuf")


def test_deep_nesting_is_malformed_not_a_crash() -> None:
    body = _deep_json(3000)
    with pytest.raises(MalformedPayload):
        parse_traces(body, "json")
    nested = b"\x0a\x00"
    for _ in range(2000):  # resource_spans → ... nested length-delimited fields
        nested = length_field(1, nested)
    with pytest.raises(MalformedPayload):
        parse_traces(nested, "protobuf")


def _deep_json(depth: int) -> bytes:
    # orjson refuses to build this deep a document, so write the text directly.
    value = '{"arrayValue": {"values": [' * depth + '{"stringValue": "x"}' + "]}}" * depth
    return (
        '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "5b8efff798038103d269b633813fc60c", '
        '"spanId": "eee19b7ec3c1b174", "attributes": [{"key": "k", "value": ' + value + "}]}]}]}]}"
    ).encode()


def test_truncated_protobuf_never_raises_anything_else() -> None:
    body = request(
        *(span({"k": "v" * 50, "n": i}, span_id=bytes([1] * 7 + [i + 1])) for i in range(5))
    ).SerializeToString()
    for cut in range(1, len(body)):
        with contextlib.suppress(MalformedPayload):
            decode_traces(parse_traces(body[:cut], "protobuf"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_only_ever_raise_malformed(body: bytes) -> None:
    for fmt in ("protobuf", "json"):
        with contextlib.suppress(MalformedPayload):
            decode_traces(parse_traces(body, fmt))
        with contextlib.suppress(MalformedPayload):
            decode_logs(parse_logs(body, fmt))
        with contextlib.suppress(MalformedPayload):
            decode_metrics(parse_metrics(body, fmt))


def test_mutated_protobuf_only_ever_raises_malformed() -> None:
    rng = random.Random(7)
    base = bytearray(
        request(
            *(span({"k": ["a", 1, 2.5, {"m": b"x"}]}, span_id=bytes([2] * 7 + [i + 1])) for i in range(3))
        ).SerializeToString()
    )
    for _ in range(500):
        body = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            body[rng.randrange(len(body))] = rng.randrange(256)
        with contextlib.suppress(MalformedPayload):
            decode_traces(parse_traces(bytes(body), "protobuf"))


def test_unsupported_format() -> None:
    with pytest.raises(MalformedPayload):
        parse_traces(b"{}", "xml")  # type: ignore[arg-type]


def test_fast_json_path_and_parsedict_fallback_agree() -> None:
    """Common-form OTLP/JSON takes the fast builder; snake_case keys, enum names and base64 ids take
    ParseDict. Both must give the same tables."""
    s = span(
        {"s": "x", "i": 3, "d": 2.5, "b": False, "raw": b"\x01", "arr": [1, "a"], "kv": {"k": [True]}},
        parent=bytes.fromhex("00f067aa0ba902b7"),
        events=[("e", {"n": 1})],
        kind=Span.SPAN_KIND_PRODUCER,
    )
    s.status.code = Status.STATUS_CODE_ERROR
    s.links.add(trace_id=bytes.fromhex("11" * 16), span_id=bytes.fromhex("22" * 8), flags=1)
    req = request(s)
    camel = json_format.MessageToDict(req, use_integers_for_enums=True)
    snake = json_format.MessageToDict(req, preserving_proto_field_name=True)  # enum names, base64 ids
    for obj in _walk_spans(camel):
        for key in ("traceId", "spanId", "parentSpanId"):
            if key in obj:
                obj[key] = base64.b64decode(obj[key]).hex()
    assert otlp_json.trace_request(orjson.loads(orjson.dumps(camel))) == req
    with pytest.raises(otlp_json.Unusual):
        otlp_json.trace_request(snake)
    fast = decode_traces(parse_traces(orjson.dumps(camel), "json"))
    slow = decode_traces(parse_traces(orjson.dumps(snake), "json"))
    assert fast.batch.spans.equals(slow.batch.spans)
    assert fast.batch.span_events.equals(slow.batch.span_events)
    assert fast.batch.span_links.equals(slow.batch.span_links)


def _walk_spans(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                yield s
                yield from s.get("links", ())


def test_fast_json_logs_builder_matches_parsedict() -> None:
    for name in ("logs.json", "events.json"):
        doc = orjson.loads((EXAMPLES / name).read_bytes())
        fast = otlp_json.logs_request(orjson.loads(orjson.dumps(doc)))
        for rl in doc["resourceLogs"]:
            for sl in rl["scopeLogs"]:
                for rec in sl["logRecords"]:
                    for key in ("traceId", "spanId"):
                        if rec.get(key):
                            rec[key] = base64.b64encode(bytes.fromhex(rec[key])).decode()
        slow = json_format.ParseDict(doc, ExportLogsServiceRequest(), ignore_unknown_fields=True)
        assert fast == slow
        assert decode_logs(fast).batch.logs.equals(decode_logs(slow).batch.logs)
