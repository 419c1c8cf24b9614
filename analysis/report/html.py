"""The report as one self-contained HTML file: Plotly charts (failure-mode distribution, findings
per agent and per detector) with plotly.js embedded — no CDN, it opens offline — and a per-trace
table linking to each finding's evidence by anchor.

Every piece of trace or LLM content is HTML-escaped, in the page and in chart labels (Plotly
interprets a subset of HTML in labels, so they are escaped too).
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping
from typing import Any

import orjson
import plotly.graph_objects as go
import plotly.io as pio

from analysis.mast import MODES

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top}
th{background:#f3f3f3}.sev-critical,.sev-high{color:#b00020;font-weight:bold}.sev-medium{color:#b36b00}
pre{background:#f7f7f7;padding:.5rem;overflow-x:auto;white-space:pre-wrap}.charts{display:flex;flex-wrap:wrap}
.charts>div{flex:1 1 30rem}code{font-size:.9em}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _bar(title: str, counts: Mapping[str, int], include_js: bool) -> str:
    labels = [html.escape(k) for k in counts]
    fig = go.Figure(go.Bar(x=labels, y=list(counts.values())))
    fig.update_layout(title=html.escape(title), height=360, margin={"l": 40, "r": 20, "t": 50, "b": 120})
    fig.update_xaxes(type="category")  # labels like "FM-1.3" must never be read as numbers or dates
    out: str = pio.to_html(fig, include_plotlyjs=include_js, full_html=False, config={"displaylogo": False})
    return out


def render_html(report: Mapping[str, Any]) -> str:
    s = report["summary"]
    names = {m.id: m.name for m in MODES}
    modes = {f"{m} {names.get(m, '')}".strip(): n for m, n in s["failure_modes"].items()}
    per_agent: Counter[str] = Counter(
        a for t in report["traces"] for f in t["findings"] for a in f["agents"] or ["(none)"]
    )
    charts = [
        _bar("Failure modes (traces)", modes or {"none": 0}, True),
        _bar("Findings per agent", dict(per_agent.most_common(30)) or {"none": 0}, False),
        _bar("Findings per detector", s["findings_by_detector"] or {"none": 0}, False),
    ]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>faultlens report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>faultlens report</h1>",
        f"<p>Generated {_e(report['generated_at'])} — {s['traces']} trace(s), "
        f"{s['failed_traces']} failed.</p>",
        "<div class='charts'>" + "".join(f"<div>{c}</div>" for c in charts) + "</div>",
        "<h2>Traces</h2><table><tr><th>trace</th><th>root span</th><th>agents</th><th>failure modes</th>"
        "<th>failure starts at</th><th>findings</th></tr>",
    ]
    for t in report["traces"]:
        att = t["attribution"]
        start = f"{_e(att['agent'] or '?')} / <code>{_e(att['span_id'])}</code>" if att else ""
        links = "<br>".join(
            f"<a href='#f-{_e(f['id'])}' class='sev-{_e(f['severity'])}'>{_e(f['severity'])}: "
            f"{_e(f['detector'])}/{_e(f['kind'])}</a>"
            for f in t["findings"]
        )
        modes_cell = ", ".join(_e(m["id"]) for m in t["failure_modes"])
        parts.append(
            f"<tr id='t-{_e(t['trace_id'])}'><td><code>{_e(t['trace_id'])}</code></td>"
            f"<td>{_e(t['root_span_name'])}</td>"
            f"<td>{_e(', '.join(t['agents']))}</td><td>{modes_cell}</td><td>{start}</td><td>{links}</td></tr>"
        )
    parts.append("</table><h2>Findings</h2>")
    for t in report["traces"]:
        for f in t["findings"]:
            evidence = orjson.dumps(f["evidence"], option=orjson.OPT_INDENT_2).decode()
            parts.append(
                f"<section id='f-{_e(f['id'])}'><h3 class='sev-{_e(f['severity'])}'>{_e(f['severity'])} — "
                f"{_e(f['detector'])}/{_e(f['kind'])}</h3>"
                f"<p>{_e(f['summary'])}</p>"
                f"<p>trace <a href='#t-{_e(t['trace_id'])}'><code>{_e(t['trace_id'])}</code></a>,"
                f" origin span <code>{_e(f['origin_span_id'])}</code>, agents {_e(', '.join(f['agents']))},"
                f" MAST {_e(', '.join(f['mast']) or '—')}</p>"
                f"<p>spans: {_e(' '.join(f['span_ids']))}</p><pre>{_e(evidence)}</pre></section>"
            )
    parts.append("</body></html>")
    return "\n".join(parts)
