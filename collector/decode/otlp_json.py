"""A fast builder for OTLP/JSON trace and logs requests in their common form.

``json_format.ParseDict`` walks every field in Python and runs at a few thousand spans/s. OTLP
exporters all write one shape: lowerCamelCase keys, hex ids, int64 as strings or numbers, enums as
ints (or names). ``trace_request`` / ``logs_request`` build the protobuf message straight from that
shape, filling fields in place. Anything outside it (snake_case or unknown keys, odd types, non-hex
ids, deep nesting) raises ``Unusual`` and the caller falls back to ``ParseDict``, which either
accepts it or reports the exact problem: the fast path never changes what is accepted, only how fast.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span


class Unusual(Exception):
    """The document is not in the common form; parse it with ParseDict instead."""


_MAX_DEPTH = 32  # AnyValue nesting the fast path follows; deeper documents take the slow path
_U64 = 2**64
_I64 = 2**63
_DOUBLE_WORDS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}

_TRACE_REQUEST_KEYS = frozenset(["resourceSpans"])
_LOGS_REQUEST_KEYS = frozenset(["resourceLogs"])
_RESOURCE_LOGS_KEYS = frozenset(["resource", "scopeLogs", "schemaUrl"])
_SCOPE_LOGS_KEYS = frozenset(["scope", "logRecords", "schemaUrl"])
_LOG_RECORD_KEYS = frozenset(
    [
        "timeUnixNano", "observedTimeUnixNano", "severityNumber", "severityText", "body", "attributes",
        "droppedAttributesCount", "flags", "traceId", "spanId", "eventName",
    ]
)  # fmt: skip
_RESOURCE_SPANS_KEYS = frozenset(["resource", "scopeSpans", "schemaUrl"])
_RESOURCE_KEYS = frozenset(["attributes", "droppedAttributesCount"])
_SCOPE_SPANS_KEYS = frozenset(["scope", "spans", "schemaUrl"])
_SCOPE_KEYS = frozenset(["name", "version", "attributes", "droppedAttributesCount"])
_SPAN_KEYS = frozenset(
    [
        "traceId", "spanId", "traceState", "parentSpanId", "flags", "name", "kind", "startTimeUnixNano",
        "endTimeUnixNano", "attributes", "droppedAttributesCount", "events", "droppedEventsCount", "links",
        "droppedLinksCount", "status",
    ]
)  # fmt: skip
_EVENT_KEYS = frozenset(["timeUnixNano", "name", "attributes", "droppedAttributesCount"])
_LINK_KEYS = frozenset(["traceId", "spanId", "traceState", "attributes", "droppedAttributesCount", "flags"])
_STATUS_KEYS = frozenset(["message", "code"])
_KV_KEYS = frozenset(["key", "value"])


def _obj(value: Any, keys: frozenset[str]) -> dict[str, Any]:
    if type(value) is not dict or not keys.issuperset(value):
        raise Unusual
    return value


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if type(value) is not list:
        raise Unusual
    return value


def _str(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is not str:
        raise Unusual
    return value


def _uint(value: Any, limit: int = _U64) -> int:
    if value is None:
        return 0
    if type(value) is str and value.isdigit():
        value = int(value)
    if type(value) is not int or not 0 <= value < limit:
        raise Unusual
    return value


def _enum(value: Any) -> Any:
    """An enum as its number or its name (constructors accept both; an unknown name raises
    ValueError, which takes the slow path). Typed Any for the constructors."""
    return value if type(value) is str else _uint(value, 2**31)


def _int64(value: Any) -> int:
    if type(value) is str and value.lstrip("-").isdigit():
        value = int(value)
    if type(value) is not int or not -_I64 <= value < _I64:
        raise Unusual
    return value


def _id(value: Any) -> bytes:
    if value is None or value == "":
        return b""
    if type(value) is not str:
        raise Unusual
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise Unusual from None


def fill_any_value(target: AnyValue, v: Any, depth: int = 0) -> None:
    """Set ``target`` from an OTLP/JSON AnyValue object."""
    if type(v) is not dict or depth > _MAX_DEPTH:
        raise Unusual
    if not v:
        target.SetInParent()
        return
    if len(v) != 1:
        raise Unusual
    ((kind, x),) = v.items()
    if kind == "stringValue" and type(x) is str:
        target.string_value = x
    elif kind == "intValue":
        target.int_value = _int64(x)
    elif kind == "boolValue" and type(x) is bool:
        target.bool_value = x
    elif kind == "doubleValue" and (type(x) is float or type(x) is int):
        target.double_value = x
    elif kind == "doubleValue" and type(x) is str and x in _DOUBLE_WORDS:
        target.double_value = _DOUBLE_WORDS[x]
    elif kind == "arrayValue" and type(x) is dict and set(x) <= {"values"}:
        target.array_value.SetInParent()
        values = target.array_value.values
        for item in _list(x.get("values")):
            fill_any_value(values.add(), item, depth + 1)
    elif kind == "kvlistValue" and type(x) is dict and set(x) <= {"values"}:
        target.kvlist_value.SetInParent()
        fill_key_values(target.kvlist_value.values, x.get("values"), depth + 1)
    elif kind == "bytesValue" and type(x) is str:
        try:
            target.bytes_value = base64.b64decode(x, validate=True)
        except binascii.Error:
            raise Unusual from None
    else:
        raise Unusual


def fill_key_values(container: Any, items: Any, depth: int = 0) -> None:
    """Append OTLP/JSON KeyValue objects to a repeated KeyValue field. (Mutating in place: the
    message constructors cost several times more per attribute.)"""
    add = container.add
    for item in _list(items):
        if type(item) is not dict or not _KV_KEYS.issuperset(item):
            raise Unusual
        kv = add()
        kv.key = _str(item.get("key"))
        value = item.get("value")
        if value is not None:
            fill_any_value(kv.value, value, depth)


def _fill_span(s: Span, d: Any) -> None:
    d = _obj(d, _SPAN_KEYS)
    s.trace_id = _id(d.get("traceId"))
    s.span_id = _id(d.get("spanId"))
    s.trace_state = _str(d.get("traceState"))
    s.parent_span_id = _id(d.get("parentSpanId"))
    s.flags = _uint(d.get("flags"), 2**32)
    s.name = _str(d.get("name"))
    s.kind = _enum(d.get("kind"))
    s.start_time_unix_nano = _uint(d.get("startTimeUnixNano"))
    s.end_time_unix_nano = _uint(d.get("endTimeUnixNano"))
    fill_key_values(s.attributes, d.get("attributes"))
    s.dropped_attributes_count = _uint(d.get("droppedAttributesCount"), 2**32)
    for e in _list(d.get("events")):
        e = _obj(e, _EVENT_KEYS)
        event = s.events.add()
        event.time_unix_nano = _uint(e.get("timeUnixNano"))
        event.name = _str(e.get("name"))
        fill_key_values(event.attributes, e.get("attributes"))
        event.dropped_attributes_count = _uint(e.get("droppedAttributesCount"), 2**32)
    s.dropped_events_count = _uint(d.get("droppedEventsCount"), 2**32)
    for lk in _list(d.get("links")):
        lk = _obj(lk, _LINK_KEYS)
        link = s.links.add()
        link.trace_id = _id(lk.get("traceId"))
        link.span_id = _id(lk.get("spanId"))
        link.trace_state = _str(lk.get("traceState"))
        fill_key_values(link.attributes, lk.get("attributes"))
        link.dropped_attributes_count = _uint(lk.get("droppedAttributesCount"), 2**32)
        link.flags = _uint(lk.get("flags"), 2**32)
    s.dropped_links_count = _uint(d.get("droppedLinksCount"), 2**32)
    status = d.get("status")
    if status is not None:
        status = _obj(status, _STATUS_KEYS)
        s.status.SetInParent()
        s.status.message = _str(status.get("message"))
        s.status.code = _enum(status.get("code"))


def _fill_resource(target: Any, d: Any) -> None:
    if d is not None:
        d = _obj(d, _RESOURCE_KEYS)
        target.SetInParent()
        fill_key_values(target.attributes, d.get("attributes"))
        target.dropped_attributes_count = _uint(d.get("droppedAttributesCount"), 2**32)


def _fill_scope(target: Any, d: Any) -> None:
    if d is not None:
        d = _obj(d, _SCOPE_KEYS)
        target.SetInParent()
        target.name = _str(d.get("name"))
        target.version = _str(d.get("version"))
        fill_key_values(target.attributes, d.get("attributes"))
        target.dropped_attributes_count = _uint(d.get("droppedAttributesCount"), 2**32)


def trace_request(doc: dict[str, Any]) -> ExportTraceServiceRequest:
    """The request ``doc`` (parsed OTLP/JSON, ids still hex) describes; ``Unusual`` when it is not
    in the common form (see the module docstring)."""
    req = ExportTraceServiceRequest()
    for rs_doc in _list(_obj(doc, _TRACE_REQUEST_KEYS).get("resourceSpans")):
        rs_doc = _obj(rs_doc, _RESOURCE_SPANS_KEYS)
        rs = req.resource_spans.add()
        _fill_resource(rs.resource, rs_doc.get("resource"))
        rs.schema_url = _str(rs_doc.get("schemaUrl"))
        for ss_doc in _list(rs_doc.get("scopeSpans")):
            ss_doc = _obj(ss_doc, _SCOPE_SPANS_KEYS)
            ss = rs.scope_spans.add()
            _fill_scope(ss.scope, ss_doc.get("scope"))
            ss.schema_url = _str(ss_doc.get("schemaUrl"))
            add = ss.spans.add
            for span_doc in _list(ss_doc.get("spans")):
                _fill_span(add(), span_doc)
    return req


def _fill_log_record(r: LogRecord, d: Any) -> None:
    d = _obj(d, _LOG_RECORD_KEYS)
    r.time_unix_nano = _uint(d.get("timeUnixNano"))
    r.observed_time_unix_nano = _uint(d.get("observedTimeUnixNano"))
    r.severity_number = _enum(d.get("severityNumber"))
    r.severity_text = _str(d.get("severityText"))
    if d.get("body") is not None:
        fill_any_value(r.body, d["body"])
    fill_key_values(r.attributes, d.get("attributes"))
    r.dropped_attributes_count = _uint(d.get("droppedAttributesCount"), 2**32)
    r.flags = _uint(d.get("flags"), 2**32)
    r.trace_id = _id(d.get("traceId"))
    r.span_id = _id(d.get("spanId"))
    r.event_name = _str(d.get("eventName"))


def logs_request(doc: dict[str, Any]) -> ExportLogsServiceRequest:
    """``trace_request`` for logs: GenAI events arrive as log records, as many as LLM calls."""
    req = ExportLogsServiceRequest()
    for rl_doc in _list(_obj(doc, _LOGS_REQUEST_KEYS).get("resourceLogs")):
        rl_doc = _obj(rl_doc, _RESOURCE_LOGS_KEYS)
        rl = req.resource_logs.add()
        _fill_resource(rl.resource, rl_doc.get("resource"))
        rl.schema_url = _str(rl_doc.get("schemaUrl"))
        for sl_doc in _list(rl_doc.get("scopeLogs")):
            sl_doc = _obj(sl_doc, _SCOPE_LOGS_KEYS)
            sl = rl.scope_logs.add()
            _fill_scope(sl.scope, sl_doc.get("scope"))
            sl.schema_url = _str(sl_doc.get("schemaUrl"))
            add = sl.log_records.add
            for record_doc in _list(sl_doc.get("logRecords")):
                _fill_log_record(add(), record_doc)
    return req
