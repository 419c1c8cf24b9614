"""Store conformance suite (the way Jaeger's storage integration suite works): every fixture in
``fixtures/`` is a captioned sequence of OTLP/JSON requests plus what a reader must see after they
are written. Each fixture runs against every store implementation in ``conftest.STORE_KINDS``.

Expectation keys: ``span_count``, ``log_count``, ``metric_point_count``, ``metric_names``;
``write_results`` (per request ``[spans sent, written, duplicates]`` or null); ``traces`` (trace id
-> columns of its ``traces`` row, JSON-array columns compared as lists); ``spans`` (span id ->
columns); ``span_content`` (span id -> content column -> the texts of its message parts, in order;
``<column>_absent`` lists texts that must not be there).
"""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from store.api import IngestBatch
from store.errors import QueryError, ReadOnlyViolation
from store.reader import BATCH_ROWS
from tests.store.conftest import StoreUnderTest, decode_request, fixture_names, load_fixture, span_rows

_JSON_ARRAYS = {"services", "agents", "models"}


def _texts(messages_json: str | None) -> list[str]:
    if messages_json is None:
        return []
    return [
        part["content"]
        for message in json.loads(messages_json)
        for part in message.get("parts", [])
        if part.get("type") == "text"
    ]


def _one(store: StoreUnderTest, sql: str, params: list[Any]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = store.settle().query(sql, params).to_pylist()
    assert len(rows) == 1, f"{sql} {params}: {len(rows)} rows"
    return rows[0]


@pytest.mark.parametrize("name", fixture_names())
def test_fixture(store: StoreUnderTest, name: str) -> None:
    fixture = load_fixture(name)
    expect = fixture["expect"]
    results = []
    for request in fixture["requests"]:
        batch = decode_request(request["signal"], request["body"])
        result = store.write(batch)
        results.append([batch.spans.num_rows, result.spans_written, result.spans_duplicate])
    reader = store.settle()

    def count(table: str) -> int:
        return int(reader.query(f"SELECT count(*) AS n FROM {table}").column("n")[0].as_py())

    if "span_count" in expect:
        assert count("spans") == expect["span_count"], fixture["caption"]
    if "log_count" in expect:
        assert count("logs") == expect["log_count"]
    if "metric_point_count" in expect:
        assert count("metrics") == expect["metric_point_count"]
    if "metric_names" in expect:
        names = reader.query("SELECT DISTINCT name FROM metrics ORDER BY name").column("name").to_pylist()
        assert names == expect["metric_names"]
    for i, want in enumerate(expect.get("write_results", [])):
        if want is not None:
            assert results[i] == want, f"request {i}"
    for trace_id, want in expect.get("traces", {}).items():
        row = _one(store, "SELECT * FROM traces WHERE trace_id = ?", [trace_id])
        got = {k: json.loads(row[k]) if k in _JSON_ARRAYS else row[k] for k in want}
        assert got == want, f"trace {trace_id}: {fixture['caption']}"
    for span_id, want in expect.get("spans", {}).items():
        row = _one(store, "SELECT * FROM spans WHERE span_id = ?", [span_id])
        assert {k: row[k] for k in want} == want, f"span {span_id}: {fixture['caption']}"
    for span_id, columns in expect.get("span_content", {}).items():
        row = _one(store, "SELECT * FROM spans WHERE span_id = ?", [span_id])
        for column, texts in columns.items():
            if column.endswith("_absent"):
                present = _texts(row[column.removesuffix("_absent")])
                assert not set(texts) & set(present), f"span {span_id} {column}"
            else:
                assert _texts(row[column]) == texts, f"span {span_id} {column}: {fixture['caption']}"


def test_every_table_is_readable(store: StoreUnderTest) -> None:
    """Every table of the schema answers a query with exactly its Arrow schema's columns."""
    from store import schema

    reader = store.settle()
    for name, table_schema, _ in schema.TABLES:
        result = reader.query(f"SELECT * FROM {name} LIMIT 0")
        assert result.column_names == table_schema.names, name


def test_params_and_types_round_trip(store: StoreUnderTest) -> None:
    """Parameters of every JSON type bind, and int64 ns / NULLs come back exactly."""
    reader = store.settle()
    row = reader.query(
        "SELECT ?::BIGINT AS big, ?::VARCHAR AS s, ?::DOUBLE AS d, ?::BOOLEAN AS b, ? IS NULL AS n",
        [9_223_372_036_854_775_807, "é\u2603", 0.25, True, None],
    ).to_pylist()[0]
    assert row == {"big": 9_223_372_036_854_775_807, "s": "é\u2603", "d": 0.25, "b": True, "n": True}


def _unlinked_spans(n: int) -> pa.Table:
    return span_rows(n, parents=[None] * n)


def test_query_batches_stream_the_rows_of_query(store: StoreUnderTest) -> None:
    """A result of several batches streams as several batches, with the rows ``query`` returns."""
    n = 3 * BATCH_ROWS + 5
    store.write(IngestBatch(spans=_unlinked_spans(n)))
    reader = store.settle()
    sql = "SELECT span_id, name, start_ns FROM spans WHERE start_ns >= ? ORDER BY span_id"
    with reader.query_batches(sql, [0]) as stream:
        assert stream.schema.names == ["span_id", "name", "start_ns"]
        batches = list(stream)
    assert len(batches) > 1
    streamed = pa.Table.from_batches(batches).to_pylist()
    assert len(streamed) == n
    assert streamed == reader.query(sql, [0]).to_pylist()


def test_query_batches_of_an_empty_result_still_have_the_columns(store: StoreUnderTest) -> None:
    from store import schema

    reader = store.settle()
    with reader.query_batches("SELECT * FROM spans LIMIT 0") as stream:
        assert stream.schema.names == schema.SPANS.names
        assert sum(batch.num_rows for batch in stream) == 0


def test_abandoned_streams_leave_the_reader_usable(store: StoreUnderTest) -> None:
    """Closing a stream after its first batch, or dropping it unread, ends it; the reader goes on
    answering and later writes are seen (no read transaction stays open on a stale snapshot)."""
    n = 4 * BATCH_ROWS
    store.write(IngestBatch(spans=_unlinked_spans(n)))
    reader = store.settle()
    stream = reader.query_batches("SELECT * FROM spans")
    assert next(stream).num_rows > 0
    stream.close()
    stream.close()
    assert list(stream) == []
    dropped = reader.query_batches("SELECT * FROM spans")
    assert next(dropped).num_rows > 0
    del dropped
    with reader.query_batches("SELECT span_id FROM spans") as unread:
        assert unread.schema.names == ["span_id"]
    if store.kind != "reopened":
        store.write(IngestBatch(spans=span_rows(3, trace="cd" * 16)))
        n += 3
    reader = store.settle()
    assert reader.query("SELECT count(*) AS n FROM spans").column("n")[0].as_py() == n


#: Fails at row 3,000,000 of 4,000,000: well after the first batches, which DuckDB streams first.
FAILS_MIDWAY = "SELECT CASE WHEN i < 3000000 THEN '1' ELSE 'x' END::INT AS v FROM range(4000000) t(i)"


def test_a_failure_after_the_first_batch_raises_query_error_from_the_iterator(store: StoreUnderTest) -> None:
    reader = store.settle()
    rows = 0
    stream = reader.query_batches(FAILS_MIDWAY)  # the first batch is fine: the call succeeds
    with stream, pytest.raises(QueryError, match="convert") as failure:
        for batch in stream:
            rows += batch.num_rows
    assert not isinstance(failure.value, ReadOnlyViolation)
    assert 0 < rows < 3_000_000
    with pytest.raises(QueryError, match="convert"):
        reader.query(FAILS_MIDWAY)
    assert reader.query("SELECT 1 AS x").column("x").to_pylist() == [1]


def test_query_batches_refuse_what_query_refuses_at_the_call(store: StoreUnderTest) -> None:
    reader = store.settle()
    with pytest.raises(ReadOnlyViolation, match="read-only"):
        reader.query_batches("DELETE FROM spans")
    for sql in ("SELEC 1", "SELECT * FROM no_such_table", "SELECT 'x'::INT ORDER BY 1"):
        with pytest.raises(QueryError) as e:
            reader.query_batches(sql)
        assert not isinstance(e.value, ReadOnlyViolation)


CORPUS = Path(__file__).resolve().parents[2] / "sample_traces" / "corpus"


@functools.cache
def _corpus_batches() -> tuple[list[IngestBatch], dict[str, dict[str, str | None]]]:
    """Decoded once for all store kinds (decoding is the collector's cost, not the store's)."""
    requests, parents = _corpus_requests()
    return [decode_request("traces", body) for body in requests], parents


def _corpus_requests(seed: int = 11) -> tuple[list[dict[str, Any]], dict[str, dict[str, str | None]]]:
    """Every corpus span, shuffled across small requests (children before parents, traces
    interleaved), with one request replayed; and the reference parent map per trace."""
    items: list[tuple[Any, Any, dict[str, Any]]] = []
    parents: dict[str, dict[str, str | None]] = {}
    for path in sorted(CORPUS.glob("*.json")):
        for rs in json.loads(path.read_text())["resourceSpans"]:
            for ss in rs.get("scopeSpans", []):
                for span in ss.get("spans", []):
                    items.append((rs.get("resource", {}), ss.get("scope", {}), span))
                    parent = (span.get("parentSpanId") or "").lower() or None
                    parents.setdefault(span["traceId"].lower(), {})[span["spanId"].lower()] = parent
    random.Random(seed).shuffle(items)
    requests = []
    for i in range(0, len(items), 37):
        chunk = items[i : i + 37]
        requests.append(
            {
                "resourceSpans": [
                    {"resource": res, "scopeSpans": [{"scope": scope, "spans": [span]}]}
                    for res, scope, span in chunk
                ]
            }
        )
    return [*requests, requests[len(requests) // 2]], parents


@pytest.mark.skipif(not any(CORPUS.glob("*.json")), reason="sample_traces/corpus is empty")
def test_sample_corpus_out_of_order_with_replays(store: StoreUnderTest) -> None:
    """The whole sample corpus, shuffled: the store's derived data equals what a naive reference
    computes from the files (span and orphan counts, roots, agent resolution)."""
    batches, parents = _corpus_batches()
    for batch in batches:
        store.write(batch)
    reader = store.settle()
    assert reader.query("SELECT count(*) AS n FROM spans").column("n")[0].as_py() == sum(
        len(p) for p in parents.values()
    )
    rows = reader.query("SELECT trace_id, span_count, orphan_count, root_span_id FROM traces").to_pylist()
    assert {r["trace_id"] for r in rows} == set(parents)
    for r in rows:
        spans = parents[r["trace_id"]]
        assert r["span_count"] == len(spans)
        assert r["orphan_count"] == sum(1 for p in spans.values() if p is not None and p not in spans)
        if any(p is None for p in spans.values()):
            assert spans[r["root_span_id"]] is None
    stored = reader.query(
        "SELECT trace_id, span_id, parent_span_id, agent_id, agent_name, resolved_agent_id, "
        "resolved_agent_name FROM spans ORDER BY trace_id"
    ).to_pylist()
    by_trace: dict[str, list[dict[str, Any]]] = {}
    for s in stored:
        by_trace.setdefault(s["trace_id"], []).append(s)
    for spans_of_trace in by_trace.values():
        own = {
            s["span_id"]: (s["agent_id"], s["agent_name"])
            for s in spans_of_trace
            if s["agent_id"] is not None or s["agent_name"] is not None
        }
        parent_of = {s["span_id"]: s["parent_span_id"] for s in spans_of_trace}
        for s in spans_of_trace:
            node: str | None = s["span_id"]
            seen: set[str] = set()
            want = None
            while node is not None and node in parent_of and node not in seen:
                seen.add(node)
                if node in own:
                    want = own[node]
                    break
                node = parent_of[node]
            assert (s["resolved_agent_id"], s["resolved_agent_name"]) == (want or (None, None)), s["span_id"]
