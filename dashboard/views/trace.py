"""Trace page: header, findings, and three views — the reasoning chain, the waterfall timeline and
the agent interaction graph. Deep link: ``trace?trace_id=<32 hex>&span_id=<16 hex>`` opens the
trace with that span selected (its chain step expanded, its waterfall page shown)."""

from __future__ import annotations

import re

import streamlit as st

from dashboard import context
from dashboard.context import Context
from dashboard.data.findings import FindingView
from dashboard.data.tracelist import TraceFilter
from dashboard.render.safe import md_code, md_escape
from dashboard.views.common import fmt_cost, fmt_int, fmt_ms, fmt_ts, severity_badge
from dashboard.views.trace_chain import render_chain
from dashboard.views.trace_timeline import render_graph, render_waterfall

_HEX = re.compile(r"^[0-9a-fA-F]{1,32}$")


def _pick_trace(ctx: Context) -> None:
    st.title("Trace")
    value = st.text_input("Trace id", placeholder="32 hex characters", key="trace-pick")
    if value:
        if _HEX.match(value.strip()):
            st.query_params["trace_id"] = value.strip().lower()
            st.rerun()
        st.error("A trace id is hexadecimal (32 characters).")
    recent = context.trace_list(
        ctx.db, ctx.reader, TraceFilter(status="failing"), ctx.prices, "start", True, 0, 10
    ).rows.to_pylist()
    if recent:
        st.subheader("Recent failing traces")
        for r in recent:
            label = f"{r['root_span_name'] or r['trace_id']} · {fmt_ts(r['start_ns'])}"
            if r["max_severity"]:
                label += f" · worst finding: {r['max_severity']}"
            elif r["error_count"]:
                label += f" · {r['error_count']} error span(s)"
            st.page_link(
                ctx.pages["trace"],
                label=md_escape(label),
                query_params={"trace_id": r["trace_id"]},
                icon=":material/arrow_forward:",
            )
    st.page_link(
        ctx.pages["traces"],
        label="Browse all failing traces",
        query_params={"status": "failing"},
        icon=":material/report:",
    )


def _select_span(span_id: str) -> None:
    st.query_params["span_id"] = span_id


def _findings(ctx: Context, trace_id: str, findings: list[FindingView], selected: str | None) -> None:
    if not findings:
        st.caption("No findings for this trace.")
        return
    for f in findings:
        with st.container(border=True):
            cols = st.columns([6, 1.4], vertical_alignment="center")
            cols[0].markdown(
                f"{severity_badge(f.severity)} {md_code(f.detector)} / {md_code(f.kind)}"
                + (f" · MAST {md_escape(', '.join(f.mast))}" if f.mast else "")
                + (f" · agents: {md_escape(', '.join(f.agents))}" if f.agents else "")
            )
            cols[0].text(f.summary)
            claim = f.evidence.get("claim")
            if isinstance(claim, str) and claim:
                cols[0].caption(f"Claim: {md_escape(claim)} · reached {len(f.span_ids)} span(s)")
            if f.origin_span_id:
                is_sel = f.origin_span_id == selected
                cols[1].button(
                    "● Origin selected" if is_sel else "Go to origin",
                    key=f"goto-{f.finding_id}",
                    on_click=_select_span,
                    args=(f.origin_span_id,),
                    disabled=is_sel,
                    width="stretch",
                )


def render(ctx: Context) -> None:
    trace_id = (st.query_params.get("trace_id") or "").strip().lower()
    if not trace_id:
        _pick_trace(ctx)
        return
    summary = context.trace_summary(ctx.db, ctx.reader, trace_id)
    if summary is None:
        st.title("Trace")
        st.warning(f"No trace {md_code(trace_id)} in this store (yet).")  # the URL is untrusted too
        _pick_trace(ctx)
        return
    if st.session_state.get("trace-shown") != trace_id:  # another trace: its views start at page 1
        st.session_state["trace-shown"] = trace_id
        for key in ("chain-page", "wf-page", "chain-sel", "wf-sel"):
            st.session_state.pop(key, None)
    selected = (st.query_params.get("span_id") or "").strip().lower() or None
    version = (summary["span_count"], summary["last_ingested_ns"])
    tree = context.trace_tree(ctx.db, ctx.reader, trace_id, version)
    findings = context.trace_findings(ctx.db, ctx.reader, trace_id)
    attribution = context.trace_attribution(ctx.db, ctx.reader, trace_id)

    st.title(md_escape(summary["root_span_name"] or "Trace"), anchor=False)
    service = summary["root_service_name"] or "-"
    st.caption(md_escape(f"trace {trace_id} · {fmt_ts(summary['start_ns'])} · service {service}"))
    costs = context.span_costs(ctx.db, ctx.reader, trace_id, ctx.prices)
    cols = st.columns(7)
    cols[0].metric("Duration", fmt_ms((summary["duration_ns"] or 0) / 1e6))
    cols[1].metric("Spans", fmt_int(summary["span_count"]))
    cols[2].metric("Errors", fmt_int(summary["error_count"]))
    cols[3].metric("Findings", fmt_int(len(findings)))
    cols[4].metric("Tokens", fmt_int((summary["input_tokens"] or 0) + (summary["output_tokens"] or 0)))
    cols[5].metric("Cost", fmt_cost(sum(c for c in costs.values() if c is not None)))
    cols[6].metric("Orphans", fmt_int(tree.orphans), help="Spans whose parent has not arrived")
    if attribution and attribution.get("span_id"):
        box = st.container(border=True)
        box.markdown(
            f"**Failure attributed to** agent {md_code(attribution.get('agent') or '?')} "
            f"at span {md_code(attribution['span_id'])}"
        )
        if attribution.get("reason"):
            box.text(str(attribution["reason"]))
        box.button(
            "Go to that step", key="goto-attribution", on_click=_select_span, args=(attribution["span_id"],)
        )
    if selected and selected not in tree.row_of:
        st.warning(f"Span {md_code(selected)} is not part of this trace.")
        selected = None
    with st.expander(f"Findings ({len(findings)})", expanded=bool(findings)):
        _findings(ctx, trace_id, findings, selected)
    chain_tab, waterfall_tab, graph_tab = st.tabs(
        [
            ":material/psychology: Reasoning chain",
            ":material/waterfall_chart: Waterfall",
            ":material/hub: Agent graph",
        ]
    )
    with chain_tab:
        render_chain(ctx, tree, findings, selected, costs)
    with waterfall_tab:
        render_waterfall(ctx, tree, findings, selected)
    with graph_tab:
        render_graph(ctx, tree, findings, version)


if __name__ == "__main__":  # run as a page script by st.navigation (see dashboard/app.py)
    render(context.current())
