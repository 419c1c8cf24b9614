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

Streaming: a query runs (``ConnectionReader.query_batches``) up to its first batch before the
status line is sent, so refusals and planning errors still answer 400. The 200 body is then written
batch by batch as DuckDB produces them, each IPC message group as one HTTP/1.1 chunk, so the
serving process holds about one batch (``store.reader.BATCH_ROWS`` rows) per query in flight,
whatever the result size. Chunked transfer encoding rather than a body ended by closing the
connection: the final zero-length chunk tells a whole body from one cut short (a crash or a cut
connection raises ``IncompleteRead`` in the client instead of passing for a shorter result, which
Arrow's stream reader would accept at a message boundary), and the connection stays reusable.
If the statement fails after the first batch, the status can no longer change: the server sends an
empty batch carrying ``store.reader.STREAM_ERROR``/``STREAM_MESSAGE`` custom metadata (the error
kind and message, which ``RemoteReader`` raises) and closes the connection without the final chunk.
A client that disconnects makes the next write fail; one that stops reading is dropped after
``stall_timeout`` seconds without progress. Either way the cursor and its read transaction are
released and the thread ends.
"""

from __future__ import annotations

import hmac
import io
import logging
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from store.discovery import Endpoint, remove_endpoint, write_endpoint
from store.errors import QueryError, StoreClosed, StoreError
from store.reader import ARROW_STREAM, STREAM_ERROR, STREAM_MESSAGE, BatchStream, ConnectionReader
from store.writer import DuckStoreWriter

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

log = logging.getLogger(__name__)
_MAX_BODY = 1 << 20  # 1 MiB of SQL and parameters is plenty
_RESERVED = frozenset({"/query", "/health"})

#: An extra route: the request body in, (HTTP status, JSON body) out. Runs on the request's thread.
Route = Callable[[bytes], tuple[int, bytes]]


class QueryServer:
    """Serve read-only queries on ``writer``'s database. Starts on construction (``port=0``: an
    ephemeral port, see ``.port``); ``close()`` stops it and removes the discovery file.
    ``stall_timeout``: seconds a connection may make no progress (a request not sent, a result not
    read) before it is dropped."""

    def __init__(
        self,
        writer: DuckStoreWriter,
        host: str = "127.0.0.1",
        port: int = 0,
        routes: Mapping[str, Route] | None = None,
        stall_timeout: float = 120.0,
    ) -> None:
        self.token = secrets.token_urlsafe(32)
        self._reader = writer.reader()
        self._routes: dict[str, Route] = {}
        for path, route in (routes or {}).items():
            self.add_route(path, route)
        db = str(writer.path.resolve())
        handler = _handler(self._reader, self.token, db, self._routes, stall_timeout)
        self._httpd = ThreadingHTTPServer((host, port), handler)
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
    reader: ConnectionReader, token: str, db: str, routes: Mapping[str, Route], stall_timeout: float
) -> type[BaseHTTPRequestHandler]:
    expected = f"Bearer {token}".encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "faultlens-query"
        timeout = stall_timeout  # on the socket: bounds every read and write of the connection

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("query server: " + format, *args)

        def handle(self) -> None:
            try:
                super().handle()
            except ConnectionError as e:  # the client closed with our answer unread: nothing to do
                log.debug("query server: connection dropped: %s", e)

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
                stream = reader.query_batches(sql, params)
            except QueryError as e:  # ReadOnlyViolation included
                self._error(400, type(e).__name__, str(e))
                return
            except StoreClosed as e:
                self._error(503, "StoreClosed", str(e))
                return
            except StoreError as e:
                self._error(500, "StoreError", str(e))
                return
            with stream:
                self._stream(stream)

        def _stream(self, stream: BatchStream) -> None:
            body = _ChunkedBody(self.wfile)
            writer = pa.ipc.new_stream(body, stream.schema)
            try:
                self.send_response(200)
                self.send_header("Content-Type", ARROW_STREAM)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for batch in stream:
                        writer.write_batch(batch)
                        body.send()
                    writer.close()
                    body.finish()
                except StoreError as e:  # the statement failed after its first batch
                    self.close_connection = True  # no final chunk: the body reads as cut short
                    log.info("query failed mid-stream: %s", e)
                    error = {STREAM_ERROR: type(e).__name__.encode(), STREAM_MESSAGE: str(e).encode()}
                    empty = pa.RecordBatch.from_pylist([], schema=stream.schema)
                    writer.write_batch(empty, custom_metadata=error)
                    body.send()
            except OSError as e:  # the client went away or stopped reading (stall_timeout)
                self.close_connection = True
                log.debug("query server: client left mid-stream: %s", e)

    return Handler


class _ChunkedBody(io.RawIOBase):
    """The sink of the IPC writer: collects what it writes for one batch, then ``send()`` puts
    that on the socket as one HTTP/1.1 chunk (one chunk per batch, not one per Arrow buffer)."""

    def __init__(self, wfile: io.BufferedIOBase) -> None:
        super().__init__()
        self._wfile = wfile
        self._pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer, /) -> int:
        view = memoryview(data)
        self._pending += view
        return view.nbytes

    def send(self) -> None:
        if self._pending:
            self._wfile.write(b"%X\r\n" % len(self._pending))
            self._wfile.write(self._pending)
            self._wfile.write(b"\r\n")
            self._pending.clear()

    def finish(self) -> None:
        """Send what is pending, then the final (empty) chunk."""
        self.send()
        self._wfile.write(b"0\r\n\r\n")
