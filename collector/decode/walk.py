"""An OTLP trace request as plain Python values: the one shape ``collector.decode.traces`` decodes.

Two walkers produce it and must agree value for value (tests/collector/test_decode_walk.py):

- ``walk_message(request)`` reads a parsed ``ExportTraceServiceRequest`` (OTLP/JSON bodies, and
  protobuf when the compiled walker is missing or refuses the bytes);
- ``walk_bytes(body)`` reads protobuf bytes directly with the compiled ``_wire`` module
  (collector/decode/_wire.c), skipping protobuf message objects: attribute access on them was most
  of the decoder's cost. It returns None when the module is not built or refuses the body (malformed
  bytes, or rare encodings it leaves to the protobuf library); the caller then parses with the
  library, which decides - so both paths accept and reject exactly the same bodies.

The shape (see ``Resource``)::

    [(resource_attributes, [(scope_name, scope_version, [Span, ...]), ...]), ...]

with attribute dicts as ``collector.decode.values.attributes`` makes them, ids as raw bytes, and
``None`` instead of an empty list of events or links.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from collector.decode.values import attributes

_wire: ModuleType | None
try:
    from collector.decode import _wire
except ImportError:  # not compiled (no C compiler at install time): the library path does it all
    _wire = None

Attrs = dict[str, Any]
Event = tuple[int, str, Attrs]  # time_unix_nano, name, attributes
Link = tuple[bytes, bytes, str, Attrs]  # trace_id, span_id, trace_state, attributes
#: trace_id, span_id, parent_span_id, trace_state, name, kind, start_ns, end_ns, status_code,
#: status_message, attributes, events, links (uint64 times and int32 enums as sent)
Span = tuple[
    bytes, bytes, bytes, str, str, int, int, int, int, str, Attrs, list[Event] | None, list[Link] | None
]
Scope = tuple[str, str, list[Span]]
Resource = tuple[Attrs, list[Scope]]

COMPILED = _wire is not None


def walk_bytes(body: bytes | memoryview) -> list[Resource] | None:
    """The request in ``body`` (protobuf), or None when the compiled walker is absent or refuses
    it (then parse it with the protobuf library and use ``walk_message``)."""
    if _wire is None:
        return None
    try:
        resources: list[Resource] = _wire.walk_traces(body)
    except (ValueError, RecursionError):
        return None
    return resources


def walk_message(request: ExportTraceServiceRequest) -> list[Resource]:
    """The parsed ``request`` in the walk shape."""
    return [
        (
            attributes(rs.resource.attributes),
            [(ss.scope.name, ss.scope.version, [_span(s) for s in ss.spans]) for ss in rs.scope_spans],
        )
        for rs in request.resource_spans
    ]


def _span(span: Any) -> Span:
    status = span.status
    return (
        span.trace_id,
        span.span_id,
        span.parent_span_id,
        span.trace_state,
        span.name,
        span.kind,
        span.start_time_unix_nano,
        span.end_time_unix_nano,
        status.code,
        status.message,
        attributes(span.attributes),
        [(e.time_unix_nano, e.name, attributes(e.attributes)) for e in span.events] if span.events else None,
        [(k.trace_id, k.span_id, k.trace_state, attributes(k.attributes)) for k in span.links]
        if span.links
        else None,
    )
