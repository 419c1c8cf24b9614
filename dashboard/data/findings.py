"""Findings: the findings page's list and facets, a trace's findings, and claim occurrences.

``findings.span_ids`` / ``agents`` / ``mast`` / ``evidence`` are JSON text in the store; here they
are parsed once into ``FindingView``. Hallucination findings carry
``evidence.occurrences = [{"span_id", "field", "start", "end", "text"}]``: every message the claim
reached, which the trace page highlights (``Occurrence``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from dashboard.data.tracelist import SEVERITY_RANK_SQL
from store.api import StoreReader

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")

#: MAST failure modes (Cemri et al., "Why Do Multi-Agent LLM Systems Fail?", 14-mode taxonomy)
MAST_NAMES: dict[str, str] = {
    "FM-1.1": "Disobey task specification",
    "FM-1.2": "Disobey role specification",
    "FM-1.3": "Step repetition",
    "FM-1.4": "Loss of conversation history",
    "FM-1.5": "Unaware of termination conditions",
    "FM-2.1": "Conversation reset",
    "FM-2.2": "Fail to ask for clarification",
    "FM-2.3": "Task derailment",
    "FM-2.4": "Information withholding",
    "FM-2.5": "Ignored other agent's input",
    "FM-2.6": "Reasoning-action mismatch",
    "FM-3.1": "Premature termination",
    "FM-3.2": "No or incomplete verification",
    "FM-3.3": "Incorrect verification",
}


def _json(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


@dataclass(frozen=True)
class FindingView:
    finding_id: str
    trace_id: str
    detector: str
    kind: str
    severity: str
    origin_span_id: str | None
    span_ids: tuple[str, ...]
    agents: tuple[str, ...]
    mast: tuple[str, ...]
    summary: str
    evidence: Mapping[str, Any]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FindingView:
        evidence = _json(row.get("evidence"), {})
        return cls(
            finding_id=row["finding_id"],
            trace_id=row["trace_id"],
            detector=row.get("detector") or "",
            kind=row.get("kind") or "",
            severity=row.get("severity") or "info",
            origin_span_id=row.get("origin_span_id"),
            span_ids=tuple(str(s) for s in _json(row.get("span_ids"), []) if s),
            agents=tuple(str(a) for a in _json(row.get("agents"), []) if a),
            mast=tuple(str(m) for m in _json(row.get("mast"), []) if m),
            summary=row.get("summary") or "",
            evidence=evidence if isinstance(evidence, Mapping) else {"value": evidence},
        )


@dataclass(frozen=True)
class Occurrence:
    """Where a finding's claim appears: ``field`` is a spans column (input_messages, output_messages,
    tool_arguments, tool_result, ...) or None when unknown; ``message``/``part`` locate the message
    part within a messages (or system_instructions) column; ``start``/``end`` are the detector's
    offsets into that part's text (or into the column's text when there is no part) — a fallback
    for when the claim's text cannot be found by search in what the page shows.
    ``located`` is False for occurrences the dashboard infers (the claim's text searched in a step
    the detector did not list), True for the detector's own."""

    finding_id: str
    span_id: str
    field: str | None
    text: str
    start: int | None
    end: int | None
    origin: bool
    located: bool = True
    message: int | None = None
    part: int | None = None


def _occurrence(finding_id: str, item: Mapping[str, Any], text: str, origin_span: str | None) -> Occurrence:
    start, end = item.get("start"), item.get("end")
    message, part = item.get("message"), item.get("part")
    return Occurrence(
        finding_id=finding_id,
        span_id=str(item["span_id"]),
        field=str(item["field"]) if item.get("field") else None,
        text=text,
        start=start if isinstance(start, int) else None,
        end=end if isinstance(end, int) else None,
        origin=str(item["span_id"]) == origin_span,
        message=message if isinstance(message, int) else None,
        part=part if isinstance(part, int) else None,
    )


def occurrences(finding: FindingView) -> list[Occurrence]:
    """Where the finding's claims appear, origins first: ``evidence.occurrences`` of the main claim
    and of every further claim in ``evidence.claims`` (each with its own ``origin_span_id``).
    Findings with a ``claim`` but no occurrences yield one occurrence at the origin, any field."""
    groups: list[Mapping[str, Any]] = [finding.evidence]
    extra = finding.evidence.get("claims")
    groups += [g for g in extra if isinstance(g, Mapping)] if isinstance(extra, list) else []
    out: list[Occurrence] = []
    seen: set[tuple[Any, ...]] = set()
    for group in groups:
        claim = group.get("claim")
        claim_text = claim if isinstance(claim, str) and claim else None
        origin_span = str(group.get("origin_span_id") or finding.origin_span_id or "")
        raw = group.get("occurrences")
        for item in raw if isinstance(raw, list) else []:
            if not isinstance(item, Mapping) or not item.get("span_id"):
                continue
            text = item.get("text") if isinstance(item.get("text"), str) and item.get("text") else claim_text
            key = (*(item.get(k) for k in ("span_id", "field", "message", "part", "start")), text)
            if text and key not in seen:
                seen.add(key)
                out.append(_occurrence(finding.finding_id, item, text, origin_span))
    claim = finding.evidence.get("claim")
    if not out and isinstance(claim, str) and claim and finding.origin_span_id:
        out.append(Occurrence(finding.finding_id, finding.origin_span_id, None, claim, None, None, True))
    out.sort(key=lambda o: not o.origin)
    return out


