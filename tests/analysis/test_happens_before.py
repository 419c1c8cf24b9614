"""The happens-before relation: every edge kind, structure over timestamps, cycles, scale."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
import pyarrow as pa

from analysis.happens_before import build_happens_before, cycles_of, handoff_target
from analysis.load import build_trace, resolve_agents
from store import schema
from tests.analysis.tracekit import TraceSpec, call, calls, text


def _kinds(trace_edges: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    return set(trace_edges)


def test_parent_program_order_and_parallel_tools() -> None:
    s = TraceSpec()
    root = s.agent("planner", 0, 100)
    llm = s.llm(1, 10, root, [text("user", "go")], [calls(call("a", {}, "1"), call("b", {}, "2"))])
    a = s.tool("a", 11, 20, root)
    b = s.tool("b", 12, 19, root)  # overlaps a: no order between them
    after = s.llm(21, 30, root, [text("user", "go")], [text("assistant", "done")])
    hb = s.trace().hb
    assert hb.precedes(root, llm) and hb.precedes(llm, a) and hb.precedes(llm, b)
    assert not hb.precedes(a, b) and not hb.precedes(b, a)
    assert hb.precedes(a, after) and hb.precedes(b, after)
    assert hb.past(after) == frozenset({root, llm, a, b})
    assert list(hb.order())[:2] == [root, llm]
    assert not hb.precedes(after, llm)


def test_links_handoffs_and_memory_reads_from() -> None:
    s = TraceSpec()
    root = s.agent("triage", 0, 100)
    handoff = s.tool("transfer_to_billing", 5, 6, root)
    billing = s.agent("Billing", 7, 50, root)
    write = s.add(
        "update_memory",
        10,
        11,
        billing,
        operation="update_memory",
        memory_store_id="kv",
        memory_record_id="balance",
        memory_records='{"v": 10}',
        memory_version="3",
    )
    other = s.agent("auditor", 60, 90)
    read = s.add(
        "search_memory",
        61,
        62,
        other,
        operation="search_memory",
        memory_store_id="kv",
        memory_record_id="balance",
        memory_records='{"v": 10}',
        memory_version="3",
    )
    by_value = s.add(
        "search_memory",
        63,
        64,
        other,
        operation="search_memory",
        memory_store_id="kv",
        memory_record_id="balance",
        memory_records='[{"v": 10}]',
    )
    consumer = s.add("consume", 70, 71, other)
    s.link(consumer, handoff)
    hb = s.trace().hb
    kinds = {k for a, b, k in hb.edges()}
    assert {"parent", "handoff", "reads_from", "link", "program_order"} <= kinds
    assert (handoff, billing, "handoff") in _kinds(hb.edges())
    assert (write, read, "reads_from") in _kinds(hb.edges())
    assert (write, by_value, "reads_from") in _kinds(hb.edges())
    assert hb.precedes(write, read) and hb.precedes(handoff, consumer)
    assert handoff_target("transfer_to_billing") == "billing" and handoff_target("search") is None


def test_clock_skew_does_not_invert_structure() -> None:
    s = TraceSpec()
    root = s.agent("a", 100, 200)
    child = s.add("work", 10, 20, root)  # skewed: ends before its parent starts
    hb = s.trace().hb
    assert hb.precedes(root, child) and not hb.precedes(child, root)
    assert cycles_of(hb) == ()


def test_cyclic_parent_chain_is_broken_and_remembered() -> None:
    s = TraceSpec()
    a = s.add("a", 0, 10)
    b = s.add("b", 1, 9, a)
    c = s.add("c", 2, 8, b)
    s.rows[0]["parent_span_id"] = c  # a → b → c → a
    trace = s.trace()
    assert len(trace.hb.order()) == 3
    cycles = cycles_of(trace.hb)
    assert len(cycles) == 1 and set(cycles[0].spans) == {a, b, c}
    assert cycles[0].dropped[2] == "parent"
    assert not (trace.hb.precedes(a, c) and trace.hb.precedes(c, a))
    assert trace.agent_of[a] is None  # agent resolution terminates on the cycle too


def test_deep_chain_and_large_trace_stay_linear() -> None:
    n = 20_000
    ids = [format(i + 1, "016x") for i in range(n)]
    spans = pl.DataFrame(
        {
            "span_id": ids,
            "parent_span_id": [None, *ids[:-1]],
            "start_ns": list(range(n)),
            "end_ns": [2 * n - i for i in range(n)],
            "operation": ["invoke_agent", *([None] * (n - 1))],
            "agent_name": ["deep", *([None] * (n - 1))],
            "agent_id": [None] * n,
            "resolved_agent_name": [None] * n,
            "tool_name": [None] * n,
            "memory_store_id": [None] * n,
            "memory_record_id": [None] * n,
            "memory_records": [None] * n,
            "memory_version": [None] * n,
        },
        schema_overrides={
            c: pl.String
            for c in (
                "parent_span_id",
                "operation",
                "agent_name",
                "agent_id",
                "resolved_agent_name",
                "tool_name",
                "memory_store_id",
                "memory_record_id",
                "memory_records",
                "memory_version",
            )
        },
    )
    links = pl.from_arrow(pa.Table.from_pylist([], schema=schema.SPAN_LINKS))
    assert isinstance(links, pl.DataFrame)
    agents = resolve_agents(spans)
    assert agents[ids[-1]] == "deep"
    hb = build_happens_before(spans, links, agents)
    assert hb.precedes(ids[0], ids[-1]) and not hb.precedes(ids[-1], ids[0])
    assert len(hb.past(ids[-1])) == n - 1


def test_build_trace_uses_store_resolution_when_present() -> None:
    s = TraceSpec()
    root = s.agent("x", 0, 10)
    child = s.add("child", 1, 2, root)
    s.rows[1]["resolved_agent_name"] = "from-store"
    frame = pl.from_arrow(s.spans_table())
    assert isinstance(frame, pl.DataFrame)
    events = pl.from_arrow(schema.SPAN_EVENTS.empty_table())
    assert isinstance(events, pl.DataFrame)
    trace = build_trace(s.trace_id, frame, events, pl.from_arrow(s.links_table()))  # type: ignore[arg-type]
    assert trace.agent_of[child] == "from-store" and trace.agent_of[root] == "x"


def test_a_coordinator_without_an_agent_orders_its_sequential_children() -> None:
    """A workflow/chain span with no agent name that calls one sub-agent after the other: the first
    sub-agent's work precedes the second's; sub-agents it runs side by side stay unordered."""
    s = TraceSpec()
    flow = s.add("LangGraph", 0, 100, operation="invoke_workflow")
    first = s.agent("collector", 1, 30, flow)
    write = s.add("update_memory notes", 10, 12, first, operation="update_memory")
    second = s.agent("summarizer", 31, 60, flow)
    read = s.add("search_memory notes", 40, 42, second, operation="search_memory")
    third = s.agent("checker", 61, 90, flow)
    fourth = s.agent("auditor", 65, 95, flow)  # overlaps third: no order between them
    hb = s.trace().hb
    assert hb.precedes(write, read)
    assert hb.precedes(first, second) and hb.precedes(second, third)
    assert not hb.precedes(third, fourth) and not hb.precedes(fourth, third)
