"""Analysis throughput: spans/s of ``analysis.engine.analyze`` (load from DuckDB, happens-before,
every registered detector, MAST, attribution, findings written back) on generated multi-agent
traces.

    python bench/analysis_throughput.py                  # 10^5 spans
    python bench/analysis_throughput.py --spans 1000000  # 10^6 spans
    python bench/analysis_throughput.py --semantic-grounding  # with the optional semantic grounding

Traces look like real GenAI ones: an orchestrator hands off to three agents; each agent runs
ReAct-style LLM calls (growing ~600-character-per-turn histories, tool calls) and a memory
write. Prints spans/s for the whole analysis and, separately, for trace loading +
happens-before alone.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis import engine, registry
from analysis.load import load_traces
from analysis.options import AnalysisOptions
from store import schema
from store.api import IngestBatch, StoreReader
from store.writer import DuckStoreWriter

MS = 1_000_000
FILLER = (
    "The quarterly numbers show revenue of 4.2 billion dollars, up 12 percent year over year, with "
    "warehouse automation contributing most of the growth while service contracts stayed flat. "
) * 3


def _msgs(role: str, text: str) -> str:
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}])


class Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.rows: list[dict[str, Any]] = []
        self.n = 0

    def span(self, tid: str, parent: str | None, name: str, start: int, end: int, **cols: Any) -> str:
        self.n += 1
        sid = format(self.n, "016x")
        row: dict[str, Any] = dict.fromkeys(schema.SPANS.names)
        row.update(
            trace_id=tid,
            span_id=sid,
            parent_span_id=parent,
            name=name,
            kind=1,
            start_ns=start,
            end_ns=end,
            duration_ns=end - start,
            status_code=0,
            service_name="bench",
            attributes="{}",
        )
        row.update(cols)
        self.rows.append(row)
        return sid

    def trace(self, index: int, t0: int) -> None:
        tid = format(index + 1, "032x")
        t = t0
        root = self.span(
            tid,
            None,
            "invoke_agent orchestrator",
            t,
            t + 60_000 * MS,
            operation="invoke_agent",
            agent_name="orchestrator",
        )
        task = f"Prepare brief #{index} and email it to cfo@example.com. " + FILLER
        for agent in ("researcher", "writer", "reviewer"):
            t += 5 * MS
            self.span(
                tid,
                root,
                f"execute_tool transfer_to_{agent}",
                t,
                t + MS,
                operation="execute_tool",
                tool_name=f"transfer_to_{agent}",
                tool_arguments="{}",
            )
            t += 2 * MS
            inv = self.span(
                tid,
                root,
                f"invoke_agent {agent}",
                t,
                t + 4 * 1_130 * MS + 20 * MS,
                operation="invoke_agent",
                agent_name=agent,
            )
            history: list[dict[str, Any]] = [{"role": "user", "parts": [{"type": "text", "content": task}]}]
            for step in range(4):
                t += 10 * MS
                tool = "lookup" if step < 3 else ("send_email" if agent == "writer" else "lookup")
                q = f"{agent}-{step}" if self.rng.random() > 0.05 else "same"
                call = {"type": "tool_call", "id": f"c{step}", "name": tool, "arguments": {"q": q}}
                thought = {"type": "text", "content": f"Step {step} of {agent}: I will use {tool} for {q}."}
                answer = {"role": "assistant", "parts": [thought, call], "finish_reason": "tool_call"}
                self.span(
                    tid,
                    inv,
                    "chat gpt-4o",
                    t,
                    t + 800 * MS,
                    operation="chat",
                    provider="openai",
                    request_model="gpt-4o",
                    input_messages=json.dumps(history),
                    output_messages=json.dumps([answer]),
                    input_tokens=900,
                    output_tokens=120,
                )
                t += 810 * MS
                result = {"value": step, "note": FILLER[:200]}
                self.span(
                    tid,
                    inv,
                    f"execute_tool {tool}",
                    t,
                    t + 300 * MS,
                    operation="execute_tool",
                    tool_name=tool,
                    tool_call_id=f"c{step}",
                    tool_arguments=json.dumps({"q": q}),
                    tool_result=json.dumps(result),
                )
                t += 310 * MS
                history += [
                    answer,
                    {
                        "role": "tool",
                        "parts": [{"type": "tool_call_response", "id": f"c{step}", "response": result}],
                    },
                ]
            self.span(
                tid,
                inv,
                "update_memory",
                t,
                t + 5 * MS,
                operation="update_memory",
                memory_store_id="kv",
                memory_record_id=f"{agent}-notes",
                memory_records='{"v": 1}',
                memory_version="1",
            )
            t += 10 * MS
            inv_row = next(r for r in reversed(self.rows) if r["span_id"] == inv)
            inv_row["end_ns"], inv_row["duration_ns"] = t, t - inv_row["start_ns"]  # returns after its steps
            t += 5 * MS
        self.span(
            tid,
            root,
            "chat gpt-4o",
            t,
            t + 500 * MS,
            operation="chat",
            input_messages=_msgs("user", task),
            output_messages=_msgs("assistant", "Brief sent. " + FILLER[:200]),
        )

    def take(self) -> pa.Table:
        table = pa.Table.from_pylist(self.rows, schema=schema.SPANS)
        self.rows = []
        return table


def breakdown(
    reader: StoreReader, ids: list[str], options: AnalysisOptions
) -> tuple[int, float, dict[str, float]]:
    """Spans, seconds to load + build happens-before, and seconds per detector (CPU, one pass)."""
    t0 = time.process_time()
    traces = list(load_traces(reader, ids))
    for t in traces:
        t.hb.precedes(t.spans["span_id"][0], t.spans["span_id"][-1])  # reachability is lazy: force it
    t_load = time.process_time() - t0
    per: dict[str, float] = {}
    for d in registry.detectors(options):
        t0 = time.process_time()
        for t in traces:
            d.detect(t)
        per[d.name] = per.get(d.name, 0.0) + time.process_time() - t0
    for w in registry.window_detectors():
        t0 = time.process_time()
        w.detect_window(traces)
        per[w.name + " (window)"] = time.process_time() - t0
    return sum(t.spans.height for t in traces), t_load, per


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=100_000)
    ap.add_argument("--db", type=Path, default=None, help="keep the store here (default: a temp dir)")
    ap.add_argument(
        "--breakdown",
        type=int,
        default=10_000,
        metavar="N",
        help="also time each detector on the first N spans' traces (0: skip)",
    )
    ap.add_argument(
        "--semantic-grounding", action="store_true", help="with the optional semantic grounding on"
    )
    args = ap.parse_args()
    options = AnalysisOptions(semantic_grounding=args.semantic_grounding).validate()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.duckdb"
        gen = Gen(7)
        t_gen = time.perf_counter()
        with DuckStoreWriter(db) as writer:
            i = 0
            while gen.n < args.spans:
                gen.trace(i, 1_760_000_000_000 * MS + i * 70_000 * MS)
                i += 1
                if len(gen.rows) >= 5000:
                    writer.write(IngestBatch(spans=gen.take()))
            if gen.rows:
                writer.write(IngestBatch(spans=gen.take()))
            writer.sync()
            stored = time.perf_counter() - t_gen
            reader = writer.reader()
            ids = [
                str(x)
                for x in reader.query("SELECT trace_id FROM traces ORDER BY start_ns").column(0).to_pylist()
            ]
            print(f"generated+stored {gen.n} spans in {i} traces ({stored:.1f} s)", flush=True)
            if args.breakdown:
                per_trace = max(1, gen.n // max(1, i))
                n, t_load, per = breakdown(reader, ids[: max(1, args.breakdown // per_trace)], options)
                print(f"breakdown on {n} spans (CPU seconds → spans/s):", flush=True)
                print(f"  load + happens-before: {t_load:.2f} s → {n / t_load:,.0f} spans/s")
                for name, sec in sorted(per.items(), key=lambda x: -x[1]):
                    print(f"  {name}: {sec:.2f} s → {n / max(sec, 1e-9):,.0f} spans/s", flush=True)
            t0, c0 = time.perf_counter(), time.process_time()
            stats = engine.analyze(reader, writer, options=options)
            t_all, c_all = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"full analysis of {stats.spans} spans: {stats.spans / t_all:,.0f} spans/s wall, "
        f"{stats.spans / c_all:,.0f} spans/s CPU ({t_all:.1f} s wall, {c_all:.1f} s CPU; "
        f"{stats.findings} findings, "
        f"{stats.failed_traces} failed traces, detector errors {dict(stats.detector_errors) or 0})"
    )


if __name__ == "__main__":
    main()
