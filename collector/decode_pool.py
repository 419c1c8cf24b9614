"""Decoding in worker processes, so that it runs beside the receivers and the store writer instead
of sharing one interpreter lock with them.

A worker parses and decodes the request, then runs ``store.ingest.conform_batch`` on it (pure, and
otherwise a per-span Python pass in the server process), and answers with the batch's tables as
Arrow IPC streams rather than pickled tables: cheaper to write in the worker, and the server reads
them without a copy. Bodies and answers travel through files in shared memory
(``collector.handoff``) where there is a tmpfs, else as bytes through the pool's pipes.
``DecodePool.decode`` rebuilds the ``Decoded``, its batch marked ``conformed`` so the writer takes it
as it is. Workers are started with ``spawn`` (forking a process that runs grpc
threads is unsafe) and leave when the server does. A malformed payload raises
``MalformedPayload`` in the caller as it would in-thread. A worker that dies (the OS killed it)
breaks the whole process pool: the requests it held raise ``DecodePoolBroken`` (retryable), and the
pool is replaced by a fresh one, so the server does not answer "unavailable" for ever after.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, fields

import pyarrow as pa

from collector import decode, handoff
from collector.decode import Format, Signal, parse_and_decode
from collector.errors import CollectorError
from collector.handoff import HandoffDir
from store.api import IngestBatch
from store.ingest import conform_batch

_TABLES = tuple(f.name for f in fields(IngestBatch) if f.name != "conformed")


class DecodePoolBroken(CollectorError):
    """A decode worker died (e.g. killed by the OS); the request may be retried."""


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: leave when the server is gone, also after a kill -9 of it (nothing else
    would tell a worker blocked on its task queue)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


@dataclass(frozen=True)
class _Answer:
    """What a worker sends back: each table of the conformed batch as one Arrow IPC stream (None
    when empty), in ``_TABLES`` order - as bytes, or as (start, end) ranges of the hand-off ``file``
    - and the ``Decoded``'s rejection fields."""

    tables: tuple[bytes | tuple[int, int] | None, ...]
    rejected: int
    error_message: str | None
    file: str | None = None


def _write_stream(sink: pa.NativeFile, table: pa.Table) -> None:
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)


def _to_ipc_buffer(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    _write_stream(sink, table)
    buffer: pa.Buffer = sink.getvalue()
    return buffer


def _to_ipc(table: pa.Table) -> bytes:
    data: bytes = _to_ipc_buffer(table).to_pybytes()
    return data


def _to_file(directory: str, tables: list[pa.Table | None]) -> _Answer | None:
    """The non-empty ``tables`` as IPC streams one after the other in a new hand-off file; None
    when the file system refuses (the caller answers with bytes). Each stream is built in memory
    and written with one call: writing a stream to the file directly costs a system call per
    buffer (three per column), more than the copy."""
    streams = [None if t is None else _to_ipc_buffer(t) for t in tables]
    ranges: list[tuple[int, int] | None] = []
    offset = 0
    for stream in streams:
        if stream is None:
            ranges.append(None)
            continue
        ranges.append((offset, offset + stream.size))
        offset += stream.size
    try:
        path = handoff.write_file(directory, [s for s in streams if s is not None])
    except OSError:
        return None
    return _Answer(tables=tuple(ranges), rejected=0, error_message=None, file=path)


def _decode_in_worker(signal: Signal, body: bytes | str, fmt: Format, directory: str | None) -> _Answer:
    """Decode ``body`` (bytes, or the path of a hand-off file) and answer through ``directory``
    when given (see ``_Answer``)."""
    data: bytes | memoryview = memoryview(handoff.take(body)) if isinstance(body, str) else body
    decoded = parse_and_decode(signal, data, fmt)
    batch = conform_batch(decoded.batch)
    tables = [t if t.num_rows else None for t in (getattr(batch, name) for name in _TABLES)]
    answer = None
    if directory is not None and any(t is not None for t in tables):
        answer = _to_file(directory, tables)
    if answer is None:
        answer = _Answer(
            tables=tuple(None if t is None else _to_ipc(t) for t in tables), rejected=0, error_message=None
        )
    return _Answer(answer.tables, decoded.rejected, decoded.error_message, answer.file)


def _from_answer(answer: _Answer) -> decode.Decoded:
    # The tables reference the bytes or the file's mapping: no copy.
    whole = handoff.take(answer.file) if answer.file is not None else None
    tables = {}
    for name, part in zip(_TABLES, answer.tables, strict=True):
        if part is None:
            continue
        if isinstance(part, bytes):
            source = pa.py_buffer(part)
        else:
            assert whole is not None
            source = whole.slice(part[0], part[1] - part[0])
        tables[name] = pa.ipc.open_stream(source).read_all()
    return decode.Decoded(
        batch=IngestBatch(**tables, conformed=True),
        rejected=answer.rejected,
        error_message=answer.error_message,
    )


class DecodePool:
    def __init__(self, workers: int, shared_memory: bool = True) -> None:
        self._workers = workers
        self._dir = HandoffDir.create() if shared_memory else None
        self._lock = threading.Lock()
        self._closed = False
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )
        # Start the workers now (imports take a second), not on the first request.
        warm = [pool.submit(_decode_in_worker, "traces", b"", "protobuf", None) for _ in range(self._workers)]
        for f in warm:
            f.result()
        return pool

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Swap a broken pool for a fresh one (once, whichever request noticed first)."""
        with self._lock:
            if self._pool is not broken or self._closed:
                return
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()

    @property
    def shared_memory(self) -> bool:
        """Whether payloads travel through shared-memory files (else through the pool's pipes)."""
        return self._dir is not None

    def decode(self, signal: Signal, body: bytes, fmt: Format) -> decode.Decoded:
        """``parse_and_decode`` in a worker; the batch comes back conformed (``conform_batch``)."""
        directory = str(self._dir.path) if self._dir is not None else None
        sent: bytes | str = body
        if directory is not None:
            try:
                sent = handoff.write_file(directory, [body])
            except OSError:
                sent = body  # a full tmpfs: this one goes through the pipe
        pool = self._pool
        try:
            answer = pool.submit(_decode_in_worker, signal, sent, fmt, directory).result()
        except BrokenProcessPool as e:
            self._replace(pool)
            raise DecodePoolBroken("a decode worker died; retry the request") from e
        finally:
            if isinstance(sent, str):
                handoff.discard(sent)  # normally taken (unlinked) by the worker already
        return _from_answer(answer)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._dir is not None:
            self._dir.close()
