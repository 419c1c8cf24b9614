"""Decoding in worker processes, so that it runs beside the receivers and the store writer instead
of sharing one interpreter lock with them.

Decoding is pure (bytes in, Arrow tables out) and its result pickles, so a process pool is a drop-in
for calling it in the request's thread. Workers are started with ``spawn`` (forking a process that
runs grpc threads is unsafe). A malformed payload raises ``MalformedPayload`` in the caller as it
would in-thread.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from collector import decode
from collector.decode import Format, Signal, parse_and_decode
from collector.errors import CollectorError


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


class DecodePool:
    def __init__(self, workers: int) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )
        # Start the workers now (imports take a second), not on the first request.
        for f in [self._pool.submit(parse_and_decode, "traces", b"", "protobuf") for _ in range(workers)]:
            f.result()

    def decode(self, signal: Signal, body: bytes, fmt: Format) -> decode.Decoded:
        try:
            return self._pool.submit(parse_and_decode, signal, body, fmt).result()
        except BrokenProcessPool as e:
            raise DecodePoolBroken("a decode worker died; retry the request") from e

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
