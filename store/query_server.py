"""``QueryServer``: the serving process answers other processes' reads over loopback HTTP.

Why this design: DuckDB lets one process open a file at a time, even read-only, so while
``faultlens serve`` ingests, the dashboard and ``faultlens analyze``/``report`` cannot open the file.
The process that owns the file therefore answers their queries itself, on cursors of the same
database - no copies that go stale, acknowledged spans visible at once. Alternatives weighed: DuckDB's
Quack client-server extension (beta, pins duckdb 1.5.5 while we run 2.0) and periodic snapshot
copies (stale by construction, doubles disk).

Protocol: ``POST /query`` with ``{"sql": str, "params": [...]}`` and ``Authorization: Bearer
<token>``; 200 answers an Arrow IPC stream (``application/vnd.apache.arrow.stream``); 400 answers
``{"error": "QueryError" | "ReadOnlyViolation", "message": ...}``; 401 a wrong token; 503 a closed
store. ``POST /health`` answers ``{"db": <resolved db path>}``. The token is random per start and
published, with host and port, in the discovery file (``store.discovery``). Other layers may add
authenticated JSON routes (``routes=``, e.g. the analysis' ``POST /analyze``) without the store
importing them.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pyarrow as pa

from store.discovery import Endpoint, remove_endpoint, write_endpoint
from store.errors import QueryError, StoreClosed, StoreError
from store.reader import ConnectionReader
from store.writer import DuckStoreWriter

log = logging.getLogger(__name__)

ARROW_STREAM = "application/vnd.apache.arrow.stream"
_MAX_BODY = 1 << 20  # 1 MiB of SQL and parameters is plenty
_RESERVED = frozenset({"/query", "/health"})

#: An extra route: the request body in, (HTTP status, JSON body) out. Runs on the request's thread.
Route = Callable[[bytes], tuple[int, bytes]]


class QueryServer:
    """Serve read-only queries on ``writer``'s database. Starts on construction (``port=0``: an
    ephemeral port, see ``.port``); ``close()`` stops it and removes the discovery file."""

    def __init__(
        self,
        writer: DuckStoreWriter,
        host: str = "127.0.0.1",
        port: int = 0,
        routes: Mapping[str, Route] | None = None,
    ) -> None:
        self.token = secrets.token_urlsafe(32)
        self._reader = writer.reader()
        self._routes: dict[str, Route] = {}
        for path, route in (routes or {}).items():
            self.add_route(path, route)
        db = str(writer.path.resolve())
        self._httpd = ThreadingHTTPServer((host, port), _handler(self._reader, self.token, db, self._routes))
        self._httpd.daemon_threads = True
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self._db_path = writer.path
        self.endpoint = Endpoint(pid=os.getpid(), host=host, port=self.port, token=self.token, db=db)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="faultlens-query-server", daemon=True
        )
        self._thread.start()
        write_endpoint(self._db_path, self.endpoint)

    def add_route(self, path: str, route: Route) -> None:
        """Serve ``POST <path>`` (same bearer token) with ``route``; may be called while running."""
        if path in _RESERVED or not path.startswith("/"):
            raise ValueError(f"query server route {path!r} is reserved or not an absolute path")
        self._routes[path] = route

    def close(self) -> None:
        remove_endpoint(self._db_path, self.endpoint)
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._reader.close()

    def __enter__(self) -> QueryServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _handler(
    reader: ConnectionReader, token: str, db: str, routes: Mapping[str, Route]
) -> type[BaseHTTPRequestHandler]:
    expected = f"Bearer {token}".encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "faultlens-query"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("query server: " + format, *args)

        def _send(self, status: int, ctype: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, kind: str, message: str) -> None:
            self._send(status, "application/json", orjson.dumps({"error": kind, "message": message}))

        def do_POST(self) -> None:
            given = (self.headers.get("Authorization") or "").encode()
            if not hmac.compare_digest(given, expected):
                self._error(401, "Unauthenticated", "missing or wrong bearer token")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > _MAX_BODY:
                self._error(413, "QueryError", f"request body over {_MAX_BODY} bytes")
                return
            body = self.rfile.read(length)
            if self.path == "/health":
                self._send(200, "application/json", orjson.dumps({"db": db}))
            elif self.path == "/query":
                self._query(body)
            elif (route := routes.get(self.path)) is not None:
                self._route(route, body)
            else:
                self._error(404, "NotFound", f"no such endpoint: {self.path}")

        def _route(self, route: Route, body: bytes) -> None:
            try:
                status, answer = route(body)
            except Exception as e:  # a broken extension must not take the query server down
                log.exception("query server route %s failed", self.path)
                self._error(500, type(e).__name__, str(e))
                return
            self._send(status, "application/json", answer)

        def _query(self, body: bytes) -> None:
            try:
                request = orjson.loads(body)
                sql, params = request["sql"], request.get("params", [])
                if not isinstance(sql, str) or not isinstance(params, list):
                    raise TypeError("sql must be a string and params a list")
            except (orjson.JSONDecodeError, KeyError, TypeError) as e:
                self._error(400, "QueryError", f"bad query request: {e}")
                return
            try:
                table = reader.query(sql, params)
            except QueryError as e:  # ReadOnlyViolation included
                self._error(400, type(e).__name__, str(e))
                return
            except StoreClosed as e:
                self._error(503, "StoreClosed", str(e))
                return
            except StoreError as e:
                self._error(500, "StoreError", str(e))
                return
            self._send(200, ARROW_STREAM, _ipc_stream(table))

    return Handler


def _ipc_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as stream:
        stream.write_table(table)
    body: bytes = sink.getvalue().to_pybytes()
    return body
