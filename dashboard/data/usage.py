"""Token usage and cost in SQL, shared by the overview, the trace list and the trace page.

``usage_ctes`` yields CTEs that end in ``usage``: token sums and their cache-aware cost (NULL when
the model has no price; see ``dashboard.data.pricing`` for the formula and the matching rule,
mirrored here in SQL), grouped ``per`` span, trace or (agent, model). Spans are summed per group
and model *before* prices are matched, so the string work of matching runs on a few rows, not on
every span (the cost formula is linear; the clamp of uncached input at zero applies per group).

Spans of the aggregate operations (``invoke_agent``, ``create_agent``, ``invoke_workflow``) are left
out: instrumentations that put usage on them report the sum of their model calls, so counting them
too would double-count. (``store.maintenance`` sums ``traces.input_tokens`` by the same rule.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from dashboard.data.pricing import ModelPrice
from store.api import StoreReader

AGGREGATE_OPERATIONS = ("invoke_agent", "create_agent", "invoke_workflow")

Per = Literal["span", "trace", "agent_model"]
#: the group keys of each grouping (fixed SQL, never user text)
_KEYS: dict[str, tuple[str, ...]] = {
    "span": ("s.trace_id", "s.span_id", "s.resolved_agent_name AS agent"),
    "trace": ("s.trace_id",),
    "agent_model": ("s.resolved_agent_name AS agent",),
}


def pricing_values(prices: Sequence[ModelPrice]) -> tuple[str, list[Any]]:
    """``pricing(pkey, p_in, p_out, p_cr, p_cw)`` as a CTE of parameters (one row per price)."""
    if not prices:
        return (
            "pricing(pkey, p_in, p_out, p_cr, p_cw) AS (SELECT NULL::VARCHAR, 0.0, 0.0, NULL, NULL LIMIT 0)",
            [],
        )
    row = "(?::VARCHAR, ?::DOUBLE, ?::DOUBLE, ?::DOUBLE, ?::DOUBLE)"
    params: list[Any] = []
    for p in prices:
        params += [p.model, p.input, p.output, p.cache_read, p.cache_write]
    return f"pricing(pkey, p_in, p_out, p_cr, p_cw) AS (VALUES {', '.join([row] * len(prices))})", params


def usage_ctes(
    prices: Sequence[ModelPrice], span_where: str = "TRUE", span_params: Sequence[Any] = (), per: Per = "span"
) -> tuple[str, list[Any]]:
    """CTE text (to follow ``WITH``; earlier CTEs may precede it with a comma) and its parameters.

    ``usage`` has the group keys of ``per`` (trace_id, span_id, agent as applicable), ``model``,
    ``calls`` and the sums input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,
    reasoning_tokens, and ``cost``. ``span_where`` is a fixed SQL fragment over alias ``s`` (spans)
    chosen by the caller's code, never user text; values go in ``span_params``."""
    pricing_sql, params = pricing_values(prices)
    keys = ", ".join(_KEYS[per])
    group = ", ".join(str(i + 1) for i in range(len(_KEYS[per]) + 1))
    sql = f"""{pricing_sql},
tok AS (
  SELECT {keys}, coalesce(s.response_model, s.request_model) AS model, count(*) AS calls,
         sum(coalesce(s.input_tokens, 0)) AS input_tokens, sum(coalesce(s.output_tokens, 0)) AS output_tokens,
         sum(coalesce(s.cache_read_tokens, 0)) AS cache_read_tokens,
         sum(coalesce(s.cache_creation_tokens, 0)) AS cache_creation_tokens,
         sum(coalesce(s.reasoning_tokens, 0)) AS reasoning_tokens
  FROM spans s
  WHERE (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)
    AND coalesce(s.operation, '') NOT IN ('invoke_agent', 'create_agent', 'invoke_workflow')
    AND ({span_where})
  GROUP BY {group}
),
models AS (SELECT DISTINCT model, lower(regexp_replace(coalesce(model, ''), '^.*/', '')) AS mkey FROM tok),
mprice AS (
  SELECT m.model, p.p_in, p.p_out, p.p_cr, p.p_cw
  FROM models m JOIN pricing p ON m.mkey = p.pkey OR starts_with(m.mkey, p.pkey || '-')
  QUALIFY row_number() OVER (PARTITION BY m.model ORDER BY length(p.pkey) DESC) = 1
),
usage AS (
  SELECT tok.*,
         (greatest(input_tokens - cache_read_tokens - cache_creation_tokens, 0) * p_in
          + cache_read_tokens * coalesce(p_cr, p_in)
          + cache_creation_tokens * coalesce(p_cw, p_in)
          + output_tokens * p_out) / 1e6 AS cost
  FROM tok LEFT JOIN mprice ON tok.model IS NOT DISTINCT FROM mprice.model
)"""
    return sql, params + list(span_params)


def span_costs(reader: StoreReader, trace_id: str, prices: Sequence[ModelPrice]) -> dict[str, float | None]:
    """Cost of every token-reporting span of one trace, by span id (None: model without a price)."""
    sql, params = usage_ctes(prices, "s.trace_id = ?", [trace_id], per="span")
    table = reader.query(f"WITH {sql} SELECT span_id, cost FROM usage", params)
    return dict(zip(table.column("span_id").to_pylist(), table.column("cost").to_pylist(), strict=True))
