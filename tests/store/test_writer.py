"""DuckStoreWriter behaviour: acknowledgement, bounded queue, idempotency, failure isolation,
maintenance (agents, orphans, traces), findings replacement."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from store import ingest, schema
from store.api import IngestBatch, WriteResult
from store.config import StoreConfig
from store.database import ROW_GROUP_SIZE, open_database
from store.errors import StoreBusy, StoreClosed, StoreError
from store.writer import DuckStoreWriter
from tests.store.conftest import span_rows


class Gate:
    """Holds the writer thread inside its next insert until ``open()``: makes the queue state
    deterministic without sleeps."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self._release = threading.Event()
        real = ingest.insert_group

        def gated(
            con: Any, batches: list[IngestBatch], now: int, *args: Any, **options: Any
        ) -> list[WriteResult]:
            self.entered.set()
            assert self._release.wait(30)
            return real(con, batches, now, *args, **options)

        monkeypatch.setattr(ingest, "insert_group", gated)

    def open(self) -> None:
        self._release.set()


def _in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(fn())
        except Exception as e:
            out.append(e)

    t = threading.Thread(target=run)
    t.start()
    return t, out


def wait_pending(w: DuckStoreWriter, items: int) -> None:
    """Wait until ``items`` are queued or committing (the callers' threads got that far)."""
    deadline = time.monotonic() + 30
    while w.pending_items < items:
        assert time.monotonic() < deadline, f"only {w.pending_items} of {items} items arrived"
        time.sleep(0.005)


def count(w: DuckStoreWriter, sql: str = "SELECT count(*) AS n FROM spans") -> int:
    return int(w.reader().query(sql).column(0)[0].as_py())


def test_write_acknowledges_committed_rows_and_fills_writer_columns(writer: DuckStoreWriter) -> None:
    spans = span_rows(3, resolved_agent_name=["forged"] * 3, ingested_ns=[1, 2, 3])
    before = time.time_ns()
    result = writer.write(IngestBatch(spans=spans))
    assert result == WriteResult(spans_written=3, spans_duplicate=0, logs_written=0, metric_points_written=0)
    rows = writer.reader().query("SELECT resolved_agent_name, ingested_ns FROM spans").to_pylist()
    assert len(rows) == 3
    assert all(r["ingested_ns"] >= before for r in rows)
    assert {r["resolved_agent_name"] for r in rows} == {None}  # the batch's value is not trusted


def test_duplicates_are_stored_once_across_and_within_batches(writer: DuckStoreWriter) -> None:
    batch = IngestBatch(spans=pa.concat_tables([span_rows(4), span_rows(2, name=["dup a", "dup b"])]))
    assert writer.write(batch).spans_written == 4
    again = writer.write(IngestBatch(spans=span_rows(5)))
    assert (again.spans_written, again.spans_duplicate) == (1, 4)
    names = writer.reader().query("SELECT name FROM spans ORDER BY span_id").column("name").to_pylist()
    assert names == ["span 0", "span 1", "span 2", "span 3", "span 4"]  # first written wins


def test_full_queue_refuses_at_once_with_retry_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate(monkeypatch)
    w = DuckStoreWriter(tmp_path / "s.duckdb", StoreConfig(queue_max_items=10))
    try:
        first, first_out = _in_thread(lambda: w.write(IngestBatch(spans=span_rows(8, trace="01" * 16))))
        assert gate.entered.wait(10)  # 8 items are being committed and still count
        with pytest.raises(StoreBusy) as busy:
            w.write(IngestBatch(spans=span_rows(5, trace="02" * 16)))
        assert busy.value.retry_after > 0
        fits, fits_out = _in_thread(lambda: w.write(IngestBatch(spans=span_rows(2, trace="03" * 16))))
        gate.open()
        first.join(10)
        fits.join(10)
        assert [r.spans_written for r in first_out + fits_out] == [8, 2]
        assert w.pending_items == 0
        assert count(w) == 10
    finally:
        gate.open()
        w.close()


def test_oversized_batch_is_taken_when_the_queue_is_empty(tmp_path: Path) -> None:
    with DuckStoreWriter(tmp_path / "s.duckdb", StoreConfig(queue_max_items=5)) as w:
        assert w.write(IngestBatch(spans=span_rows(50))).spans_written == 50


def test_timed_out_write_that_never_started_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch)
    w = DuckStoreWriter(tmp_path / "s.duckdb")
    try:
        blocker, _ = _in_thread(lambda: w.write(IngestBatch(spans=span_rows(1, trace="01" * 16))))
        assert gate.entered.wait(10)
        with pytest.raises(StoreError, match="nothing was stored"):
            w.write(IngestBatch(spans=span_rows(3, trace="02" * 16)), timeout=0.05)
        gate.open()
        blocker.join(10)
        w.sync()
        assert count(w) == 1
        assert w.pending_items == 0
    finally:
        gate.open()
        w.close()


