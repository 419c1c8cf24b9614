"""The findings report (SPEC §5.5) as a plain dict, from a store.

``build_report`` reads the stored findings and attributions. Traces that were never analysed, or
that received spans after their analysis, are analysed on the spot (read-only, nothing written),
so a report is always complete and current, even on a store that ``faultlens ingest`` just filled;
``options`` (``analysis.options``) configure that on-the-spot analysis.
Every stored trace is present; a trace with findings above ``info`` is a failed trace.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from analysis import registry
from analysis.engine import BATCH, Progress, Refiner, TraceResult, analyze_traces
from analysis.mast import mode_name
from analysis.model import SEVERITIES, Finding
from analysis.options import AnalysisOptions
from store.api import StoreReader

REPORT_VERSION = 1
_CHUNK = 500


def _json(value: str | None, default: Any) -> Any:
    if not value:
        return default
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return default


def _in(column: str, ids: Sequence[str]) -> str:
    return f"{column} IN ({', '.join('?' for _ in ids)})"


def _stored_traces(reader: StoreReader, trace_ids: Sequence[str] | None) -> list[dict[str, Any]]:
    """trace_id, root_span_name, agents, start_ns, last_ingested_ns of every (requested) trace:
    the ``traces`` summary, completed from ``spans`` for traces it does not hold yet."""
    summary = reader.query(
        "SELECT trace_id, root_span_name, agents, start_ns, last_ingested_ns FROM traces"
    ).to_pylist()
    known = {r["trace_id"] for r in summary}
    extra = reader.query(
        "SELECT trace_id,"
        " arg_min(name, CASE WHEN parent_span_id IS NULL THEN 0 ELSE 1 END * 1e19 + start_ns)"
        " AS root_span_name,"
        " to_json(list(DISTINCT resolved_agent_name) FILTER (resolved_agent_name IS NOT NULL)) AS agents,"
        " min(start_ns) AS start_ns, max(ingested_ns) AS last_ingested_ns"
        " FROM spans GROUP BY trace_id"
    ).to_pylist()
    rows: list[dict[str, Any]] = summary + [r for r in extra if r["trace_id"] not in known]
    if trace_ids is not None:
        wanted = set(trace_ids)
        rows = [r for r in rows if r["trace_id"] in wanted]
    rows.sort(key=lambda r: (r["start_ns"] or 0, r["trace_id"]))
    return rows


def _stored_findings(reader: StoreReader, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for lo in range(0, len(ids), _CHUNK):
        chunk = list(ids[lo : lo + _CHUNK])
        for r in reader.query(f"SELECT * FROM findings WHERE {_in('trace_id', chunk)}", chunk).to_pylist():
            out.setdefault(r["trace_id"], []).append(
                {
                    "id": r["finding_id"],
                    "detector": r["detector"],
                    "kind": r["kind"],
                    "trace_id": r["trace_id"],
                    "origin_span_id": r["origin_span_id"],
                    "span_ids": _json(r["span_ids"], []),
                    "agents": _json(r["agents"], []),
                    "severity": r["severity"],
                    "mast": _json(r["mast"], []),
                    "summary": r["summary"] or "",
                    "evidence": _json(r["evidence"], {}),
                }
            )
    return out


def _stored_analysis(reader: StoreReader, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for lo in range(0, len(ids), _CHUNK):
        chunk = list(ids[lo : lo + _CHUNK])
        for r in reader.query(
            "SELECT trace_id, last_ingested_ns, attribution FROM trace_analysis"
            f" WHERE {_in('trace_id', chunk)}",
            chunk,
        ).to_pylist():
            out[r["trace_id"]] = r
    return out


def finding_json(f: Finding) -> dict[str, Any]:
    """A ``Finding`` as the SPEC §5.5 FINDING object."""
    evidence = orjson.loads(orjson.dumps(f.evidence, default=str, option=orjson.OPT_NON_STR_KEYS))
    return {
        "id": f.id,
        "detector": f.detector,
        "kind": f.kind,
        "trace_id": f.trace_id,
        "origin_span_id": f.origin_span_id,
        "span_ids": list(f.span_ids),
        "agents": list(f.agents),
        "severity": f.severity,
        "mast": list(f.mast),
        "summary": f.summary,
        "evidence": evidence,
    }


def _fresh(result: TraceResult) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    findings = [finding_json(f) for f in result.findings]
    att = result.attribution
    return findings, ({"agent": att.agent, "span_id": att.span_id} if att else None)


def _modes(findings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    by_mode: dict[str, list[str]] = {}
    for f in findings:
        for m in f["mast"]:
            by_mode.setdefault(m, []).append(f["id"])
    return [{"id": m, "name": mode_name(m), "finding_ids": ids} for m, ids in sorted(by_mode.items())]


def _severity_rank(f: Mapping[str, Any]) -> int:
    return SEVERITIES.index(f["severity"]) if f["severity"] in SEVERITIES else 0


def build_report(
    reader: StoreReader,
    trace_ids: Sequence[str] | None = None,
    *,
    analyze_stale: bool = True,
    refine: Refiner | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    options: AnalysisOptions | None = None,
) -> dict[str, Any]:
    """The SPEC §5.5 report of ``trace_ids`` (default: every stored trace). ``progress`` is told
    how the on-the-spot analysis of stale traces advances."""
    traces = _stored_traces(reader, trace_ids)
    ids = [t["trace_id"] for t in traces]
    stored = _stored_findings(reader, ids)
    analysis = _stored_analysis(reader, ids)
    stale = [
        t["trace_id"]
        for t in traces
        if t["trace_id"] not in analysis
        or (analysis[t["trace_id"]]["last_ingested_ns"] or 0) < (t["last_ingested_ns"] or 0)
    ]
    fresh: dict[str, TraceResult] = {}
    if analyze_stale and stale:
        dets, wdets = registry.detectors(options), registry.window_detectors()
        spans = 0
        for lo in range(0, len(stale), BATCH):
            for r in analyze_traces(reader, stale[lo : lo + BATCH], dets, wdets, refine):
                fresh[r.trace_id] = r
                spans += r.span_count
            if progress is not None:
                progress(min(lo + BATCH, len(stale)), len(stale), spans)
    out_traces: list[dict[str, Any]] = []
    by_detector: Counter[str] = Counter()
    modes: Counter[str] = Counter()
    failed = 0
    for t in traces:
        tid = t["trace_id"]
        if tid in fresh:
            findings, attribution = _fresh(fresh[tid])
        else:
            findings = stored.get(tid, [])
            att = _json((analysis.get(tid) or {}).get("attribution"), None)
            attribution = (
                {"agent": att.get("agent"), "span_id": att["span_id"]} if isinstance(att, dict) else None
            )
        findings.sort(key=lambda f: (-_severity_rank(f), f["detector"], f["kind"], f["id"]))
        trace_modes = _modes(findings)
        by_detector.update(f["detector"] for f in findings)
        modes.update(m["id"] for m in trace_modes)
        if any(_severity_rank(f) > 0 for f in findings):
            failed += 1
        out_traces.append(
            {
                "trace_id": tid,
                "root_span_name": t["root_span_name"] or "",
                "agents": sorted(a for a in _json(t["agents"], []) if a),
                "failure_modes": trace_modes,
                "attribution": attribution,
                "findings": findings,
            }
        )
    stamp = now or datetime.fromtimestamp(time.time(), UTC)
    return {
        "version": REPORT_VERSION,
        "generated_at": stamp.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "summary": {
            "traces": len(out_traces),
            "failed_traces": failed,
            "findings_by_detector": dict(sorted(by_detector.items())),
            "failure_modes": dict(sorted(modes.items())),
        },
        "traces": out_traces,
    }


def max_severity(report: Mapping[str, Any]) -> str | None:
    """The highest severity of any finding in ``report``; None without findings."""
    ranks = [_severity_rank(f) for t in report["traces"] for f in t["findings"]]
    return SEVERITIES[max(ranks)] if ranks else None


__all__ = ["REPORT_VERSION", "build_report", "finding_json", "max_severity"]
