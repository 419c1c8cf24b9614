"""Import TRAIL (Patronus AI, arXiv 2505.08638; github.com/patronus-ai/trail-benchmark, MIT; see
/work/shared/external/README.md) traces and span-level error labels, and measure
``hallucination_propagation`` on its hallucination-labelled spans.

Trace files are ``{"trace_id", "spans": [...]}`` with nested ``child_spans``; each span has
``span_id``, ``parent_span_id``, ``span_name``, ``span_kind`` (``Internal`` ...), ``timestamp``
(ISO 8601, UTC), ``duration`` (ISO 8601, ``PT8.0125S``), ``status_code`` (``Ok|Error|Unset``),
``status_message``, ``span_attributes`` (OpenInference: ``openinference.span.kind``, ``llm.*``,
``input.value`` / ``output.value``, ``tool.*``), ``resource_attributes``, ``service_name``,
``scope_name``/``scope_version`` and ``events`` (``{"Timestamp", "Name", "Attributes"}``).

They become what an OpenInference exporter would have sent: one OTLP ``ExportTraceServiceRequest``
per file, decoded by the collector's own decoder (``collector.decode.decode_traces``, OpenInference
mapping included) — so the detector sees TRAIL exactly as it would see it over the wire.

Labels (``trail_annotations.jsonl``): ``errors: [{category, location (span id), evidence,
description, impact}]``. TRAIL's hallucination categories are ``Language-only`` and ``Tool-related``
(fabricated tool output); their spellings vary in the source and are normalized here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pyarrow as pa
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from analysis.load import build_trace
from analysis.model import Detector, Finding, Trace
from collector.decode import decode_traces
from store.api import IngestBatch
from store.span_text import whole_spans

DATA = Path(__file__).resolve().parents[3] / "shared" / "external" / "trail"
HALLUCINATION_CATEGORIES = frozenset({"language-only", "tool-related"})

_KINDS = {"unspecified": 0, "internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
_STATUS = {"unset": 0, "ok": 1, "error": 2}
_DURATION = re.compile(
    r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


@dataclass(frozen=True)
class Label:
    trace_id: str
    span_id: str
    category: str  # normalized: lowercase, single spaces ("language-only", "tool-related", ...)
    impact: str
    evidence: str
    description: str

    @property
    def hallucination(self) -> bool:
        return self.category in HALLUCINATION_CATEGORIES


def iso_ns(value: str) -> int:
    """ISO 8601 timestamp (naive = UTC) → int64 ns since the epoch, microseconds kept exactly."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    whole = dt.replace(microsecond=0)
    return int(whole.timestamp()) * 1_000_000_000 + dt.microsecond * 1000