def test_a_failing_batch_fails_alone_in_its_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate(monkeypatch)
    w = DuckStoreWriter(tmp_path / "s.duckdb")
    try:
        blocker, _ = _in_thread(lambda: w.write(IngestBatch(spans=span_rows(1, trace="01" * 16))))
        assert gate.entered.wait(10)
        # Queued behind the blocker, so they commit as one group: the bad one (conform lets no
        # invalid row through, so its insert is broken here) must not sink the others.
        real = ingest.insert_plain

        def failing(con: Any, name: str, table: pa.Table, **options: Any) -> int:
            if name == "spans" and "bb" * 16 in table.column("trace_id").to_pylist():
                raise RuntimeError("simulated insert failure")
            return real(con, name, table, **options)

        monkeypatch.setattr(ingest, "insert_plain", failing)
        good, good_out = _in_thread(lambda: w.write(IngestBatch(spans=span_rows(2, trace="aa" * 16))))
        bad, bad_out = _in_thread(lambda: w.write(IngestBatch(spans=span_rows(2, trace="bb" * 16))))
        good2, good2_out = _in_thread(lambda: w.write(IngestBatch(spans=span_rows(2, trace="cc" * 16))))
        wait_pending(w, 7)  # 1 in commit + 3 queued batches of 2
        gate.open()
        for t in (blocker, good, bad, good2):
            t.join(10)
        assert isinstance(bad_out[0], StoreError) and "simulated" in str(bad_out[0])
        assert good_out[0].spans_written == 2 and good2_out[0].spans_written == 2
        traces = w.reader().query("SELECT DISTINCT trace_id FROM spans ORDER BY 1").column(0).to_pylist()
        assert traces == ["01" * 16, "aa" * 16, "cc" * 16]
    finally:
        gate.open()
        w.close()


def test_rows_without_keys_are_dropped_not_fatal(writer: DuckStoreWriter) -> None:
    spans = span_rows(3)
    spans = spans.set_column(1, "span_id", pa.array(["0000000000000001", None, "0000000000000003"]))
    assert writer.write(IngestBatch(spans=spans)).spans_written == 2


def test_unknown_columns_are_refused(writer: DuckStoreWriter) -> None:
    with pytest.raises(StoreError, match="unknown columns"):
        writer.write(IngestBatch(spans=span_rows(1).append_column("bogus", pa.array(["x"]))))


def test_write_after_close_raises_closed(tmp_path: Path) -> None:
    w = DuckStoreWriter(tmp_path / "s.duckdb")
    reader = w.reader()
    w.close()
    w.close()  # idempotent
    with pytest.raises(StoreClosed):
        w.write(IngestBatch(spans=span_rows(1)))
    with pytest.raises(StoreClosed):
        reader.query("SELECT 1")


def test_maintenance_runs_without_being_asked(writer: DuckStoreWriter) -> None:
    """Derived data appears shortly after the ack, with no sync() call (polled, not timed)."""
    writer.write(IngestBatch(spans=span_rows(3, agent_name=["boss", None, None])))
    deadline = time.monotonic() + 10
    while count(writer, "SELECT count(*) FROM traces") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    rows = writer.reader().query("SELECT resolved_agent_name FROM spans").column(0).to_pylist()
    assert rows == ["boss"] * 3


def test_orphans_attach_when_the_parent_arrives(writer: DuckStoreWriter) -> None:
    ids = [f"{i:016x}" for i in range(1, 4)]
    child = span_rows(1, parents=[ids[1]], span_id=[ids[2]])
    writer.write(IngestBatch(spans=child))
    writer.sync()
    assert count(writer, "SELECT orphan_count FROM traces") == 1
    writer.write(IngestBatch(spans=span_rows(1, parents=[ids[0]], span_id=[ids[1]], agent_name=["late"])))
    writer.sync()
    assert count(writer, "SELECT orphan_count FROM traces") == 1  # the new span's parent is missing now
    writer.write(IngestBatch(spans=span_rows(1, span_id=[ids[0]])))
    writer.sync()
    row = writer.reader().query("SELECT orphan_count, root_span_id, span_count FROM traces").to_pylist()
    assert row == [{"orphan_count": 0, "root_span_id": ids[0], "span_count": 3}]
    agent = writer.reader().query("SELECT resolved_agent_name FROM spans WHERE span_id = ?", [ids[2]])
    assert agent.column(0).to_pylist() == ["late"]


