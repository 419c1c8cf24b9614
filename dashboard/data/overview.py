"""The overview page's aggregates: volume, errors, latency percentiles, tokens and cost per agent
and model, the failure-mode distribution and the top findings. All in SQL over a time window
(trace/span start in ``[start_ns, end_ns]``; ``None`` is unbounded)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from dashboard.data.findings import FindingView
from dashboard.data.pricing import ModelPrice
from dashboard.data.tracelist import SEVERITY_RANK_SQL
from dashboard.data.usage import usage_ctes
from store.api import StoreReader


@dataclass(frozen=True)
class Window:
    start_ns: int | None = None
    end_ns: int | None = None

    def where(self, column: str) -> tuple[str, list[Any]]:
        """``column`` within the window (``column`` is a fixed name chosen by code)."""
        clauses, params = ["TRUE"], []
        if self.start_ns is not None:
            clauses.append(f"{column} >= ?")
            params.append(self.start_ns)
        if self.end_ns is not None:
            clauses.append(f"{column} <= ?")
            params.append(self.end_ns)
        return " AND ".join(clauses), params


@dataclass(frozen=True)
class Kpis:
    traces: int
    spans: int
    error_traces: int
    failing_traces: int  # with an error span or a finding
    findings: int
    tokens: int
    cost: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


def kpis(reader: StoreReader, window: Window, prices: Sequence[ModelPrice]) -> Kpis:
    tw, tp = window.where("t.start_ns")
    uw, up = usage_ctes(prices, *window.where("s.start_ns"), per="agent_model")
    row = reader.query(
        f"""WITH {uw}
