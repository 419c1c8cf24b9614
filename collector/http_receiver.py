"""OTLP/HTTP receiver: ``POST /v1/traces``, ``/v1/logs``, ``/v1/metrics``.

``application/x-protobuf`` and ``application/json`` on the same port, answered in the request's
content type; ``Content-Encoding: gzip``; errors as a ``google.rpc.Status`` body (OTLP/HTTP spec).
A threading server: each request's thread waits for its commit, so in-flight requests are bounded by
the store's queue, not by this server.
"""

from __future__ import annotations

import logging
import ssl
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import status_pb2

from collector.body import decompress, read_raw
from collector.config import ReceiverConfig
from collector.errors import ReceiverBusy, UnsupportedMediaType
from collector.service import ExportService, Format, Signal
from collector.status import error_response

log = logging.getLogger(__name__)

_PATHS: dict[str, Signal] = {"/v1/traces": "traces", "/v1/logs": "logs", "/v1/metrics": "metrics"}
_CONTENT_TYPES: dict[str, Format] = {"application/x-protobuf": "protobuf", "application/json": "json"}


def _encode(message: Message, fmt: Format) -> bytes:
    if fmt == "json":
        text: str = json_format.MessageToJson(message, indent=None)
        return text.encode()
    data: bytes = message.SerializeToString()
    return data


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for exporters that reuse connections
    timeout = 60  # seconds a connection may sit idle or mid-body before it is dropped (slow clients)
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http %s " + format, self.address_string(), *args)

    def do_POST(self) -> None:
        signal = _PATHS.get(self.path.split("?", 1)[0])
        if signal is None:
            self._send_status(HTTPStatus.NOT_FOUND, "json", f"unknown path {self.path[:100]}", close=True)
            return
        fmt: Format = "protobuf"
        body_read = False
        admitted = self.server.inflight.acquire(blocking=False)
        try:
            if not admitted:
                raise ReceiverBusy("too many requests in flight")
            fmt = self._request_format()
            self.server.service.authenticate(self.headers.get("Authorization"))
            limit = self.server.config.max_body_bytes
            raw = read_raw(
                self.rfile,  # type: ignore[arg-type]  # a buffered socket file: read/readline
                self.headers.get("Content-Length"),
                "chunked" in (self.headers.get("Transfer-Encoding") or "").lower(),
                limit,
            )
            body_read = True
            body = decompress(raw, self.headers.get("Content-Encoding"), limit)
            response = self.server.service.export(signal, body, fmt)
        except Exception as exc:  # one place maps every error to its response
            err = error_response(exc)
            # After an unread or partly read body the connection cannot be reused safely.
            close = not body_read
            self.server.service.counters.count_request(str(err.http_status))
            self._send_status(
                err.http_status, fmt, err.message, retry_after=err.retry_after_header, close=close
            )
            return
        finally:
            if admitted:
                self.server.inflight.release()
        self.server.service.counters.count_request("200")
        self._send(HTTPStatus.OK, fmt, _encode(response, fmt))

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._send(HTTPStatus.OK, "json", b'{"status":"ok"}')
            return
        self._send_status(HTTPStatus.METHOD_NOT_ALLOWED, "json", "use POST", close=True)

    def _request_format(self) -> Format:
        ctype = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        fmt = _CONTENT_TYPES.get(ctype)
        if fmt is None:
            raise UnsupportedMediaType(
                f"unsupported Content-Type {ctype[:60]!r}: use application/x-protobuf or application/json"
            )
        return fmt

    def _send_status(
        self, status: int, fmt: Format, message: str, retry_after: str | None = None, close: bool = False
    ) -> None:
        code = {400: 3, 401: 16, 404: 5, 405: 12, 413: 8, 415: 3, 429: 8, 503: 14}.get(status, 13)
        body = _encode(status_pb2.Status(code=code, message=message), fmt)
        headers = {"Retry-After": retry_after} if retry_after else {}
        self._send(status, fmt, body, headers, close)

    def _send(
        self,
        status: int,
        fmt: Format,
        body: bytes,
        headers: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if fmt == "json" else "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # listen backlog: bursts of new exporter connections

    def __init__(self, config: ReceiverConfig, service: ExportService) -> None:
        self.config = config
        self.service = service
        self.inflight = threading.BoundedSemaphore(config.max_http_inflight)
        try:
            super().__init__((config.host, config.http_port), _Handler)
        except OSError as e:
            raise OSError(
                f"cannot bind the OTLP/HTTP receiver to {config.host}:{config.http_port}: {e.strerror or e}"
            ) from e
        if config.tls_cert is not None and config.tls_key is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(config.tls_cert), str(config.tls_key))
            # Handshake in the request's thread (on first read), not in the accept loop, so one slow
            # or plaintext client cannot stall the listener.
            self.socket = ctx.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s failed", client_address, exc_info=True)


class HttpReceiver:
    """Runs the OTLP/HTTP receiver on a background thread; ``port`` is the bound port."""

    def __init__(self, config: ReceiverConfig, service: ExportService) -> None:
        self._server = _Server(config, service)
        self._thread = threading.Thread(target=self._server.serve_forever, name="otlp-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
