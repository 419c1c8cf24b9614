"""The analysis engine: load traces, run every registered detector, classify (MAST), attribute,
and store the result.

- ``analyze_traces`` / ``analyze_trace``: pure reads, return ``TraceResult``s.
- ``analyze``: the same for many traces, in batches, written with
  ``FindingsWriter.replace_findings``; re-running leaves exactly the latest result.

Both take ``options`` (``analysis.options.AnalysisOptions``, default: the defaults), which
configure the registered detectors.

A detector that raises is logged, counted in ``TraceResult.errors`` / ``AnalyzeStats`` and skipped;
the other detectors still run. Window detectors see the batch's traces plus the stored traces that
overlap its time span (±``WINDOW_NS``), so a single re-analysed trace keeps its cross-trace findings.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import orjson
import pyarrow as pa

from analysis import registry
from analysis.attribution import Attribution, attribute
from analysis.load import load_traces, trace_ids_since
from analysis.mast import mode_name, modes_for
from analysis.model import Detector, Finding, Trace, WindowDetector
from analysis.options import AnalysisOptions
from store import schema
from store.api import FindingsWriter, StoreReader

log = logging.getLogger(__name__)

#: how far around a batch window detectors look for context traces
WINDOW_NS = 60 * 1_000_000_000
#: at most this many context traces are loaded for window detectors
MAX_CONTEXT = 50
BATCH = 100

Progress = Callable[[int, int, int], None]  # (traces done, traces total, spans done)
Refiner = Callable[[Trace, list[Finding]], list[Finding]]


@dataclass(frozen=True)
class ModeHit:
    id: str
    name: str
    finding_ids: tuple[str, ...]


@dataclass(frozen=True)
class TraceResult:
    trace_id: str
    findings: tuple[Finding, ...]
    modes: tuple[ModeHit, ...]
    attribution: Attribution | None
    span_count: int
    last_ingested_ns: int | None
    errors: tuple[str, ...] = ()  # names of the detectors that raised on this trace


@dataclass
class AnalyzeStats:
    traces: int = 0
    spans: int = 0
    findings: int = 0
    failed_traces: int = 0
    detector_errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def classify(findings: Sequence[Finding]) -> list[Finding]:
    """Apply the MAST mapping (``analysis.mast``) and drop duplicate ids (first wins)."""
    out: dict[str, Finding] = {}
    for f in findings:
        mast = modes_for(f.detector, f.kind, f.evidence, f.mast)
        g = f if mast == f.mast else replace(f, mast=mast)
        out.setdefault(g.id, g)
    return list(out.values())


def modes_of(findings: Sequence[Finding]) -> tuple[ModeHit, ...]:
    by_mode: dict[str, list[str]] = {}
    for f in findings:
        for m in f.mast:
            by_mode.setdefault(m, []).append(f.id)
    return tuple(ModeHit(m, mode_name(m), tuple(ids)) for m, ids in sorted(by_mode.items()))


def run_detectors(trace: Trace, detectors: Sequence[Detector]) -> tuple[list[Finding], list[str]]:
    found: list[Finding] = []
    errors: list[str] = []
    for d in detectors:
        try:
            found.extend(d.detect(trace))
        except Exception:  # a broken detector must not sink the others
            log.exception("detector %s failed on trace %s", d.name, trace.trace_id)
            errors.append(d.name)
    return found, errors


def _summaries(
    reader: StoreReader, trace_ids: Sequence[str]
) -> dict[str, tuple[int | None, int | None, int | None]]:
    """trace id → (last_ingested_ns, start_ns, end_ns) from the ``traces`` summary."""
    if not trace_ids:
        return {}
    marks = ", ".join("?" for _ in trace_ids)
    t = reader.query(
        f"SELECT trace_id, last_ingested_ns, start_ns, end_ns FROM traces WHERE trace_id IN ({marks})",
        list(trace_ids),
    )
    return {r["trace_id"]: (r["last_ingested_ns"], r["start_ns"], r["end_ns"]) for r in t.to_pylist()}


def _first_start(trace: Trace) -> int | None:
    value = trace.spans["start_ns"].min()
    return int(value) if isinstance(value, int) else None


def _last_end(trace: Trace) -> int | None:
    value = trace.spans["end_ns"].max()
    return int(value) if isinstance(value, int) else None


def _context(reader: StoreReader, traces: Sequence[Trace]) -> list[Trace]:
    starts = [s for t in traces for s in (_first_start(t), _last_end(t)) if s is not None]
    if not starts:
        return []
    own = {t.trace_id for t in traces}
    t = reader.query(
        "SELECT trace_id FROM traces WHERE end_ns >= ? AND start_ns <= ? ORDER BY start_ns LIMIT ?",
        [min(starts) - WINDOW_NS, max(starts) + WINDOW_NS, MAX_CONTEXT + len(own)],
    )
    ids = [x for x in t.column("trace_id").to_pylist() if x not in own][:MAX_CONTEXT]
    return list(load_traces(reader, ids))


def analyze_traces(
    reader: StoreReader,
    trace_ids: Sequence[str],
    detectors: Sequence[Detector] | None = None,
    window_detectors: Sequence[WindowDetector] | None = None,
    refine: Refiner | None = None,
    options: AnalysisOptions | None = None,
) -> list[TraceResult]:
    """Analyse ``trace_ids`` (missing ones are skipped). Reads only. ``options`` configure the
    registered detectors when ``detectors`` is not given."""
    dets = registry.detectors(options) if detectors is None else detectors
    wdets = registry.window_detectors() if window_detectors is None else window_detectors
    summaries = _summaries(reader, trace_ids)  # before the spans: later spans then re-trigger analysis
    traces = list(load_traces(reader, trace_ids))
    per_trace: dict[str, list[Finding]] = {}
    errors: dict[str, list[str]] = {}
    for trace in traces:
        per_trace[trace.trace_id], errors[trace.trace_id] = run_detectors(trace, dets)
    if wdets and traces:
        window = sorted(traces + _context(reader, traces), key=lambda t: _first_start(t) or 0)
        for w in wdets:
            try:
                for f in w.detect_window(window):
                    if f.trace_id in per_trace:
                        per_trace[f.trace_id].append(f)
            except Exception:
                log.exception("window detector %s failed", w.name)
                for tid in errors:
                    errors[tid].append(w.name)
    results: list[TraceResult] = []
    for trace in traces:
        found = classify(per_trace[trace.trace_id])
        if refine is not None:  # after the table: the judge refines the table's modes
            found = refine(trace, found)
        found.sort(key=lambda f: (f.detector, f.kind, f.id))
        last = summaries.get(trace.trace_id, (None, None, None))[0]
        if last is None:
            value = trace.spans["ingested_ns"].max()
            last = int(value) if isinstance(value, int) else None
        results.append(
            TraceResult(
                trace.trace_id,
                tuple(found),
                modes_of(found),
                attribute(trace, found),
                trace.spans.height,
                int(last) if last is not None else None,
                tuple(errors[trace.trace_id]),
            )
        )
    return results


def analyze_trace(
    reader: StoreReader,
    trace_id: str,
    refine: Refiner | None = None,
    options: AnalysisOptions | None = None,
) -> TraceResult | None:
    results = analyze_traces(reader, [trace_id], refine=refine, options=options)
    return results[0] if results else None


def to_tables(results: Sequence[TraceResult], now_ns: int | None = None) -> tuple[pa.Table, pa.Table]:
    """``results`` as (FINDINGS, TRACE_ANALYSIS) Arrow tables."""
    now = time.time_ns() if now_ns is None else now_ns
    rows = [
        {
            "finding_id": f.id,
            "trace_id": f.trace_id,
            "detector": f.detector,
            "detector_version": f.detector_version,
            "kind": f.kind,
            "origin_span_id": f.origin_span_id,
            "span_ids": orjson.dumps(list(f.span_ids)).decode(),
            "agents": orjson.dumps(list(f.agents)).decode(),
            "severity": f.severity,
            "mast": orjson.dumps(list(f.mast)).decode(),
            "summary": f.summary,
            "evidence": orjson.dumps(f.evidence, default=str, option=orjson.OPT_NON_STR_KEYS).decode(),
            "created_ns": now,
        }
        for r in results
        for f in r.findings
    ]
    analysis = [
        {
            "trace_id": r.trace_id,
            "analyzed_ns": now,
            "span_count": r.span_count,
            "last_ingested_ns": r.last_ingested_ns,
            "attribution": orjson.dumps(r.attribution.as_json()).decode() if r.attribution else None,
        }
        for r in results
    ]
    return (
        pa.Table.from_pylist(rows, schema=schema.FINDINGS),
        pa.Table.from_pylist(analysis, schema=schema.TRACE_ANALYSIS),
    )


def analyze(
    reader: StoreReader,
    writer: FindingsWriter,
    trace_ids: Sequence[str] | None = None,
    since_ns: int | None = None,
    progress: Progress | None = None,
    refine: Refiner | None = None,
    batch: int = BATCH,
    options: AnalysisOptions | None = None,
) -> AnalyzeStats:
    """Analyse ``trace_ids`` (default: every stored trace, or those started at/after ``since_ns``)
    and store the findings, one ``replace_findings`` per batch; ``options`` configure the
    detectors."""
    began = time.perf_counter()
    ids = list(trace_ids) if trace_ids is not None else trace_ids_since(reader, since_ns)
    stats = AnalyzeStats()
    dets, wdets = registry.detectors(options), registry.window_detectors()
    for lo in range(0, len(ids), batch):
        chunk = ids[lo : lo + batch]
        results = analyze_traces(reader, chunk, dets, wdets, refine)
        findings, analysis = to_tables(results)
        writer.replace_findings(chunk, findings, analysis)
        stats.traces += len(results)
        stats.spans += sum(r.span_count for r in results)
        stats.findings += findings.num_rows
        stats.failed_traces += sum(1 for r in results if r.attribution is not None)
        for r in results:
            stats.detector_errors.update(r.errors)
        if progress is not None:
            progress(min(lo + batch, len(ids)), len(ids), stats.spans)
    stats.seconds = time.perf_counter() - began
    return stats
