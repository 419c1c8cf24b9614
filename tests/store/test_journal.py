"""The ingest journal (``store.journal``) and the writer that acknowledges through it: records
round-trip, a torn tail is cut off, applied segments are deleted, a journal that belongs to
another database is not replayed, and a writer with the journal keeps every promise of
``StoreWriter`` - every read sees every acknowledged batch, duplicates are stored once, and what
was acknowledged but not applied is applied when the file is opened next."""

from __future__ import annotations

import logging
import os
import signal
import time
import zlib
from pathlib import Path

import pyarrow as pa
import pytest

from store import ingest as ingest_mod
from store import journal as journal_mod
from store.api import IngestBatch
from store.config import StoreConfig
from store.database import META_TABLE
from store.errors import StoreBusy
from store.ingest import conform_batch
from store.journal import Journal, Record, holds_records, journal_dir, read_segment
from store.reader import ConnectionReader, open_reader
from store.writer import DuckStoreWriter
from tests.store.conftest import disk_full_for_batches_of, span_rows
from tests.store.store_proc import spawn

#: Apply only when asked (a read, sync, close): batches stay journaled in between.
LAZY = StoreConfig(journal=True, apply_min_items=1_000_000, apply_max_delay_s=1.0)


def _batch(n: int, trace: int) -> IngestBatch:
    return conform_batch(IngestBatch(spans=span_rows(n, trace=f"{trace:032x}")))


def _count(reader: ConnectionReader | object, sql: str = "SELECT count(*) AS n FROM spans") -> int:
    value: int = reader.query(sql).column(0)[0].as_py()  # type: ignore[attr-defined]
    return value


def _segments(db: Path) -> list[Path]:
    return _segments_of(journal_dir(db))


