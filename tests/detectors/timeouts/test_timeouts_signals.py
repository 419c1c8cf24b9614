"""Timeout recognition from every signal, and what must not be read as a timeout."""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from analysis.detectors.timeouts import TimeoutCascadeDetector
from analysis.detectors.timeouts.config import DEFAULT
from analysis.detectors.timeouts.signals import recognize
from analysis.detectors.timeouts.spans import SpanIndex
from analysis.model import Trace
from store import schema

from .tracebuild import TraceBuilder, sid


def _signals(b: TraceBuilder) -> dict[str, tuple[str, bool]]:
    found = recognize(SpanIndex(b.build()), DEFAULT)
    return {k: (v.source, v.failed) for k, v in found.items()}


def test_explicit_signals() -> None:
    b = TraceBuilder("signals")
    b.agent("root", None, 0, 100, "a", status=1)
    b.span("err-type", "root", 1, 2, status=2, error_type="openai.APITimeoutError")
    b.span("grpc", "root", 2, 3, status=2, error_type="DEADLINE_EXCEEDED")
    b.span("http-408", "root", 3, 4, http_status_code=408)
    b.span("http-504", "root", 4, 5, status=2, http_status_code=504)
    b.span("message", "root", 5, 6, status=2, status_message="Read timed out. (read timeout=10)")
    b.span("exc", "root", 6, 7, status=2)
    b.exception("exc", "httpx.ReadTimeout", "", 7)
    b.span("handled", "root", 7, 8, status=1)
    b.exception("handled", "asyncio.TimeoutError", "", 7.5, escaped=False)
    b.tool("result", "root", 8, 9, "fetch", {"u": 1}, result="Error: the request timed out")
    found = _signals(b)
    assert found[sid("err-type")] == ("error_type", True)
    assert found[sid("grpc")] == ("error_type", True)
    assert found[sid("http-408")] == ("http_status", True)
    assert found[sid("http-504")] == ("http_status", True)
    assert found[sid("message")] == ("status_message", True)
    assert found[sid("exc")] == ("exception", True)
    assert found[sid("handled")] == ("exception", False)  # caught inside an OK span
    assert found[sid("result")] == ("tool_result", True)


def test_deadline_cluster_and_configured_deadline() -> None:
    b = TraceBuilder("durations")
    b.agent("root", None, 0, 200, "a", status=1)
    b.span("rpc-1", "root", 1, 31.004, span_name="fetch", service="svc")
    b.span("rpc-2", "root", 40, 70.01, span_name="fetch", service="svc")
    b.span("rpc-3", "root", 80, 80.2, span_name="fetch", service="svc")
    b.tool("cfg", "root", 90, 102.001, "crawl", {"kwargs": {"timeout_ms": 12000}}, result=None)
    found = _signals(b)
    assert found[sid("rpc-1")] == ("deadline", True) and found[sid("rpc-2")] == ("deadline", True)
    assert sid("rpc-3") not in found
    assert found[sid("cfg")] == ("deadline", True)


def test_not_timeouts() -> None:
    b = TraceBuilder("not-timeouts")
    b.agent("root", None, 0, 200, "a", status=1)
    # slow, successful, at a round value: has output, so not a deadline
    b.tool("slow-ok", "root", 1, 31.004, "crunch", {"n": 1}, result='{"ok": true}')
    b.tool("slow-ok-2", "root", 40, 70.004, "crunch", {"n": 2}, result='{"ok": true}')
    # a lone unset span at a round value, no callee outliving it: one sample is no cluster
    b.span("lone", "root", 80, 90.003, span_name="other")
    # the word in arguments or content is not a failure
    b.tool("arg", "root", 95, 96, "configure", {"timeout": 30}, result="set timeout to 30 s")
    b.span("ok-msg", "root", 97, 98, status=1, status_message="no timeout")
    assert _signals(b) == {}


class _NoEdges:
    """A happens-before with no link / hand-off edges: enough for the timeout family, which walks
    the parent tree itself, and cheap for pathological shapes."""

    def precedes(self, a: str, b: str) -> bool:
        return False

    def past(self, span_id: str) -> frozenset[str]:
        return frozenset()

    def order(self) -> list[str]:
        return []

    def edges(self) -> list[tuple[str, str, str]]:
        return []


def _raw_trace(b: TraceBuilder) -> Trace:
    # the builder's rows as a Trace, without the engine's O(V·E) reachability
    frame = pl.from_arrow(pa.Table.from_pylist(b.rows, schema=schema.SPANS))
    events = pl.from_arrow(schema.SPAN_EVENTS.empty_table())
    links = pl.from_arrow(schema.SPAN_LINKS.empty_table())
    assert (
        isinstance(frame, pl.DataFrame)
        and isinstance(events, pl.DataFrame)
        and isinstance(links, pl.DataFrame)
    )
    return Trace(b.trace_id, frame, events, links, {}, _NoEdges())


def test_deep_chain_of_timeouts_and_a_parent_cycle() -> None:
    """20,000 nested calls that all time out (linear passes, no recursion), plus two spans whose
    parents point at each other (never reached from a root: ignored, no hang)."""
    depth = 20_000
    b = TraceBuilder("deep")
    for i in range(depth):
        b.span(
            f"d{i}",
            f"d{i - 1}" if i else None,
            i * 0.001,
            100 - i * 0.001,
            status=2,
            error_type="TimeoutError",
            service=f"svc{i}",  # distinct callees, not one call seen by nested instrumentation
        )
    b.span("c1", "c2", 1, 2, status=2, error_type="TimeoutError")
    b.span("c2", "c1", 1, 2, status=2, error_type="TimeoutError")
    findings = TimeoutCascadeDetector().detect(_raw_trace(b))
    (cascade,) = [f for f in findings if f.kind == "timeout_cascade"]
    assert cascade.origin_span_id == sid(f"d{depth - 1}")  # the innermost call holds the time
    assert len(cascade.span_ids) == depth
