"""The trace list: filters, sort and pagination pushed down to SQL (SPEC §6).

Filtering runs on the ``traces`` summary table (one row per trace); ``findings`` and ``spans`` are
only probed through correlated ``EXISTS`` for the detector/severity/free-text filters. Token and
cost totals come from ``dashboard.data.usage`` for the filtered traces. Sort keys are a whitelist
(``SORTS``); everything the user typed travels as a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa

from dashboard.data.pricing import ModelPrice
from dashboard.data.usage import usage_ctes
from store.api import StoreReader

Status = Literal["any", "error", "ok", "failing"]

#: user-facing sort name -> SQL expression over the final projection (a whitelist: nothing else is sortable)
SORTS: dict[str, str] = {
    "start": "start_ns",
    "duration": "duration_ns",
    "tokens": "tokens",
    "cost": "cost",
    "findings": "findings",
    "spans": "span_count",
    "errors": "error_count",
}

SEVERITY_RANK_SQL = (
    "CASE severity WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3 "
    "WHEN 'low' THEN 2 ELSE 1 END"
)
RANK_SEVERITY = {5: "critical", 4: "high", 3: "medium", 2: "low", 1: "info"}


@dataclass(frozen=True)
class TraceFilter:
    """Every field narrows the list; ``None`` / empty means "any". Times are int64 ns (trace start).
    ``text`` matches a trace id, span/agent/tool/model/service names, finding summaries, and with
    ``search_content`` also messages, tool arguments and results (slower on big stores)."""

    start_ns: int | None = None
    end_ns: int | None = None
    service: str | None = None
    agent: str | None = None
    model: str | None = None
    status: Status = "any"
    detector: str | None = None
    severity: str | None = None
    text: str | None = None
    search_content: bool = False


@dataclass(frozen=True)
class TracePage:
    rows: pa.Table  # see ``list_traces`` for the columns
    total: int  # traces matching the filter, all pages


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filter_sql(f: TraceFilter) -> tuple[str, list[Any]]:
    """WHERE clause over alias ``t`` (traces) and its parameters."""
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    if f.start_ns is not None:
        clauses.append("t.start_ns >= ?")
        params.append(f.start_ns)
    if f.end_ns is not None:
        clauses.append("t.start_ns <= ?")
        params.append(f.end_ns)
    for column, value in (("services", f.service), ("agents", f.agent)):
        if value:
            clauses.append(f"list_contains(json_transform(coalesce(t.{column}, '[]'), '[\"VARCHAR\"]'), ?)")
            params.append(value)
    if f.model:
        # request and response model may differ (aliases, dated versions): either one matches
        clauses.append(
            "EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = t.trace_id"
            " AND (s.request_model = ? OR s.response_model = ?))"
        )
        params += [f.model, f.model]
    if f.status == "error":
        clauses.append("coalesce(t.error_count, 0) > 0")
    elif f.status == "ok":
        clauses.append("coalesce(t.error_count, 0) = 0")
    elif f.status == "failing":
        clauses.append(
            "(coalesce(t.error_count, 0) > 0"
            " OR EXISTS (SELECT 1 FROM findings f WHERE f.trace_id = t.trace_id))"
        )
    if f.detector or f.severity:
        sub = ["f.trace_id = t.trace_id"]
        if f.detector:
            sub.append("f.detector = ?")
            params.append(f.detector)
        if f.severity:
            sub.append("f.severity = ?")
            params.append(f.severity)
        clauses.append(f"EXISTS (SELECT 1 FROM findings f WHERE {' AND '.join(sub)})")
    text = (f.text or "").strip()
    if text:
        like = _like(text)
        # trace-level names first (one row per trace); spans and findings through uncorrelated
        # IN-subqueries, which DuckDB runs as one scan each rather than one probe per trace
        trace_cols = ["t.root_span_name", "t.agents", "t.models", "t.services"]
        span_cols = ["s.name", "s.tool_name"]
        if f.search_content:
            span_cols += [
                "s.input_messages",
                "s.output_messages",
                "s.tool_arguments",
                "s.tool_result",
                "s.reasoning",
            ]
        trace_match = " OR ".join(f"{c} ILIKE ? ESCAPE '\\'" for c in trace_cols)
        span_match = " OR ".join(f"{c} ILIKE ? ESCAPE '\\'" for c in span_cols)
        clauses.append(
            f"(t.trace_id = lower(?) OR {trace_match}"
            f" OR t.trace_id IN (SELECT s.trace_id FROM spans s WHERE {span_match})"
            " OR t.trace_id IN (SELECT f.trace_id FROM findings f WHERE f.summary ILIKE ? ESCAPE '\\'))"
        )
        params += [text, *([like] * len(trace_cols)), *([like] * len(span_cols)), like]
    return " AND ".join(clauses), params


def list_traces(
    reader: StoreReader,
    f: TraceFilter,
    prices: Sequence[ModelPrice],
    sort: str = "start",
    descending: bool = True,
    page: int = 0,
    page_size: int = 50,
) -> TracePage:
    """One page of traces matching ``f``. Columns: trace_id, root_span_name, root_service_name,
    agents (JSON), models (JSON), start_ns, duration_ns, span_count, error_count, tokens, cost,
    findings, max_severity (NULL without findings). Unknown ``sort`` raises ``ValueError``.

    Every sort but ``cost`` pages on the ``traces`` summary first (tokens: its input + output sums,
    which use the same rule as ``dashboard.data.usage``) and prices only the page's spans; sorting
    by cost must price the spans of every matching trace."""
    if sort not in SORTS:
        raise ValueError(f"sort: unknown column {sort!r} (choose from {', '.join(SORTS)})")
    where, where_params = filter_sql(f)
    order = f"{SORTS[sort]} {'DESC' if descending else 'ASC'} NULLS LAST, trace_id"
    head = f"""ft AS (
  SELECT t.trace_id, t.root_span_name, t.root_service_name, t.agents, t.models, t.start_ns, t.duration_ns,
         t.span_count, t.error_count, (coalesce(t.input_tokens, 0) + coalesce(t.output_tokens, 0)) AS tokens
  FROM traces t WHERE {where}),
