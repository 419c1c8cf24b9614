"""Benchmark: ``causal_consistency`` on one trace holding 10^4 and 10^5 memory operations.

The workload: ``AGENTS`` agents run side by side under one planner, each a sequence of turns
(``invoke_agent`` spans) of memory operations on a shared store (``KEYS_PER_OP`` keys per
operation on average, 40 % writes). Every read returns what the store held when it started (a
linearizable execution), so the detector does all its work and reports (almost) nothing.

Prints, per size: the time to build the trace (engine's happens-before), the detector's wall and
CPU time, memory operations per CPU second, and the ratio of the two sizes' per-operation CPU costs
(1.0 = linear).

    .venv/bin/python bench/causal.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:1] = [str(ROOT)]  # bench/store_insert.py would shadow the store package

from analysis.detectors.causal import CausalConsistency  # noqa: E402
from analysis.load import build_trace  # noqa: E402
from store import schema  # noqa: E402

AGENTS = 8
OPS_PER_TURN = 25
KEYS_PER_OP = 0.05  # one key per 20 operations
BASE_NS = 1_750_000_000_000_000_000
MS = 1_000_000


def workload(n_ops: int, seed: int = 7) -> tuple[str, pl.DataFrame]:
    rng = random.Random(seed)
    trace_id = format(n_ops, "032x")
    ids = iter(range(1, 10**9))
    rows: list[dict[str, Any]] = []

    def span(name: str, start: int, end: int, parent: str | None, **cols: Any) -> str:
        sid = format(next(ids), "016x")
        row: dict[str, Any] = {f.name: None for f in schema.SPANS}
        row.update(
            trace_id=trace_id,
            span_id=sid,
            parent_span_id=parent,
            name=name,
            kind=1,
            start_ns=start,
            end_ns=end,
            duration_ns=end - start,
            status_code=0,
            service_name="agents",
            attributes="{}",
        )
        row.update(cols)
        rows.append(row)
        return sid

    keys = [f"k{i}" for i in range(max(1, int(n_ops * KEYS_PER_OP)))]
    per_agent = n_ops // AGENTS
    total_ms = per_agent * 2 + 100
    root = span(
        "invoke_agent planner",
        BASE_NS,
        BASE_NS + total_ms * MS,
        None,
        operation="invoke_agent",
        agent_name="planner",
    )
    # (start, agent, turn span) per operation; the store is simulated in start order.
    planned: list[tuple[int, str, str]] = []
    for a in range(AGENTS):
        t = 10 * MS + a * 100_000
        for turn in range(0, per_agent, OPS_PER_TURN):
            count = min(OPS_PER_TURN, per_agent - turn)
            turn_span = span(
                f"invoke_agent agent{a}",
                BASE_NS + t,  # the same clock as its memory children below
                BASE_NS + t + count * 2 * MS,
                root,
                operation="invoke_agent",
                agent_name=f"agent{a}",
            )
            for i in range(count):
                planned.append((BASE_NS + t + i * 2 * MS + 1000, f"agent{a}", turn_span))
            t += count * 2 * MS
    planned.sort()
    store: dict[str, tuple[int, str]] = {}
    for start, agent, parent in planned:
        key = rng.choice(keys)
        common = dict(memory_store_id="board", memory_record_id=key, agent_name=agent, service_name="memory")
        if rng.random() < 0.4 or key not in store:
            version = store.get(key, (0, ""))[0] + 1
            value = f"{agent}:{version}"
            store[key] = (version, value)
            op = "create_memory" if version == 1 else "update_memory"
            span(
                f"{op} board",
                start,
                start + MS,
                parent,
                operation=op,
                memory_version=str(version),
                memory_records=orjson.dumps([{"content": value}]).decode(),
                **common,
            )
        else:
            version, value = store[key]
            span(
                "search_memory board",
                start,
                start + MS,
                parent,
                operation="search_memory",
                memory_version=str(version),
                memory_records=orjson.dumps([{"content": value}]).decode(),
                **common,
            )
    frame = pl.from_arrow(pa.Table.from_pylist(rows, schema=schema.SPANS))
    assert isinstance(frame, pl.DataFrame)
    return trace_id, frame.sort("start_ns")


def run(n_ops: int) -> float:
    trace_id, spans = workload(n_ops)
    events = pl.from_arrow(schema.SPAN_EVENTS.empty_table())
    links = pl.from_arrow(schema.SPAN_LINKS.empty_table())
    assert isinstance(events, pl.DataFrame) and isinstance(links, pl.DataFrame)
    t0 = time.perf_counter()
    trace = build_trace(trace_id, spans, events, links)
    t1, c1 = time.perf_counter(), time.process_time()
    findings = CausalConsistency().detect(trace)
    t2, c2 = time.perf_counter(), time.process_time()
    # CPU time is what the ratio uses: wall time on a shared 2-core machine mostly measures the
    # neighbours.
    per_op = (c2 - c1) / n_ops
    print(
        f"{n_ops:>8} memory ops, {spans.height:>8} spans: trace build {t1 - t0:6.2f} s; "
        f"detect {t2 - t1:6.2f} s wall, "
        f"{c2 - c1:6.2f} s CPU = {n_ops / (c2 - c1):>8,.0f} ops/s (CPU), {per_op * 1e6:5.1f} us/op; "
        f"{len(findings)} findings"
    )
    return per_op


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    costs = [run(n) for n in args.sizes]
    for (a, ca), (b, cb) in zip(
        zip(args.sizes, costs, strict=True), zip(args.sizes[1:], costs[1:], strict=True), strict=False
    ):
        print(f"per-operation cost ratio {b}/{a}: {cb / ca:.2f} (1.0 = linear)")


if __name__ == "__main__":
    main()
