"""Errors → OTLP responses, in one place for both receivers.

OTLP (opentelemetry-proto ``docs/specification.md``): malformed data is permanent (HTTP 400, gRPC
INVALID_ARGUMENT); oversize is RESOURCE_EXHAUSTED / 413 *without* RetryInfo (so clients do not retry);
overload is retryable (HTTP 503 + ``Retry-After``, gRPC UNAVAILABLE + RetryInfo). Anything unexpected
is INTERNAL / 500 — never grpc's default UNKNOWN.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import grpc

from collector.decode_pool import DecodePoolBroken
from collector.errors import (
    MalformedPayload,
    PayloadTooLarge,
    ReceiverBusy,
    Unauthenticated,
    UnsupportedMediaType,
)
from store.errors import StoreBusy, StoreClosed, StoreError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorResponse:
    grpc_code: grpc.StatusCode
    http_status: int
    message: str
    retry_after: float | None = None  # seconds; set only for retryable errors

    @property
    def retry_after_header(self) -> str | None:
        return None if self.retry_after is None else str(max(1, math.ceil(self.retry_after)))


def error_response(exc: BaseException) -> ErrorResponse:
    """Map any exception raised while handling an export to the response the client gets."""
    if isinstance(exc, Unauthenticated):
        return ErrorResponse(grpc.StatusCode.UNAUTHENTICATED, 401, str(exc) or "missing or invalid token")
    if isinstance(exc, MalformedPayload):
        return ErrorResponse(grpc.StatusCode.INVALID_ARGUMENT, 400, str(exc))
    if isinstance(exc, PayloadTooLarge):
        return ErrorResponse(grpc.StatusCode.RESOURCE_EXHAUSTED, 413, str(exc))
    if isinstance(exc, UnsupportedMediaType):
        return ErrorResponse(grpc.StatusCode.INVALID_ARGUMENT, 415, str(exc))
    if isinstance(exc, DecodePoolBroken | ReceiverBusy):
        return ErrorResponse(grpc.StatusCode.UNAVAILABLE, 503, str(exc), retry_after=1.0)
    if isinstance(exc, StoreBusy):
        return ErrorResponse(grpc.StatusCode.UNAVAILABLE, 503, str(exc), retry_after=exc.retry_after)
    if isinstance(exc, StoreClosed):
        return ErrorResponse(grpc.StatusCode.UNAVAILABLE, 503, "server is shutting down", retry_after=5.0)
    if isinstance(exc, StoreError):
        # A failed commit: nothing was stored; the client may retry the same request.
        return ErrorResponse(grpc.StatusCode.UNAVAILABLE, 503, f"store error: {exc}", retry_after=1.0)
    log.exception("unexpected error while handling an export", exc_info=exc)
    return ErrorResponse(grpc.StatusCode.INTERNAL, 500, "internal error")
