"""The writer's own check of span keys (``store.span_keys``), which replaced DuckDB's primary key
on ``span_rows``: the set itself, exact counts even when every hash collides, duplicates across a
restart, and the migration that drops the key from older files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from store import ingest, schema
from store.api import IngestBatch
from store.database import _INTERNAL_DDL, META_TABLE, connect, open_database
from store.span_keys import SpanKeys, hashes, sorted_unique
from store.writer import DuckStoreWriter
from tests.store.conftest import span_rows


def _keys(n: int, first: int = 0) -> pa.Table:
    return pa.table(
        {
            "trace_id": [f"{(i // 8):032x}" for i in range(first, first + n)],
            "span_id": [f"{i + 1:016x}" for i in range(first, first + n)],
        }
    )


def test_only_committed_keys_count_as_stored() -> None:
    keys = SpanKeys()
    first, second = hashes(_keys(100)), hashes(_keys(100, first=100))
    keys.stage(first)
    assert not keys.maybe_stored(first).any()  # staged is not stored
    keys.commit()
    keys.stage(second)
    keys.discard()  # its transaction was rolled back
    keys.commit()
    assert keys.maybe_stored(first).all() and not keys.maybe_stored(second).any()
    assert len(keys) == 100


def test_many_commits_merge_into_levels_that_still_find_every_key() -> None:
    keys = SpanKeys()
    for i in range(300):
        keys.stage(hashes(_keys(37, first=37 * i)))
        keys.commit()
    every = hashes(_keys(300 * 37))
    assert keys.maybe_stored(every).all()
    assert not keys.maybe_stored(hashes(_keys(500, first=300 * 37))).any()
    assert len(keys) == 300 * 37 and keys.nbytes == 8 * 300 * 37
    assert len(keys._levels) <= 8  # merged as they fill, not one level per commit


@pytest.mark.parametrize("n", [0, 1, 2, 1000])
def test_sorted_unique_is_numpys_unique(n: int) -> None:
    rng = np.random.default_rng(n)
    values = rng.integers(0, max(n // 3, 1), size=n, dtype=np.uint64)  # plenty of repeats
    assert np.array_equal(sorted_unique(values), np.unique(values))
    distinct = rng.permutation(np.arange(n, dtype=np.uint64))
    assert np.array_equal(sorted_unique(distinct), np.arange(n, dtype=np.uint64))


def test_loading_from_the_store_gives_the_hashes_of_arrow_batches(tmp_path: Path) -> None:
    """The writer rebuilds the set from what DuckDB returns; batches arrive as the decoder's
    Arrow strings: the same keys must hash alike whatever the string layout."""
    con = open_database(tmp_path / "s.duckdb")
    con.register("k", _keys(1000))
    con.execute(f"INSERT INTO {schema.SPAN_ROWS_TABLE} (trace_id, span_id) SELECT * FROM k")
    loaded = SpanKeys.load(con, schema.SPAN_ROWS_TABLE)
    con.close()
    as_views = _keys(1000).cast(pa.schema([("trace_id", pa.string_view()), ("span_id", pa.large_string())]))
    assert loaded.maybe_stored(hashes(as_views)).all() and len(loaded) == 1000


def test_counts_stay_exact_when_every_hash_collides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With one hash for every key, every span looks stored and every pair looks equal: the
    writer must still compare the keys themselves."""
    monkeypatch.setattr(ingest, "hashes", lambda keys: np.zeros(keys.num_rows, dtype=np.uint64))
    with DuckStoreWriter(tmp_path / "s.duckdb") as w:
        first = w.write(IngestBatch(spans=pa.concat_tables([span_rows(4), span_rows(2, name=["dup"] * 2)])))
        again = w.write(IngestBatch(spans=span_rows(6, name=["late"] * 6)))
        other = w.write(IngestBatch(spans=span_rows(3, trace="cd" * 16)))
        assert [(r.spans_written, r.spans_duplicate) for r in (first, again, other)] == [
            (4, 2),
            (2, 4),
            (3, 0),
        ]
        names = w.reader().query("SELECT name FROM spans WHERE trace_id = ? ORDER BY span_id", ["ab" * 16])
        assert names.column(0).to_pylist() == [f"span {i}" for i in range(4)] + ["late", "late"]


def test_a_copy_with_another_start_time_is_still_a_duplicate(tmp_path: Path) -> None:
    """Lookups try the stored spans of the copy's start times first; the key decides, not the time."""
    with DuckStoreWriter(tmp_path / "s.duckdb") as w:
        w.write(IngestBatch(spans=span_rows(3)))
        moved = span_rows(3, start_ns=[10**18 + i for i in range(3)], end_ns=[10**18 + 9] * 3)
        assert w.write(IngestBatch(spans=moved)).spans_duplicate == 3
        assert w.reader().query("SELECT max(start_ns) AS s FROM spans").column(0)[0].as_py() == 2


def test_duplicates_are_found_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with DuckStoreWriter(path) as w:
        w.write(IngestBatch(spans=span_rows(5)))
    with DuckStoreWriter(path) as w:
        out = w.write(IngestBatch(spans=span_rows(7)))
        assert (out.spans_written, out.spans_duplicate) == (2, 5)
        assert w.reader().query("SELECT count(*) FROM spans").column(0)[0].as_py() == 7


def _primary_keys(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "SELECT table_name FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'"
        ).fetchall()
        return {r[0] for r in rows}
    finally:
        con.close()


def test_a_version_2_file_loses_the_span_primary_key_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "v2.duckdb"
    con = connect(path)  # a store as version 2 created it: every table with its primary key
    for name, table_schema, key in schema.TABLES:
        con.execute(schema.create_table_sql(*schema.stored(name, table_schema), key))
    for ddl in _INTERNAL_DDL:
        con.execute(ddl)
    con.execute(f"INSERT INTO {META_TABLE} VALUES ('schema_version', '2')")
    con.register("old", span_rows(3, name=["old"] * 3))
    con.execute(
        f"INSERT INTO {schema.SPAN_ROWS_TABLE} (trace_id, span_id, name, start_ns) "
        "SELECT trace_id, span_id, name, start_ns FROM old"
    )
    con.close()
    assert schema.SPAN_ROWS_TABLE in _primary_keys(path)
    with DuckStoreWriter(path) as w:
        out = w.write(IngestBatch(spans=span_rows(4)))
        assert (out.spans_written, out.spans_duplicate) == (1, 3)
        names = w.reader().query("SELECT name FROM spans ORDER BY span_id").column(0).to_pylist()
        assert names == ["old", "old", "old", "span 3"]
    keyed = _primary_keys(path)
    assert schema.SPAN_ROWS_TABLE not in keyed and {"logs", "findings", "span_events"} <= keyed
