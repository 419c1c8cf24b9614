"""The compiled trace walker (``collector.decode._wire``) against the reference walker over parsed
protobuf messages: same values for every request, and never more lenient than the protobuf library.

``walk_bytes`` may refuse a body the library accepts (the decoder then falls back to the library),
but whatever it returns must equal ``walk_message`` of the library's parse, and a body the library
rejects must be refused.

The trace decoder's compiled span loop (``collector.decode._spans``) decodes the walked spans as
the reference loop in ``collector.decode.traces`` does: same tables, same rejections."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from collector.decode import parse_and_decode, parse_traces, traces, walk
from collector.decode.walk import walk_bytes, walk_message
from tests.collector.fixtures.decode_support import any_value, attribute_values, length_field


def test_the_compiled_walker_is_built() -> None:
    """`pip install -e .` compiles it (setup.py); without a C compiler the install still succeeds
    and the decoder runs on the protobuf library alone, several times slower."""
    assert walk.COMPILED, "collector/decode/_wire.c was not compiled: reinstall with a C compiler"


CORPUS = Path(__file__).resolve().parents[2] / "sample_traces" / "corpus"

_VALUES = attribute_values(unset=True)
# Lists of pairs, not dicts: repeated keys must keep their last value in both walkers.
_KVS = st.lists(
    st.tuples(st.sampled_from(["gen_ai.operation.name", "k", "", "ключ"]) | st.text(max_size=12), _VALUES),
    max_size=6,
)
_ID = st.one_of(st.binary(min_size=16, max_size=16), st.binary(max_size=17))
_U64 = st.integers(min_value=0, max_value=2**64 - 1)
_ENUM = st.integers(min_value=-(2**31), max_value=2**31 - 1)


def _kvs(pairs: list[tuple[str, Any]]) -> list[KeyValue]:
    return [KeyValue(key=k, value=any_value(v)) for k, v in pairs]


@st.composite
def _span(draw: st.DrawFn) -> Span:
    span = Span(
        trace_id=draw(_ID),
        span_id=draw(_ID),
        parent_span_id=draw(_ID),
        trace_state=draw(st.text(max_size=10)),
        name=draw(st.text(max_size=20)),
        kind=draw(_ENUM),
        start_time_unix_nano=draw(_U64),
        end_time_unix_nano=draw(_U64),
        attributes=_kvs(draw(_KVS)),
        flags=draw(st.integers(min_value=0, max_value=2**32 - 1)),
    )
    if draw(st.booleans()):
        span.status.CopyFrom(Status(code=draw(_ENUM), message=draw(st.text(max_size=10))))
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        span.events.add(time_unix_nano=draw(_U64), name=draw(st.text(max_size=8))).attributes.extend(
            _kvs(draw(_KVS))
        )
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        span.links.add(
            trace_id=draw(_ID), span_id=draw(_ID), trace_state=draw(st.text(max_size=5))
        ).attributes.extend(_kvs(draw(_KVS)))
    return span


@st.composite
def _request(draw: st.DrawFn) -> ExportTraceServiceRequest:
    req = ExportTraceServiceRequest()
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        rs = req.resource_spans.add(schema_url=draw(st.text(max_size=5)))
        rs.resource.attributes.extend(_kvs(draw(_KVS)))
        for _ in range(draw(st.integers(min_value=0, max_value=2))):
            ss = rs.scope_spans.add()
            ss.scope.name = draw(st.text(max_size=8))
            ss.scope.version = draw(st.text(max_size=4))
            ss.scope.attributes.extend(_kvs(draw(_KVS)))
            ss.spans.extend(draw(st.lists(_span(), max_size=3)))
    return req


def _same(a: Any, b: Any) -> bool:
    """Equality where NaN equals NaN (attribute values may hold floats)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _library(body: bytes) -> Any:
    """walk_message of the library's parse, or the exception it raises."""
    try:
        return walk_message(ExportTraceServiceRequest.FromString(body))
    except (DecodeError, RecursionError, ValueError) as e:
        return e


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_request())
def test_walkers_agree_on_generated_requests(req: ExportTraceServiceRequest) -> None:
    body = req.SerializeToString()
    walked = walk_bytes(body)
    assert walked is not None
    assert _same(walked, walk_message(ExportTraceServiceRequest.FromString(body)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_request(), st.data())
def test_damaged_bytes_are_never_accepted_more_leniently(req: ExportTraceServiceRequest, data: Any) -> None:
    body = bytearray(req.SerializeToString())
    if not body:
        return
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        i = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
        body[i] = data.draw(st.integers(min_value=0, max_value=255))
    cut = data.draw(st.integers(min_value=0, max_value=len(body)))
    damaged = bytes(body[:cut])
    expected = _library(damaged)
    walked = walk_bytes(damaged)
    if isinstance(expected, Exception):
        assert walked is None, f"library refused ({expected}) but the walker accepted"
    elif walked is not None:
        assert _same(walked, expected)


def test_repeated_singular_fields_merge_like_protobuf() -> None:
    """Two encodings of one span, status or value concatenated: protobuf merges them (scalars: last
    wins; messages: merged; repeated: appended; a oneof switching case: last case wins)."""
    first = Span(
        trace_id=b"\x01" * 16,
        span_id=b"\x02" * 8,
        name="first",
        kind=2,
        attributes=[KeyValue(key="a", value=AnyValue(array_value={"values": [AnyValue(int_value=1)]}))],
        status=Status(code=2, message="boom"),
    ).SerializeToString()
    second = Span(
        name="second",
        attributes=[
            KeyValue(key="b", value=AnyValue(string_value="x")),
            KeyValue(key="a", value=AnyValue(bool_value=False)),
        ],
        status=Status(message="later"),
    ).SerializeToString()
    value_twice = length_field(
        2, AnyValue(array_value={"values": [AnyValue(int_value=1)]}).SerializeToString()
    ) + length_field(2, AnyValue(array_value={"values": [AnyValue(string_value="2")]}).SerializeToString())
    span = first + second + length_field(9, length_field(1, b"c") + value_twice)  # attribute "c", value twice
    body = length_field(1, length_field(2, length_field(2, span)))  # resource_spans { scope_spans { spans } }
    walked = walk_bytes(body)
    assert walked is not None
    assert _same(walked, _library(body))
    attrs = walked[0][1][0][2][0][10]
    assert attrs == {"a": False, "b": "x", "c": [1, "2"]}


def _tables_equal(a: pa.Table, b: pa.Table) -> bool:
    return bool(a.equals(b))


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.json"))[:60], ids=lambda p: p.stem)
def test_decoded_tables_are_identical_either_way(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole decode (normalized columns included) of a sample trace is the same whether the
    protobuf body is walked by the compiled module or parsed by the library."""
    body = parse_traces(path.read_bytes(), "json").SerializeToString()
    fast = parse_and_decode("traces", body, "protobuf")
    monkeypatch.setattr(walk, "_wire", None)
    slow = parse_and_decode("traces", body, "protobuf")
    for name in ("spans", "span_events", "span_links"):
        assert _tables_equal(getattr(fast.batch, name), getattr(slow.batch, name)), name
    assert (fast.rejected, fast.error_message) == (slow.rejected, slow.error_message)


def _decoded_both_ways(body: bytes) -> tuple[Any, Any]:
    """(decode with the compiled span loop, decode with the reference loop alone)."""
    looped = parse_and_decode("traces", body, "protobuf")
    saved, traces._decode_spans = traces._decode_spans, None
    try:
        reference = parse_and_decode("traces", body, "protobuf")
    finally:
        traces._decode_spans = saved
    return looped, reference


def _assert_same_decode(looped: Any, reference: Any) -> None:
    for name in ("spans", "span_events", "span_links"):
        assert _tables_equal(getattr(looped.batch, name), getattr(reference.batch, name)), name
    assert (looped.rejected, looped.error_message) == (reference.rejected, reference.error_message)


def test_the_compiled_span_loop_is_built() -> None:
    assert traces._decode_spans is not None, "collector/decode/_spans.c was not compiled"


_GENAI_KVS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "gen_ai.operation.name",
                "gen_ai.request.model",
                "gen_ai.provider.name",
                "gen_ai.agent.name",
                "gen_ai.usage.input_tokens",
                "gen_ai.input.messages",
                "k",
            ]
        ),
        st.sampled_from(["chat", "invoke_agent", "gpt-4o", "openai", "planner", 12, -1, 1.5, True, "[]"])
        | _VALUES,
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_request(), st.lists(_GENAI_KVS, max_size=4))
def test_the_span_loop_decodes_as_the_reference(req: ExportTraceServiceRequest, extra: list[Any]) -> None:
    """Invalid, zero and odd-length ids, times past int64, enums out of range, events and links,
    GenAI attributes the fast path reads or refuses: the compiled loop and the reference agree."""
    spans = [s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]
    for s, pairs in zip(spans, extra, strict=False):
        s.attributes.extend(_kvs(pairs))
    _assert_same_decode(*_decoded_both_ways(req.SerializeToString()))


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.json"))[::4], ids=lambda p: p.stem)
def test_sample_traces_decode_the_same_without_the_span_loop(path: Path) -> None:
    _assert_same_decode(*_decoded_both_ways(parse_traces(path.read_bytes(), "json").SerializeToString()))
