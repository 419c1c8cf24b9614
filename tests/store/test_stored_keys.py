"""The writer's own check of the ingest tables' keys (``store.stored_keys``), which replaced
DuckDB's primary keys: the set itself, exact counts even when every hash collides, duplicates
across a restart, and the migrations that drop the keys from older files."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from store import ingest, schema, stored_keys
from store.api import IngestBatch
from store.database import _INTERNAL_DDL, META_TABLE, connect, open_database
from store.stored_keys import StoredKeys, hashes, sorted_unique
from store.writer import DuckStoreWriter
from tests.store.conftest import decode_request, load_fixture, span_rows


def _keys(n: int, first: int = 0) -> pa.Table:
    return pa.table(
        {
            "trace_id": [f"{(i // 8):032x}" for i in range(first, first + n)],
            "span_id": [f"{i + 1:016x}" for i in range(first, first + n)],
        }
    )


def test_only_committed_keys_count_as_stored() -> None:
    keys = StoredKeys()
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
    keys = StoredKeys()
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
    loaded = StoredKeys.load(con, schema.SPAN_ROWS_TABLE, ("trace_id", "span_id"))
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


_INGEST_TABLES = ("spans", "span_events", "span_links", "logs", "metrics")


#: A span with two events and a link (no conformance fixture has them).
_EVENTS_AND_LINKS = {
    "resourceSpans": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
            "scopeSpans": [
                {
                    "spans": [
                        {
                            "traceId": "0f" * 16,
                            "spanId": "0e" * 8,
                            "name": "with events",
                            "startTimeUnixNano": "1000",
                            "endTimeUnixNano": "2000",
                            "events": [
                                {"timeUnixNano": "1100", "name": "first"},
                                {"timeUnixNano": "1200", "name": "second"},
                            ],
                            "links": [{"traceId": "0d" * 16, "spanId": "0c" * 8}],
                        }
                    ]
                }
            ],
        }
    ]
}


def _stored_rows(path: Path, fixtures: list[str], times: int) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the ingest tables after writing the requests of ``fixtures`` (and
    ``_EVENTS_AND_LINKS``) ``times`` times."""
    requests = [r for name in fixtures for r in load_fixture(name)["requests"]]
    requests.append({"signal": "traces", "body": _EVENTS_AND_LINKS})
    with DuckStoreWriter(path) as w:
        for _ in range(times):
            for request in requests:
                w.write(decode_request(request["signal"], request["body"]))
        reader = w.reader()
        return {
            t: sorted(map(tuple, reader.query(f"SELECT * EXCLUDE (ingested_ns) FROM {t}").to_pylist()))
            if t in ("spans", "logs", "metrics")
            else sorted(tuple(r.values()) for r in reader.query(f"SELECT * FROM {t}").to_pylist())
            for t in _INGEST_TABLES
        }


@pytest.mark.parametrize("collide", [False, True], ids=["hashes", "every-hash-colliding"])
def test_every_ingest_table_stores_a_row_sent_again_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collide: bool
) -> None:
    """Spans with events and links, log records and metric points, all sent three times (and
    once more after a restart): the same rows as sent once, whether or not the hashes tell
    keys apart."""
    fixtures = ["duplicates", "multi_agent_genai", "logs_after_span", "metrics", "orphans"]
    once = _stored_rows(tmp_path / "once.duckdb", fixtures, 1)
    assert all(once[t] for t in ("spans", "span_events", "span_links", "logs", "metrics"))
    if collide:  # in both places that hash: the writer's inserts and the keys read back at open
        for module in (ingest, stored_keys):
            monkeypatch.setattr(module, "hashes", lambda keys: np.zeros(keys.num_rows, dtype=np.uint64))
    path = tmp_path / "thrice.duckdb"
    _stored_rows(path, fixtures, 3)
    assert _stored_rows(path, fixtures, 1) == once


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


