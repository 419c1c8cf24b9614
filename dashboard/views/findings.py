"""Findings page: every finding by detector, kind, severity and agent; each opens its trace at its
origin span."""

from __future__ import annotations

import json
from typing import Any, cast

import plotly.graph_objects as go
import streamlit as st

from dashboard import context
from dashboard.context import Context
from dashboard.data.findings import SEVERITY_ORDER, FindingFilter
from dashboard.render.charts import PALETTE, count_axis
from dashboard.render.safe import esc
from dashboard.views.common import SEVERITY_COLORS, clamp_page, pager, severity_label, trace_url

_PAGE_KEY = "findings-page"


def _bar(pairs: list[tuple[str, int]], title: str, colors: list[str] | None = None) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=[n for _, n in pairs],
            y=[esc(k) for k, _ in pairs],
            orientation="h",
            marker_color=colors or PALETTE[0],
        )
    )
    fig.update_layout(
        height=max(160, 30 * len(pairs) + 70),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title={"text": title, "font": {"size": 14}},
        yaxis={"autorange": "reversed"},
        xaxis=count_axis(max((n for _, n in pairs), default=1)),
        plot_bgcolor="white",
    )
    return fig


def _choice(label: str, options: list[str], key: str, param: str) -> str | None:
    initial = st.query_params.get(param)
    index = options.index(initial) + 1 if initial in options else 0
    value = st.selectbox(label, ["(any)", *options], index=index, key=key)
    return None if value == "(any)" else value


def render(ctx: Context) -> None:
    st.title("Findings")
    _, _, _, kinds = context.findings_page(ctx.db, ctx.reader, FindingFilter(), 0, 1)
    detectors = sorted({d for d, _ in kinds})
    opts = context.filter_options(ctx.db, ctx.reader)
    with st.container(border=True):
        cols = st.columns(5)
        with cols[0]:
            detector = _choice("Detector", detectors, "fd-detector", "detector")
        with cols[1]:
            kind = _choice("Kind", sorted({k for d, k in kinds if detector in (None, d)}), "fd-kind", "kind")
        with cols[2]:
            severity = _choice("Severity", list(SEVERITY_ORDER), "fd-severity", "severity")
        with cols[3]:
            agent = _choice("Agent", opts.agents, "fd-agent", "agent")
        trace_id = cols[4].text_input("Trace id", value=st.query_params.get("trace_id") or "", key="fd-trace")
    f = FindingFilter(detector=detector, kind=kind, severity=severity, agent=agent, trace_id=trace_id or None)
    if st.session_state.get("fd-key") != f:
        st.session_state["fd-key"] = f
        st.session_state[_PAGE_KEY] = 0
    size = ctx.settings.page_size
    rows, total, facets, _ = context.findings_page(
        ctx.db, ctx.reader, f, st.session_state.get(_PAGE_KEY, 0), size
    )
    if total and st.session_state.get(_PAGE_KEY, 0) != clamp_page(_PAGE_KEY, total, size):
        rows, total, facets, _ = context.findings_page(
            ctx.db, ctx.reader, f, st.session_state[_PAGE_KEY], size
        )
    if total == 0:
        st.info(
            "No findings match. Findings appear once `faultlens analyze` (or the server's analysis) has run."
        )
        return
    c1, c2, c3 = st.columns(3)
    c1.plotly_chart(
        _bar(facets.by_detector, "By detector"), key="fd-by-detector", config={"displayModeBar": False}
    )
    c2.plotly_chart(
        _bar(
            facets.by_severity,
            "By severity",
            [SEVERITY_COLORS.get(s, PALETTE[0]) for s, _ in facets.by_severity],
        ),
        key="fd-by-severity",
        config={"displayModeBar": False},
    )
    c3.plotly_chart(
        _bar(facets.by_agent[:15], "By agent"), key="fd-by-agent", config={"displayModeBar": False}
    )
    with st.expander("By detector and kind"):
        st.dataframe(
            [{"detector": d, "kind": k, "findings": n} for d, k, n in facets.by_kind],
            hide_index=True,
            width="stretch",
        )
    table: list[dict[str, Any]] = []
    for r in rows.to_pylist():
        table.append(
            {
                "open": trace_url(r["trace_id"], r["origin_span_id"]),
                "severity": severity_label(r["severity"]),
                "detector": r["detector"],
                "kind": r["kind"],
                "summary": r["summary"],
                "agents": ", ".join(json.loads(r["agents"] or "[]")),
                "mast": ", ".join(json.loads(r["mast"] or "[]")),
                "trace_id": r["trace_id"],
                "origin_span_id": r["origin_span_id"],
            }
        )
    st.caption("Select a row to open its trace at the span where the failure starts.")
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=f"fd-table-{hash(f)}-{st.session_state.get(_PAGE_KEY, 0)}",
        column_order=["open", "severity", "detector", "kind", "summary", "agents", "mast", "trace_id"],
        column_config={
            "open": st.column_config.LinkColumn("open", display_text="open ↗", width="small"),
            "summary": st.column_config.TextColumn("summary", width="large"),
        },
    )
    selected = cast(Any, event).selection.rows if event is not None else []
    if selected:
        r = table[selected[0]]
        params = {
            "trace_id": r["trace_id"],
            **({"span_id": r["origin_span_id"]} if r["origin_span_id"] else {}),
        }
        st.switch_page(ctx.pages["trace"], query_params=params)
    pager(_PAGE_KEY, total, size, what="findings")


if __name__ == "__main__":  # run as a page script by st.navigation (see dashboard/app.py)
    render(context.current())