def duration_ns(value: str) -> int:
    """ISO 8601 duration (``PT8.0125S``, ``PT1M2S``, ``P1DT2H``) → ns; 0 when unreadable."""
    m = _DURATION.match(value.strip()) if value else None
    if m is None:
        return 0
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
    return round((((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1e9)


def _any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, list | tuple):
        out = AnyValue()
        out.array_value.values.extend(_any_value(v) for v in value)
        return out
    if isinstance(value, dict):
        out = AnyValue()
        out.kvlist_value.values.extend(KeyValue(key=str(k), value=_any_value(v)) for k, v in value.items())
        return out
    return AnyValue(string_value="" if value is None else str(value))


def _attributes(attrs: Mapping[str, Any] | None) -> list[KeyValue]:
    return [KeyValue(key=str(k), value=_any_value(v)) for k, v in (attrs or {}).items() if v is not None]


def _walk(spans: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    """Every span of the nested tree, iteratively (no recursion limit on deep trees)."""
    stack = list(spans)[::-1]
    while stack:
        span = stack.pop()
        yield span
        stack.extend(reversed(span.get("child_spans") or []))


def _span(trace_id: bytes, raw: Mapping[str, Any]) -> Span:
    start = iso_ns(raw["timestamp"])
    status = str(raw.get("status_code") or "Unset").lower()
    span = Span(
        trace_id=trace_id,
        span_id=bytes.fromhex(raw["span_id"]),
        name=str(raw.get("span_name") or ""),
        kind=_KINDS.get(str(raw.get("span_kind") or "").lower(), 0),  # type: ignore[arg-type]
        start_time_unix_nano=start,
        end_time_unix_nano=start + duration_ns(str(raw.get("duration") or "")),
        status=Status(code=_STATUS.get(status, 0), message=str(raw.get("status_message") or "")),  # type: ignore[arg-type]
        trace_state=str(raw.get("trace_state") or ""),
    )
    if raw.get("parent_span_id"):
        span.parent_span_id = bytes.fromhex(raw["parent_span_id"])
    span.attributes.extend(_attributes(raw.get("span_attributes")))
    for ev in raw.get("events") or []:
        event = span.events.add()
        event.name = str(ev.get("Name") or ev.get("name") or "")
        stamp = ev.get("Timestamp") or ev.get("timestamp")
        event.time_unix_nano = iso_ns(stamp) if stamp else start
        event.attributes.extend(_attributes(ev.get("Attributes") or ev.get("attributes")))
    return span


def to_request(doc: Mapping[str, Any]) -> ExportTraceServiceRequest:
    """One TRAIL trace file (parsed JSON) → the OTLP request an exporter would have sent."""
    trace_id = bytes.fromhex(str(doc["trace_id"]))
    request = ExportTraceServiceRequest()
    groups: dict[tuple[str, str, str], ScopeSpans] = {}
    for raw in _walk(doc.get("spans") or []):
        resource = raw.get("resource_attributes") or {}
        if "service.name" not in resource and raw.get("service_name"):
            resource = {**resource, "service.name": raw["service_name"]}
        key = (orjson.dumps(resource, option=orjson.OPT_SORT_KEYS).decode(), str(raw.get("scope_name") or ""),
               str(raw.get("scope_version") or ""))  # fmt: skip
        scope_spans = groups.get(key)
        if scope_spans is None:
            rs: ResourceSpans = request.resource_spans.add()
            rs.resource.attributes.extend(_attributes(resource))
            scope_spans = rs.scope_spans.add()
            scope_spans.scope.name, scope_spans.scope.version = key[1], key[2]
            groups[key] = scope_spans
        scope_spans.spans.append(_span(trace_id, raw))
    return request


def read_request(path: Path) -> ExportTraceServiceRequest:
    return to_request(orjson.loads(path.read_bytes()))


def to_batch(paths: Sequence[Path]) -> IngestBatch:
    """The files' spans as one ``IngestBatch``, through the collector's decoder."""
    batches = [decode_traces(read_request(p)).batch for p in paths]
    if not batches:
        return IngestBatch()
    return IngestBatch(
        spans=pa.concat_tables([b.spans for b in batches]),
        span_events=pa.concat_tables([b.span_events for b in batches]),
        span_links=pa.concat_tables([b.span_links for b in batches]),
    )


def read_traces(paths: Sequence[Path]) -> list[Trace]:
    """The files as ``Trace`` objects (engine agent resolution and happens-before), file order."""
    out: list[Trace] = []
    for path in paths:
        batch = decode_traces(read_request(path)).batch
        spans, events, links = (
            _frame(t) for t in (whole_spans(batch.spans), batch.span_events, batch.span_links)
        )
        if spans.height:
            out.append(build_trace(str(spans["trace_id"][0]), spans, events, links))
    return out


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def normalize_category(category: str) -> str:
    return re.sub(r"\s+", " ", category.strip().lower())


def read_labels(path: Path) -> dict[str, list[Label]]:
    """trace id → its error labels (files that did not parse in the source carry none)."""
    out: dict[str, list[Label]] = {}
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        rec = orjson.loads(line)
        tid = str(rec.get("trace_id") or "")
        labels = out.setdefault(tid, [])
        for err in rec.get("errors") or []:
            if not isinstance(err, dict) or not err.get("location"):
                continue
            category = normalize_category(str(err.get("category") or ""))
            text = [str(err.get(k) or "") for k in ("impact", "evidence", "description")]
            labels.append(Label(tid, str(err["location"]).lower(), category, *text))
    return out


@dataclass
class Measurement:
    """Span-level agreement between findings and TRAIL labels, over the traces measured."""

    traces: int = 0
    labelled_spans: int = 0  # hallucination-labelled spans
    recalled_as_origin: int = 0  # ... that are a finding's origin
    recalled_involved: int = 0  # ... that are among a finding's span ids
    findings: int = 0
    origin_on_hallucination: int = 0  # findings whose origin is a hallucination-labelled span
    origin_on_any_error: int = 0  # findings whose origin carries any TRAIL error label
    misses: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 3) if b else None

        return {
            "traces": self.traces,
            "hallucination_labelled_spans": self.labelled_spans,
            "recall_origin": ratio(self.recalled_as_origin, self.labelled_spans),
            "recall_involved": ratio(self.recalled_involved, self.labelled_spans),
            "findings": self.findings,
            "precision_hallucination": ratio(self.origin_on_hallucination, self.findings),
            "precision_any_error": ratio(self.origin_on_any_error, self.findings),
        }


def measure(
    detector: Detector, traces: Sequence[Trace], labels: Mapping[str, Sequence[Label]]
) -> Measurement:
    m = Measurement()
    for trace in traces:
        mine = labels.get(trace.trace_id, [])
        m.traces += 1
        findings: list[Finding] = detector.detect(trace)
        hallucinated = {lb.span_id for lb in mine if lb.hallucination}
        errors = {lb.span_id for lb in mine}
        origins = {f.origin_span_id for f in findings}
        involved = {s for f in findings for s in f.span_ids}
        m.labelled_spans += len(hallucinated)
        m.recalled_as_origin += len(hallucinated & origins)
        m.recalled_involved += len(hallucinated & involved)
        m.misses += [f"{trace.trace_id}/{s}" for s in sorted(hallucinated - involved)]
        for f in findings:
            m.findings += 1
            m.origin_on_hallucination += f.origin_span_id in hallucinated
            m.origin_on_any_error += f.origin_span_id in errors
            if f.origin_span_id not in errors:
                m.unmatched.append(f"{trace.trace_id}/{f.origin_span_id} {f.kind}: {f.summary}")
    return m


def trace_files(root: Path = DATA) -> list[Path]:
    return sorted((root / "traces").glob("*/*.json"))


def print_measurement(
    root: Path = DATA, verbose: bool = False, detector: Detector | None = None
) -> Measurement:
    """Measure ``hallucination_propagation`` (``detector``, default: as registered by default) on
    every TRAIL trace present and print the figures."""
    from analysis.detectors.hallucination import HallucinationPropagation

    labels = read_labels(root / "trail_annotations.jsonl")
    traces = read_traces(trace_files(root))
    m = measure(detector or HallucinationPropagation(), traces, labels)
    print("TRAIL:", orjson.dumps(m.as_json()).decode())
    if verbose:
        for line in m.misses:
            print("  missed", line)
        for line in m.unmatched:
            print("  unlabelled origin", line)
    return m
