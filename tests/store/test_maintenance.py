"""The ``traces`` summary that maintenance passes keep, checked against a summary computed in Python
from the stored spans: random traces arriving in several batches, each followed by a pass (so
later passes read only part of a trace's spans, see ``store.maintenance.start_bound``)."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import ingest, schema
from store.api import IngestBatch
from store.database import open_database
from store.maintenance import run_maintenance

_AGENT_OPERATIONS = ("invoke_agent", "create_agent", "invoke_workflow")
_MAX = 2**63 - 1

_span = st.fixed_dictionaries(
    {
        "trace": st.integers(0, 2),
        "span": st.integers(1, 12),
        "parent": st.one_of(st.none(), st.integers(1, 14)),  # 13, 14: never arrive
        "start_ns": st.one_of(st.none(), st.integers(-5, 40)),
        "end_ns": st.one_of(st.none(), st.integers(0, 60)),
        "service_name": st.sampled_from([None, "svc-a", "svc-b", "svc-c"]),
        "agent_name": st.sampled_from([None, "planner", "coder"]),
        "request_model": st.sampled_from([None, "gpt-4o", "claude"]),
        "response_model": st.sampled_from([None, "gpt-4o-2024-08-06"]),
        "operation": st.sampled_from([None, "chat", "execute_tool", *_AGENT_OPERATIONS]),
        "status_code": st.sampled_from([0, 1, 2]),
        "input_tokens": st.one_of(st.none(), st.integers(0, 1000)),
        "output_tokens": st.one_of(st.none(), st.integers(0, 1000)),
    }
)


def _table(spans: list[dict[str, Any]]) -> pa.Table:
    data: dict[str, list[Any]] = {
        "trace_id": [f"{s['trace'] + 1:032x}" for s in spans],
        "span_id": [f"{s['span']:016x}" for s in spans],
        "parent_span_id": [None if s["parent"] is None else f"{s['parent']:016x}" for s in spans],
        "name": [f"op {s['span']}" for s in spans],
    }
    for column in (
        "start_ns",
        "end_ns",
        "service_name",
        "agent_name",
        "request_model",
        "response_model",
        "operation",
        "status_code",
        "input_tokens",
        "output_tokens",
    ):
        data[column] = [s[column] for s in spans]
    return pa.table({k: pa.array(v, schema.SPANS.field(k).type) for k, v in data.items()})


def _distinct(values: list[str | None]) -> str:
    return json.dumps(sorted({v for v in values if v is not None}), separators=(",", ":"))


def _model_tokens(rows: list[dict[str, Any]], column: str) -> int:
    return sum(r[column] or 0 for r in rows if (r["operation"] or "") not in _AGENT_OPERATIONS)


def _expected(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The summary of each trace of ``spans`` (the stored rows, one per span id)."""
    out: dict[str, dict[str, Any]] = {}
    for trace_id, group in itertools.groupby(
        sorted(spans, key=lambda s: s["trace_id"]), key=lambda s: s["trace_id"]
    ):
        rows = list(group)
        ids = {r["span_id"] for r in rows}
        root = min(
            rows,
            key=lambda r: (
                r["parent_span_id"] is not None,
                r["start_ns"] is None,
                r["start_ns"] or 0,
                r["span_id"],
            ),
        )

        starts = [r["start_ns"] for r in rows if r["start_ns"] is not None]
        ends = [r["end_ns"] for r in rows if r["end_ns"] is not None]
        start, end = (min(starts) if starts else None), (max(ends) if ends else None)
        out[trace_id] = {
            "root_span_id": root["span_id"],
            "root_span_name": root["name"],
            "root_service_name": root["service_name"],
            "services": _distinct([r["service_name"] for r in rows]),
            "agents": _distinct([r["resolved_agent_name"] for r in rows]),
            "models": _distinct([r["response_model"] or r["request_model"] for r in rows]),
            "start_ns": start,
            "end_ns": end,
            "duration_ns": None if start is None or end is None else min(_MAX, max(-_MAX - 1, end - start)),
            "span_count": len(rows),
            "error_count": sum(r["status_code"] == 2 for r in rows),
            "orphan_count": sum(r["parent_span_id"] not in ids for r in rows if r["parent_span_id"]),
            "input_tokens": _model_tokens(rows, "input_tokens"),
            "output_tokens": _model_tokens(rows, "output_tokens"),
        }
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(_span, min_size=1, max_size=14), min_size=1, max_size=4))
def test_the_summary_of_each_trace_is_computed_from_all_its_spans(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[dict[str, Any]]]
) -> None:
    path = tmp_path_factory.mktemp("maintenance") / "s.duckdb"
    con = open_database(path, threads=1)
    try:
        stored = ingest.load_stored_keys(con)
        positional = ingest.positional_tables(con)
        for spans in batches:
            batch = ingest.conform_batch(IngestBatch(spans=_table(spans)))
            with ingest.keyed_transaction(con, stored):
                ingest.insert_group(con, [batch], time.time_ns(), stored, positional=positional)
            run_maintenance(con, ingest.touched_traces(batch), ingest.earliest_start(batch))
        spans = con.sql(f"SELECT * FROM {schema.SPAN_ROWS_TABLE}").to_arrow_table().to_pylist()
        columns = [c for c in schema.TRACES.names if c not in ("trace_id", "last_ingested_ns")]
        summaries = con.sql(f"SELECT trace_id, {', '.join(columns)} FROM traces").to_arrow_table()
        got = {r.pop("trace_id"): r for r in summaries.to_pylist()}
    finally:
        con.close()
    want = _expected(spans)
    assert got.keys() == want.keys()
    for trace_id, summary in want.items():
        assert {k: v for k, v in got[trace_id].items() if summary[k] != v} == {}, (summary, spans)