_FINDING_COLUMNS = (
    "finding_id, trace_id, detector, kind, severity, origin_span_id, "
    "span_ids, agents, mast, summary, evidence"
)


def trace_findings(reader: StoreReader, trace_id: str) -> list[FindingView]:
    """Every finding of one trace, most severe first."""
    table = reader.query(
        f"SELECT {_FINDING_COLUMNS} FROM findings WHERE trace_id = ? "
        f"ORDER BY {SEVERITY_RANK_SQL} DESC, finding_id",
        [trace_id],
    )
    return [FindingView.from_row(r) for r in table.to_pylist()]


def trace_attribution(reader: StoreReader, trace_id: str) -> dict[str, Any] | None:
    """The analysis' failure attribution for a trace (``{"agent", "span_id", "reason"}``) or None."""
    table = reader.query("SELECT attribution FROM trace_analysis WHERE trace_id = ?", [trace_id])
    if table.num_rows == 0:
        return None
    value = _json(table.column("attribution")[0].as_py(), None)
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class FindingFilter:
    detector: str | None = None
    kind: str | None = None
    severity: str | None = None
    agent: str | None = None
    trace_id: str | None = None


def _where(f: FindingFilter) -> tuple[str, list[Any]]:
    clauses, params = ["TRUE"], []
    for column, value in (("detector", f.detector), ("kind", f.kind), ("severity", f.severity)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if f.agent:
        clauses.append("list_contains(json_transform(coalesce(agents, '[]'), '[\"VARCHAR\"]'), ?)")
        params.append(f.agent)
    if f.trace_id:
        clauses.append("trace_id = lower(?)")
        params.append(f.trace_id.strip())
    return " AND ".join(clauses), params


def list_findings(
    reader: StoreReader, f: FindingFilter, page: int = 0, page_size: int = 50
) -> tuple[pa.Table, int]:
    """A page of findings (most severe, then newest first) and the total matching ``f``."""
    where, params = _where(f)
    rows = reader.query(
        f"SELECT {_FINDING_COLUMNS}, created_ns FROM findings WHERE {where} "
        f"ORDER BY {SEVERITY_RANK_SQL} DESC, created_ns DESC, finding_id LIMIT ? OFFSET ?",
        [*params, page_size, max(page, 0) * page_size],
    )
    total = reader.query(f"SELECT count(*) AS n FROM findings WHERE {where}", params)
    return rows, int(total.column("n")[0].as_py())


@dataclass(frozen=True)
class FindingFacets:
    by_detector: list[tuple[str, int]]
    by_kind: list[tuple[str, str, int]]
    by_severity: list[tuple[str, int]]
    by_agent: list[tuple[str, int]]


def finding_facets(reader: StoreReader, f: FindingFilter) -> FindingFacets:
    """Counts of the findings matching ``f`` by detector, (detector, kind), severity and agent."""
    where, params = _where(f)

    def pairs(sql: str) -> list[Any]:
        return [tuple(r.values()) for r in reader.query(sql, params).to_pylist()]

    by_severity = dict(pairs(f"SELECT severity, count(*) FROM findings WHERE {where} GROUP BY 1"))
    return FindingFacets(
        by_detector=pairs(
            f"SELECT detector, count(*) AS n FROM findings WHERE {where} GROUP BY 1 ORDER BY n DESC, 1"
        ),
        by_kind=pairs(
            f"SELECT detector, kind, count(*) AS n FROM findings WHERE {where} "
            "GROUP BY 1, 2 ORDER BY n DESC, 1, 2"
        ),
        by_severity=[(s, int(by_severity[s])) for s in SEVERITY_ORDER if s in by_severity],
        by_agent=pairs(
            "SELECT a, count(*) AS n FROM ("
            "SELECT unnest(json_transform(coalesce(agents, '[]'), '[\"VARCHAR\"]')) AS a "
            f"FROM findings WHERE {where}) GROUP BY 1 ORDER BY n DESC, 1"
        ),
    )


def finding_kinds(reader: StoreReader) -> list[tuple[str, str]]:
    """Every (detector, kind) present, for the filter widgets."""
    return [
        (r["detector"], r["kind"])
        for r in reader.query("SELECT DISTINCT detector, kind FROM findings ORDER BY 1, 2").to_pylist()
    ]