def _segments_of(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.seg"))


# -- the journal alone ---------------------------------------------------------------------------


def test_records_round_trip_in_order(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j", None)
    assert list(j.recover(0)) == []
    batches = [_batch(3, 1), _batch(5, 2), _batch(1, 3)]
    assert j.append(batches[:2]) == [1, 2]
    assert j.append(batches[2:]) == [3]
    j.close()
    again = Journal(tmp_path / "j", j.id)
    records = list(again.recover(1))  # the first is applied already
    assert [r.seq for r in records] == [2, 3]
    for record, batch in zip(records, batches[1:], strict=True):
        assert record.batch.conformed
        assert record.batch.spans.equals(batch.spans)
        assert record.batch.logs.num_rows == 0
    assert again.append([_batch(2, 4)]) == [4]  # numbering continues


def test_an_encoded_batch_is_written_as_it_came(tmp_path: Path) -> None:
    """A decode worker's batch carries its journal payload and CRC: they are written as they are,
    and read back as the same batch."""
    batch = _batch(4, 1)
    chunks = journal_mod.encode(batch)
    payload = pa.py_buffer(b"".join(bytes(c) for c in chunks))
    carried = journal_mod.decode(payload, journal_mod.checksum(chunks))
    assert carried.encoded is not None and carried.encoded[0] is payload and carried == batch
    j = Journal(tmp_path / "j", None)
    j.append([carried])
    j.close()
    data = _segments_of(tmp_path / "j")[0].read_bytes()
    assert bytes(payload) in data  # not encoded again
    (record,) = Journal(tmp_path / "j", j.id).recover(0)
    assert record.batch == batch and record.batch.encoded is None


def test_a_torn_tail_is_cut_off_and_appends_continue_after_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    j = Journal(tmp_path / "j", None)
    j.recover(0)
    list(j.recover(0))
    j.append([_batch(3, 1), _batch(4, 2)])
    j.close()
    (segment,) = sorted((tmp_path / "j").glob("*.seg"))
    whole = segment.stat().st_size
    with open(segment, "r+b") as f:  # a crash in the middle of the second record's append
        f.truncate(whole - 100)
    again = Journal(tmp_path / "j", j.id)
    with caplog.at_level(logging.WARNING):
        assert [r.seq for r in again.recover(0)] == [1]
    assert "unfinished append" in caplog.text
    assert again.append([_batch(2, 3)]) == [2]  # the torn record was never acknowledged
    again.close()
    assert [(r.seq, r.batch.spans.num_rows) for r in Journal(tmp_path / "j", j.id).recover(0)] == [
        (1, 3),
        (2, 2),
    ]


def test_a_damaged_record_ends_what_is_read(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j", None)
    list(j.recover(0))
    j.append([_batch(3, 1), _batch(3, 2)])
    j.close()
    (segment,) = sorted((tmp_path / "j").glob("*.seg"))
    data = bytearray(segment.read_bytes())
    data[-10] ^= 0xFF  # a flipped bit in the last record's payload: its checksum fails
    segment.write_bytes(bytes(data))
    assert [r.seq for r in Journal(tmp_path / "j", j.id).recover(0)] == [1]


def _failing_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next record write stops half way with an OSError (e.g. the disk is full)."""
    real = journal_mod._write_all

    def half(fd: int, chunks: list[bytes | pa.Buffer]) -> None:
        monkeypatch.setattr(journal_mod, "_write_all", real)
        os.write(fd, bytes(memoryview(chunks[1])[:100]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal_mod, "_write_all", half)


def test_a_failed_append_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    j = Journal(tmp_path / "j", None)
    list(j.recover(0))
    j.append([_batch(3, 1)])
    _failing_write(monkeypatch)
    with pytest.raises(OSError):
        j.append([_batch(4, 2)])
    assert j.append([_batch(5, 3)]) == [2]
    j.close()
    assert [(r.seq, r.batch.spans.num_rows) for r in Journal(tmp_path / "j", j.id).recover(0)] == [
        (1, 3),
        (2, 5),
    ]


def test_a_failed_append_that_cannot_be_cut_back_starts_a_new_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    j = Journal(tmp_path / "j", None)
    list(j.recover(0))
    j.append([_batch(3, 1)])
    _failing_write(monkeypatch)

    def no_truncate(fd: int, size: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(journal_mod.os, "ftruncate", no_truncate)
    with pytest.raises(OSError):
        j.append([_batch(4, 2)])
    monkeypatch.undo()
    (seq,) = j.append([_batch(5, 3)])
    j.close()
    assert len(list((tmp_path / "j").glob("*.seg"))) == 2  # the damaged one keeps its good records
    recovered = [(r.seq, r.batch.spans.num_rows) for r in Journal(tmp_path / "j", j.id).recover(0)]
    assert recovered == [(1, 3), (seq, 5)]


def test_applied_segments_are_deleted_but_not_the_one_being_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_mod, "SEGMENT_BYTES", 1)  # every append starts a segment
    j = Journal(tmp_path / "j", None)
    list(j.recover(0))
    for trace in range(4):
        j.append([_batch(2, trace)])
    assert len(list((tmp_path / "j").glob("*.seg"))) == 4
    j.release(2)
    assert [int(p.stem) for p in sorted((tmp_path / "j").glob("*.seg"))] == [3, 4]
    j.release(4)  # record 4 is applied, but its segment is still open for appends
    assert [int(p.stem) for p in sorted((tmp_path / "j").glob("*.seg"))] == [4]
    j.close()
    j.release(4)
    assert list((tmp_path / "j").glob("*.seg")) == []


def test_a_journal_of_another_database_is_moved_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    j = Journal(tmp_path / "j", None)
    list(j.recover(0))
    j.append([_batch(3, 1)])
    j.close()
    with caplog.at_level(logging.WARNING):
        other = Journal(tmp_path / "j", "some-other-id")
    assert "does not belong" in caplog.text
    assert list(other.recover(0)) == []
    (aside,) = tmp_path.glob("j.stale-*")
    assert len(list(aside.glob("*.seg"))) == 1


def test_an_empty_journal_of_another_database_is_replaced_quietly(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j", None)  # e.g. killed before the database recorded its id
    list(j.recover(0))
    j.close()
    again = Journal(tmp_path / "j", "the-database-id")
    assert again.id == "the-database-id"
    assert list(tmp_path.glob("j.stale-*")) == []


def test_a_quarantined_record_can_be_read_back(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j", None)
    list(j.recover(0))
    kept = j.quarantine(Record(7, _batch(3, 1)), "boom")
    assert kept.parent.name == "failed"
    assert (kept.parent / f"{7:020d}.reason").read_text().strip() == "boom"
    (record,) = read_segment(kept)
    assert record.seq == 7 and record.batch.spans.num_rows == 3


def test_only_conformed_batches_are_journaled(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j", None)
    list(j.recover(0))
    with pytest.raises(ValueError, match="conformed"):
        j.append([IngestBatch(spans=span_rows(2))])


# -- the writer with the journal -----------------------------------------------------------------


def test_every_read_sees_every_appended_batch(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with DuckStoreWriter(db, LAZY) as writer:
        reader = writer.reader()
        for trace in range(5):
            writer.append(_batch(4, trace))
            assert holds_records(db)  # journaled, not applied: nothing asked for it yet
            assert _count(reader) == 4 * (trace + 1)  # the read had them applied first
        stored = writer.reader().query(f"SELECT value FROM {META_TABLE} WHERE key = 'journal_applied_seq'")
        assert stored.column(0)[0].as_py() == "5"
    assert _segments(db) == []  # a clean close leaves nothing to replay


def test_a_reader_may_skip_waiting_for_acknowledged_batches(tmp_path: Path) -> None:
    with DuckStoreWriter(tmp_path / "s.duckdb", LAZY) as writer:
        applied_only = writer.reader(see_acknowledged=False)
        writer.append(_batch(4, 1))
        assert _count(applied_only) == 0  # journaled, not applied: this reader does not ask
        assert _count(writer.reader()) == 4
        assert _count(applied_only) == 4


def test_write_with_the_journal_returns_counts_and_stores_duplicates_once(tmp_path: Path) -> None:
    with DuckStoreWriter(tmp_path / "s.duckdb", LAZY) as writer:
        first = writer.write(_batch(4, 1))
        assert (first.spans_written, first.spans_duplicate) == (4, 0)
        writer.append(_batch(4, 1))  # the same spans again, applied in a later group
        again = writer.write(_batch(6, 1))
        assert (again.spans_written, again.spans_duplicate) == (2, 4)
        assert _count(writer.reader()) == 6


def test_groups_are_applied_without_a_read_once_big_or_old_enough(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    config = StoreConfig(journal=True, apply_min_items=10, apply_max_delay_s=0.2)
    with DuckStoreWriter(db, config) as writer:
        writer.append(_batch(12, 1))  # past apply_min_items: applied at once
        writer.append(_batch(3, 2))  # applied once it has waited apply_max_delay_s
        deadline = time.monotonic() + 10
        while writer.pending_items and time.monotonic() < deadline:
            time.sleep(0.02)
        assert writer.pending_items == 0


def _killed_with_journaled_batches(db: Path, batches: int) -> None:
    """A store process that acknowledged ``batches`` of 5 spans through its journal, applied
    none of them (nothing asked), then died by SIGKILL."""
    proc = spawn(db, "--journal")
    assert proc.stdin is not None and proc.stdout is not None
    for k in range(batches):
        proc.stdin.write("write 5\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == f"acked {5 * (k + 1)}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert len(_segments(db)) == 1


def test_acknowledged_but_unapplied_batches_are_applied_on_the_next_open(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _killed_with_journaled_batches(db, 3)
    reader = open_reader(db)  # nothing serves the file: applies the journal, then reads
    try:
        assert isinstance(reader, ConnectionReader)
        assert _count(reader) == 15
        assert _count(reader, "SELECT count(*) FROM traces") == 3  # maintained too
    finally:
        reader.close()
    assert _segments(db) == []


def test_a_writer_without_the_journal_still_applies_what_it_holds(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _killed_with_journaled_batches(db, 1)
    with DuckStoreWriter(db) as plain:  # e.g. faultlens ingest or analyze after a crashed serve
        assert _count(plain.reader()) == 5
        assert plain.pending_items == 0  # replayed batches never counted against the queue bound
        assert plain.write(_batch(5, 99)).spans_written == 5
    assert _segments(db) == []


def test_a_batch_that_cannot_be_applied_is_kept_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "s.duckdb"
    bad_spans = _batch(3, 1).spans
    # A column DuckDB refuses at insert time although the batch claims to be conformed (the
    # promise is the caller's): text where a number belongs.
    bad = IngestBatch(
        spans=bad_spans.set_column(
            bad_spans.schema.get_field_index("kind"),
            pa.field("kind", pa.string()),
            pa.array(["not a kind"] * 3),
        ),
        conformed=True,
    )
    with DuckStoreWriter(db, LAZY) as writer, caplog.at_level(logging.ERROR):
        writer.append(bad)
        writer.append(_batch(4, 2))
        assert _count(writer.reader()) == 4  # the good batch is not held back
    assert "kept in" in caplog.text
    failed = journal_dir(db) / "failed"
    assert len(list(failed.glob("*.seg"))) == 1
    with DuckStoreWriter(db, LAZY) as writer:  # not replayed again
        assert _count(writer.reader()) == 4


def test_a_kept_aside_batch_is_applied_at_the_next_open_once_it_can_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.duckdb"
    real = ingest_mod.insert_group
    monkeypatch.setattr(ingest_mod, "insert_group", disk_full_for_batches_of(3))
    with DuckStoreWriter(db, LAZY) as writer:
        writer.append(_batch(3, 1))
        writer.append(_batch(4, 2))
        assert _count(writer.reader()) == 4
    failed = journal_dir(db) / "failed"
    assert len(list(failed.glob("*.seg"))) == 1
    with DuckStoreWriter(db, LAZY) as writer:  # still failing: kept, with the new reason
        assert _count(writer.reader()) == 4
    assert len(list(failed.glob("*.seg"))) == 1
    assert "no space left" in next(failed.glob("*.reason")).read_text()
    monkeypatch.setattr(ingest_mod, "insert_group", real)  # the disk has room again
    with DuckStoreWriter(db, LAZY) as writer:
        assert _count(writer.reader()) == 7
    assert list(failed.iterdir()) == []
    reader = open_reader(db)
    try:
        assert _count(reader, "SELECT count(*) FROM traces") == 2  # maintained like any commit
    finally:
        reader.close()


def test_a_damaged_kept_aside_record_does_not_stop_the_store_opening(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with DuckStoreWriter(db, LAZY) as writer:
        writer.append(_batch(2, 1))
    failed = journal_dir(db) / "failed"
    failed.mkdir()
    (failed / f"{7:020d}.seg").write_bytes(b"FLJ1 not a record")
    record = Record(8, _batch(1, 2))
    chunks = [bytes(c) for c in journal_mod.encode(record.batch)]
    whole = b"".join(chunks)
    payload = whole[:8] + b"\x01" * 8 + whole[16:]  # the spans stream's header broken; CRC-valid
    header = journal_mod._HEADER.pack(journal_mod._MAGIC, 8, len(payload), zlib.crc32(payload))
    (failed / f"{8:020d}.seg").write_bytes(header + payload)
    with DuckStoreWriter(db, LAZY) as writer:
        assert _count(writer.reader()) == 2
    assert len(list(failed.glob("*.seg"))) == 2  # left for an operator to look at


def test_a_record_that_does_not_decode_is_kept_aside_at_recovery(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j", None)
    j.append([_batch(2, 1)])
    j.close()
    segment = _segments_of(tmp_path / "j")[0]
    data = bytearray(segment.read_bytes())
    start = journal_mod._HEADER.size
    data[start + 8 : start + 16] = b"\x01" * 8  # the spans stream's header broken ...
    _, seq, size, _ = journal_mod._HEADER.unpack_from(data, 0)
    journal_mod._HEADER.pack_into(
        data, 0, journal_mod._MAGIC, seq, size, zlib.crc32(data[start : start + size])
    )
    segment.write_bytes(bytes(data))  # ... and the checksum made to match
    again = Journal(tmp_path / "j", j.id)
    assert list(again.recover(0)) == []
    assert again.append([_batch(1, 2)]) == [2]  # numbering continues past it
    assert [p.name for p in sorted((tmp_path / "j" / "failed").iterdir())] == [
        f"{1:020d}.reason",
        f"{1:020d}.seg",
    ]


def test_the_unapplied_backlog_is_bounded(tmp_path: Path) -> None:
    config = StoreConfig(journal=True, apply_min_items=10**6, apply_max_delay_s=1.0, journal_max_items=10)
    with DuckStoreWriter(tmp_path / "s.duckdb", config) as writer:
        writer.append(_batch(6, 1))
        with pytest.raises(StoreBusy, match="queue full"):
            writer.append(_batch(6, 2))  # 12 > 10 acknowledged but not applied
        assert _count(writer.reader()) == 6  # a read applies them, which frees the bound
        writer.append(_batch(6, 2))
