"""A trace request → ``spans``, ``span_events`` and ``span_links`` Arrow tables.

The request arrives in the plain shape of ``collector.decode.walk`` (from protobuf bytes directly,
or from a parsed message). One pass over it appends the core fields to per-column lists (no per-span row
objects); each span's normalized columns come back as a small sparse dict (a plain span's is
empty) scattered into their columns at the end, and the tables are built once. The compiled loop
(``collector/decode/_spans.c``) decodes the runs of spans it is sure about; the Python body
(``one``) is the reference and takes every span it leaves (events, links, invalid ids, spans the
fast normalizer refuses), and all of them when it is not built. Spans come out in
the stored form ``store.schema.SPAN_ROWS``: an attribute whose value a normalized column holds
verbatim is moved there rather than kept twice. A span is rejected
(counted, reason kept, others unaffected) when its trace id is not 16 bytes or all zero, its span
id not 8 bytes or all zero, or its parent id is set but not 8 bytes. An all-zero or empty parent id
means "no parent" (NULL). Times past the int64 range are clamped to its maximum; enum values that
do not fit the int8 columns become 0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from collector.decode import columns, normalize
from collector.decode.normalize import NORMALIZED_COLUMNS, normalize_span_python
from collector.decode.result import Decoded, Rejections
from collector.decode.values import as_text, dumps
from collector.decode.walk import Event, Link, Resource, Span, walk_message
from store import schema
from store.api import IngestBatch

log = logging.getLogger(__name__)

_ZERO8 = bytes(8)
_ZERO16 = bytes(16)
MAX_I64 = 2**63 - 1  # OTLP times are uint64; far-future values are clamped, not rejected


def _id_problem(trace_id: bytes, span_id: bytes, parent_id: bytes) -> str:
    """Why a span's ids are invalid (called once the hot loop found that they are)."""
    if len(trace_id) != 16 or trace_id == _ZERO16:
        return (
            f"span with invalid trace_id ({len(trace_id)} bytes{', all zero' if not any(trace_id) else ''})"
        )
    if len(span_id) != 8 or span_id == _ZERO8:
        return f"span with invalid span_id ({len(span_id)} bytes{', all zero' if not any(span_id) else ''})"
    return f"span with invalid parent_span_id ({len(parent_id)} bytes)"


def _link_id(raw: bytes, size: int) -> str | None:
    return raw.hex() if len(raw) == size and any(raw) else None


def decode_traces(request: ExportTraceServiceRequest) -> Decoded:
    """Decode every span of the parsed ``request`` (see the module docstring). Never raises on content."""
    return decode_resources(walk_message(request))


def decode_resources(resources: list[Resource]) -> Decoded:
    """Decode a request in the shape of ``collector.decode.walk`` (from either walker)."""
    cols: dict[str, list[Any]] = {name: [] for name in schema.SPAN_ROWS.names}
    events: dict[str, list[Any]] = {name: [] for name in schema.SPAN_EVENTS.names}
    links: dict[str, list[Any]] = {name: [] for name in schema.SPAN_LINKS.names}
    rejected = Rejections()
    # Bound appends: the loop below runs once per span and is the decoder's hot path.
    a_trace, a_span, a_parent = cols["trace_id"].append, cols["span_id"].append, cols["parent_span_id"].append
    a_state, a_name, a_kind = cols["trace_state"].append, cols["name"].append, cols["kind"].append
    a_start, a_end, a_dur = cols["start_ns"].append, cols["end_ns"].append, cols["duration_ns"].append
    a_code, a_msg, a_attrs, a_moved = (
        cols["status_code"].append,
        cols["status_message"].append,
        cols["attributes_rest"].append,
        cols["attributes_in_columns"].append,
    )
    norms: list[dict[str, Any]] = []  # per span: its normalized columns, mostly sparse
    a_norm = norms.append
    # The compiled helpers, called directly per span (each Python call layer costs ~0.1 µs/span);
    # read here, so tests that turn one off are seen.
    fast = normalize._fast_normalize
    move = _move_verbatim
    loop = _decode_spans if fast is not None and move is not None else None
    out = tuple(cols[name] for name in _LOOP_COLUMNS)

    def one(span: Span, fast_refused: bool) -> None:
        """The reference for one span (``_spans.decode_spans`` decodes the rest the same way)."""
        (
            trace_id,
            span_id,
            parent_id,
            trace_state,
            name,
            kind,
            start,
            end,
            code,
            message,
            attrs,
            span_events,
            span_links,
        ) = span
        if (
            len(trace_id) != 16
            or trace_id == _ZERO16
            or len(span_id) != 8
            or span_id == _ZERO8
            or (parent_id and len(parent_id) != 8)
        ):
            rejected.add(_id_problem(trace_id, span_id, parent_id))
            return
        tid, sid = trace_id.hex(), span_id.hex()
        a_trace(tid)
        a_span(sid)
        a_parent(parent_id.hex() if parent_id and parent_id != _ZERO8 else None)
        a_state(trace_state or None)
        a_name(name)
        a_kind(kind if 0 <= kind <= 127 else 0)
        if start > MAX_I64:
            start = MAX_I64
        if end > MAX_I64:
            end = MAX_I64
        a_start(start)
        a_end(end)
        a_dur(end - start if end > start else 0)
        a_code(code if 0 <= code <= 127 else 0)
        a_msg(message or None)
        named_events = _events(span_events, tid, sid, events) if span_events else ()
        if span_links:
            _links(span_links, tid, sid, links)
        norm = None
        if fast is not None and not named_events and not fast_refused:
            try:
                norm = fast(attrs, name)
            except Exception:
                norm = None  # the Python path reads it, or says why not
        if norm is None:
            norm = _normalized(attrs, name, named_events, sid, rejected)
        a_norm(norm)
        if not norm:
            a_moved(None)
        elif move is not None:
            a_moved(move(attrs, norm, MOVED))
        else:
            a_moved(_move_attributes_py(attrs, norm))
        a_attrs(dumps(attrs) if attrs else "{}")

    for res_attrs, scopes in resources:
        res_json = dumps(res_attrs)
        service = as_text(res_attrs.get("service.name"))
        for scope_name, scope_version, spans in scopes:
            before = len(norms)
            # The compiled loop decodes runs of spans it is sure about; the reference takes each
            # span it stops at (invalid ids, events or links, a span the fast path refused).
            i = 0
            while i < len(spans):
                refused = False
                if loop is not None:
                    i, refused = loop(spans, i, out, norms, fast, move, MOVED, dumps)
                    if i == len(spans):
                        break
                one(spans[i], refused)
                i += 1
            # Resource and scope columns are constant for the scope's spans: one extend each.
            count = len(norms) - before
            cols["service_name"].extend([service] * count)
            cols["resource_attributes"].extend([res_json] * count)
            cols["scope_name"].extend([scope_name or None] * count)
            cols["scope_version"].extend([scope_version or None] * count)

    n = len(norms)
    for column in (*NORMALIZED_COLUMNS, "resolved_agent_id", "resolved_agent_name", "ingested_ns"):
        cols[column] = [None] * n
    # Scatter only the values present: normalized rows are sparse (a plain span sets none).
    columns.scatter(norms, cols)
    batch = IngestBatch(
        spans=columns.table(cols, schema.SPAN_ROWS),
        span_events=columns.table(events, schema.SPAN_EVENTS),
        span_links=columns.table(links, schema.SPAN_LINKS),
    )
    return Decoded(batch=batch, rejected=rejected.count, error_message=rejected.message("spans"))


