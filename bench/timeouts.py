"""Benchmark of the ``timeout_cascade`` family. Prints, from one run:

1. Nezha / Train-Ticket root-cause accuracy (service level, top-1 / top-3) over the labelled faults
   that ship with span files (``analysis.importers.nezha.evaluate_rca``). Caveat: the faults are
   injected latency (network delay, CPU contention), not always timeouts; this measures the
   root-cause scoring, not timeout recognition.
2. Detector throughput (spans/s) on synthetic multi-agent traces, 10^5 spans by default
   (``--spans 1000000`` for 10^6), one in ten traces holding a timeout cascade. The happens-before
   construction is the engine's and is excluded (the detector only reads link / hand-off edges).

    .venv/bin/python -m bench.timeouts [--spans N] [--nezha PATH]     (from the repository root)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from analysis.detectors.timeouts import TimeoutCascadeDetector
from analysis.importers import nezha
from analysis.model import Trace
from store import schema

NEZHA = Path(__file__).resolve().parents[2] / "shared" / "external" / "nezha_trainticket"
S = 1_000_000_000


class _Edges:
    def precedes(self, a: str, b: str) -> bool:
        return False

    def past(self, span_id: str) -> frozenset[str]:
        return frozenset()

    def order(self) -> list[str]:
        return []

    def edges(self) -> list[tuple[str, str, str]]:
        return []


def _trace(n: int, spans: int, cascade: bool) -> Trace:
    """An orchestrator calling worker agents, each making tool and model calls; with ``cascade``
    the last worker's last tool hangs and both it and the orchestrator time out."""
    tid = f"{n:032x}"
    rows: list[dict[str, Any]] = []
    t0 = 1_700_000_000 * S + n * 100 * S

    def add(i: int, parent: int | None, lo: float, hi: float, **cols: Any) -> None:
        row = {
            "trace_id": tid,
            "span_id": f"{n:08x}{i:08x}",
            "start_ns": t0 + int(lo * S),
            "end_ns": t0 + int(hi * S),
        }
        row["parent_span_id"] = None if parent is None else f"{n:08x}{parent:08x}"
        row["status_code"] = cols.pop("status", 0)
        rows.append({**row, "name": "span", "service_name": "bench", **cols})

    workers = max(1, spans // 20)
    end = 40.0 if cascade else 30.0
    add(0, None, 0, end, operation="invoke_agent", agent_name="orchestrator",
        **({"status": 2, "error_type": "TimeoutError"} if cascade else {}))  # fmt: skip
    i = 1
    for w in range(workers):
        lo = 1 + w * (25 / workers)
        hi = lo + 25 / workers
        last = cascade and w == workers - 1
        add(i, 0, lo, 38.0 if last else hi, operation="invoke_agent", agent_name=f"worker{w}",
            **({"status": 2, "error_type": "TimeoutError"} if last else {}))  # fmt: skip
        parent = i
        i += 1
        step = (hi - lo) / 20
        for k in range(19):
            a, b = lo + k * step, lo + (k + 1) * step
            if k % 2:
                msgs = f'[{{"role":"user","parts":[{{"type":"text","content":"{n}-{i}"}}]}}]'
                add(
                    i,
                    parent,
                    a,
                    b,
                    operation="chat",
                    request_model="m",
                    input_tokens=300,
                    input_messages=msgs,
                )
            else:
                hang = last and k == 18
                add(i, parent, a, 60.0 if hang else b, operation="execute_tool", tool_name="search",
                    tool_arguments=f'{{"q": "{k}"}}', tool_result=None if hang else "ok")  # fmt: skip
            i += 1
    frame = pl.from_arrow(pa.Table.from_pylist(rows, schema=schema.SPANS))
    events = pl.from_arrow(schema.SPAN_EVENTS.empty_table())
    links = pl.from_arrow(schema.SPAN_LINKS.empty_table())
    assert (
        isinstance(frame, pl.DataFrame)
        and isinstance(events, pl.DataFrame)
        and isinstance(links, pl.DataFrame)
    )
    agent_of = {r["span_id"]: r.get("agent_name") for r in rows}
    return Trace(tid, frame, events, links, agent_of, _Edges())


def bench_throughput(total: int, per_trace: int = 200) -> None:
    traces = [_trace(n, per_trace, cascade=n % 10 == 0) for n in range(max(1, total // per_trace))]
    spans = sum(t.spans.height for t in traces)
    detector = TimeoutCascadeDetector()
    started = time.perf_counter()
    findings = [f for t in traces for f in detector.detect(t)]
    took = time.perf_counter() - started
    cascades = sum(1 for f in findings if f.kind == "timeout_cascade")
    print(
        f"throughput: {spans} spans in {len(traces)} traces, {took:.2f} s → {spans / took:,.0f} spans/s;"
        f" {cascades} cascades found of {len(traces[::10])} planted, {len(findings)} findings"
    )


def bench_nezha(dataset: Path) -> None:
    if not dataset.exists():
        print(f"nezha: {dataset} not found, skipped")
        return
    started = time.perf_counter()
    results = nezha.evaluate_rca(dataset)
    took = time.perf_counter() - started
    for r in results:
        print(
            f"nezha: {time.strftime('%H:%M', time.gmtime(r.fault.time_ns // S))} {r.fault.service:28}"
            f" {r.fault.type:15} traces={r.traces:4} rank={r.rank} top3={list(r.ranking[:3])}"
        )
    n = len(results)
    top1 = sum(1 for r in results if r.rank == 1)
    top3 = sum(1 for r in results if r.rank is not None and r.rank <= 3)
    print(
        f"nezha: service-level top-1 {top1}/{n} = {top1 / n:.2f}, top-3 {top3}/{n} = {top3 / n:.2f}", end=""
    )
    print(f" ({took:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--nezha", type=Path, default=NEZHA)
    args = parser.parse_args()
    bench_nezha(args.nezha)
    bench_throughput(args.spans)


if __name__ == "__main__":
    main()
