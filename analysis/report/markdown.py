"""The report (``build_report``'s dict) as Markdown for humans.

Trace and LLM content is untrusted: it is HTML-escaped and stripped of Markdown table/code
delimiters, so a viewer that renders inline HTML shows it as text.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import orjson

from analysis.mast import MODES


def _cell(value: object, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text).replace("|", "\\|").replace("`", "\\`")


def render_markdown(report: Mapping[str, Any]) -> str:
    s = report["summary"]
    lines = [
        "# faultlens report",
        "",
        f"Generated {report['generated_at']} — {s['traces']} trace(s), {s['failed_traces']} failed.",
        "",
    ]
    if s["findings_by_detector"]:
        lines += ["## Findings by detector", "", "| detector | findings |", "|---|---:|"]
        lines += [f"| {_cell(d)} | {n} |" for d, n in s["findings_by_detector"].items()]
        lines.append("")
    if s["failure_modes"]:
        names = {m.id: m.name for m in MODES}
        lines += ["## Failure modes (MAST)", "", "| mode | name | traces |", "|---|---|---:|"]
        lines += [f"| {m} | {_cell(names.get(m, m))} | {n} |" for m, n in s["failure_modes"].items()]
        lines.append("")
    failed = [t for t in report["traces"] if t["findings"]]
    clean = [t for t in report["traces"] if not t["findings"]]
    if failed:
        lines += ["## Traces with findings", ""]
    for t in failed:
        lines += [f"### `{t['trace_id']}` — {_cell(t['root_span_name'])}", ""]
        if t["agents"]:
            lines.append(f"Agents: {', '.join(_cell(a) for a in t['agents'])}  ")
        att = t["attribution"]
        if att:
            lines.append(
                f"Failure starts at agent **{_cell(att['agent'] or '?')}**, span `{att['span_id']}`  "
            )
        if t["failure_modes"]:
            lines.append(
                "Failure modes: " + ", ".join(f"{m['id']} {_cell(m['name'])}" for m in t["failure_modes"])
            )
        lines += ["", "| severity | detector / kind | origin | agents | summary |", "|---|---|---|---|---|"]
        for f in t["findings"]:
            lines.append(
                f"| {f['severity']} | {_cell(f['detector'])} / {_cell(f['kind'])} "
                f"| `{f['origin_span_id']}` | "
                f"{_cell(', '.join(f['agents']))} | {_cell(f['summary'], 300)} |"
            )
        lines.append("")
        for f in t["findings"]:
            evidence = orjson.dumps(f["evidence"], option=orjson.OPT_INDENT_2).decode()
            lines += [
                f"<details><summary>{_cell(f['detector'])}/{_cell(f['kind'])} {f['id']}</summary>",
                "",
                "<pre>" + html.escape(evidence) + "</pre>",
                "",
                "</details>",
                "",
            ]
    if clean:
        lines += ["## Traces without findings", ""]
        lines += [f"- `{t['trace_id']}` {_cell(t['root_span_name'])}" for t in clean]
        lines.append("")
    return "\n".join(lines)
