"""Decoding in worker processes, so that it runs beside the receivers and the store writer instead
of sharing one interpreter lock with them.

A worker parses and decodes the request, then runs ``store.ingest.conform_batch`` on it (pure, and
otherwise a per-span Python pass in the server process), and answers with the batch's tables as
Arrow IPC streams rather than pickled tables: cheaper to write in the worker, and the server reads
them without a copy. ``DecodePool.decode`` rebuilds the ``Decoded``, its batch marked ``conformed``
so the writer takes it as it is. Workers are started with ``spawn`` (forking a process that runs grpc
threads is unsafe) and leave when the server does. A malformed payload raises
``MalformedPayload`` in the caller as it would in-thread; a dead worker raises
``DecodePoolBroken``.
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

from collector import decode
from collector.decode import Format, Signal, parse_and_decode
from collector.errors import CollectorError
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
    when empty), in ``_TABLES`` order, and the ``Decoded``'s rejection fields."""

    tables: tuple[bytes | None, ...]
    rejected: int
    error_message: str | None


def _to_ipc(table: pa.Table) -> bytes | None:
    if table.num_rows == 0:
        return None
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def _decode_in_worker(signal: Signal, body: bytes, fmt: Format) -> _Answer:
    decoded = parse_and_decode(signal, body, fmt)
    batch = conform_batch(decoded.batch)
    return _Answer(
        tables=tuple(_to_ipc(getattr(batch, name)) for name in _TABLES),
        rejected=decoded.rejected,
        error_message=decoded.error_message,
    )


def _from_answer(answer: _Answer) -> decode.Decoded:
    # py_buffer wraps the bytes, and the tables read from it reference them: no copy.
    tables = {
        name: pa.ipc.open_stream(pa.py_buffer(data)).read_all()
        for name, data in zip(_TABLES, answer.tables, strict=True)
        if data is not None
    }
    return decode.Decoded(
        batch=IngestBatch(**tables, conformed=True),
        rejected=answer.rejected,
        error_message=answer.error_message,
    )


class DecodePool:
    def __init__(self, workers: int) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )
        # Start the workers now (imports take a second), not on the first request.
        for f in [self._pool.submit(_decode_in_worker, "traces", b"", "protobuf") for _ in range(workers)]:
            f.result()

    def decode(self, signal: Signal, body: bytes, fmt: Format) -> decode.Decoded:
        """``parse_and_decode`` in a worker; the batch comes back conformed (``conform_batch``)."""
        try:
            answer = self._pool.submit(_decode_in_worker, signal, body, fmt).result()
        except BrokenProcessPool as e:
            raise DecodePoolBroken("a decode worker died; retry the request") from e
        return _from_answer(answer)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
