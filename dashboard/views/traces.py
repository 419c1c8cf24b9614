"""Trace list: filters (time, service, agent, model, status, detector, severity, free text), sort,
pagination — all pushed down to SQL. Selecting a row opens the trace."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from datetime import time as dt_time
from typing import Any, cast

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import context
from dashboard.context import Context
from dashboard.data.overview import Window
from dashboard.data.tracelist import SORTS, FilterOptions, Status, TraceFilter
from dashboard.views.common import WINDOWS, clamp_page, fmt_ts, pager, severity_label, trace_url, window_for

_STATUSES: dict[str, Status] = {"any": "any", "failing": "failing", "error": "error", "ok": "ok"}
_PAGE_KEY = "traces-page"
_CUSTOM = "Custom range…"


def _param(name: str) -> str | None:
    value = st.query_params.get(name)
    return value if value else None


def _filters(ctx: Context) -> tuple[TraceFilter, str, bool]:
    opts = context.filter_options(ctx.db, ctx.reader)
    with st.container(border=True):
        r1 = st.columns([2, 2, 2, 2, 2])
        window = r1[0].selectbox("Time", [*WINDOWS, _CUSTOM], key="tl-window")
        service = r1[1].selectbox(
            "Service",
            ["(any)", *opts.services],
            key="tl-service",
            index=_index(opts.services, _param("service")),
        )
        agent = r1[2].selectbox(
            "Agent", ["(any)", *opts.agents], key="tl-agent", index=_index(opts.agents, _param("agent"))
        )
        model = r1[3].selectbox(
            "Model", ["(any)", *opts.models], key="tl-model", index=_index(opts.models, _param("model"))
        )
        statuses = list(_STATUSES)
        status = r1[4].selectbox(
            "Status",
            statuses,
            key="tl-status",
            index=statuses.index(_param("status") or "any") if _param("status") in statuses else 0,
            help="failing = an error span or a finding",
        )
        r2 = st.columns([2, 2, 4, 2, 1])
        detector = r2[0].selectbox(
            "Detector",
            ["(any)", *opts.detectors],
            key="tl-detector",
            index=_index(opts.detectors, _param("detector")),
        )
        severity = r2[1].selectbox(
            "Severity",
            ["(any)", *opts.severities],
            key="tl-severity",
            index=_index(opts.severities, _param("severity")),
        )
        text = r2[2].text_input(
            "Search",
            value=_param("q") or "",
            key="tl-text",
            placeholder="trace id, span/agent/tool/model name, finding text…",
        )
        sort = r2[3].selectbox("Sort by", list(SORTS), key="tl-sort")
        descending = r2[4].toggle("Desc", value=True, key="tl-desc")
        r3 = st.columns([3, 5])
        content = r3[0].checkbox("Also search message content (slower)", key="tl-content")
        win = _custom_window(r3[1], opts) if window == _CUSTOM else window_for(window)
    f = TraceFilter(
        start_ns=win.start_ns,
        end_ns=win.end_ns,
        service=None if service == "(any)" else service,
        agent=None if agent == "(any)" else agent,
        model=None if model == "(any)" else model,
        status=_STATUSES[status],
        detector=None if detector == "(any)" else detector,
        severity=None if severity == "(any)" else severity,
        text=text or None,
        search_content=content,
    )
    return f, sort, descending


def _custom_window(where: DeltaGenerator, opts: FilterOptions) -> Window:
    """Start days (UTC, inclusive) picked in a date range widget, bounded by the stored traces."""
    lo = _day(opts.min_start_ns)
    hi = _day(opts.max_start_ns)
    picked = where.date_input("Trace start between (UTC days)", value=(lo, hi), key="tl-days")
    days = list(picked) if isinstance(picked, tuple | list) else [picked]
    first = days[0] if days else lo
    last = days[-1] if days else hi
    start = datetime.combine(first, dt_time.min, tzinfo=UTC)
    end = datetime.combine(last, dt_time.max, tzinfo=UTC)
    return Window(start_ns=int(start.timestamp()) * 1_000_000_000, end_ns=int(end.timestamp() * 1e9))


def _day(ns: int | None) -> date:
    return datetime.fromtimestamp((ns or 0) / 1e9, tz=UTC).date() if ns else datetime.now(tz=UTC).date()


def _index(options: list[str], value: str | None) -> int:
    return options.index(value) + 1 if value in options else 0


def _rows(page_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in page_rows:
        agents = json.loads(r["agents"] or "[]")
        out.append(
            {
                "trace": trace_url(r["trace_id"]),
                "root": r["root_span_name"],
                "agents": ", ".join(agents),
                "start": fmt_ts(r["start_ns"]),
                "duration_ms": (r["duration_ns"] or 0) / 1e6,
                "spans": r["span_count"],
                "errors": r["error_count"],
                "tokens": r["tokens"],
                "cost": r["cost"],
                "findings": r["findings"],
                "severity": severity_label(r["max_severity"]),
                "trace_id": r["trace_id"],
            }
        )
    return out


def _sync_url(f: TraceFilter) -> None:
    """Mirror the filters into the URL, so the address bar is a link to this exact list."""
    wanted = {
        "status": None if f.status == "any" else f.status,
        "service": f.service,
        "agent": f.agent,
        "model": f.model,
        "detector": f.detector,
        "severity": f.severity,
        "q": f.text,
    }
    for name, value in wanted.items():
        if value and st.query_params.get(name) != value:
            st.query_params[name] = value
        elif not value and name in st.query_params:
            del st.query_params[name]


def render(ctx: Context) -> None:
    head = st.columns([5, 0.7], vertical_alignment="bottom")
    head[0].title("Traces")
    head[1].button("Refresh", icon=":material/refresh:", key="tl-refresh")
    f, sort, descending = _filters(ctx)
    _sync_url(f)
    size = ctx.settings.page_size
    key = (f, sort, descending)
    if st.session_state.get("tl-key") != key:  # a new filter starts at page 1
        st.session_state["tl-key"] = key
        st.session_state[_PAGE_KEY] = 0
    page_no = st.session_state.get(_PAGE_KEY, 0)
    page = context.trace_list(ctx.db, ctx.reader, f, ctx.prices, sort, descending, page_no, size)
    if page.total and page_no != clamp_page(_PAGE_KEY, page.total, size):
        page = context.trace_list(
            ctx.db, ctx.reader, f, ctx.prices, sort, descending, st.session_state[_PAGE_KEY], size
        )
    if page.total == 0:
        st.info("No trace matches these filters.")
        return
    rows = _rows(page.rows.to_pylist())
    st.caption("Select a row to open its trace, or use the link in the first column.")
    event = st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        height=35 * (len(rows) + 1) + 3,  # the whole page, no scrolling inside the table
        on_select="rerun",
        selection_mode="single-row",
        key=f"tl-table-{hash(key)}-{page_no}",
        column_order=[
            "trace",
            "root",
            "agents",
            "start",
            "duration_ms",
            "spans",
            "errors",
            "tokens",
            "cost",
            "findings",
            "severity",
        ],
        column_config={
            "trace": st.column_config.LinkColumn(
                "trace", display_text=r"trace_id=([0-9a-f]{12})", width="small"
            ),
            "duration_ms": st.column_config.NumberColumn("duration (ms)", format="%.1f"),
            "cost": st.column_config.NumberColumn("cost (USD)", format="$%.5f"),
            "severity": st.column_config.TextColumn("worst finding"),
        },
    )
    selected = cast(Any, event).selection.rows if event is not None else []
    if selected:
        trace_id = rows[selected[0]]["trace_id"]
        st.switch_page(ctx.pages["trace"], query_params={"trace_id": trace_id})
    pager(_PAGE_KEY, page.total, size, what="traces")


if __name__ == "__main__":  # run as a page script by st.navigation (see dashboard/app.py)
    render(context.current())
