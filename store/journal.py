"""The ingest journal: where an acknowledged batch is durable before DuckDB holds it.

Why it exists: every DuckDB commit has a fixed cost of several ms, and a commit of fewer rows than
a row group (2,048) goes through DuckDB's WAL and is written a second time at the checkpoint. A
server answering one 512-span request per commit paid about twice the DuckDB CPU per row that
commits of 2,048 rows or more pay (``bench/ingest.py``, ``store/writer.py``). With the journal, a
request is acknowledged once its conformed batch is appended here and fsync'd; the writer applies
journaled batches to DuckDB in large groups and records, in the same transaction, the sequence
number of the last one applied (``faultlens_meta`` key ``journal_applied_seq``). After a crash
the records past that mark are applied again on open: each exactly once, since the mark commits
with the rows.

Layout (one directory beside the database, ``<db>.journal/``):

- ``ID``: the journal's id, also stored in the database (``journal_id``). A journal whose id the
  database does not know (e.g. the database file was replaced) is moved aside, not replayed.
- ``<first seq, 20 digits>.seg``: segments of records, appended in sequence order. A new segment
  starts past ``SEGMENT_BYTES``; a segment is deleted once every record in it is applied.
- ``failed/``: records the writer could not apply, one per file (``quarantine``), each with a
  ``.reason`` file; the next writable open of the store tries them again (``quarantined``) and
  deletes each one applied. ``kept_aside`` lists them without opening anything
  (``faultlens journal``).
- Record: header ``<4sQQI`` (magic ``FLJ1``, sequence number, payload length, CRC-32 of the
  payload), then the payload: per table of ``TABLES``, its length (``<Q``, 0 for an empty table)
  and an Arrow IPC stream.

A record is acknowledged only after it is fsync'd (and, for a new segment, its directory entry):
a crash mid-append leaves a torn tail of unacknowledged records, which ``recover`` cuts off.

One thread appends (``append``); another may ``release`` concurrently.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import struct
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from isal.isal_zlib import crc32

from store.api import IngestBatch
from store.errors import JournalError

log = logging.getLogger(__name__)

TABLES = ("spans", "span_events", "span_links", "logs", "metrics")
SEGMENT_BYTES = 64 << 20
_MAGIC = b"FLJ1"
_HEADER = struct.Struct("<4sQQI")
_LENGTH = struct.Struct("<Q")
_SUFFIX = ".seg"


@dataclass(frozen=True)
class Record:
    seq: int
    batch: IngestBatch


def encode(batch: IngestBatch) -> list[bytes | pa.Buffer]:
    """The payload chunks of ``batch`` (see the module docstring)."""
    chunks: list[bytes | pa.Buffer] = []
    for name in TABLES:
        table: pa.Table = getattr(batch, name)
        if table.num_rows == 0:
            chunks.append(_LENGTH.pack(0))
            continue
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        data = sink.getvalue()
        chunks.append(_LENGTH.pack(data.size))
        chunks.append(data)
    return chunks


def checksum(chunks: Sequence[bytes | pa.Buffer]) -> int:
    """CRC-32 of the payload made of ``chunks``: what a record header holds. ISA-L's, the same
    checksum as ``zlib.crc32`` with carry-less multiplication: ~15x faster here, where zlib's was
    ~4% of a decode worker's CPU."""
    crc = 0
    for c in chunks:
        crc = crc32(c, crc)
    return crc


def _framed(batch: IngestBatch) -> tuple[list[bytes | pa.Buffer], int, int]:
    """The payload chunks of ``batch``, their length and CRC-32: what a record header needs. A
    batch that comes ``encoded`` (by a decode worker) is not encoded again."""
    if batch.encoded is not None:
        payload, crc = batch.encoded
        return [payload], payload.size, crc
    chunks = encode(batch)
    return chunks, sum(len(c) for c in chunks), checksum(chunks)


def decode(payload: pa.Buffer, crc: int | None = None) -> IngestBatch:
    """The batch ``encode`` wrote (conformed: only conformed batches are journaled); its tables
    read ``payload`` without a copy. Given the payload's ``crc``, the batch carries both as
    ``encoded``, so journaling it writes ``payload`` as it is."""
    tables: dict[str, pa.Table] = {}
    pos = 0
    for name in TABLES:
        (size,) = _LENGTH.unpack_from(payload, pos)
        pos += _LENGTH.size
        if size:
            tables[name] = pa.ipc.open_stream(payload.slice(pos, size)).read_all()
            pos += size
    if pos != payload.size:
        raise ValueError(f"payload has {payload.size - pos} bytes past its tables")
    return IngestBatch(**tables, conformed=True, encoded=None if crc is None else (payload, crc))


