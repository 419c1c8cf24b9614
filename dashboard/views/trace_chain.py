"""The reasoning chain view: per step, in causal order, what the agent was told, saw, thought,
called and said — collapsible, paginated (a 30,000-span trace stays usable), findings marked at
their origin and claims highlighted wherever they spread."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard import context
from dashboard.context import Context
from dashboard.data.chain import Step, chain_index
from dashboard.data.findings import FindingView
from dashboard.data.trace import TraceTree
from dashboard.render.safe import md_escape
from dashboard.render.steps import step_html
from dashboard.views.common import clamp_page, fmt_ms, pager

_PAGE_KEY = "chain-page"
_OPEN_ALL_BELOW = 15  # a page with this few steps opens them all: reading, not searching
_MAX_INDENT = 6


def _label(step: Step, selected: bool) -> str:
    marks = []
    if step.origin_of:
        marks.append("⚑ failure starts here")
    elif step.involved_in:
        marks.append("↳ affected")
    if step.error:
        marks.append("✖ error")
    what = step.name if step.operation in step.name else f"{step.operation} · {step.name}"
    text = f"{step.index}. {step.agent or '(no agent)'} · {what} · {fmt_ms(step.duration_ms)}"
    prefix = "▶ " if selected else ""
    return prefix + md_escape(text) + ("  —  " + " · ".join(marks) if marks else "")


def render_chain(
    ctx: Context,
    tree: TraceTree,
    findings: Sequence[FindingView],
    selected: str | None,
    costs: dict[str, float | None],
) -> None:
    index = chain_index(tree, findings)
    if not len(index):
        st.info("This trace has no GenAI steps (no agent, model, tool or memory spans). See the waterfall.")
        return
    agent_of = tree.columns["resolved_agent_name"]
    agents = sorted({agent_of[r] for r in index.rows if agent_of[r]})
    cols = st.columns([4, 2], vertical_alignment="bottom")
    chosen = cols[0].multiselect("Agents", agents, key="chain-agents", placeholder="all agents")
    flagged_only = cols[1].toggle("Only steps with findings or errors", key="chain-flagged")
    visible = index.positions(chosen, flagged_only)
    size = ctx.settings.steps_per_page
    if selected and st.session_state.get("chain-sel") != selected:  # a new selection: show its page
        st.session_state["chain-sel"] = selected
        chain_pos = index.position_of(selected)
        if chain_pos is not None and chain_pos in visible:
            st.session_state[_PAGE_KEY] = visible.index(chain_pos) // size
    page = clamp_page(_PAGE_KEY, len(visible), size)
    shown = index.steps(visible[page * size : (page + 1) * size])
    st.caption(
        f"{len(index):,} steps in causal order (parents before children, each agent's calls in program "
        "order). Red marks show where a claim was first made, amber where it spread."
    )
    content, events = context.span_content(ctx.db, ctx.reader, tree.trace_id, tuple(s.span_id for s in shown))
    open_all = len(shown) <= _OPEN_ALL_BELOW
    base = min((s.depth for s in shown), default=0)
    for step in shown:
        is_sel = step.span_id == selected
        # indentation shows the call structure: an agent's calls sit under its invocation
        indent = min(step.depth - base, _MAX_INDENT)
        where = st.columns([indent * 0.025, 1])[1] if indent else st.container()
        with where, st.expander(_label(step, is_sel), expanded=open_all or is_sel or bool(step.origin_of)):
            st.html(
                step_html(
                    step, content.get(step.span_id, {}), events.get(step.span_id, []), costs.get(step.span_id)
                )
            )
    pager(_PAGE_KEY, len(visible), size, what="steps")
