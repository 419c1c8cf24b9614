"""The export path both receivers share: authenticate, parse, decode, store, answer.

``ExportService.export`` returns only after the decoded batch is durable (``StoreWriter.append``),
so a success response means the data survives a kill -9. It raises the collector's or the store's exceptions;
``collector.status`` maps them to responses.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from collector.config import ReceiverConfig
from collector.decode import Format, Signal, parse_and_decode
from collector.decode_pool import DecodePool
from collector.errors import Unauthenticated
from store.api import StoreWriter

__all__ = ["SIGNALS", "Counters", "ExportService", "Format", "Signal"]

SIGNALS: tuple[Signal, ...] = ("traces", "logs", "metrics")


def _traces_response(rejected: int, message: str | None) -> Message:
    resp = trace_service_pb2.ExportTraceServiceResponse()
    if rejected or message:
        resp.partial_success.rejected_spans = rejected
        resp.partial_success.error_message = message or ""
    return resp


def _logs_response(rejected: int, message: str | None) -> Message:
    resp = logs_service_pb2.ExportLogsServiceResponse()
    if rejected or message:
        resp.partial_success.rejected_log_records = rejected
        resp.partial_success.error_message = message or ""
    return resp


def _metrics_response(rejected: int, message: str | None) -> Message:
    resp = metrics_service_pb2.ExportMetricsServiceResponse()
    if rejected or message:
        resp.partial_success.rejected_data_points = rejected
        resp.partial_success.error_message = message or ""
    return resp


RESPONSES: dict[Signal, Callable[[int, str | None], Message]] = {
    "traces": _traces_response,
    "logs": _logs_response,
    "metrics": _metrics_response,
}


@dataclass
class Counters:
    """What the receivers did since start; read by ``faultlens serve``'s status line and tests."""

    requests: dict[str, int] = field(default_factory=dict)
    accepted: dict[Signal, int] = field(default_factory=lambda: dict.fromkeys(SIGNALS, 0))
    rejected: dict[Signal, int] = field(default_factory=lambda: dict.fromkeys(SIGNALS, 0))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count_request(self, outcome: str) -> None:
        with self._lock:
            self.requests[outcome] = self.requests.get(outcome, 0) + 1

    def count_items(self, signal: Signal, accepted: int, rejected: int) -> None:
        with self._lock:
            self.accepted[signal] += accepted
            self.rejected[signal] += rejected


class ExportService:
    def __init__(self, writer: StoreWriter, config: ReceiverConfig, pool: DecodePool | None = None) -> None:
        self._writer = writer
        self._config = config
        self._pool = pool
        self._token = config.token.encode() if config.token else None
        self.counters = Counters()

    def authenticate(self, authorization: str | None) -> None:
        """Check an ``Authorization`` header / metadata value when a token is configured."""
        if self._token is None:
            return
        presented = b""
        if authorization and authorization[:7].lower() == "bearer ":
            presented = authorization[7:].strip().encode()
        if not hmac.compare_digest(presented, self._token):
            raise Unauthenticated("missing or invalid bearer token")

    def export(self, signal: Signal, body: bytes, fmt: Format) -> Message:
        """Parse, decode and durably store one export request; return the OTLP response message."""
        if self._pool is not None:
            decoded = self._pool.decode(signal, body, fmt)
        else:
            decoded = parse_and_decode(signal, body, fmt)
        if decoded.batch.item_count:
            self._writer.append(decoded.batch, timeout=self._config.write_timeout_s)
        self.counters.count_items(signal, decoded.batch.item_count, decoded.rejected)
        return RESPONSES[signal](decoded.rejected, decoded.error_message)
