"""Plotly figures. Plotly renders a subset of HTML in text (``<a>``, ``<b>``, ...), so every label
and hover text derived from trace data goes through ``esc`` first."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

import plotly.graph_objects as go

from dashboard.data.graph import AgentGraph
from dashboard.data.trace import WaterfallRow
from dashboard.render.safe import esc

PALETTE = (
    "#4c78a8",
    "#72b7b2",
    "#54a24b",
    "#eeca3b",
    "#b279a2",
    "#9d755d",
    "#f58518",
    "#bab0ac",
    "#ff9da6",
    "#439894",
)
EDGE_COLORS = {"invoke": "#4c78a8", "handoff": "#f58518", "message": "#54a24b", "memory": "#b279a2"}
ERROR_COLOR = "#e45756"


def count_axis(max_count: int) -> dict[str, Any]:
    """An axis for small integer counts: whole-number ticks only."""
    return {"tick0": 0, "dtick": max(1, -(-max_count // 5)), "rangemode": "tozero"}


def agent_colors(agents: Sequence[str]) -> dict[str, str]:
    """A stable colour per agent name (sorted order)."""
    return {a: PALETTE[i % len(PALETTE)] for i, a in enumerate(sorted(set(agents)))}


def waterfall_figure(
    rows: Sequence[WaterfallRow],
    colors: dict[str, str],
    flagged: Collection[str] = (),
    selected: str | None = None,
) -> go.Figure:
    """Horizontal bars (offset, duration) per span in DFS order; indentation shows depth, red
    outline marks errors, ⚑ the spans where a finding starts, a thick outline the selected span."""
    n = len(rows)
    label_px = 330  # left margin holding the span names, indented by depth
    min_depth = min((r.depth for r in rows), default=0)
    annotations = [
        {
            "xref": "paper",
            "yref": "y",
            "x": 0,
            "y": i,
            "xanchor": "left",
            "xshift": -label_px + 4 + 12 * min(r.depth - min_depth, 20),
            "showarrow": False,
            "align": "left",
            "text": ("⚑ " if r.span_id in flagged else "")
            + esc(_short(r.label, 44 - min(r.depth - min_depth, 20))),
            "font": {
                "family": "ui-monospace, monospace",
                "size": 11,
                "color": ERROR_COLOR if r.error else ("#111111" if r.span_id in flagged else "#444444"),
            },
        }
        for i, r in enumerate(rows)
    ]
    outline = [
        "#111111" if r.span_id == selected else (ERROR_COLOR if r.error else "rgba(0,0,0,0)") for r in rows
    ]
    fig = go.Figure(
        go.Bar(
            y=list(range(n)),
            x=[max(r.duration_ms, 0.0001) for r in rows],
            base=[r.offset_ms for r in rows],
            orientation="h",
            marker={
                "color": [ERROR_COLOR if r.error else colors.get(r.agent or "", "#9aa5b1") for r in rows],
                "line": {"color": outline, "width": [3 if r.span_id == selected else 1.5 for r in rows]},
            },
            customdata=[
                [
                    esc(r.label),
                    esc(r.agent or "-"),
                    esc(r.operation or "-"),
                    r.span_id,
                    f"{r.duration_ms:,.2f}",
                ]
                for r in rows
            ],
            hovertemplate=(
                "<b>%{customdata[0]}</b><br>agent %{customdata[1]} · %{customdata[2]}<br>"
                "+%{base:,.2f} ms · %{customdata[4]} ms<br>span %{customdata[3]}<extra></extra>"
            ),
        )
    )
    fig.update_layout(
        height=max(160, 22 * n + 70),
        margin={"l": label_px, "r": 10, "t": 30, "b": 30},
        bargap=0.25,
        annotations=annotations,
        xaxis={"title": "ms since trace start", "side": "top", "gridcolor": "#eee"},
        yaxis={"showticklabels": False, "autorange": "reversed", "range": [n - 0.5, -0.5]},
        showlegend=False,
        plot_bgcolor="white",
    )
    return fig


def legend_html(colors: dict[str, str]) -> str:
    """Agent colour legend as safe HTML (names escaped, colours from ``PALETTE`` only)."""
    items = "".join(
        f'<span style="margin-right:14px;white-space:nowrap"><span style="display:inline-block;width:10px;'
        f'height:10px;border-radius:2px;background:{color};margin-right:4px"></span>{esc(name)}</span>'
        for name, color in colors.items()
    )
    error = (
        f'<span style="white-space:nowrap"><span style="display:inline-block;width:10px;height:10px;'
        f'border-radius:2px;background:{ERROR_COLOR};margin-right:4px"></span>error</span>'
    )
    return f'<div style="font-size:0.8rem;color:#444">{items}{error}</div>'


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def agent_graph_figure(
    graph: AgentGraph, colors: dict[str, str], origin_agents: Collection[str] = ()
) -> go.Figure:
    """Agents on a circle, directed edges as arrows coloured by kind, labelled ``kind ×count``.
    Agents where a finding starts are ringed in red."""
    names = [node.name for node in graph.nodes]
    k = max(len(names), 1)
    pos = {
        name: (math.cos(2 * math.pi * i / k + math.pi / 2), math.sin(2 * math.pi * i / k + math.pi / 2))
        for i, name in enumerate(names)
    }
    fig = go.Figure()
    annotations: list[dict[str, Any]] = []
    edges = [e for e in graph.edges if e.source in pos and e.target in pos and e.source != e.target]
    # edges between the same two agents (either direction) are spread side by side
    pair_total: dict[frozenset[str], int] = {}
    for e in edges:
        pair_total[frozenset((e.source, e.target))] = pair_total.get(frozenset((e.source, e.target)), 0) + 1
    pair_seen: dict[frozenset[str], int] = {}
    for edge in edges:
        pair = frozenset((edge.source, edge.target))
        nth = pair_seen.get(pair, 0)
        pair_seen[pair] = nth + 1
        a, b = sorted((edge.source, edge.target))  # offsets measured in one frame per pair
        (x0, y0), (x1, y1) = pos[edge.source], pos[edge.target]
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy) or 1.0
        px, py = pos[b][0] - pos[a][0], pos[b][1] - pos[a][1]
        side = 0.09 * (nth - (pair_total[pair] - 1) / 2)
        ox, oy = -py / length * side, px / length * side
        shrink = 0.14 / length
        sx, sy = x0 + dx * shrink + ox, y0 + dy * shrink + oy
        ex, ey = x1 - dx * shrink + ox, y1 - dy * shrink + oy
        color = EDGE_COLORS.get(edge.kind, "#888")
        annotations.append(
            {
                "x": ex,
                "y": ey,
                "ax": sx,
                "ay": sy,
                "xref": "x",
                "yref": "y",
                "axref": "x",
                "ayref": "y",
                "showarrow": True,
                "arrowhead": 3,
                "arrowsize": 1.3,
                "arrowwidth": 1.5 + min(edge.count, 6) * 0.4,
                "arrowcolor": color,
                "text": "",
            }
        )
        along = 0.5 if pair_total[pair] == 1 else 0.35 + 0.3 * nth / (pair_total[pair] - 1)
        annotations.append(
            {
                "x": sx + (ex - sx) * along,
                "y": sy + (ey - sy) * along,
                "text": esc(f"{edge.kind} ×{edge.count}"),
                "showarrow": False,
                "font": {"size": 11, "color": color},
                "bgcolor": "rgba(255,255,255,0.85)",
            }
        )
    fig.add_trace(
        go.Scatter(
            x=[pos[n][0] for n in names],
            y=[pos[n][1] for n in names],
            mode="markers+text",
            text=[esc(n) for n in names],
            textposition=["top center" if pos[n][1] > 0.3 else "bottom center" for n in names],
            textfont={"size": 13},
            marker={
                "size": [22 + min(node.spans, 200) ** 0.5 * 3 for node in graph.nodes],
                "color": [colors.get(n, "#9aa5b1") for n in names],
                "line": {
                    "color": [ERROR_COLOR if n in origin_agents else "#ffffff" for n in names],
                    "width": [4 if n in origin_agents else 2 for n in names],
                },
            },
            customdata=[[esc(node.name), node.spans, node.errors] for node in graph.nodes],
            hovertemplate=(
                "<b>%{customdata[0]}</b><br>%{customdata[1]} spans · %{customdata[2]} errors<extra></extra>"
            ),
        )
    )
    for kind, color in EDGE_COLORS.items():  # legend entries for the edge kinds
        fig.add_trace(
            go.Scatter(x=[None], y=[None], mode="lines", line={"color": color, "width": 3}, name=kind)
        )
    fig.update_layout(
        annotations=annotations,
        height=460,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"visible": False, "range": [-1.5, 1.5]},
        yaxis={"visible": False, "range": [-1.45, 1.35], "scaleanchor": "x"},
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.02},
        showlegend=True,
    )
    fig.data[0].showlegend = False
    return fig