fc AS (SELECT trace_id, count(*) AS findings, max({SEVERITY_RANK_SQL}) AS sev_rank
       FROM findings WHERE trace_id IN (SELECT trace_id FROM ft) GROUP BY trace_id)"""
    tail = f"""SELECT p.trace_id, p.root_span_name, p.root_service_name, p.agents, p.models, p.start_ns,
       p.duration_ns, p.span_count, p.error_count, p.tokens::BIGINT AS tokens, coalesce(ut.cost, 0.0) AS cost,
       p.findings::BIGINT AS findings,
       CASE p.sev_rank WHEN 5 THEN 'critical' WHEN 4 THEN 'high' WHEN 3 THEN 'medium' WHEN 2 THEN 'low'
            WHEN 1 THEN 'info' END AS max_severity
FROM pg p LEFT JOIN ut USING (trace_id)
ORDER BY {order}"""
    paging = [page_size, max(page, 0) * page_size]
    if sort == "cost":
        usage_sql, usage_params = usage_ctes(prices, "s.trace_id IN (SELECT trace_id FROM ft)", per="trace")
        sql = f"""WITH {head},
{usage_sql},
ut AS (SELECT trace_id, sum(cost) AS cost FROM usage GROUP BY trace_id),
pg AS (SELECT ft.*, coalesce(fc.findings, 0) AS findings, fc.sev_rank, coalesce(ut.cost, 0.0) AS cost
       FROM ft LEFT JOIN fc USING (trace_id) LEFT JOIN ut USING (trace_id) ORDER BY {order} LIMIT ? OFFSET ?)
{tail}"""
        params = [*where_params, *usage_params, *paging]
    else:
        usage_sql, usage_params = usage_ctes(prices, "s.trace_id IN (SELECT trace_id FROM pg)", per="trace")
        sql = f"""WITH {head},
pg AS (SELECT ft.*, coalesce(fc.findings, 0) AS findings, fc.sev_rank
       FROM ft LEFT JOIN fc USING (trace_id) ORDER BY {order} LIMIT ? OFFSET ?),
{usage_sql},
ut AS (SELECT trace_id, sum(cost) AS cost FROM usage GROUP BY trace_id)
{tail}"""
        params = [*where_params, *paging, *usage_params]
    rows = reader.query(sql, params)
    count = reader.query(f"SELECT count(*) AS n FROM traces t WHERE {where}", where_params)
    return TracePage(rows=rows, total=int(count.column("n")[0].as_py()))


@dataclass(frozen=True)
class FilterOptions:
    services: list[str]
    agents: list[str]
    models: list[str]
    detectors: list[str]
    severities: list[str]
    min_start_ns: int | None
    max_start_ns: int | None


def _distinct(reader: StoreReader, sql: str) -> list[str]:
    return [v for v in reader.query(sql).column(0).to_pylist() if v]


def filter_options(reader: StoreReader, limit: int = 1000) -> FilterOptions:
    """The values the filter widgets offer (distinct, sorted, at most ``limit`` each)."""
    bounds = reader.query("SELECT min(start_ns) AS lo, max(start_ns) AS hi FROM traces").to_pylist()[0]
    return FilterOptions(
        services=_distinct(reader, f"SELECT DISTINCT service_name FROM spans ORDER BY 1 LIMIT {int(limit)}"),
        agents=_distinct(
            reader, f"SELECT DISTINCT resolved_agent_name FROM spans ORDER BY 1 LIMIT {int(limit)}"
        ),
        models=_distinct(
            reader,
            "SELECT DISTINCT coalesce(response_model, request_model) FROM spans "
            f"WHERE coalesce(response_model, request_model) IS NOT NULL ORDER BY 1 LIMIT {int(limit)}",
        ),
        detectors=_distinct(reader, "SELECT DISTINCT detector FROM findings ORDER BY 1"),
        severities=["critical", "high", "medium", "low", "info"],
        min_start_ns=bounds["lo"],
        max_start_ns=bounds["hi"],
    )
