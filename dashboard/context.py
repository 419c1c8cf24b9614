"""What every page gets: settings, a reader, prices and the page registry; plus the cached queries.

Caching: aggregates and lists are cached for ``TTL_S`` seconds (the store promises visibility of
acknowledged spans within 2 s; a short TTL keeps the dashboard that fresh while reruns from widget
clicks stay instant). A trace's tree is cached per (store, trace, span count, last ingest) as a
resource (not copied per rerun: it can hold 30,000 spans), so late spans invalidate it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import streamlit as st
from streamlit.navigation.page import StreamlitPage

from dashboard.data import findings as findings_data
from dashboard.data import overview as overview_data
from dashboard.data import trace as trace_data
from dashboard.data import tracelist
from dashboard.data import usage as usage_data
from dashboard.data.pricing import ModelPrice
from dashboard.settings import DashboardSettings
from store.api import StoreReader

TTL_S = 2.0


@dataclass(frozen=True)
class Context:
    settings: DashboardSettings
    reader: StoreReader
    prices: tuple[ModelPrice, ...]
    pages: Mapping[str, StreamlitPage]

    @property
    def db(self) -> str:
        return self.settings.db_path


_CURRENT: ContextVar[Context] = ContextVar("faultlens_dashboard_context")


@contextmanager
def running(ctx: Context) -> Iterator[None]:
    """Make ``ctx`` the context of the page scripts run inside the block (one script run)."""
    token = _CURRENT.set(ctx)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current() -> Context:
    """The context of this script run (set by ``dashboard/app.py`` around the page it runs)."""
    return _CURRENT.get()


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=32)
def trace_list(
    db: str,
    _reader: StoreReader,
    f: tracelist.TraceFilter,
    prices: tuple[ModelPrice, ...],
    sort: str,
    descending: bool,
    page: int,
    page_size: int,
) -> tracelist.TracePage:
    return tracelist.list_traces(_reader, f, prices, sort, descending, page, page_size)


@st.cache_data(ttl=10.0, show_spinner=False, max_entries=4)
def filter_options(db: str, _reader: StoreReader) -> tracelist.FilterOptions:
    return tracelist.filter_options(_reader)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=16)
def overview(
    db: str, _reader: StoreReader, window: overview_data.Window, prices: tuple[ModelPrice, ...]
) -> dict[str, Any]:
    """Every aggregate of the overview page for one window (one cache entry)."""
    kpis = overview_data.kpis(_reader, window, prices)
    bounds = _reader.query("SELECT min(start_ns) AS lo, max(start_ns) AS hi FROM traces").to_pylist()[0]
    bucket = overview_data.bucket_ns_for(window, bounds["lo"], bounds["hi"])
    return {
        "kpis": kpis,
        "bucket_ns": bucket,
        "volume": overview_data.volume(_reader, window, bucket),
        "operations": overview_data.operation_latency(_reader, window),
        "usage": overview_data.usage_by(_reader, window, prices),
        "modes": overview_data.failure_modes(_reader, window),
        "detectors": overview_data.findings_by_detector(_reader, window),
        "top": overview_data.top_findings(_reader, window, 10),
    }


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=32)
def findings_page(
    db: str, _reader: StoreReader, f: findings_data.FindingFilter, page: int, page_size: int
) -> tuple[pa.Table, int, findings_data.FindingFacets, list[tuple[str, str]]]:
    rows, total = findings_data.list_findings(_reader, f, page, page_size)
    return rows, total, findings_data.finding_facets(_reader, f), findings_data.finding_kinds(_reader)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=16)
def trace_summary(db: str, _reader: StoreReader, trace_id: str) -> dict[str, Any] | None:
    rows = _reader.query("SELECT * FROM traces WHERE trace_id = ?", [trace_id]).to_pylist()
    return rows[0] if rows else None


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=16)
def trace_findings(db: str, _reader: StoreReader, trace_id: str) -> list[findings_data.FindingView]:
    return findings_data.trace_findings(_reader, trace_id)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=16)
def trace_attribution(db: str, _reader: StoreReader, trace_id: str) -> dict[str, Any] | None:
    return findings_data.trace_attribution(_reader, trace_id)


@st.cache_resource(max_entries=4, show_spinner="Loading the trace…")
def trace_tree(
    db: str, _reader: StoreReader, trace_id: str, version: tuple[Any, ...]
) -> trace_data.TraceTree:
    """The trace's tree; ``version`` (span count, last ingest) is part of the key so new spans rebuild it."""
    return trace_data.build_tree(trace_id, trace_data.load_skeleton(_reader, trace_id))


@st.cache_resource(max_entries=4, show_spinner=False)
def trace_links(
    db: str, _reader: StoreReader, trace_id: str, version: tuple[Any, ...]
) -> list[tuple[str, str]]:
    return trace_data.load_links(_reader, trace_id)


@st.cache_data(ttl=10.0, show_spinner=False, max_entries=64)
def span_content(
    db: str, _reader: StoreReader, trace_id: str, span_ids: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Content columns and events of one page of spans."""
    ids = list(span_ids)
    return trace_data.load_content(_reader, trace_id, ids), trace_data.load_events(_reader, trace_id, ids)


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=16)
def span_costs(
    db: str, _reader: StoreReader, trace_id: str, prices: tuple[ModelPrice, ...]
) -> dict[str, float | None]:
    return usage_data.span_costs(_reader, trace_id, prices)