def test_replace_findings_keeps_only_the_latest_run(writer: DuckStoreWriter) -> None:
    def findings(ids: list[str], trace: str) -> pa.Table:
        n = len(ids)
        return pa.table(
            {
                "finding_id": ids,
                "trace_id": [trace] * n,
                "detector": ["timeout_cascade"] * n,
                "kind": ["timeout_cascade"] * n,
                "severity": ["high"] * n,
                "created_ns": [1] * n,
            }
        )

    def analysis(trace: str, spans: int) -> pa.Table:
        return pa.table({"trace_id": [trace], "analyzed_ns": [1], "span_count": [spans]})

    t1, t2 = "01" * 16, "02" * 16
    writer.replace_findings(
        [t1, t2],
        pa.concat_tables([findings(["f1", "f2"], t1), findings(["g1"], t2)]),
        pa.concat_tables([analysis(t1, 5), analysis(t2, 7)]),
    )
    writer.replace_findings([t1], findings(["f3"], t1), analysis(t1, 6))
    got = writer.reader().query("SELECT finding_id FROM findings ORDER BY 1").column(0).to_pylist()
    assert got == ["f3", "g1"]
    spans = writer.reader().query("SELECT trace_id, span_count FROM trace_analysis ORDER BY 1").to_pylist()
    assert spans == [{"trace_id": t1, "span_count": 6}, {"trace_id": t2, "span_count": 7}]
    assert schema.FINDINGS.names == writer.reader().query("SELECT * FROM findings").column_names


def test_log_records_move_the_traces_last_ingested_time(writer: DuckStoreWriter) -> None:
    """Content arriving by log event changes what an analysis sees: the trace must look updated."""
    trace = "ab" * 16
    writer.write(IngestBatch(spans=span_rows(1, trace=trace)))
    writer.sync()
    before = count(writer, "SELECT last_ingested_ns FROM traces")
    logs = pa.table(
        {
            "log_id": ["l1"],
            "trace_id": [trace],
            "span_id": ["0000000000000001"],
            "time_ns": [5],
            "reasoning": ["thinking..."],
        }
    )
    writer.write(IngestBatch(logs=logs))
    writer.sync()
    assert count(writer, "SELECT last_ingested_ns FROM traces") > before
    reasoning = writer.reader().query("SELECT reasoning FROM spans").column(0).to_pylist()
    assert reasoning == ["thinking..."]


def test_group_with_stored_and_in_group_duplicates_counts_per_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One group commit holding a new batch, a batch repeating stored spans and one repeating the
    first batch: the stored span keys find the repeated ones, each caller gets its own counts and
    the earliest caller's rows win."""
    w = DuckStoreWriter(tmp_path / "s.duckdb")
    try:
        w.write(IngestBatch(spans=span_rows(3, trace="0a" * 16)))
        gate = Gate(monkeypatch)
        blocker, _ = _in_thread(lambda: w.write(IngestBatch(spans=span_rows(1, trace="01" * 16))))
        assert gate.entered.wait(10)
        fresh, fresh_out = _in_thread(lambda: w.write(IngestBatch(spans=span_rows(4, trace="0b" * 16))))
        wait_pending(w, 5)
        mixed, mixed_out = _in_thread(lambda: w.write(IngestBatch(spans=span_rows(5, trace="0a" * 16))))
        wait_pending(w, 10)
        again = span_rows(4, trace="0b" * 16, name=["late copy"] * 4)
        copy, copy_out = _in_thread(lambda: w.write(IngestBatch(spans=again)))
        wait_pending(w, 14)
        gate.open()
        for t in (blocker, fresh, mixed, copy):
            t.join(10)
        assert [(r.spans_written, r.spans_duplicate) for r in fresh_out + mixed_out + copy_out] == [
            (4, 0),
            (2, 3),
            (0, 4),
        ]
        names = w.reader().query("SELECT DISTINCT name FROM spans WHERE trace_id = ?", ["0b" * 16])
        assert "late copy" not in names.column(0).to_pylist()
        assert count(w) == 1 + 5 + 4
    finally:
        w.close()


def test_reports_are_stored_and_replaced_by_id(writer: DuckStoreWriter) -> None:
    def report(body: str) -> pa.Table:
        return pa.table({"report_id": ["r1"], "generated_ns": [1], "format": ["json"], "body": [body]})

    writer.write_report(report("first"))
    writer.write_report(report("second"))
    rows = writer.reader().query("SELECT report_id, body FROM reports").to_pylist()
    assert rows == [{"report_id": "r1", "body": "second"}]


