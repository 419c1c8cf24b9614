"""Readers: ``StoreReader`` implementations and ``open_reader``, the one way to read a store.

- ``ConnectionReader``: queries a DuckDB database this process has open - the writer's
  (``DuckStoreWriter.reader()``) or a read-only open of the file. Each query gets its own cursor,
  so one reader may be shared by threads.
- ``RemoteReader``: queries the serving process over loopback HTTP (``store.query_server``) and gets
  Arrow back; used when another process owns the file.
"""

from __future__ import annotations

import http.client
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from store.database import open_database
from store.discovery import Endpoint, read_endpoint
from store.errors import QueryError, ReadOnlyViolation, StoreClosed, StoreError, StoreLocked, StoreNotFound
from store.readonly import run_read_query

CursorFactory = Callable[[], duckdb.DuckDBPyConnection]


class ConnectionReader:
    """``StoreReader`` over cursors from ``cursor_factory``. ``on_close`` (if given) runs once
    when the reader is closed, e.g. to close a connection the reader owns."""

    def __init__(self, cursor_factory: CursorFactory, on_close: Callable[[], None] | None = None) -> None:
        self._cursor_factory = cursor_factory
        self._on_close = on_close
        self._closed = False

    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        if self._closed:
            raise StoreClosed("the reader is closed")
        cursor = self._cursor_factory()
        try:
            return run_read_query(cursor, sql, params)
        finally:
            cursor.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._on_close is not None:
                self._on_close()


class RemoteReader:
    """``StoreReader`` talking to a ``QueryServer``: ``POST /query`` with a bearer token; the answer
    is an Arrow IPC stream, or a JSON error mapped back to the same exception class."""

    def __init__(self, endpoint: Endpoint, timeout: float = 60.0) -> None:
        self.endpoint = endpoint
        self.timeout = timeout

    def _post(self, path: str, body: bytes, timeout: float) -> tuple[int, str, bytes]:
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
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type", ""), resp.read()
        except (OSError, http.client.HTTPException) as e:
            raise StoreError(
                f"the faultlens server for {self.endpoint.db} (pid {self.endpoint.pid}) did not answer: {e}"
            ) from e
        finally:
            conn.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        status, ctype, body = self._post(
            "/query", orjson.dumps({"sql": sql, "params": list(params)}), self.timeout
        )
        if status == 200 and ctype.startswith("application/vnd.apache.arrow.stream"):
            return pa.ipc.open_stream(body).read_all()
        raise _remote_error(status, body)

    def ping(self, timeout: float = 2.0) -> bool:
        """True when the server answers with this token for the same store."""
        try:
            status, _, body = self._post("/health", b"{}", timeout)
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
        """Nothing to release: every query is its own HTTP request."""


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
    try:
        con = open_database(path, read_only=True)
    except StoreLocked as e:
        raise StoreLocked(
            f"{path} is held by another process that offers no read path (is it a faultlens ingest "
            f"or an older server?): {e}"
        ) from e
    lock = _CursorLock(con)
    return ConnectionReader(lock.cursor, on_close=lock.close)


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
