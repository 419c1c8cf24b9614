"""Overview: volume, errors, latency percentiles, tokens and cost per agent and model, the
failure-mode distribution and the top findings, each leading to the failing traces."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from dashboard import context
from dashboard.context import Context
from dashboard.data.findings import MAST_NAMES
from dashboard.render.charts import ERROR_COLOR, PALETTE, count_axis
from dashboard.render.safe import esc, md_code, md_escape
from dashboard.views.common import (
    WINDOWS,
    fmt_cost,
    fmt_int,
    fmt_ms,
    severity_badge,
    severity_label,
    window_for,
)


def _times(ns: list[int]) -> list[datetime]:
    return [datetime.fromtimestamp(v / 1e9, tz=UTC) for v in ns]


def _layout(fig: go.Figure, height: int = 280, **kw: Any) -> go.Figure:
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "plot_bgcolor": "white",
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
    }
    fig.update_layout(**{**layout, **kw})
    fig.update_xaxes(gridcolor="#eee")
    fig.update_yaxes(gridcolor="#eee")
    return fig


def volume_figure(vol: pa.Table) -> go.Figure:
    t = _times(vol.column("bucket_ns").to_pylist())
    fig = go.Figure()
    fig.add_bar(x=t, y=vol.column("spans").to_pylist(), name="spans", marker_color=PALETTE[0])
    fig.add_bar(x=t, y=vol.column("error_spans").to_pylist(), name="error spans", marker_color=ERROR_COLOR)
    fig.add_scatter(
        x=t,
        y=vol.column("traces").to_pylist(),
        name="traces",
        yaxis="y2",
        mode="lines+markers",
        line={"color": PALETTE[6]},
    )
    return _layout(
        fig,
        barmode="overlay",
        yaxis={"title": "spans", "rangemode": "tozero"},
        yaxis2={
            "title": "traces",
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "rangemode": "tozero",
        },
    )


def latency_figure(vol: pa.Table) -> go.Figure:
    t = _times(vol.column("bucket_ns").to_pylist())
    fig = go.Figure()
    for col, color in (("p50_ms", PALETTE[2]), ("p95_ms", PALETTE[6]), ("p99_ms", ERROR_COLOR)):
        fig.add_scatter(
            x=t,
            y=vol.column(col).to_pylist(),
            name=col.replace("_ms", ""),
            mode="lines+markers",
            line={"color": color},
            connectgaps=False,
        )
    return _layout(fig, yaxis={"title": "ms", "rangemode": "tozero"})


def error_rate_figure(vol: pa.Table) -> go.Figure:
    t = _times(vol.column("bucket_ns").to_pylist())
    fig = go.Figure(
        go.Scatter(
            x=t,
            y=[100 * v for v in vol.column("error_rate").to_pylist()],
            mode="lines+markers",
            fill="tozeroy",
            line={"color": ERROR_COLOR},
            name="error rate",
        )
    )
    return _layout(fig, yaxis={"title": "%", "rangemode": "tozero"})


def usage_figure(usage: pa.Table, by: str) -> go.Figure:
    """Stacked tokens (uncached input, cache reads, output) per agent or model, cost at the bar's end."""
    totals: dict[str, list[float]] = {}
    for row in usage.to_pylist():
        acc = totals.setdefault(row[by], [0.0, 0.0, 0.0, 0.0])
        acc[0] += row["input_tokens"] - row["cache_read_tokens"]
        acc[1] += row["cache_read_tokens"]
        acc[2] += row["output_tokens"]
        acc[3] += row["cost"]
    names = sorted(totals, key=lambda k: -sum(totals[k][:3]))[:15]
    fig = go.Figure()
    for i, (label, color) in enumerate(
        (("input (uncached)", PALETTE[0]), ("input (cache read)", PALETTE[1]), ("output", PALETTE[6]))
    ):
        fig.add_bar(
            y=[esc(n) for n in names],
            x=[totals[n][i] for n in names],
            name=label,
            orientation="h",
            marker_color=color,
        )
    # the cost, printed just past the end of each stacked bar
    costs = [
        {
            "x": sum(totals[n][:3]),
            "y": esc(n),
            "text": fmt_cost(totals[n][3]),
            "xanchor": "left",
            "xshift": 4,
            "showarrow": False,
            "font": {"size": 11, "color": "#57606a"},
        }
        for n in names
    ]
    return _layout(
        fig,
        annotations=costs,
        height=max(200, 40 * len(names) + 80),
        barmode="stack",
        yaxis={"autorange": "reversed"},
        xaxis={"title": "tokens (cost at the end of each bar)"},
        margin={"l": 10, "r": 70, "t": 30, "b": 10},
    )


def modes_figure(modes: pa.Table) -> go.Figure:
    rows = modes.to_pylist()
    labels = [f"{r['mode']} {MAST_NAMES.get(r['mode'], '')}".strip() for r in rows]
    fig = go.Figure(
        go.Bar(
            y=[esc(x) for x in labels],
            x=[r["traces"] for r in rows],
            orientation="h",
            marker_color=PALETTE[4],
            text=[r["findings"] for r in rows],
            hovertemplate="%{y}<br>%{x} traces · %{text} findings<extra></extra>",
        )
    )
    return _layout(
        fig,
        height=max(160, 32 * len(rows) + 60),
        yaxis={"autorange": "reversed"},
        xaxis={**count_axis(max((r["traces"] for r in rows), default=1)), "title": "traces"},
    )