def journal_dir(db_path: Path) -> Path:
    """Where the journal of the database at ``db_path`` lives."""
    return db_path.with_name(db_path.name + ".journal")


def holds_records(db_path: Path) -> bool:
    """Whether the journal of ``db_path`` may hold records not applied yet: it has segments, which
    a clean close deletes (so, after a crash, or while a writer has it open)."""
    directory = journal_dir(db_path)
    return directory.is_dir() and any(p.suffix == _SUFFIX for p in directory.iterdir())


def kept_aside_files(db_path: Path) -> list[Path]:
    """The files of the records the journal of ``db_path`` keeps under ``failed/`` (see
    ``quarantine``), oldest first, without reading them."""
    return _kept_files(journal_dir(db_path))


def _kept_files(directory: Path) -> list[Path]:
    failed = directory / "failed"
    return sorted(failed.glob(f"*{_SUFFIX}")) if failed.is_dir() else []


def _read_kept(path: Path) -> tuple[Record | None, str | None]:
    """The one record a file under ``failed/`` holds, or None and why it cannot be read back."""
    try:
        records = read_segment(path)
    except (OSError, ValueError, pa.ArrowException) as e:
        return None, f"cannot be read back: {e}"
    if len(records) != 1:
        return None, "cannot be read back: it holds no single whole record"
    return records[0], None


def holds_kept_aside(db_path: Path) -> bool:
    """Whether the journal of ``db_path`` keeps records under ``failed/``."""
    return bool(kept_aside_files(db_path))


@dataclass(frozen=True)
class KeptAside:
    """What ``kept_aside`` tells of one record under ``failed/``. ``spans``, ``logs`` and
    ``metric_points`` are None when the file cannot be read back (``problem`` says why)."""

    seq: int
    path: Path
    bytes: int
    kept_at_ns: int  # the file's modification time
    reason: str  # why it was kept aside (its ``.reason`` file), "" if that is missing
    spans: int | None
    logs: int | None
    metric_points: int | None
    problem: str | None = None


def kept_aside(db_path: Path) -> list[KeptAside]:
    """The records kept under ``failed/`` beside ``db_path``, oldest first. Reads files only: it
    opens neither the journal nor the database, so it works while a server holds both."""
    out: list[KeptAside] = []
    for path in kept_aside_files(db_path):
        try:
            stat = path.stat()
        except FileNotFoundError:  # applied and deleted meanwhile
            continue
        reason_file = path.with_suffix(".reason")
        try:
            reason = reason_file.read_text(errors="replace").strip()
        except FileNotFoundError:
            reason = ""
        seq = int(path.stem) if path.stem.isdigit() else 0
        counts: tuple[int | None, int | None, int | None] = (None, None, None)
        record, problem = _read_kept(path)
        if record is not None:
            b = record.batch
            seq, counts = record.seq, (b.spans.num_rows, b.logs.num_rows, b.metrics.num_rows)
        out.append(KeptAside(seq, path, stat.st_size, stat.st_mtime_ns, reason, *counts, problem))
    return out


def _records(data: bytes) -> Iterator[tuple[int, int, int, int]]:
    """(sequence number, payload start, payload end, CRC-32) of each whole record at the start of
    ``data``, up to the first that is incomplete or fails its checksum."""
    pos = 0
    while pos + _HEADER.size <= len(data):
        magic, seq, size, crc = _HEADER.unpack_from(data, pos)
        start = pos + _HEADER.size
        if magic != _MAGIC or start + size > len(data):
            return
        if crc32(memoryview(data)[start : start + size]) != crc:
            return
        yield seq, start, start + size, crc
        pos = start + size