SELECT (SELECT count(*) FROM traces t WHERE {tw}) AS traces,
       (SELECT coalesce(sum(span_count), 0) FROM traces t WHERE {tw}) AS spans,
       (SELECT count(*) FROM traces t WHERE {tw} AND error_count > 0) AS error_traces,
       (SELECT count(*) FROM traces t WHERE {tw} AND (error_count > 0
            OR EXISTS (SELECT 1 FROM findings f WHERE f.trace_id = t.trace_id))) AS failing_traces,
       (SELECT count(*) FROM findings f JOIN traces t USING (trace_id) WHERE {tw}) AS findings,
       (SELECT coalesce(sum(input_tokens + output_tokens), 0) FROM usage) AS tokens,
       (SELECT coalesce(sum(cost), 0) FROM usage) AS cost,
       (SELECT quantile_cont(duration_ns, 0.5) / 1e6 FROM traces t WHERE {tw}) AS p50,
       (SELECT quantile_cont(duration_ns, 0.95) / 1e6 FROM traces t WHERE {tw}) AS p95,
       (SELECT quantile_cont(duration_ns, 0.99) / 1e6 FROM traces t WHERE {tw}) AS p99""",
        [*up, *tp, *tp, *tp, *tp, *tp, *tp, *tp, *tp],
    ).to_pylist()[0]
    return Kpis(
        traces=int(row["traces"]),
        spans=int(row["spans"]),
        error_traces=int(row["error_traces"]),
        failing_traces=int(row["failing_traces"]),
        findings=int(row["findings"]),
        tokens=int(row["tokens"]),
        cost=float(row["cost"]),
        p50_ms=row["p50"],
        p95_ms=row["p95"],
        p99_ms=row["p99"],
    )


def bucket_ns_for(window: Window, lo: int | None, hi: int | None, buckets: int = 60) -> int:
    """A round bucket width giving about ``buckets`` buckets over the window (or the data's range)."""
    start = window.start_ns if window.start_ns is not None else lo
    end = window.end_ns if window.end_ns is not None else hi
    span = max((end or 0) - (start or 0), 1)
    for width_s in (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 6 * 3600, 86400, 7 * 86400):
        if span / (width_s * 1e9) <= buckets:
            return width_s * 1_000_000_000
    return 30 * 86400 * 1_000_000_000


def volume(reader: StoreReader, window: Window, bucket_ns: int) -> pa.Table:
    """Per time bucket: bucket_ns (start), traces, spans, error_spans, error_rate, p50_ms, p95_ms, p99_ms
    (trace latency percentiles of the traces starting in the bucket)."""
    sw, sp = window.where("start_ns")
    return reader.query(
        f"""WITH sb AS (SELECT (start_ns // ?) * ? AS bucket_ns, count(*) AS spans,
                   count(*) FILTER (WHERE status_code = 2) AS error_spans
            FROM spans WHERE {sw} GROUP BY 1),
tb AS (SELECT (start_ns // ?) * ? AS bucket_ns, count(*) AS traces,
              quantile_cont(duration_ns, 0.5) / 1e6 AS p50_ms,
              quantile_cont(duration_ns, 0.95) / 1e6 AS p95_ms,
              quantile_cont(duration_ns, 0.99) / 1e6 AS p99_ms
       FROM traces WHERE {sw} GROUP BY 1)
SELECT bucket_ns, coalesce(traces, 0) AS traces, coalesce(spans, 0) AS spans,
       coalesce(error_spans, 0) AS error_spans,
       coalesce(error_spans, 0) / greatest(coalesce(spans, 0), 1) AS error_rate, p50_ms, p95_ms, p99_ms
FROM sb FULL OUTER JOIN tb USING (bucket_ns) ORDER BY bucket_ns""",
        [bucket_ns, bucket_ns, *sp, bucket_ns, bucket_ns, *sp],
    )


def operation_latency(reader: StoreReader, window: Window) -> pa.Table:
    """Latency percentiles per GenAI operation: operation, calls, errors, p50_ms, p95_ms, p99_ms."""
    sw, sp = window.where("start_ns")
    return reader.query(
        f"""SELECT operation, count(*) AS calls, count(*) FILTER (WHERE status_code = 2) AS errors,
       quantile_cont(duration_ns, 0.5) / 1e6 AS p50_ms, quantile_cont(duration_ns, 0.95) / 1e6 AS p95_ms,
       quantile_cont(duration_ns, 0.99) / 1e6 AS p99_ms
FROM spans WHERE operation IS NOT NULL AND {sw} GROUP BY 1 ORDER BY calls DESC""",
        sp,
    )


def usage_by(reader: StoreReader, window: Window, prices: Sequence[ModelPrice]) -> pa.Table:
    """Tokens and cost per (agent, model): agent, model, calls, input_tokens, output_tokens,
    cache_read_tokens, cache_creation_tokens, reasoning_tokens, cost, priced (False if the model has
    no price)."""
    uw, up = usage_ctes(prices, *window.where("s.start_ns"), per="agent_model")
    return reader.query(
        f"""WITH {uw}, per AS (
SELECT coalesce(agent, '(no agent)') AS agent, coalesce(model, '(unknown)') AS model, sum(calls) AS calls,
       sum(input_tokens)::BIGINT AS input_tokens, sum(output_tokens)::BIGINT AS output_tokens,
       sum(cache_read_tokens)::BIGINT AS cache_read_tokens,
       sum(cache_creation_tokens)::BIGINT AS cache_creation_tokens,
       sum(reasoning_tokens)::BIGINT AS reasoning_tokens, coalesce(sum(cost), 0.0) AS cost,
       bool_and(cost IS NOT NULL) AS priced
FROM usage GROUP BY 1, 2)
SELECT * FROM per ORDER BY cost DESC, input_tokens + output_tokens DESC, agent, model""",
        up,
    )


def failure_modes(reader: StoreReader, window: Window) -> pa.Table:
    """MAST mode distribution: mode, findings, traces."""
    tw, tp = window.where("t.start_ns")
    return reader.query(
        f"""SELECT mode, count(*) AS findings, count(DISTINCT trace_id) AS traces FROM (
  SELECT f.trace_id, unnest(json_transform(coalesce(f.mast, '[]'), '["VARCHAR"]')) AS mode
  FROM findings f JOIN traces t USING (trace_id) WHERE {tw})
GROUP BY 1 ORDER BY 1""",
        tp,
    )


def findings_by_detector(reader: StoreReader, window: Window) -> pa.Table:
    """detector, kind, severity, findings, traces."""
    tw, tp = window.where("t.start_ns")
    return reader.query(
        f"""SELECT f.detector, f.kind, f.severity, count(*) AS findings, count(DISTINCT f.trace_id) AS traces
FROM findings f JOIN traces t USING (trace_id) WHERE {tw} GROUP BY 1, 2, 3 ORDER BY findings DESC, 1, 2""",
        tp,
    )


def top_findings(reader: StoreReader, window: Window, limit: int = 8) -> list[FindingView]:
    """The most severe, most recent finding of each (detector, kind) in the window, most severe
    first: one line per failure mode rather than ten of the same."""
    tw, tp = window.where("t.start_ns")
    rank = SEVERITY_RANK_SQL.replace("severity", "f.severity")
    table = reader.query(
        f"""WITH best AS (
  SELECT f.finding_id, f.trace_id, f.detector, f.kind, f.severity, f.origin_span_id, f.span_ids, f.agents,
         f.mast, f.summary, f.evidence, {rank} AS sev_rank, t.start_ns
  FROM findings f JOIN traces t USING (trace_id) WHERE {tw}
  QUALIFY row_number() OVER (PARTITION BY f.detector, f.kind ORDER BY {rank} DESC, t.start_ns DESC,
                                                                    f.finding_id) = 1)
SELECT * FROM best ORDER BY sev_rank DESC, start_ns DESC, finding_id LIMIT ?""",
        [*tp, limit],
    )
    return [FindingView.from_row(r) for r in table.to_pylist()]