def test_a_version_2_file_loses_the_ingest_primary_keys_and_keeps_its_rows(tmp_path: Path) -> None:
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
    con.execute("INSERT INTO logs (log_id, time_ns, body) VALUES ('l1', 5, 'kept')")
    con.close()
    assert {schema.SPAN_ROWS_TABLE, "logs", "metrics"} <= _primary_keys(path)
    with DuckStoreWriter(path) as w:
        out = w.write(IngestBatch(spans=span_rows(4)))
        assert (out.spans_written, out.spans_duplicate) == (1, 3)
        names = w.reader().query("SELECT name FROM spans ORDER BY span_id").column(0).to_pylist()
        assert names == ["old", "old", "old", "span 3"]
        logs = pa.table({"log_id": ["l1", "l2"], "time_ns": pa.array([5, 6], pa.int64())})
        assert w.write(IngestBatch(logs=logs)).logs_written == 1
        assert w.reader().query("SELECT body FROM logs ORDER BY log_id").column(0).to_pylist() == [
            "kept",
            None,
        ]
    assert _primary_keys(path) == {
        "traces",
        "findings",
        "trace_analysis",
        "reports",
        META_TABLE,
        "span_log_fill",
    }


class _HeldMerges:
    """Holds merges on the set's merge thread until ``release()`` (inline merges run as before);
    ``fail`` makes the next held merge raise instead, as when memory runs out."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started = threading.Event()
        self._release = threading.Event()
        self.fail = False
        real = stored_keys._merge

        def merge(larger: stored_keys.Hashes, smaller: stored_keys.Hashes) -> stored_keys.Hashes:
            if threading.current_thread().name.startswith("faultlens-key-merge"):
                self.started.set()
                assert self._release.wait(30)
                if self.fail:
                    self.fail = False
                    raise MemoryError("simulated")
            return real(larger, smaller)

        monkeypatch.setattr(stored_keys, "_merge", merge)
        monkeypatch.setattr(stored_keys, "_BACKGROUND_MERGE_ROWS", 256)

    def release(self) -> None:
        self._release.set()


def _levels_settled(keys: StoredKeys) -> bool:
    sizes = [len(level) for level in keys._levels]
    return all(a >= stored_keys._GROWTH * b for a, b in itertools.pairwise(sizes))


def test_a_large_merge_runs_beside_commits_that_still_find_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    held = _HeldMerges(monkeypatch)
    keys = StoredKeys()
    try:
        for i in range(200):  # commits go on while the merge is held on its thread
            keys.stage(hashes(_keys(37, first=37 * i)))
            keys.commit()
            assert keys.maybe_stored(hashes(_keys(37 * (i + 1)))).all()
        assert held.started.is_set() and keys._merging is not None
        assert not keys.maybe_stored(hashes(_keys(300, first=200 * 37))).any()
    finally:
        held.release()
    keys.wait_for_merge()
    assert keys._merging is None and _levels_settled(keys)
    assert len(keys) == 200 * 37 and keys.maybe_stored(hashes(_keys(200 * 37))).all()


def test_a_failed_large_merge_leaves_every_key_found(monkeypatch: pytest.MonkeyPatch) -> None:
    held = _HeldMerges(monkeypatch)
    held.fail = True
    held.release()
    keys = StoredKeys()
    for i in range(200):
        keys.stage(hashes(_keys(37, first=37 * i)))
        keys.commit()
    keys.wait_for_merge()  # the first merge on the thread failed, and none was tried since
    assert not held.fail and keys._merging is None and not _levels_settled(keys)
    assert len(keys) == 200 * 37 and keys.maybe_stored(hashes(_keys(200 * 37))).all()
    keys._merge_after = 0.0  # the wait is over
    keys.stage(hashes(_keys(37, first=200 * 37)))
    keys.commit()
    keys.wait_for_merge()
    assert _levels_settled(keys) and keys.maybe_stored(hashes(_keys(201 * 37))).all()
