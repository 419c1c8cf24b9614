"""Each span text is stored once: an attribute a normalized column holds verbatim is moved out of
the stored ``attributes_rest`` (``store.schema``), and the ``spans`` view gives the attributes
back whole. Also the migration of a version-1 file, whose ``spans`` was a plain table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from collector.decode.request import parse_and_decode
from collector.decode.walk import walk_bytes, walk_message
from store import schema
from store.api import IngestBatch
from store.database import META_TABLE, connect
from store.reader import open_reader
from store.writer import DuckStoreWriter
from tests.collector.fixtures.decode_support import any_value

TRACE = bytes(range(1, 17))


def _messages(role: str, text: str) -> str:
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}], ensure_ascii=False)


def _request(spans: list[dict[str, Any]]) -> bytes:
    """One request; each span is given by its attributes (strings, ints, floats, bools)."""
    out = []
    for i, attrs in enumerate(spans):
        kvs = [KeyValue(key=k, value=any_value(v)) for k, v in attrs.items()]
        out.append(
            Span(
                trace_id=TRACE,
                span_id=(i + 1).to_bytes(8, "big"),
                name="chat",
                start_time_unix_nano=i + 1,
                end_time_unix_nano=i + 2,
                attributes=kvs,
            )
        )
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=out)])])
    return request.SerializeToString()


def _sent_attributes(body: bytes) -> list[dict[str, Any]]:
    """The attributes of each span of ``body`` as the decoder reads them (before any move)."""
    resources = walk_bytes(body) or walk_message(ExportTraceServiceRequest.FromString(body))
    return [span[10] for _, scopes in resources for _, _, spans in scopes for span in spans]


def _bits(*keys: str) -> int:
    moved = [key for key, _ in schema.MOVED_ATTRIBUTES]
    return sum(1 << moved.index(k) for k in keys)


def _stored(path: Path, body: bytes) -> list[tuple[Any, ...]]:
    with DuckStoreWriter(path) as writer:
        writer.write(parse_and_decode("traces", body, "protobuf").batch)
    reader = open_reader(path)
    try:
        rows = reader.query(
            "SELECT s.span_id, s.attributes, r.attributes_rest, r.attributes_in_columns, s.input_messages "
            f"FROM spans s JOIN {schema.SPAN_ROWS_TABLE} r USING (trace_id, span_id) ORDER BY s.span_id"
        ).to_pylist()
    finally:
        reader.close()
    return [tuple(r.values()) for r in rows]


def test_a_semconv_message_is_stored_once_and_read_back_whole(tmp_path: Path) -> None:
    inp, out = _messages("user", 'Quote "X"\n\u00e9\u4e2d \\ /'), _messages("assistant", "fine")
    body = _request(
        [
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.input.messages": inp,
                "gen_ai.output.messages": out,
                "gen_ai.usage.input_tokens": 12,
            }
        ]
    )
    ((_, whole, rest, mask, input_messages),) = _stored(tmp_path / "s.duckdb", body)
    moved = (
        "gen_ai.operation.name",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.usage.input_tokens",
    )
    assert mask == _bits(*moved) and input_messages == inp and orjson.loads(rest) == {}
    assert "gen_ai.input.messages" not in orjson.loads(rest) and "Quote" not in rest
    assert orjson.loads(whole) == _sent_attributes(body)[0]


def test_a_message_the_decoder_rewrites_stays_in_the_attributes(tmp_path: Path) -> None:
    # OpenAI chat style: normalized into parts, so the raw text differs and is kept as sent.
    raw = json.dumps([{"role": "user", "content": "hello"}])
    body = _request([{"gen_ai.operation.name": "chat", "gen_ai.input.messages": raw}])
    ((_, whole, rest, mask, input_messages),) = _stored(tmp_path / "s.duckdb", body)
    assert mask == _bits("gen_ai.operation.name") and orjson.loads(rest)["gen_ai.input.messages"] == raw
    assert input_messages != raw and orjson.loads(whole) == _sent_attributes(body)[0]


_MOVABLE_KEYS = [key for key, _ in schema.MOVED_ATTRIBUTES]
_texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
#: What a scalar attribute may hold: the same value as int, float, bool or text must not be confused.
_scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([1, 1.0, True, "1", 0, False, 2.5, "gpt-4o", "chat", "invoke_agent"]),
    _texts,
)


@st.composite
def _span_attributes(draw: st.DrawFn) -> dict[str, Any]:
    attrs: dict[str, Any] = {"gen_ai.operation.name": draw(st.sampled_from(["chat", "execute_tool"]))}
    for key in draw(st.lists(st.sampled_from(_MOVABLE_KEYS), unique=True)):
        if not key.endswith(("messages", "instructions", "arguments", "result", "definitions")):
            attrs[key] = draw(_scalars)
            continue
        kind = draw(st.sampled_from(["canonical", "openai", "text", "empty"]))
        role = "assistant" if "output" in key else "user"
        attrs[key] = {
            "canonical": _messages(role, draw(_texts)),
            "openai": json.dumps([{"role": role, "content": draw(_texts)}]),
            "text": draw(_texts),
            "empty": "",
        }[kind]
    attrs.update(draw(st.dictionaries(st.sampled_from(["a", "b.c", "\u00e9", 'q"']), _texts, max_size=3)))
    return attrs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spans=st.lists(_span_attributes(), min_size=1, max_size=4))
def test_the_view_gives_every_attribute_back(tmp_path_factory: Any, spans: list[dict[str, Any]]) -> None:
    body = _request(spans)
    rows = _stored(tmp_path_factory.mktemp("s") / "s.duckdb", body)
    for (_, whole, rest, mask, _), sent in zip(rows, _sent_attributes(body), strict=True):
        assert orjson.loads(whole) == sent
        moved = {key for i, key in enumerate(_MOVABLE_KEYS) if (mask or 0) & (1 << i)}
        assert moved.isdisjoint(orjson.loads(rest))
        assert set(orjson.loads(rest)) | moved == set(sent)


def _version_1_file(path: Path) -> str:
    """A store as version 1 wrote it: ``spans`` a plain table with ``attributes`` whole."""
    con = connect(path)
    for name, table_schema, key in schema.TABLES:
        con.execute(schema.create_table_sql(name, table_schema, key))
    con.execute(f"CREATE TABLE {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(f"INSERT INTO {META_TABLE} VALUES ('schema_version', '1')")
    attributes = orjson.dumps({"gen_ai.input.messages": _messages("user", "old"), "k": 1}).decode()
    con.execute(
        "INSERT INTO spans (trace_id, span_id, name, start_ns, end_ns, attributes) "
        "VALUES (?, ?, 'old', 1, 2, ?)",
        [TRACE.hex(), "00000000000000ff", attributes],
    )
    con.close()
    return attributes


def test_a_version_1_file_is_migrated_and_takes_new_spans(tmp_path: Path) -> None:
    path = tmp_path / "v1.duckdb"
    old_attributes = _version_1_file(path)
    body = _request([{"gen_ai.operation.name": "chat", "gen_ai.input.messages": _messages("user", "new")}])
    rows = _stored(path, body)
    assert [r[0] for r in rows] == ["0000000000000001", "00000000000000ff"]
    new, old = rows
    assert old[1] == old_attributes and old[3] is None  # kept whole, nothing moved
    assert (
        new[3] == _bits("gen_ai.operation.name", "gen_ai.input.messages")
        and orjson.loads(new[1]) == _sent_attributes(body)[0]
    )
    reader = open_reader(path)
    try:
        assert reader.query("SELECT value FROM faultlens_meta WHERE key = 'schema_version'").to_pylist() == [
            {"value": str(schema.SCHEMA_VERSION)}
        ]
        assert reader.query("SELECT * FROM spans LIMIT 0").schema.names == schema.SPANS.names
    finally:
        reader.close()


def test_writers_may_give_attributes_whole(tmp_path: Path) -> None:
    """Producers other than the decoder (importers, tests) write ``schema.SPANS`` rows as they are."""
    attributes = orjson.dumps({"gen_ai.input.messages": "[]", "x": [1, 2]}).decode()
    spans = pa.Table.from_pylist(
        [
            {
                "trace_id": TRACE.hex(),
                "span_id": "0000000000000001",
                "name": "s",
                "start_ns": 1,
                "end_ns": 2,
                "attributes": attributes,
            }
        ],
        schema=schema.SPANS,
    )
    path = tmp_path / "s.duckdb"
    with DuckStoreWriter(path) as writer:
        writer.write(IngestBatch(spans=spans))
    reader = open_reader(path)
    try:
        assert reader.query("SELECT attributes FROM spans").to_pylist() == [{"attributes": attributes}]
    finally:
        reader.close()
