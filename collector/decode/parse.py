"""Request bodies (OTLP protobuf or OTLP/JSON) to the protobuf request messages.

OTLP/JSON differs from the proto3 JSON mapping in one way that matters: trace and span ids are hex
(any case), not base64. They are rewritten to base64 before ``json_format.ParseDict`` (ids already
in base64, as generic proto3 JSON writers send them, are accepted as they are), which then
handles the rest (lowerCamelCase or original field names, int64 as strings or numbers, enums as
ints or names, unknown fields ignored). Every failure becomes ``MalformedPayload`` with a one-line
reason; nothing else escapes, whatever the bytes. Trace and logs requests in the common OTLP/JSON form take
a faster builder first (``collector.decode.otlp_json``) that accepts exactly the same documents.
"""

from __future__ import annotations

import base64
from typing import Any, Literal, TypeVar

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from collector.decode import otlp_json
from collector.errors import MalformedPayload

Format = Literal["protobuf", "json"]
_M = TypeVar("_M", bound=Message)

# JSON keys holding ids, in both spellings ParseDict accepts.
_ID_KEYS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


def _hex_to_b64(value: Any, where: str) -> Any:
    if not isinstance(value, str):
        return value  # ParseDict reports the wrong type
    if value == "":
        return value
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        # Generic proto3 JSON writers (MessageToJson) emit base64; a 16- or 8-byte id in base64 is
        # 24 or 12 characters, never a valid hex id, so accepting it is unambiguous.
        if len(value) in (12, 24):
            try:
                if len(base64.b64decode(value, validate=True)) in (8, 16):
                    return value
            except ValueError:
                pass
        raise MalformedPayload(f"{where}: id {value[:40]!r} is not hex") from None
    return base64.b64encode(raw).decode("ascii")


def _fix_ids(obj: dict[str, Any], where: str) -> None:
    for key in _ID_KEYS:
        if key in obj:
            obj[key] = _hex_to_b64(obj[key], where)


def _items(obj: Any, *keys: str) -> list[Any]:
    """The list under the first of ``keys`` present in ``obj``; [] when absent or not a list
    (ParseDict then reports a wrong type itself)."""
    if not isinstance(obj, dict):
        return []
    for key in keys:
        value = obj.get(key)
        if isinstance(value, list):
            return value
    return []


def _fix_trace_ids(doc: dict[str, Any]) -> None:
    for rs in _items(doc, "resourceSpans", "resource_spans"):
        for ss in _items(rs, "scopeSpans", "scope_spans"):
            for span in _items(ss, "spans"):
                if not isinstance(span, dict):
                    continue
                _fix_ids(span, "span")
                for link in _items(span, "links"):
                    if isinstance(link, dict):
                        _fix_ids(link, "span link")


def _fix_log_ids(doc: dict[str, Any]) -> None:
    for rl in _items(doc, "resourceLogs", "resource_logs"):
        for sl in _items(rl, "scopeLogs", "scope_logs"):
            for rec in _items(sl, "logRecords", "log_records"):
                if isinstance(rec, dict):
                    _fix_ids(rec, "log record")


def _fix_metric_ids(doc: dict[str, Any]) -> None:
    # Exemplars carry ids too; they are the only place in metrics.
    for rm in _items(doc, "resourceMetrics", "resource_metrics"):
        for sm in _items(rm, "scopeMetrics", "scope_metrics"):
            for metric in _items(sm, "metrics"):
                if not isinstance(metric, dict):
                    continue
                for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "summary"):
                    for point in _items(metric.get(kind), "dataPoints", "data_points"):
                        for ex in _items(point, "exemplars"):
                            if isinstance(ex, dict):
                                _fix_ids(ex, "exemplar")


def _parse(body: bytes, fmt: Format, message: _M, fix: Any, what: str, fast: Any = None) -> _M:
    if fmt == "protobuf":
        try:
            message.ParseFromString(body)
        except (DecodeError, RecursionError, ValueError) as e:
            raise MalformedPayload(f"invalid protobuf {what}: {_one_line(e)}") from e
        return message
    if fmt != "json":
        raise MalformedPayload(f"unsupported format {fmt!r}")
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise MalformedPayload(f"invalid JSON: {_one_line(e)}") from e
    if not isinstance(doc, dict):
        raise MalformedPayload(f"OTLP/JSON {what} must be a JSON object, got {type(doc).__name__}")
    if fast is not None:
        try:
            built: _M = fast(doc)
            return built
        except (otlp_json.Unusual, ValueError, TypeError, RecursionError):
            pass  # not the common form: ParseDict decides, with its precise error messages
    try:
        fix(doc)
        json_format.ParseDict(doc, message, ignore_unknown_fields=True)
    except MalformedPayload:
        raise
    except (json_format.ParseError, RecursionError, ValueError, TypeError, AttributeError) as e:
        raise MalformedPayload(f"invalid OTLP/JSON {what}: {_one_line(e)}") from e
    return message


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:200]


def parse_traces(body: bytes, fmt: Format) -> ExportTraceServiceRequest:
    """Parse an ``ExportTraceServiceRequest``; ``MalformedPayload`` on any failure."""
    return _parse(
        body, fmt, ExportTraceServiceRequest(), _fix_trace_ids, "trace request", otlp_json.trace_request
    )


def parse_logs(body: bytes, fmt: Format) -> ExportLogsServiceRequest:
    """Parse an ``ExportLogsServiceRequest``; ``MalformedPayload`` on any failure."""
    return _parse(body, fmt, ExportLogsServiceRequest(), _fix_log_ids, "logs request", otlp_json.logs_request)


def parse_metrics(body: bytes, fmt: Format) -> ExportMetricsServiceRequest:
    """Parse an ``ExportMetricsServiceRequest``; ``MalformedPayload`` on any failure."""
    return _parse(body, fmt, ExportMetricsServiceRequest(), _fix_metric_ids, "metrics request")
