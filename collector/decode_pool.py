"""Decoding in worker processes, so that it runs beside the receivers and the store writer instead
of sharing one interpreter lock with them.

A worker parses and decodes the request, then runs ``store.ingest.conform_batch`` on it (pure, and
otherwise a per-span Python pass in the server process), and answers with the batch encoded as the
ingest journal stores it (``store.journal``: Arrow IPC streams, and their CRC-32) rather than
pickled tables: cheaper to write in the worker, the server reads the tables without a copy, and
the journal writes those bytes as they are. Bodies and answers travel through files in shared memory
(``collector.handoff``) where there is a tmpfs, else as bytes through the pool's pipes.
``DecodePool.decode`` rebuilds the ``Decoded``, its batch marked ``conformed`` so the writer takes it
as it is. Workers are started with ``spawn`` (forking a process that runs grpc
threads is unsafe) and leave when the server does. A malformed payload raises
``MalformedPayload`` in the caller as it would in-thread. A worker that dies (the OS killed it)
breaks the whole process pool: the requests it held raise ``DecodePoolBroken`` (retryable), and the
pool is replaced by a fresh one, so the server does not answer "unavailable" for ever after.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import pyarrow as pa

from collector import decode, handoff
from collector.decode import Format, Signal, parse_and_decode
from collector.errors import CollectorError
from collector.handoff import HandoffDir
from store import journal
from store.ingest import conform_batch


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
    """What a worker sends back: the conformed batch as the ingest journal stores it
    (``store.journal.encode``), in the hand-off ``file`` or as ``payload`` bytes, with its CRC-32,
    and the ``Decoded``'s rejection fields."""

    file: str | None
    payload: bytes | None
    crc: int
    rejected: int
    error_message: str | None


def _decode_in_worker(signal: Signal, body: bytes | str, fmt: Format, directory: str | None) -> _Answer:
    """Decode ``body`` (bytes, or the path of a hand-off file) and answer through ``directory``
    when given (see ``_Answer``). The journal's format serves as the hand-off format: the server
    reads the tables from it, and journals it as it is."""
    data: bytes | memoryview = memoryview(handoff.take(body)) if isinstance(body, str) else body
    decoded = parse_and_decode(signal, data, fmt)
    batch = conform_batch(decoded.batch)
    # Each stream is built in memory and the file written with one call: writing the streams to
    # the file directly costs a system call per buffer (three per column), more than the copy.
    chunks = journal.encode(batch)
    crc = journal.checksum(chunks)
    file = None
    if directory is not None and any(getattr(batch, name).num_rows for name in journal.TABLES):
        with contextlib.suppress(OSError):  # a full tmpfs: this one goes through the pipe
            file = handoff.write_file(directory, chunks)
    payload = None if file is not None else b"".join(chunks)
    return _Answer(file, payload, crc, decoded.rejected, decoded.error_message)


def _from_answer(answer: _Answer) -> decode.Decoded:
    # The tables reference the bytes or the file's mapping: no copy.
    if answer.file is not None:
        payload = handoff.take(answer.file)
    else:
        assert answer.payload is not None
        payload = pa.py_buffer(answer.payload)
    return decode.Decoded(
        batch=journal.decode(payload, answer.crc),
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
