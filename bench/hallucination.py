"""Measure ``hallucination_propagation``: precision / recall / origin accuracy over the labelled
``sample_traces/`` corpus (through the real pipeline: OTLP/JSON → collector decode → DuckDB →
``analysis.load``), TRAIL's hallucination-labelled spans, and the detector's throughput.

    PYTHONPATH=. .venv/bin/python bench/hallucination.py [--trail] [--verbose] [--semantic-grounding]

``--semantic-grounding`` measures the detector with its optional semantic grounding on (the
``semantic`` extra must be installed).

Numbers, not assertions: the tests assert behaviour, this prints what it measured in one run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# run as a script from bench/: the project, not bench/'s own modules (bench/store_insert.py), comes first
sys.path[:1] = [str(ROOT)]

from analysis.detectors.hallucination import HallucinationPropagation  # noqa: E402
from analysis.evaluation import evaluate, format_table, load_labels  # noqa: E402
from analysis.load import load_traces, trace_ids_since  # noqa: E402
from analysis.model import Finding, Trace  # noqa: E402
from faultlens.commands.ingest import ingest_files  # noqa: E402
from store.api import IngestBatch  # noqa: E402
from store.writer import DuckStoreWriter  # noqa: E402

DETECTOR = HallucinationPropagation()


def _store(writer: DuckStoreWriter, batch: IngestBatch) -> None:
    if batch.item_count:
        writer.write(batch)


def load_corpus(db: Path) -> list[Trace]:
    paths = sorted((ROOT / "sample_traces" / "corpus").glob("*.json*"))
    with DuckStoreWriter(db) as writer:
        ingest_files(lambda _req, batch: _store(writer, batch), paths)
        writer.sync()
        reader = writer.reader()
        return list(load_traces(reader, trace_ids_since(reader)))


def corpus(verbose: bool, detector: HallucinationPropagation = DETECTOR) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        traces = load_corpus(Path(tmp) / "corpus.duckdb")
    spans = sum(t.spans.height for t in traces)
    t0 = time.perf_counter()
    findings: dict[str, list[Finding]] = {t.trace_id: detector.detect(t) for t in traces}
    elapsed = time.perf_counter() - t0
    scenarios = load_labels(ROOT / "sample_traces" / "labels.json")
    mine = [s for s in scenarios if s.clean or any(e.detector == detector.name for e in s.expected)]
    only = {k: [f for f in v if f.detector == detector.name] for k, v in findings.items()}
    ev = evaluate(mine, only)
    print(f"sample_traces: {len(traces)} traces, {spans} spans, detector {spans / elapsed:,.0f} spans/s")
    print(format_table(ev))
    if verbose:
        _explain(mine, only)


def _explain(scenarios: Sequence[object], findings: dict[str, list[Finding]]) -> None:
    for sc in scenarios:
        tid = sc.trace_id  # type: ignore[attr-defined]
        expected = sc.expected  # type: ignore[attr-defined]
        found = findings.get(tid, [])
        name = f"{sc.scenario}/{sc.variant}"  # type: ignore[attr-defined]
        exp = {(e.kind, e.origin_span_id) for e in expected}
        got = {(f.kind, f.origin_span_id) for f in found}
        if exp != got:
            print(f"- {name} {tid}: expected {sorted(exp)}")
            for f in found:
                print(f"    got {f.kind} {f.origin_span_id} {f.severity}: {f.summary}")


def synthetic_trace(n_spans: int, agents: int = 10) -> Trace:
    """One trace of about ``n_spans`` spans: agents taking turns (tool call, then a model call
    restating the result with its own history), and one fabricated figure passed on late."""
    import orjson
    import polars as pl
    import pyarrow as pa

    from analysis.load import build_trace
    from store import schema

    rows: list[dict[str, object]] = []
    t0 = 1_750_000_000 * 10**9

    def add(i: int, parent: str | None, start: int, end: int, **cols: object) -> str:
        sid = f"{i:016x}"
        rows.append(
            {
                "trace_id": "ab" * 16,
                "span_id": sid,
                "parent_span_id": parent,
                "name": str(cols.get("operation")),
                "kind": 1,
                "start_ns": t0 + start,
                "end_ns": t0 + end,
                "duration_ns": end - start,
                **cols,
            }
        )
        return sid

    def msgs(role: str, text: str) -> str:
        return orjson.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}]).decode()

    root = add(0, None, 0, 10**12, operation="invoke_agent", agent_name="coordinator")

    # each agent is told the accounts it looks after: the ids it then looks up are grounded
    def accounts(a: int) -> str:
        ids = (f"ACC-{i:05d}" for i in range(n_spans + 8) if (i // 2) % agents == a)
        return msgs("user", "Accounts: " + ", ".join(ids))

    agent_ids = [
        add(
            1 + a,
            root,
            1,
            10**12 - 1,
            operation="invoke_agent",
            agent_name=f"agent{a}",
            input_messages=accounts(a),
        )
        for a in range(agents)
    ]
    i, t = agents + 1, 10
    history: dict[int, list[str]] = {a: [] for a in range(agents)}
    while i < n_spans:
        a = (i // 2) % agents
        result = f'{{"account": "ACC-{i:05d}", "balance_usd": {i * 3.25:.2f}, "owner": "Owner {i % 97}"}}'
        add(
            i,
            agent_ids[a],
            t,
            t + 5,
            operation="execute_tool",
            tool_name="get_account",
            tool_arguments=f'{{"account": "ACC-{i:05d}"}}',
            tool_result=result,
        )
        said = f"Account ACC-{i:05d} holds ${i * 3.25:,.2f} as of 2025-06-15."
        if n_spans // 2 <= i < n_spans // 2 + 2:
            said += " Its credit limit is $48,250.00."  # fabricated
        prompt = orjson.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": h}]} for h in history[a]]
            + [{"role": "tool", "parts": [{"type": "text", "content": result}]}]
        ).decode()
        history[a] = (history[a] + [said])[-10:]
        add(
            i + 1,
            agent_ids[a],
            t + 6,
            t + 9,
            operation="chat",
            input_messages=prompt,
            output_messages=msgs("assistant", said),
        )
        if n_spans // 2 <= i < n_spans // 2 + 2:
            nxt = agent_ids[(a + 1) % agents]
            add(
                i + 2,
                nxt,
                t + 10,
                t + 11,
                operation="chat",
                input_messages=msgs("user", said),
                output_messages=msgs("assistant", "ok"),
            )
            i += 1
        i, t = i + 2, t + 12
    table = pa.Table.from_pylist(rows, schema=schema.SPANS)
    spans = pl.from_arrow(table)
    empty_events = pl.from_arrow(schema.SPAN_EVENTS.empty_table())
    empty_links = pl.from_arrow(schema.SPAN_LINKS.empty_table())
    assert (
        isinstance(spans, pl.DataFrame)
        and isinstance(empty_events, pl.DataFrame)
        and isinstance(empty_links, pl.DataFrame)
    )
    return build_trace("ab" * 16, spans, empty_events, empty_links)


def scale(sizes: Sequence[int], detector: HallucinationPropagation = DETECTOR) -> None:
    for n in sizes:
        trace = synthetic_trace(n)
        trace.hb.precedes(trace.hb.order()[0], trace.hb.order()[-1])  # the engine's reachability, not ours
        t0 = time.perf_counter()
        findings = detector.detect(trace)
        elapsed = time.perf_counter() - t0
        n_spans = trace.spans.height
        rate = n_spans / elapsed
        print(f"{n_spans} spans: {elapsed:.2f}s, {rate:,.0f} spans/s, findings: {len(findings)}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--trail", action="store_true", help="also measure on TRAIL (shared/external/trail)")
    p.add_argument(
        "--semantic-grounding", action="store_true", help="with the optional semantic grounding on"
    )
    p.add_argument("--verbose", action="store_true", help="list every mismatch")
    p.add_argument(
        "--scale", type=int, nargs="*", default=[], help="time one synthetic trace per size (spans)"
    )
    args = p.parse_args(argv)
    detector = HallucinationPropagation(semantic=True) if args.semantic_grounding else DETECTOR
    if detector.semantic is not None:  # load the model first: the figures below are steady state
        t0 = time.perf_counter()
        detector.semantic.embedder.embed(["warm-up"])
        print(f"semantic grounding model loaded in {time.perf_counter() - t0:.1f} s")
    if args.scale:
        scale(args.scale, detector)
        return 0
    corpus(args.verbose, detector)
    if args.trail:
        from analysis.importers import trail

        t0 = time.perf_counter()
        trail.print_measurement(verbose=args.verbose, detector=detector)
        print(f"TRAIL: read and analysed in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
