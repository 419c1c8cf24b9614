"""From a trace to the checked history: the steps every check shares.

``build_history``: extract the memory operations (``history``), match reads to writes and index the
keys (``matching``), build happens-before ∪ reads-from with vector clocks (``graph``) and rank each
key's versions. O((S + E) log S + (S + E)·W + M); see ``graph`` for W.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from analysis.detectors.causal.checker import History
from analysis.detectors.causal.graph import build_graph
from analysis.detectors.causal.history import READ_OPS, MemoryOp, extract_history
from analysis.detectors.causal.matching import index_keys, match_reads, rank_writes
from analysis.happens_before import SpanGraph, build_happens_before
from analysis.model import Trace


def build_history(trace: Trace) -> History | None:
    """The checked history of ``trace``; None when it has no memory operation."""
    ops = extract_history(trace)
    if not ops:
        return None
    keys = index_keys(ops)
    src = match_reads(ops, keys)
    ids: list[str] = trace.spans["span_id"].to_list()
    index = {s: i for i, s in enumerate(ids)}
    starts = [int(x or 0) for x in trace.spans["start_ns"].to_list()]
    ends = [int(x or 0) for x in trace.spans["end_ns"].to_list()]
    node = [index[o.span_id] for o in ops]
    structural = [
        (index[a], index[b], kind) for a, b, kind in _structure(trace, ops, src) if a in index and b in index
    ]
    reads_from = [(node[s], node[r]) for r, s in src.items() if s >= 0 and node[s] != node[r]]
    actor = {node[i]: o.agent or o.txn for i, o in enumerate(ops)}
    graph = build_graph(ids, starts, ends, structural, reads_from, actor)
    rank = rank_writes(ops, keys, [graph.pos[n] for n in node])
    return History(ops, keys, src, rank, node, graph)


def _structure(trace: Trace, ops: Sequence[MemoryOp], src: dict[int, int]) -> list[tuple[str, str, str]]:
    """Happens-before without reads-from. The engine's relation holds its own reads-from edges, and
    keeping itself acyclic may have cost it the program-order edges that contradict them: exactly
    the edges a causality cycle runs through. That can only happen when some read returned a value
    written after the read had ended; then the relation is rebuilt by the engine's builder with
    the reads hidden. Otherwise the engine's edges are used as they are."""
    edges = list(trace.hb.edges())
    if not isinstance(trace.hb, SpanGraph):
        return [e for e in edges if e[2] != "reads_from"]
    backward = any(s >= 0 and ops[s].start_ns > ops[r].end_ns for r, s in src.items())
    if not backward:
        span_rf = {(a, b) for a, b, kind in edges if kind == "reads_from"}
        if span_rf:
            ids = trace.spans["span_id"].to_list()
            start = dict(zip(ids, trace.spans["start_ns"].to_list(), strict=True))
            end = dict(zip(ids, trace.spans["end_ns"].to_list(), strict=True))
            backward = any((start[a] or 0) > (end[b] or 0) for a, b in span_rf)
    if backward:
        spans = trace.spans
        hidden = spans.with_columns(
            pl.when(pl.col("operation").is_in(list(READ_OPS)))
            .then(None)
            .otherwise(pl.col("operation"))
            .alias("operation")
        )
        edges = list(build_happens_before(hidden, trace.links, trace.agent_of).edges())
    return [e for e in edges if e[2] != "reads_from"]
