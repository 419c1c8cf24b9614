"""The waterfall timeline and the agent interaction graph of one trace.

The waterfall pages through the DFS order (``waterfall_rows``), can collapse below a depth or
focus on one span's subtree; clicking a bar selects that span (``span_id`` in the URL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import streamlit as st

from dashboard import context
from dashboard.context import Context
from dashboard.data.chain import chain_index
from dashboard.data.findings import FindingView
from dashboard.data.graph import agent_graph
from dashboard.data.messages import pretty
from dashboard.data.trace import TraceTree, position_of, waterfall_rows
from dashboard.render.charts import agent_colors, agent_graph_figure, legend_html, waterfall_figure
from dashboard.render.steps import step_html
from dashboard.views.common import clamp_page, fmt_ms, fmt_ts, pager

_PAGE_KEY = "wf-page"


def render_waterfall(
    ctx: Context, tree: TraceTree, findings: Sequence[FindingView], selected: str | None
) -> None:
    cols = st.columns([2, 3, 3], vertical_alignment="bottom")
    depth_choice = cols[0].selectbox("Depth", ["all", "1", "2", "3", "4", "6", "8"], key="wf-depth")
    max_depth = None if depth_choice in (None, "all") else int(depth_choice)
    focus_on = cols[1].toggle("Only the selected span's subtree", key="wf-focus", disabled=selected is None)
    focus = selected if focus_on else None
    size = ctx.settings.waterfall_rows
    if selected and st.session_state.get("wf-sel") != selected and max_depth is None and not focus:
        st.session_state["wf-sel"] = selected
        pos = position_of(tree, selected)
        if pos is not None:
            st.session_state[_PAGE_KEY] = pos // size
    _, total = waterfall_rows(tree, 0, 0, max_depth, focus)
    page = clamp_page(_PAGE_KEY, total, size)
    rows, total = waterfall_rows(tree, page * size, size, max_depth, focus)
    cols[2].caption(
        f"{len(tree):,} spans · {fmt_ms((tree.end_ns - tree.start_ns) / 1e6)} · click a bar for details"
    )
    flagged = {f.origin_span_id for f in findings if f.origin_span_id}
    colors = agent_colors([a for a in tree.columns["resolved_agent_name"] if a])
    st.html(legend_html({a: colors[a] for a in sorted({r.agent for r in rows if r.agent})}))
    event = st.plotly_chart(
        waterfall_figure(rows, colors, flagged, selected),
        key=f"wf-chart-{page}-{max_depth}-{focus}",
        on_select="rerun",
        selection_mode="points",
        config={"displayModeBar": False},
    )
    points = cast(Any, event).selection.points if event is not None else []
    if points:
        idx = points[0].get("point_index", points[0].get("pointIndex"))
        if isinstance(idx, int) and 0 <= idx < len(rows) and rows[idx].span_id != selected:
            st.query_params["span_id"] = rows[idx].span_id
            st.rerun()
    pager(_PAGE_KEY, total, size, what="spans")
    if selected:
        _span_details(ctx, tree, findings, selected)


def _span_details(ctx: Context, tree: TraceTree, findings: Sequence[FindingView], span_id: str) -> None:
    row = tree.row_of[span_id]
    c = tree.columns
    st.subheader("Selected span")
    content, events = context.span_content(ctx.db, ctx.reader, tree.trace_id, (span_id,))
    index = chain_index(tree, findings)
    pos = index.position_of(span_id)
    if pos is not None:  # a reasoning-chain step: show what the agent saw, thought, called and said
        (step,) = index.steps([pos])
        with st.container(border=True):
            st.html(step_html(step, content.get(span_id, {}), events.get(span_id, [])))
    info = {
        "span_id": span_id,
        "parent_span_id": c["parent_span_id"][row],
        "name": c["name"][row],
        "service": c["service_name"][row],
        "agent": c["resolved_agent_name"][row],
        "operation": c["operation"][row],
        "model": c["response_model"][row] or c["request_model"][row],
        "tool": c["tool_name"][row],
        "start": fmt_ts(c["start_ns"][row]),
        "duration": fmt_ms(((c["end_ns"][row] or 0) - (c["start_ns"][row] or 0)) / 1e6),
        "status": {0: "unset", 1: "ok", 2: "error"}.get(c["status_code"][row], "?"),
        "status_message": c["status_message"][row],
        "error_type": c["error_type"][row],
    }
    st.dataframe(
        [{"field": k, "value": "" if v is None else str(v)} for k, v in info.items()],
        hide_index=True,
        width="stretch",
        height=35 * (len(info) + 1) + 3,
    )
    attrs = content.get(span_id, {}).get("attributes")
    if attrs:
        with st.expander("Raw attributes"):
            st.code(pretty(attrs), language="json")


def render_graph(
    ctx: Context, tree: TraceTree, findings: Sequence[FindingView], version: tuple[Any, ...]
) -> None:
    links = context.trace_links(ctx.db, ctx.reader, tree.trace_id, version)
    graph = agent_graph(tree, links)
    if not graph.nodes:
        st.info("No agents in this trace.")
        return
    colors = agent_colors([n.name for n in graph.nodes])
    origin_agents = set()
    for f in findings:
        row = tree.row_of.get(f.origin_span_id or "")
        if row is not None and tree.columns["resolved_agent_name"][row]:
            origin_agents.add(tree.columns["resolved_agent_name"][row])
    left, right = st.columns([3, 2])
    left.plotly_chart(
        agent_graph_figure(graph, colors, origin_agents), key="agent-graph", config={"displayModeBar": False}
    )
    with right:
        st.markdown("**Interactions**")
        st.caption(
            "invoke: an agent called another · handoff: a transfer_* tool passed control · "
            "message: a span link between agents · memory: one agent read what another wrote"
        )
        st.dataframe(
            [{"from": e.source, "to": e.target, "kind": e.kind, "count": e.count} for e in graph.edges],
            hide_index=True,
            width="stretch",
        )
        st.markdown("**Agents**")
        st.dataframe(
            [
                {
                    "agent": n.name,
                    "spans": n.spans,
                    "errors": n.errors,
                    "finding starts here": "⚑" if n.name in origin_agents else "",
                }
                for n in graph.nodes
            ],
            hide_index=True,
            width="stretch",
        )
