"""The export path both receivers share: authenticate, parse, decode, store, answer.

``ExportService.export`` returns only after the decoded batch is committed (``StoreWriter.write``),
so a success response means the data is durable. It raises the collector's or the store's exceptions;
``collector.status`` maps them to responses.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from collector import decode
from collector.config import ReceiverConfig
from collector.errors import Unauthenticated
from store.api import StoreWriter

Signal = Literal["traces", "logs", "metrics"]
Format = Literal["protobuf", "json"]
SIGNALS: tuple[Signal, ...] = ("traces", "logs", "metrics")


@dataclass(frozen=True)
class _SignalCodec:
    parse: Callable[[bytes, Format], Any]
    decode: Callable[[Any], decode.Decoded]
    response: Callable[[int, str | None], Message]


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


CODECS: dict[Signal, _SignalCodec] = {
    "traces": _SignalCodec(decode.parse_traces, decode.decode_traces, _traces_response),
    "logs": _SignalCodec(decode.parse_logs, decode.decode_logs, _logs_response),
    "metrics": _SignalCodec(decode.parse_metrics, decode.decode_metrics, _metrics_response),
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
    def __init__(self, writer: StoreWriter, config: ReceiverConfig) -> None:
        self._writer = writer
        self._config = config
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
        codec = CODECS[signal]
        request = codec.parse(body, fmt)
        decoded = codec.decode(request)
        if decoded.batch.item_count:
            self._writer.write(decoded.batch, timeout=self._config.write_timeout_s)
        self.counters.count_items(signal, decoded.batch.item_count, decoded.rejected)
        return codec.response(decoded.rejected, decoded.error_message)
