"""``ExportLogsServiceRequest`` → the ``logs`` Arrow table.

Every record is kept. ``log_id`` is a content hash (BLAKE2b-128 of the deterministic serialization
of resource, scope and record), so a retried request stores each record once. GenAI events (event
name from ``LogRecord.event_name`` or the ``event.name`` attribute; see ``collector.decode.events``)
also fill ``input_messages`` / ``output_messages`` / ``system_instructions`` / ``reasoning`` in the
normalized shape, which the store merges into the span (``trace_id``, ``span_id``). Invalid or
all-zero ids become NULL; log records are never rejected.
"""

from __future__ import annotations

import hashlib
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from collector.decode import columns
from collector.decode import events as ev
from collector.decode.messages import reasoning_of
from collector.decode.result import Decoded, Rejections
from collector.decode.traces import MAX_I64
from collector.decode.values import any_value, as_text, attributes, dumps, dumps_or_none
from store import schema
from store.api import IngestBatch

_INT32 = 2**31


def _hex_id(raw: bytes, size: int) -> str | None:
    return raw.hex() if len(raw) == size and any(raw) else None


def _event_columns(name: str | None, attrs: dict[str, Any], body: Any) -> tuple[Any, Any, Any, Any]:
    if name not in ev.MESSAGE_EVENTS:
        return None, None, None, None
    payload = dict(body) if isinstance(body, dict) else ({"content": body} if body is not None else {})
    payload.update(attrs)
    acc = ev.EventMessages()
    ev.add_event(acc, name, payload)
    ev.finish(acc)
    return (
        dumps_or_none(acc.input),
        dumps_or_none(acc.output),
        dumps_or_none(acc.system),
        reasoning_of(acc.output),
    )


def decode_logs(request: ExportLogsServiceRequest) -> Decoded:
    """Decode every log record of ``request`` (see the module docstring). Never raises on content:
    a GenAI event whose content cannot be normalized is kept without the message columns, and the
    response's ``error_message`` warns about it."""
    cols: dict[str, list[Any]] = {name: [] for name in schema.LOGS.names}
    warnings = Rejections()
    for rl in request.resource_logs:
        res_attrs = attributes(rl.resource.attributes)
        res_json = dumps(res_attrs)
        service = as_text(res_attrs.get("service.name"))
        res_bytes = rl.resource.SerializeToString(deterministic=True)
        for sl in rl.scope_logs:
            scope_name = sl.scope.name or None
            scope_bytes = sl.scope.SerializeToString(deterministic=True)
            for rec in sl.log_records:
                digest = hashlib.blake2b(res_bytes, digest_size=16)
                digest.update(b"\x00" + scope_bytes + b"\x00")
                digest.update(rec.SerializeToString(deterministic=True))
                attrs = attributes(rec.attributes)
                body = any_value(rec.body) if rec.HasField("body") else None
                event_name = rec.event_name or as_text(attrs.get("event.name"))
                severity = rec.severity_number
                cols["log_id"].append(digest.hexdigest())
                cols["trace_id"].append(_hex_id(rec.trace_id, 16))
                cols["span_id"].append(_hex_id(rec.span_id, 8))
                cols["time_ns"].append(min(rec.time_unix_nano, MAX_I64))
                cols["observed_ns"].append(min(rec.observed_time_unix_nano, MAX_I64))
                cols["severity_number"].append(severity if -_INT32 <= severity < _INT32 else 0)
                cols["severity_text"].append(rec.severity_text or None)
                cols["event_name"].append(event_name)
                cols["body"].append(dumps_or_none(body))
                cols["attributes"].append(dumps(attrs))
                cols["service_name"].append(service)
                cols["resource_attributes"].append(res_json)
                cols["scope_name"].append(scope_name)
                try:
                    inp, out, system, reasoning = _event_columns(event_name, attrs, body)
                except Exception as e:  # pathological nesting: keep the record, raw
                    warnings.warn(f"log record {event_name}: content not normalized ({type(e).__name__})")
                    inp = out = system = reasoning = None
                cols["input_messages"].append(inp)
                cols["output_messages"].append(out)
                cols["system_instructions"].append(system)
                cols["reasoning"].append(reasoning)
    cols["ingested_ns"] = [None] * len(cols["log_id"])
    return Decoded(
        batch=IngestBatch(logs=columns.table(cols, schema.LOGS)),
        rejected=0,
        error_message=warnings.message("log records"),
    )
