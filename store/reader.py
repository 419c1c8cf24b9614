"""Readers: ``StoreReader`` implementations and ``open_reader``, the one way to read a store.

- ``ConnectionReader``: queries a DuckDB database this process has open - the writer's
  (``DuckStoreWriter.reader()``) or a read-only open of the file. Each query gets its own cursor,
  so one reader may be shared by threads.
- ``RemoteReader``: queries the serving process over loopback HTTP (``store.query_server``) and gets
  Arrow back; used when another process owns the file.

Both stream: ``query_batches`` hands out a ``BatchStream`` (``store.api.RecordBatchStream``) of
batches of about ``BATCH_ROWS`` rows, pulled from DuckDB's Arrow stream or read off the HTTP
response as they arrive; ``query`` collects such a stream into one table.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb
import orjson
import pyarrow as pa

from store.config import StoreConfig
from store.database import open_database, translate_errors
from store.discovery import Endpoint, read_endpoint
from store.errors import QueryError, ReadOnlyViolation, StoreClosed, StoreError, StoreLocked, StoreNotFound
from store.journal import holds_records
from store.readonly import start_read

CursorFactory = Callable[[], duckdb.DuckDBPyConnection]

#: Rows per streamed batch (DuckDB's vector size): what a reader, and the query server per query in
#: flight, holds at a time - about 7 MB of 3.5 KB spans.
BATCH_ROWS = 2048

ARROW_STREAM = "application/vnd.apache.arrow.stream"
#: Custom metadata keys of the empty batch a query server sends when the statement fails after its
#: first batch; the server then breaks off the response, so a client unaware of them cannot mistake
#: the cut result for a whole one.
STREAM_ERROR = b"faultlens.error"
STREAM_MESSAGE = b"faultlens.message"


class BatchStream:
    """``store.api.RecordBatchStream`` over ``pull`` (the next batch, None at the end; raises the
    store's errors) and ``release``, which runs exactly once: after the last batch, on an error,
    on ``close()`` or when the stream is garbage-collected. ``first`` is a batch already pulled."""

    def __init__(
        self,
        schema: pa.Schema,
        pull: Callable[[], pa.RecordBatch | None],
        release: Callable[[], None],
        first: pa.RecordBatch | None = None,
    ) -> None:
        self._release: Callable[[], None] | None = release
        self._schema = schema
        self._pull = pull
        self._first = first

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> pa.RecordBatch:
        if self._first is not None:
            batch, self._first = self._first, None
            return batch
        if self._release is None:
            raise StopIteration
        try:
            batch = self._pull()
        except BaseException:
            self.close()
            raise
        if batch is None:
            self.close()
            raise StopIteration
        return batch

    def close(self) -> None:
        release, self._release, self._first = self._release, None, None
        if release is not None:
            release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def read_all(self) -> pa.Table:
        """Every remaining batch as one table (closes the stream)."""
        with self:
            return pa.Table.from_batches(list(self), schema=self._schema)


def _first_line(e: BaseException) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


class ConnectionReader:
    """``StoreReader`` over cursors from ``cursor_factory``. ``on_close`` (if given) runs once
    when the reader is closed, e.g. to close a connection the reader owns."""

    def __init__(self, cursor_factory: CursorFactory, on_close: Callable[[], None] | None = None) -> None:
        self._cursor_factory = cursor_factory
        self._on_close = on_close
        self._closed = False

    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        return self.query_batches(sql, params).read_all()

    def query_batches(self, sql: str, params: Sequence[Any] = ()) -> BatchStream:
        """Checked by ``store.readonly.check_read_only``, then run in a read-only transaction on a
        cursor of its own, which the stream holds until it is released."""
        if self._closed:
            raise StoreClosed("the reader is closed")
        cursor = self._cursor_factory()
        results: list[pa.RecordBatchReader] = []

        def release() -> None:
            for result in results:
                result.close()
            with contextlib.suppress(duckdb.Error):
                cursor.execute("ROLLBACK")
            with contextlib.suppress(duckdb.Error):
                cursor.close()

        try:
            result = start_read(cursor, sql, params, BATCH_ROWS)
            if result is None:
                release()
                return BatchStream(pa.schema([]), lambda: None, lambda: None)
            results.append(result)
            schema, pull = results[0].schema, functools.partial(_next_local_batch, results[0])
            first = pull()
        except BaseException:
            release()
            raise
        if first is None:  # an empty result: nothing left to hold the cursor for
            release()
            return BatchStream(schema, lambda: None, lambda: None)
        return BatchStream(schema, pull, release, first)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._on_close is not None:
                self._on_close()


def _next_local_batch(result: pa.RecordBatchReader) -> pa.RecordBatch | None:
    try:
        with translate_errors("query failed", query=True):
            return result.read_next_batch()
    except StopIteration:
        return None
    except (OSError, pa.ArrowException) as e:  # DuckDB reports failures mid-stream as Arrow errors
        raise QueryError(f"query failed: {_first_line(e)}") from e


class RemoteReader:
    """``StoreReader`` talking to a ``QueryServer``: ``POST /query`` with a bearer token; the answer
    is an Arrow IPC stream, read batch by batch off the response, or a JSON error mapped back to
    the same exception class. Each query is one HTTP connection, closed with its stream."""

    def __init__(self, endpoint: Endpoint, timeout: float = 60.0) -> None:
        self.endpoint = endpoint
        self.timeout = timeout

    def _unreachable(self, e: BaseException) -> StoreError:
        return StoreError(
            f"the faultlens server for {self.endpoint.db} (pid {self.endpoint.pid}) did not answer: {e}"
        )

    def _request(
        self, path: str, body: bytes, timeout: float
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        conn = http.client.HTTPConnection(self.endpoint.host, self.endpoint.port, timeout=timeout)
        try:
            conn.request(
                "POST",
                path,
                body=body,
                headers={
                    "Authorization": f"Bearer {self.endpoint.token}",
                    "Content-Type": "application/json",
                },
            )
            return conn, conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise self._unreachable(e) from e

    def _post(self, path: str, body: bytes, timeout: float) -> tuple[int, bytes]:
        conn, resp = self._request(path, body, timeout)
        try:
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException) as e:
            raise self._unreachable(e) from e
        finally:
            conn.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        return self.query_batches(sql, params).read_all()

    def query_batches(self, sql: str, params: Sequence[Any] = ()) -> BatchStream:
        """The server answers only once the statement produced its first batch (or failed), so
        errors up to there raise here; the stream reads the rest off the open response."""
        body = orjson.dumps({"sql": sql, "params": list(params)})
        conn, resp = self._request("/query", body, self.timeout)
        try:
            if resp.status != 200 or not resp.getheader("Content-Type", "").startswith(ARROW_STREAM):
                raise _remote_error(resp.status, resp.read())
            result = pa.ipc.open_stream(resp)
        except (OSError, http.client.HTTPException, pa.ArrowException) as e:
            conn.close()
            raise self._unreachable(e) from e
        except BaseException:
            conn.close()
            raise
        return BatchStream(result.schema, functools.partial(self._next_batch, result, resp), conn.close)

    def _next_batch(
        self, result: pa.RecordBatchStreamReader, resp: http.client.HTTPResponse
    ) -> pa.RecordBatch | None:
        try:
            try:
                batch, metadata = result.read_next_batch_with_custom_metadata()
            except StopIteration:
                # Read the body to its final chunk: it proves the body whole (IncompleteRead if
                # not), and closing with nothing unread spares the server a connection reset.
                resp.read()
                return None
        except (OSError, http.client.HTTPException, pa.ArrowException) as e:
            raise StoreError(
                f"the faultlens server for {self.endpoint.db} (pid {self.endpoint.pid}) broke off "
                f"the result: {e}"
            ) from e
        if metadata is not None and STREAM_ERROR in metadata:
            kind, message = metadata[STREAM_ERROR].decode(), metadata.get(STREAM_MESSAGE, b"").decode()
            raise _REMOTE_ERRORS.get(kind, StoreError)(message)
        return batch

    def ping(self, timeout: float = 2.0) -> bool:
        """True when the server answers with this token for the same store."""
        try:
            status, body = self._post("/health", b"{}", timeout)
        except StoreError:
            return False
        if status != 200:
            return False
        try:
            db = str(orjson.loads(body).get("db", ""))
        except (orjson.JSONDecodeError, AttributeError):
            return False
        return db == self.endpoint.db

    def close(self) -> None:
        """Nothing to release: every query is its own HTTP request, closed with its stream."""


_REMOTE_ERRORS: dict[str, type[StoreError]] = {
    "ReadOnlyViolation": ReadOnlyViolation,
    "QueryError": QueryError,
    "StoreClosed": StoreClosed,
}


def _remote_error(status: int, body: bytes) -> StoreError:
    try:
        data = orjson.loads(body)
        kind, message = str(data["error"]), str(data["message"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return StoreError(f"query server answered HTTP {status}")
    return _REMOTE_ERRORS.get(kind, StoreError)(message)


def open_reader(db_path: str | os.PathLike[str]) -> ConnectionReader | RemoteReader:
    """A reader on the store at ``db_path``, wherever it lives.

    If a serving process announced itself in ``<db path>.serve.json`` and answers, read through
    it (it sees every acknowledged write). Otherwise open the file read-only. Raises
    ``StoreError("no store at PATH")`` when there is no file, ``StoreLocked`` when another
    process holds the file without offering a read path, ``SchemaError`` for a file of another
    schema version."""
    path = Path(db_path)
    endpoint = read_endpoint(path)
    if endpoint is not None:
        remote = RemoteReader(endpoint)
        if remote.ping():
            return remote
    if not path.exists():
        raise StoreNotFound(f"no store at {path}")
    if holds_records(path):
        _apply_journal(path)
    try:
        con = open_database(path, read_only=True)
    except StoreLocked as e:
        raise StoreLocked(
            f"{path} is held by another process that offers no read path (is it a faultlens ingest "
            f"or an older server?): {e}"
        ) from e
    lock = _CursorLock(con)
    return ConnectionReader(lock.cursor, on_close=lock.close)


def _apply_journal(path: Path) -> None:
    """Apply what a stopped server acknowledged into its journal but had not applied (a
    read-only open would not see it): open the file for writing once, which replays the
    journal. When another process holds the file, the read-only open that follows says so."""
    from store.writer import DuckStoreWriter  # here: store.writer imports this module

    with contextlib.suppress(StoreLocked):
        DuckStoreWriter(path, StoreConfig(journal=True)).close()


class _CursorLock:
    """Serializes cursor creation on a connection the reader owns (cursor() is not thread-safe)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._lock = threading.Lock()
        self._closed = False

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._closed:
                raise StoreClosed("the reader is closed")
            return self._con.cursor()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._con.close()