def test_findings_are_not_refused_by_a_full_queue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate(monkeypatch)
    w = DuckStoreWriter(tmp_path / "s.duckdb", StoreConfig(queue_max_items=2))
    try:
        blocker, _ = _in_thread(lambda: w.write(IngestBatch(spans=span_rows(5))))
        assert gate.entered.wait(10)
        with pytest.raises(StoreBusy):
            w.write(IngestBatch(spans=span_rows(1, trace="02" * 16)))
        analysis = pa.table({"trace_id": ["ab" * 16], "analyzed_ns": [1], "span_count": [5]})
        done, out = _in_thread(lambda: w.replace_findings(["ab" * 16], pa.table({}), analysis))
        gate.open()
        blocker.join(10)
        done.join(10)
        assert out == [None]
        assert count(w, "SELECT count(*) FROM trace_analysis") == 1
    finally:
        gate.open()
        w.close()


def test_absurd_values_saturate_instead_of_failing_the_summary(writer: DuckStoreWriter) -> None:
    big = 2**62
    spans = span_rows(
        3, trace="0e" * 16, input_tokens=[big, big, big], start_ns=[0, 1, 2], end_ns=[2**63 - 1, 5, 5]
    )
    writer.write(
        IngestBatch(spans=pa.concat_tables([spans, span_rows(2, trace="0f" * 16)], promote_options="default"))
    )
    writer.sync()
    rows = (
        writer.reader().query("SELECT trace_id, input_tokens, duration_ns FROM traces ORDER BY 1").to_pylist()
    )
    assert rows == [
        {"trace_id": "0e" * 16, "input_tokens": 2**63 - 1, "duration_ns": 2**63 - 1},
        {"trace_id": "0f" * 16, "input_tokens": 0, "duration_ns": 11},
    ]


def test_a_row_group_of_spans_is_written_once(tmp_path: Path) -> None:
    """A commit of a row group or more goes to the file directly, not through the WAL, so no
    checkpoint has to write it a second time; smaller commits still use the WAL."""
    path = tmp_path / "s.duckdb"
    wal = tmp_path / "s.duckdb.wal"
    text = "x" * 1000
    with DuckStoreWriter(path) as writer:
        writer.write(IngestBatch(spans=span_rows(8, trace="a" * 32, attributes=[text] * 8)))
        small = wal.stat().st_size
        assert small > 8 * 1000  # in the WAL
        n = 2 * ROW_GROUP_SIZE
        writer.write(IngestBatch(spans=span_rows(n, trace="b" * 32, attributes=[text] * n)))
        assert wal.stat().st_size - small < n * 100  # the WAL only points to it
        assert writer.reader().query("SELECT count(*) AS n FROM spans").column("n")[0].as_py() == n + 8


def test_maintenance_reads_every_span_of_a_late_trace(writer: DuckStoreWriter) -> None:
    """Passes read only spans that start no earlier than the touched traces' summarized start or
    the new spans (older row groups are skipped): a late child still finds its agent through a
    span stored long before, and a late span that starts before all the others still counts."""
    old = "0" * 31 + "1"
    ids = [f"{i:016x}" for i in range(1, 4)]
    root = span_rows(1, trace=old, span_id=[ids[0]], agent_name=["planner"], start_ns=[10**9])
    writer.write(IngestBatch(spans=root))
    writer.sync()
    for k in range(4):  # later traces filling row groups of their own
        starts = [10**12 + i for i in range(ROW_GROUP_SIZE)]
        writer.write(IngestBatch(spans=span_rows(ROW_GROUP_SIZE, trace=f"{k + 2:032x}", start_ns=starts)))
        writer.sync()

    def summary() -> list[dict[str, Any]]:
        rows = writer.reader().query(
            "SELECT span_count, start_ns, agents FROM traces WHERE trace_id = ?", [old]
        )
        return rows.to_pylist()

    late = span_rows(1, trace=old, parents=[ids[0]], span_id=[ids[1]], start_ns=[10**13])
    writer.write(IngestBatch(spans=late))
    writer.sync()
    assert summary() == [{"span_count": 2, "start_ns": 10**9, "agents": '["planner"]'}]
    earlier = span_rows(1, trace=old, parents=[ids[1]], span_id=[ids[2]], start_ns=[-5])
    writer.write(IngestBatch(spans=earlier))
    writer.sync()
    assert summary() == [{"span_count": 3, "start_ns": -5, "agents": '["planner"]'}]
    agents = writer.reader().query("SELECT resolved_agent_name FROM spans WHERE trace_id = ?", [old])
    assert agents.column(0).to_pylist() == ["planner"] * 3


def test_commits_a_stopped_process_did_not_maintain_are_maintained_on_open(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with DuckStoreWriter(path) as writer:
        writer.write(IngestBatch(spans=span_rows(2, trace="a" * 32)))
    # As if the process stopped between a commit and its maintenance pass.
    con = open_database(path)
    con.execute(f"DELETE FROM traces WHERE trace_id = '{'a' * 32}'")
    con.close()
    with DuckStoreWriter(path) as writer:
        writer.sync()
        assert count(writer, "SELECT span_count FROM traces") == 2
