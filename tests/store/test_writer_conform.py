"""``DuckStoreWriter.write`` conforms every batch that ``store.ingest.conform_batch`` has not marked
``conformed`` (any caller's), and takes a marked one as it is (the decode pool's)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from store import ingest, schema
from store.api import IngestBatch
from store.writer import DuckStoreWriter
from tests.store.conftest import span_rows


def count_conform_calls(monkeypatch: pytest.MonkeyPatch) -> list[IngestBatch]:
    calls: list[IngestBatch] = []
    real: Callable[[IngestBatch], IngestBatch] = ingest.conform_batch

    def spy(batch: IngestBatch) -> IngestBatch:
        calls.append(batch)
        return real(batch)

    monkeypatch.setattr(ingest, "conform_batch", spy)
    return calls


def test_unconformed_batch_is_conformed_by_the_writer(
    writer: DuckStoreWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Columns out of order, nullable columns missing, a narrower int type and a row without a key:
    the writer reorders, fills, casts and drops, and resolves agents."""
    rows = span_rows(3, agent_name=["boss", None, None])
    spans = pa.table(
        {
            "end_ns": rows.column("end_ns").cast(pa.int32()),
            "name": rows.column("name"),
            "agent_name": rows.column("agent_name"),
            "parent_span_id": rows.column("parent_span_id"),
            "span_id": rows.column("span_id"),
            "start_ns": rows.column("start_ns"),
            "trace_id": rows.column("trace_id"),
        }
    )
    keyless = (
        span_rows(1, trace="cd" * 16)
        .select(["trace_id", "start_ns"])
        .append_column("span_id", pa.array([None], pa.string()))
    )
    batch = IngestBatch(spans=pa.concat_tables([spans, keyless], promote_options="default"))
    assert not batch.conformed
    calls = count_conform_calls(monkeypatch)

    result = writer.write(batch)

    assert len(calls) == 1
    assert result.spans_written == 3
    writer.sync()
    stored = (
        writer.reader()
        .query("SELECT span_id, end_ns, resolved_agent_name, service_name FROM spans ORDER BY span_id")
        .to_pylist()
    )
    assert [r["span_id"] for r in stored] == rows.column("span_id").to_pylist()
    assert [r["end_ns"] for r in stored] == rows.column("end_ns").to_pylist()
    assert [r["resolved_agent_name"] for r in stored] == ["boss"] * 3
    assert {r["service_name"] for r in stored} == {None}


def test_conformed_batch_is_written_as_it_is(
    writer: DuckStoreWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = ingest.conform_batch(IngestBatch(spans=span_rows(2, agent_name=["boss", None])))
    assert batch.conformed
    calls = count_conform_calls(monkeypatch)
    assert writer.write(batch).spans_written == 2
    assert calls == []
    writer.sync()
    names = writer.reader().query("SELECT resolved_agent_name FROM spans").column(0).to_pylist()
    assert names == ["boss", "boss"]


def test_conformed_marker_takes_no_part_in_equality() -> None:
    batch = IngestBatch(spans=span_rows(2))
    conformed = ingest.conform_batch(batch)
    assert not batch.conformed and conformed.conformed
    assert IngestBatch(spans=conformed.spans) == conformed


def test_a_table_stored_in_another_column_order_is_inserted_by_name(tmp_path: Path) -> None:
    """Batches go in by position only into tables whose stored column order is the schema's; a
    table laid out otherwise (as a migration that appends a column could leave it) is inserted by
    column name, and its rows land in the right columns."""
    path = tmp_path / "s.duckdb"
    DuckStoreWriter(path).close()
    con = duckdb.connect(str(path))
    cols = schema.SPAN_LINKS.names
    reordered = ", ".join(reversed(cols))
    con.execute(f"CREATE TABLE links_copy AS SELECT {reordered} FROM span_links")
    con.execute("DROP TABLE span_links")
    con.execute("ALTER TABLE links_copy RENAME TO span_links")
    con.close()
    with DuckStoreWriter(path) as writer:
        assert "span_links" not in writer._positional and "spans" in writer._positional
        link = {
            "trace_id": "ab" * 16,
            "span_id": "cd" * 8,
            "idx": 0,
            "linked_trace_id": "ef" * 16,
            "linked_span_id": "01" * 8,
            "trace_state": "k=v",
            "attributes": "{}",
        }
        links = pa.table({c: [link.get(c)] for c in cols}, schema=schema.SPAN_LINKS)
        writer.write(IngestBatch(span_links=links))
        row = writer.reader().query("SELECT * FROM span_links").to_pylist()[0]
    assert {k: row[k] for k in link} == link
