"""Benchmark: the dashboard's data preparation, measured without a browser.

Two workloads, written through the real store writer into a temporary DuckDB file and read back
through ``store.reader.open_reader`` (the dashboard's only data path):

1. one trace of ``--trace-spans`` spans (default 30,000: agents of 50 calls each, chat spans with
   ~600-character messages, tool spans): the trace page's preparation — skeleton query, tree,
   one waterfall page and its Plotly figure, the whole reasoning chain, one page of steps with
   their content rendered to HTML, the agent graph;
2. ``--list-spans`` spans in traces of 50 (default 10^6): one trace-list page per sort key, a
   filtered page, the filter options and the overview's aggregates.

Prints milliseconds per stage and spans/s for the trace page as a whole.

    .venv/bin/python bench/dashboard.py [--trace-spans 30000] [--list-spans 1000000]
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:1] = [str(ROOT)]  # this file would shadow the dashboard package (and bench/store.py the store)

from dashboard.data import overview, trace, tracelist  # noqa: E402
from dashboard.data.chain import chain_index  # noqa: E402
from dashboard.data.findings import trace_findings  # noqa: E402
from dashboard.data.graph import agent_graph  # noqa: E402
from dashboard.data.pricing import load_pricing  # noqa: E402
from dashboard.render.charts import agent_colors, waterfall_figure  # noqa: E402
from dashboard.render.steps import step_html  # noqa: E402
from store.api import IngestBatch  # noqa: E402
from store.reader import open_reader  # noqa: E402
from store.writer import DuckStoreWriter  # noqa: E402

T = TypeVar("T")
BASE_NS = 1_750_000_000_000_000_000
MS = 1_000_000
TEXT = ("The quarterly report lists revenue of 4.2 million EUR, up 12% on last year; " * 8)[:600]
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet-20241022", "gemini-2.5-flash")


def _messages(role: str, text: str) -> str:
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}])


def trace_columns(
    trace_id: str, n: int, start_ns: int, content: bool, agents: int = 12
) -> dict[str, list[Any]]:
    """``n`` spans of one trace: a root agent, sub-agent turns of 50 calls, chat and tool spans."""
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "trace_id",
            "span_id",
            "parent_span_id",
            "name",
            "start_ns",
            "end_ns",
            "duration_ns",
            "status_code",
            "service_name",
            "operation",
            "agent_name",
            "request_model",
            "tool_name",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "input_messages",
            "output_messages",
            "tool_arguments",
            "tool_result",
        )
    }

    def add(span_id: str, parent: str | None, name: str, t0: int, dur: int, **kw: Any) -> None:
        row = {
            "trace_id": trace_id,
            "span_id": span_id,
            "parent_span_id": parent,
            "name": name,
            "start_ns": t0,
            "end_ns": t0 + dur,
            "duration_ns": dur,
            "status_code": kw.pop("status_code", 1),
            "service_name": "bench-agents",
            **kw,
        }
        for k in cols:
            cols[k].append(row.get(k))

    prefix = trace_id[:8]
    root = f"{prefix}{0:08x}"
    add(root, None, "invoke_agent root", start_ns, n * MS, operation="invoke_agent", agent_name="root")
    turn = root
    for i in range(1, n):
        sid = f"{prefix}{i:08x}"
        t0 = start_ns + i * MS
        if i % 50 == 1:
            name = f"agent{(i // 50) % agents}"
            add(sid, root, f"invoke_agent {name}", t0, 50 * MS, operation="invoke_agent", agent_name=name)
            turn = sid
        elif i % 2:
            model = MODELS[i % len(MODELS)]
            add(
                sid,
                turn,
                f"chat {model}",
                t0,
                MS // 2,
                operation="chat",
                request_model=model,
                input_tokens=800,
                output_tokens=120,
                cache_read_tokens=400,
                status_code=2 if i % 997 == 0 else 1,
                input_messages=_messages("user", TEXT) if content else None,
                output_messages=_messages("assistant", TEXT) if content else None,
            )
        else:
            add(
                sid,
                turn,
                "execute_tool lookup",
                t0,
                MS // 4,
                operation="execute_tool",
                tool_name="lookup",
                tool_arguments=json.dumps({"query": f"item {i}"}) if content else None,
                tool_result=TEXT[:200] if content else None,
            )
    return cols


def write(writer: DuckStoreWriter, cols: dict[str, list[Any]], batch: int = 5000) -> None:
    table = pa.Table.from_pydict(cols)
    for off in range(0, table.num_rows, batch):
        writer.write(IngestBatch(spans=table.slice(off, batch)))


def timed(label: str, fn: Callable[[], T], results: dict[str, float]) -> T:
    t0 = time.perf_counter()
    out = fn()
    results[label] = (time.perf_counter() - t0) * 1000
    print(f"  {label:<44} {results[label]:>9.1f} ms", flush=True)
    return out


def bench_trace(db: Path, n: int) -> None:
    trace_id = "ab" * 16
    t0 = time.perf_counter()
    with DuckStoreWriter(db) as writer:
        write(writer, trace_columns(trace_id, n, BASE_NS, content=True))
        writer.sync()
    print(f"wrote a {n:,}-span trace in {time.perf_counter() - t0:.1f} s")
    reader = open_reader(db)
    waterfall_figure(
        trace.waterfall_rows(trace.build_tree("0" * 32, trace.load_skeleton(reader, "0" * 32)))[0], {}
    )
    r: dict[str, float] = {}  # (the line above loads plotly's validators: a one-off per process)
    print(f"trace page, {n:,} spans:")
    skeleton = timed("skeleton query", lambda: trace.load_skeleton(reader, trace_id), r)
    tree = timed("tree build (DFS order, depths)", lambda: trace.build_tree(trace_id, skeleton), r)
    rows, _ = timed("waterfall page (200 rows)", lambda: trace.waterfall_rows(tree, 0, 200), r)
    colors = agent_colors([a for a in tree.columns["resolved_agent_name"] if a])
    timed("waterfall figure", lambda: waterfall_figure(rows, colors).to_json(), r)
    findings = timed("findings query", lambda: trace_findings(reader, trace_id), r)
    index = timed("reasoning chain index (all steps)", lambda: chain_index(tree, findings), r)
    page = timed("reasoning chain page (25 steps)", lambda: index.steps(index.positions()[:25]), r)
    content = timed(
        "content of 25 steps", lambda: trace.load_content(reader, trace_id, [s.span_id for s in page]), r
    )
    timed("25 steps to HTML", lambda: [step_html(s, content.get(s.span_id, {}), []) for s in page], r)
    links = timed("links query", lambda: trace.load_links(reader, trace_id), r)
    timed("agent graph", lambda: agent_graph(tree, links), r)
    total = sum(r.values())
    print(f"  {'total':<44} {total:>9.1f} ms  ->  {n / (total / 1000):,.0f} spans/s ({len(index):,} steps)")
    deep = timed("waterfall page at depth <= 1", lambda: trace.waterfall_rows(tree, 0, 200, max_depth=1), r)
    print(f"  (collapsed to depth 1: {deep[1]:,} rows)")
    reader.close()


def bench_list(db: Path, n: int, per_trace: int = 50) -> None:
    traces = n // per_trace
    t0 = time.perf_counter()
    if db.exists():  # --keep-list-db from an earlier run: measure the queries only
        print(f"reusing {db}")
    else:
        _write_list(db, traces, per_trace)
        print(f"wrote {n:,} spans in {traces:,} traces in {time.perf_counter() - t0:.1f} s")
    _measure_list(db, n, traces)


def _write_list(db: Path, traces: int, per_trace: int) -> None:
    with DuckStoreWriter(db) as writer:
        for i in range(traces):
            if i % 100 == 0:
                chunk: dict[str, list[Any]] = {}
            cols = trace_columns(
                f"{i:08x}" + "cd" * 12, per_trace, BASE_NS + i * 10 * MS, content=False, agents=4
            )
            for k, v in cols.items():
                chunk.setdefault(k, []).extend(v)
            if i % 100 == 99 or i == traces - 1:
                write(writer, chunk)
        writer.sync()


def _measure_list(db: Path, n: int, traces: int) -> None:
    reader = open_reader(db)
    prices = load_pricing(None)
    r: dict[str, float] = {}
    print(f"trace list and overview, {n:,} spans:")
    for sort in tracelist.SORTS:
        page = functools.partial(tracelist.list_traces, reader, tracelist.TraceFilter(), prices, sort)
        timed(f"trace list page, sort by {sort}", page, r)
    timed(
        "trace list, agent + status=error filter",
        lambda: tracelist.list_traces(
            reader, tracelist.TraceFilter(agent="agent1", status="error"), prices, "cost"
        ),
        r,
    )
    timed(
        "trace list, free text",
        lambda: tracelist.list_traces(reader, tracelist.TraceFilter(text="lookup"), prices, "duration"),
        r,
    )
    timed("filter options", lambda: tracelist.filter_options(reader), r)
    w = overview.Window()
    timed("overview KPIs", lambda: overview.kpis(reader, w, prices), r)
    timed(
        "overview volume",
        lambda: overview.volume(reader, w, overview.bucket_ns_for(w, BASE_NS, BASE_NS + traces * 10 * MS)),
        r,
    )
    timed("overview latency by operation", lambda: overview.operation_latency(reader, w), r)
    timed("overview usage by agent/model", lambda: overview.usage_by(reader, w, prices), r)
    reader.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--trace-spans", type=int, default=30_000)
    ap.add_argument("--list-spans", type=int, default=1_000_000)
    ap.add_argument("--keep-list-db", type=Path, help="write the list workload here (reused if it exists)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.trace_spans:
            bench_trace(Path(tmp) / "trace.duckdb", args.trace_spans)
        if args.list_spans:
            bench_list(args.keep_list_db or Path(tmp) / "list.duckdb", args.list_spans)


if __name__ == "__main__":
    main()