def _move_attributes_py(attrs: dict[str, Any], norm: dict[str, Any]) -> int | None:
    """Remove from ``attrs`` the string and integer attributes whose value a normalized column holds
    verbatim and return their ``attributes_in_columns`` mask (None: none moved). See
    ``store.schema``. The reference of ``_genai.move_verbatim``, which the decoder calls when
    built; tests hold them equal."""
    mask = 0
    for key in attrs.keys() & _MOVABLE:
        bit, column = _MOVABLE[key]
        value = attrs[key]
        # A message text is usually the very object stored (canonical JSON is kept as sent): the
        # comparison is then free. The type test keeps 1 == 1.0 == True from counting as verbatim.
        if type(value) in _MOVABLE_TYPES and norm.get(column) == value:
            del attrs[key]
            mask |= bit
    return mask or None


#: The columns ``_spans.decode_spans`` appends to, in its order.
_LOOP_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "trace_state",
    "name",
    "kind",
    "start_ns",
    "end_ns",
    "duration_ns",
    "status_code",
    "status_message",
    "attributes_in_columns",
    "attributes_rest",
)
_MOVABLE = {key: (1 << i, column) for i, (key, column) in enumerate(schema.MOVED_ATTRIBUTES)}
_MOVABLE_TYPES = (str, int)
MOVED = schema.MOVED_ATTRIBUTES
#: ``_genai.move_verbatim`` (None when not built; tests set None to reach the Python path).
_move_verbatim: Callable[[dict[str, Any], dict[str, Any], tuple[tuple[str, str], ...]], int | None] | None = (
    normalize._genai.move_verbatim if normalize._genai is not None else None
)


_decode_spans: Callable[..., tuple[int, bool]] | None
try:
    from collector.decode._spans import decode_spans as _decode_spans
except ImportError:  # not compiled: the reference decodes every span
    _decode_spans = None


def _normalized(
    attrs: dict[str, Any],
    name: str,
    named_events: Sequence[tuple[str, dict[str, Any]]],
    sid: str,
    rejected: Rejections,
) -> dict[str, Any]:
    """``normalize_span`` for a span the compiled fast path was asked about already (or need not
    be: it has events, or the fast path is not built). A span it cannot read (values nested
    deeper than Python recurses, or a shape no convention module expected) is kept with its raw
    attributes and no normalized columns, and the response says so - it must not sink the other
    spans of its request."""
    try:
        return normalize_span_python(attrs, name, named_events)
    except Exception as e:
        log.warning("span %s stored without normalized columns: %r", sid, e)
        rejected.warn(f"span {sid}: attributes not normalized ({type(e).__name__}), kept raw")
        return {}


def _events(
    span_events: list[Event], tid: str, sid: str, out: dict[str, list[Any]]
) -> list[tuple[str, dict[str, Any]]]:
    decoded: list[tuple[str, dict[str, Any]]] = []
    for idx, (time_ns, name, attrs) in enumerate(span_events):
        out["trace_id"].append(tid)
        out["span_id"].append(sid)
        out["idx"].append(idx)
        out["time_ns"].append(min(time_ns, MAX_I64))
        out["name"].append(name)
        out["attributes"].append(dumps(attrs))
        decoded.append((name, attrs))
    return decoded


def _links(span_links: list[Link], tid: str, sid: str, out: dict[str, list[Any]]) -> None:
    for idx, (trace_id, span_id, trace_state, attrs) in enumerate(span_links):
        out["trace_id"].append(tid)
        out["span_id"].append(sid)
        out["idx"].append(idx)
        out["linked_trace_id"].append(_link_id(trace_id, 16))
        out["linked_span_id"].append(_link_id(span_id, 8))
        out["trace_state"].append(trace_state or None)
        out["attributes"].append(dumps(attrs))