def _chart(title: str, fig: go.Figure, key: str) -> None:
    st.markdown(f"**{title}**")
    st.plotly_chart(fig, key=key, config={"displayModeBar": False})


def render(ctx: Context) -> None:
    head = st.columns([2, 3, 0.7], vertical_alignment="bottom")
    head[0].title("Overview")
    label = head[1].segmented_control("Time window", list(WINDOWS), default="All", key="ov-window")
    # a click reruns the page; cached aggregates are at most TTL_S old, so this shows new traffic
    head[2].button("Refresh", icon=":material/refresh:", key="ov-refresh")
    window = window_for(label or "All")
    data = context.overview(ctx.db, ctx.reader, window, ctx.prices)
    k = data["kpis"]
    if k.traces == 0:
        st.info(
            "No traces in this window yet. Send OTLP to faultlens (`faultlens serve`, then point "
            "`OTEL_EXPORTER_OTLP_ENDPOINT` at it) or load files with `faultlens ingest`."
        )
        return
    cols = st.columns(8)
    cols[0].metric("Traces", fmt_int(k.traces))
    cols[1].metric("Spans", fmt_int(k.spans))
    cols[2].metric(
        f"Failing · {100 * k.failing_traces / k.traces:.0f}%",
        fmt_int(k.failing_traces),
        help="Traces with an error span or a finding, and their share of all traces",
    )
    cols[3].metric("Findings", fmt_int(k.findings))
    cols[4].metric("Tokens", fmt_int(k.tokens))
    cols[5].metric("Cost", fmt_cost(k.cost), help="Cache-aware list prices; extend with FAULTLENS_PRICING")
    cols[6].metric("p50 latency", fmt_ms(k.p50_ms))
    cols[7].metric("p99 latency", fmt_ms(k.p99_ms), help=f"p95 {fmt_ms(k.p95_ms)}")
    if k.failing_traces:
        st.page_link(
            ctx.pages["traces"],
            label=f"Open the {k.failing_traces:,} failing traces",
            query_params={"status": "failing"},
            icon=":material/report:",
        )

    left, right = st.columns([3, 2])
    with left:
        st.subheader("Top findings")
        top = data["top"]
        if not top:
            st.caption("No findings yet (run `faultlens analyze`).")
        for f in top:
            with st.container(border=True):
                st.markdown(
                    f"{severity_badge(f.severity)} {md_code(f.detector)} / {md_code(f.kind)}"
                    + (f" · {md_escape(', '.join(f.agents))}" if f.agents else "")
                )
                st.text(f.summary)
                st.page_link(
                    ctx.pages["trace"],
                    label="Open where it starts",
                    query_params={
                        "trace_id": f.trace_id,
                        **({"span_id": f.origin_span_id} if f.origin_span_id else {}),
                    },
                    icon=":material/arrow_forward:",
                )
    with right:
        if data["modes"].num_rows:
            _chart("Failure modes (MAST), by traces", modes_figure(data["modes"]), "ov-modes")
        det = data["detectors"].to_pylist()
        if det:
            st.markdown("**Findings by detector**")
            st.dataframe(
                [
                    {
                        "severity": severity_label(r["severity"]),
                        "detector": r["detector"],
                        "kind": r["kind"],
                        "findings": r["findings"],
                        "traces": r["traces"],
                    }
                    for r in det
                ],
                hide_index=True,
                width="stretch",
            )
    st.divider()
    vol = data["volume"]
    c1, c2 = st.columns(2)
    with c1:
        _chart("Spans and traces over time", volume_figure(vol), "ov-volume")
    with c2:
        _chart("Span error rate (%)", error_rate_figure(vol), "ov-errors")
    c3, c4 = st.columns(2)
    with c3:
        _chart("Trace latency percentiles (ms)", latency_figure(vol), "ov-latency")
    with c4:
        st.markdown("**Latency by operation**")
        st.dataframe(
            data["operations"],
            hide_index=True,
            width="stretch",
            column_config={
                "p50_ms": st.column_config.NumberColumn("p50 ms", format="%.1f"),
                "p95_ms": st.column_config.NumberColumn("p95 ms", format="%.1f"),
                "p99_ms": st.column_config.NumberColumn("p99 ms", format="%.1f"),
            },
        )
    st.subheader("Tokens and cost")
    usage = data["usage"]
    if usage.num_rows == 0:
        st.caption("No token usage reported.")
        return
    u1, u2 = st.columns(2)
    with u1:
        _chart("Tokens per agent", usage_figure(usage, "agent"), "ov-usage-agent")
    with u2:
        _chart("Tokens per model", usage_figure(usage, "model"), "ov-usage-model")
    unpriced = sorted({r["model"] for r in usage.to_pylist() if not r["priced"]})
    st.dataframe(
        usage,
        hide_index=True,
        width="stretch",
        column_config={
            "cost": st.column_config.NumberColumn("cost (USD)", format="$%.5f"),
            "priced": st.column_config.CheckboxColumn("priced"),
        },
    )
    if unpriced:
        st.caption(
            "No price for: " + md_escape(", ".join(unpriced)) + " — add them in a pricing file "
            "(FAULTLENS_PRICING, TOML or JSON)."
        )


if __name__ == "__main__":  # run as a page script by st.navigation (see dashboard/app.py)
    render(context.current())
