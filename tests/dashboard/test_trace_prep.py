"""Trace page preparation: tree, waterfall, reasoning chain, agent graph and step HTML."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from dashboard.data.chain import build_chain, chain_index
from dashboard.data.findings import trace_findings
from dashboard.data.graph import AgentEdge, agent_graph
from dashboard.data.messages import parse_messages
from dashboard.data.trace import (
    SKELETON_COLUMNS,
    build_tree,
    load_content,
    load_links,
    load_skeleton,
    waterfall_rows,
)
from dashboard.render.steps import step_html
from store.reader import open_reader
from tests.dashboard.scenario import BOOKING, CLAIM, HALLU, INJECTION, ORIGIN, SPREAD_CHAT


def _skeleton(rows: list[tuple[str, str | None, int]]) -> pa.Table:
    """(span_id, parent, start) rows as a skeleton table (other columns null)."""
    data: dict[str, list[Any]] = {c: [None] * len(rows) for c in SKELETON_COLUMNS}
    data["span_id"] = [r[0] for r in rows]
    data["parent_span_id"] = [r[1] for r in rows]
    data["start_ns"] = [r[2] for r in rows]
    data["end_ns"] = [r[2] + 10 for r in rows]
    data["name"] = [f"op {r[0]}" for r in rows]
    return pa.table(data)


def test_tree_orders_parents_first_and_keeps_orphans_and_cycles() -> None:
    rows = [
        ("r", None, 0),
        ("a", "r", 1),
        ("b", "r", 2),
        ("a1", "a", 3),
        ("o", "missing", 4),
        ("x", "y", 5),
        ("y", "x", 6),
        ("self", "self", 7),
    ]
    tree = build_tree("t", _skeleton(rows))
    order = [tree.columns["span_id"][i] for i in tree.order]
    assert order[:4] == ["r", "a", "a1", "b"]
    assert set(order) == {r[0] for r in rows} and len(order) == len(rows)  # every span exactly once
    assert tree.orphans == 2  # "o" (parent never arrived) and "self" (its own parent)
    assert tree.depth[tree.row_of["a1"]] == 2
    x, y = tree.row_of["x"], tree.row_of["y"]
    assert {tree.depth[x], tree.depth[y]} == {0, 1}  # the cycle is cut once


def test_deep_chain_is_iterative() -> None:
    n = 100_000
    rows = [(f"{i:x}", f"{i - 1:x}" if i else None, i) for i in range(n)]
    tree = build_tree("t", _skeleton(rows))
    assert tree.depth[tree.row_of[f"{n - 1:x}"]] == n - 1
    page, total = waterfall_rows(tree, n - 5, 10)
    assert total == n and [r.depth for r in page] == list(range(n - 5, n))


def test_waterfall_depth_focus_and_paging() -> None:
    rows = [("r", None, 0), ("a", "r", 1), ("a1", "a", 2), ("a2", "a", 3), ("b", "r", 4), ("b1", "b", 5)]
    tree = build_tree("t", _skeleton(rows))
    assert [r.span_id for r in waterfall_rows(tree, max_depth=1)[0]] == ["r", "a", "b"]
    focus, total = waterfall_rows(tree, focus="a")
    assert [r.span_id for r in focus] == ["a", "a1", "a2"] and total == 3
    assert [r.span_id for r in waterfall_rows(tree, focus="a", max_depth=0)[0]] == ["a"]
    page, total = waterfall_rows(tree, offset=2, limit=2)
    assert [r.span_id for r in page] == ["a1", "a2"] and total == 6
    assert page[0].offset_ms == pytest.approx(2e-6)


def test_chain_and_graph_of_the_scenario(store_path: Path) -> None:
    reader = open_reader(store_path)
    tree = build_tree(HALLU, load_skeleton(reader, HALLU))
    findings = trace_findings(reader, HALLU)
    index = chain_index(tree, findings)
    steps = build_chain(tree, findings)
    assert len(steps) == 11 and [s.index for s in steps] == list(range(1, 12))
    by_id = {s.span_id: s for s in steps}
    assert by_id[ORIGIN].origin_of and not by_id[ORIGIN].involved_in
    assert by_id[SPREAD_CHAT].involved_in and by_id[BOOKING].involved_in
    flagged = [index.rows[p] for p in index.positions(flagged_only=True)]
    assert {tree.columns["span_id"][r] for r in flagged} == {ORIGIN, SPREAD_CHAT, BOOKING}
    assert len(index.positions(agents=["writer"])) == 4
    pos = index.position_of(BOOKING)
    assert pos is not None and index.steps([pos])[0].span_id == BOOKING
    # the researcher's steps come before the writer's, each agent's calls in program order
    order = [s.span_id for s in steps]
    assert order.index(ORIGIN) < order.index(SPREAD_CHAT) < order.index(BOOKING)

    graph = agent_graph(tree, load_links(reader, HALLU))
    edges = {(e.source, e.target, e.kind) for e in graph.edges}
    assert ("orchestrator", "researcher", "handoff") in edges  # execute_tool transfer_to_researcher
    assert ("orchestrator", "writer", "invoke") in edges
    assert ("researcher", "writer", "memory") in edges  # create_memory read by search_memory
    assert [n.name for n in graph.nodes] == ["orchestrator", "researcher", "writer"]
    reader.close()


def test_graph_message_edges_from_links() -> None:
    rows = [("r", None, 0), ("a", "r", 1), ("b", "r", 5)]
    table = _skeleton(rows).set_column(
        SKELETON_COLUMNS.index("resolved_agent_name"),
        "resolved_agent_name",
        pa.array(["boss", "alice", "bob"]),
    )
    graph = agent_graph(build_tree("t", table), [("b", "a")])
    assert AgentEdge("alice", "bob", "message", 1) in graph.edges


def test_step_html_marks_origin_and_spread_and_escapes_injection(store_path: Path) -> None:
    reader = open_reader(store_path)
    tree = build_tree(HALLU, load_skeleton(reader, HALLU))
    steps = {s.span_id: s for s in build_chain(tree, trace_findings(reader, HALLU))}
    content = load_content(reader, HALLU, list(steps))
    origin_html = step_html(steps[ORIGIN], content[ORIGIN], [])
    assert origin_html.count('class="fl-claim fl-origin"') == 1
    assert "Failure starts here" in origin_html
    assert "<script>" not in origin_html and "<img" not in origin_html
    assert "&lt;script&gt;window.__flPwned = 1&lt;/script&gt;" in origin_html
    assert "reasoning" in origin_html.lower()
    spread_html = step_html(steps[SPREAD_CHAT], content[SPREAD_CHAT], [], cost=0.009)
    assert spread_html.count('class="fl-claim fl-spread"') == 2  # in its input and its output
    booking_html = step_html(steps[BOOKING], content[BOOKING], [])
    assert booking_html.count("fl-spread") == 1 and "Tool call" in booking_html
    # the memory write was not listed by the detector, but the claim's text is found there too
    memory = next(s for s in steps.values() if s.operation == "create_memory")
    assert step_html(memory, content[memory.span_id], []).count("fl-spread") == 1
    tags = set(re.findall(r"<([a-z]+)", origin_html + spread_html + booking_html))
    assert tags <= {"div", "b", "br", "pre", "details", "summary", "span", "mark"}
    assert INJECTION not in origin_html and CLAIM in origin_html
    reader.close()


def test_messages_accept_semconv_and_odd_shapes() -> None:
    msgs = parse_messages(
        '[{"role": "assistant", "parts": [{"type": "reasoning", "content": "hmm"},'
        ' {"type": "tool_call", "id": "c1", "name": "get", "arguments": {"q": 1}},'
        ' {"type": "tool_call_response", "id": "c1", "result": "ok"},'
        ' {"type": "uri", "modality": "image", "uri": "https://x/y.png"}], "finish_reason": "stop"}]'
    )
    kinds = [p.kind for p in msgs[0].pieces]
    assert kinds == ["reasoning", "tool_call", "tool_result", "media"] and msgs[0].finish_reason == "stop"
    assert parse_messages('{"role": "user", "content": "hi"}')[0].pieces[0].text == "hi"
    assert parse_messages("not json <b>")[0].pieces[0].text == "not json <b>"
    assert parse_messages("42")[0].role == "raw"


def _finding(evidence: dict[str, Any], origin: str = "s1") -> Any:
    from dashboard.data.findings import FindingView

    return FindingView(
        "f" * 32,
        "t" * 32,
        "hallucination_propagation",
        "ungrounded_claim",
        "high",
        origin,
        (origin,),
        ("a",),
        ("FM-3.3",),
        "made up",
        evidence,
    )


def test_occurrences_cover_every_claim_of_a_finding() -> None:
    from dashboard.data.findings import occurrences

    f = _finding(
        {
            "claim": "$5.1B",
            "occurrences": [
                {"span_id": "s2", "field": "input_messages", "text": "$5.1B"},
                {
                    "span_id": "s1",
                    "field": "output_messages",
                    "message": 0,
                    "part": 1,
                    "start": 3,
                    "end": 8,
                    "text": "$5.1B",
                },
            ],
            "claims": [
                {
                    "claim": "Q4",
                    "origin_span_id": "s1",
                    "occurrences": [
                        {"span_id": "s1", "field": "output_messages", "text": "Q4"},
                        {
                            "span_id": "s1",
                            "field": "output_messages",
                            "message": 0,
                            "part": 1,
                            "start": 3,
                            "end": 8,
                            "text": "$5.1B",
                        },
                    ],
                }
            ],
        }
    )
    occ = occurrences(f)
    assert [(o.span_id, o.text, o.origin) for o in occ] == [
        ("s1", "$5.1B", True),
        ("s1", "Q4", True),
        ("s2", "$5.1B", False),
    ]  # origins first, no duplicates
    assert (occ[0].message, occ[0].part, occ[0].start) == (0, 1, 3)


def test_offsets_locate_a_claim_the_page_text_does_not_contain() -> None:
    from dashboard.data.chain import chain_index

    tree = build_tree(
        "t" * 32,
        _skeleton([("s1", None, 0)]).set_column(
            SKELETON_COLUMNS.index("operation"), "operation", pa.array(["chat"])
        ),
    )
    # the detector's text differs from the stored one (normalized), its offsets point into part 1
    f = _finding(
        {
            "claim": "USD 5.1 billion",
            "occurrences": [
                {
                    "span_id": "s1",
                    "field": "output_messages",
                    "message": 0,
                    "part": 1,
                    "start": 8,
                    "end": 13,
                    "text": "USD 5.1 billion",
                }
            ],
        }
    )
    (step,) = chain_index(tree, [f]).steps([0])
    content = {
        "output_messages": '[{"role": "assistant", "parts": [{"type": "text", "content": "intro"},'
        ' {"type": "text", "content": "revenue $5.1B <b>!</b>"}]}]'
    }
    body = step_html(step, content, [])
    assert "Claim located by the detector" in body
    assert '">$5.1B</mark>' in body and "&lt;b&gt;" in body