def read_segment(path: Path) -> list[Record]:
    """The whole records of one segment file (e.g. one kept under ``failed/``)."""
    data = path.read_bytes()
    return [Record(seq, decode(pa.py_buffer(data[start:end]))) for seq, start, end, _ in _records(data)]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """The journal directory ``directory`` for the database whose ``journal_id`` is ``known_id``
    (None: the database has none yet). Read ``id`` after opening and store it in the database
    before the first append is acknowledged."""

    def __init__(self, directory: Path, known_id: str | None) -> None:
        self.directory = directory
        try:
            self._open(known_id)
        except OSError as e:
            raise JournalError(f"cannot use the ingest journal {directory}: {e.strerror or e}") from e
        self._lock = threading.Lock()  # guards _segments against release() on another thread
        self._file: int | None = None  # the segment being appended to
        self._file_bytes = 0
        self._next_seq = 1
        self._recovered = False  # release() waits for recover() to have read everything

    def _open(self, known_id: str | None) -> None:
        id_file = self.directory / "ID"
        if self.directory.exists():
            found = id_file.read_text().strip() if id_file.exists() else None
            if found != known_id and not any(self._first_seqs()) and not (self.directory / "failed").exists():
                shutil.rmtree(self.directory)  # nothing to keep (e.g. a crash before its first append)
            elif found is None or found != known_id:
                stamp = time.strftime("%Y%m%dT%H%M%S")
                aside = self.directory.with_name(f"{self.directory.name}.stale-{stamp}")
                log.warning(
                    "ingest journal %s does not belong to this database (journal id %s, database knows %s): "
                    "moved aside to %s, not replayed",
                    self.directory,
                    found,
                    known_id,
                    aside,
                )
                self.directory.rename(aside)
        if not self.directory.exists():
            self.directory.mkdir()
            tmp = id_file.with_suffix(".tmp")
            tmp.write_text((known_id or uuid.uuid4().hex) + "\n")
            os.replace(tmp, id_file)
            _fsync_dir(self.directory)
            _fsync_dir(self.directory.parent)
        self.id = id_file.read_text().strip()
        self._segments = sorted(self._first_seqs())

    def _first_seqs(self) -> Iterator[int]:
        for p in self.directory.iterdir():
            if p.suffix == _SUFFIX and p.stem.isdigit():
                yield int(p.stem)

    def _segment(self, first_seq: int) -> Path:
        return self.directory / f"{first_seq:020d}{_SUFFIX}"

    # -- open -------------------------------------------------------------------------------------

    def recover(self, applied_seq: int) -> Iterator[Record]:
        """Yield the records after ``applied_seq`` in order, and cut a torn tail off the last
        segment (a record that is incomplete or fails its checksum ends what is read: nothing
        after it was acknowledged). A whole record whose payload does not decode is kept under
        ``failed/`` instead. Appends continue after the last record read."""
        last = applied_seq
        for i, first in enumerate(list(self._segments)):
            path = self._segment(first)
            data = path.read_bytes()
            pos = 0
            for seq, start, end, crc in _records(data):
                pos = end
                last = max(last, seq)
                if seq > applied_seq:
                    payload = data[start:end]
                    try:
                        batch = decode(pa.py_buffer(payload))
                    except (ValueError, pa.ArrowException) as e:
                        # Its checksum holds, so it was written so (a fault of the writing
                        # process): keep it aside instead of refusing to open the store.
                        kept = self._keep_aside(seq, [payload], len(payload), crc, repr(e))
                        log.error("ingest journal record %d does not decode (%s); kept in %s", seq, e, kept)
                        continue
                    yield Record(seq, batch)
            if pos < len(data):
                if i != len(self._segments) - 1:
                    log.error(
                        "ingest journal segment %s is damaged at byte %d: the rest of it is cut off",
                        path,
                        pos,
                    )
                else:
                    log.warning(
                        "ingest journal %s: cutting off %d bytes of an unfinished append",
                        path,
                        len(data) - pos,
                    )
                with open(path, "r+b") as f:
                    f.truncate(pos)
                    os.fsync(f.fileno())
        self._next_seq = last + 1
        self._recovered = True

    @property
    def last_seq(self) -> int:
        """The sequence number of the last record appended or recovered (0: none)."""
        return self._next_seq - 1

    # -- appending --------------------------------------------------------------------------------

    def append(self, batches: Sequence[IngestBatch]) -> list[int]:
        """Append the conformed ``batches`` as one record each and fsync; return their sequence
        numbers. When this returns they survive a crash of the process or the machine. On an
        error (``OSError``) nothing of them counts: the segment is cut back to where they began."""
        seqs: list[int] = []
        payloads = []
        for batch in batches:
            if not batch.conformed:
                raise ValueError("only conformed batches are journaled")
            payloads.append(_framed(batch))
        fd = self._writable(sum(size for _, size, _ in payloads))
        began = self._file_bytes
        try:
            for chunks, size, crc in payloads:
                seq = self._next_seq + len(seqs)
                _write_all(fd, [_HEADER.pack(_MAGIC, seq, size, crc), *chunks])
                self._file_bytes += _HEADER.size + size
                seqs.append(seq)
            os.fdatasync(fd)
        except OSError:
            self._cut_back(fd, began)
            if self._file is None:
                # The damaged segment keeps its name: the next one must start under another.
                self._next_seq += len(payloads)
            raise
        self._next_seq += len(seqs)
        return seqs

    def _cut_back(self, fd: int, size: int) -> None:
        """Undo a failed append; when even that fails, close the segment so the next append starts
        a new one (recovery then cuts the damaged tail off this one)."""
        try:
            os.ftruncate(fd, size)
            os.fdatasync(fd)
            self._file_bytes = size
        except OSError:
            os.close(fd)
            self._file = None

    def quarantine(self, record: Record, reason: str) -> Path:
        """Keep ``record``, which could not be applied, as a one-record segment under ``failed/``
        (``read_segment`` reads it) with the reason beside it; return its path."""
        chunks, size, crc = _framed(record.batch)
        return self._keep_aside(record.seq, chunks, size, crc, reason)

    def _keep_aside(
        self, seq: int, chunks: Sequence[bytes | pa.Buffer], size: int, crc: int, reason: str
    ) -> Path:
        failed = self.directory / "failed"
        failed.mkdir(exist_ok=True)
        path = failed / f"{seq:020d}{_SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, [_HEADER.pack(_MAGIC, seq, size, crc), *chunks])
            os.fsync(fd)
        finally:
            os.close(fd)
        (failed / f"{seq:020d}.reason").write_text(reason + "\n")
        _fsync_dir(failed)
        return path

    def quarantined(self) -> list[tuple[Path, Record]]:
        """The records kept under ``failed/`` by ``quarantine``, oldest first, each with its file.
        A file that cannot be read, or holds no single whole record, is left alone and logged."""
        kept: list[tuple[Path, Record]] = []
        for path in _kept_files(self.directory):
            record, problem = _read_kept(path)
            if record is None:
                log.warning("%s %s; left as it is", path, problem)
                continue
            kept.append((path, record))
        return kept

    def forget_quarantined(self, path: Path) -> None:
        """Delete a record kept under ``failed/`` (and its reason), once it has been applied."""
        path.unlink(missing_ok=True)
        path.with_suffix(".reason").unlink(missing_ok=True)
        _fsync_dir(path.parent)

    def _writable(self, size: int) -> int:
        if self._file is not None and self._file_bytes and self._file_bytes + size > SEGMENT_BYTES:
            os.fdatasync(self._file)
            os.close(self._file)
            self._file = None
        if self._file is None:
            first = self._next_seq
            path = self._segment(first)
            self._file = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            self._file_bytes = os.fstat(self._file).st_size
            _fsync_dir(self.directory)
            with self._lock:
                if first not in self._segments:
                    self._segments.append(first)
        return self._file

    # -- after applying ---------------------------------------------------------------------------

    def release(self, applied_seq: int) -> None:
        """Delete the segments whose records are all at or before ``applied_seq`` (the segment
        being appended to only once the journal is closed). Nothing before ``recover`` has
        finished: until then the last sequence number is not known."""
        if not self._recovered:
            return
        with self._lock:
            segments = list(self._segments)
            appending = self._file is not None
        for i, first in enumerate(segments):
            last_in = segments[i + 1] - 1 if i + 1 < len(segments) else self._next_seq - 1
            current = i == len(segments) - 1
            if last_in > applied_seq or (current and appending):
                break
            with contextlib.suppress(FileNotFoundError):
                self._segment(first).unlink()
            with self._lock:
                self._segments.remove(first)

    def close(self) -> None:
        if self._file is not None:
            os.fdatasync(self._file)
            os.close(self._file)
            self._file = None


def _write_all(fd: int, chunks: Sequence[bytes | pa.Buffer]) -> None:
    views = [memoryview(c) for c in chunks]
    while views:
        n = os.writev(fd, views)
        while views and n >= len(views[0]):
            n -= len(views[0])
            views.pop(0)
        if n:
            views[0] = views[0][n:]
