"""The collector's exceptions. Receivers map them to OTLP status codes in one place
(``collector.status``); everything else that escapes a handler is a bug, logged and answered as
INTERNAL / 500, never UNKNOWN."""

from __future__ import annotations


class CollectorError(Exception):
    """Base of the collector's exceptions."""


class MalformedPayload(CollectorError):
    """The request body cannot be decoded (bad protobuf, bad JSON, bad gzip, wrong shape).
    Permanent: HTTP 400 / gRPC INVALID_ARGUMENT."""


class PayloadTooLarge(CollectorError):
    """The body is over the size limit, after decompression. HTTP 413 / gRPC RESOURCE_EXHAUSTED."""


class Unauthenticated(CollectorError):
    """A token is configured and the request's is missing or wrong. HTTP 401 / UNAUTHENTICATED."""


class UnsupportedMediaType(CollectorError):
    """Content-Type other than application/x-protobuf or application/json. HTTP 415."""


class ReceiverBusy(CollectorError):
    """Too many requests in flight on this receiver: retry later (HTTP 503 / UNAVAILABLE)."""
