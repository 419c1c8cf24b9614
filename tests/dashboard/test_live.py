"""The dashboard while ``faultlens serve`` holds the store: every page reads through the server's
loopback query path, and spans the OTel SDK exports show up without a restart."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from streamlit.testing.v1 import AppTest

from store.reader import RemoteReader, open_reader
from tests.conftest import ServeProcess, start_serve, stop_serve
from tests.dashboard.scenario import HALLU, ORIGIN, build_store
from tests.traffic import SPANS_PER_TRACE, Fleet, emit_trace

pytestmark = pytest.mark.slow
App = Callable[[Path, str | None], AppTest]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServeProcess]:
    sp = start_serve(build_store(tmp_path / "faultlens.duckdb"), "--no-analysis")
    try:
        yield sp
    finally:
        stop_serve(sp)


def test_pages_read_through_the_server_and_see_new_traffic(served: ServeProcess, app_for: App) -> None:
    reader = open_reader(served.db)
    assert isinstance(reader, RemoteReader)  # the server owns the file; no lock error

    at = app_for(served.db, "trace")
    at.query_params["trace_id"] = HALLU
    at.query_params["span_id"] = ORIGIN
    at.run()
    assert not at.exception and not at.error
    assert "fl-origin" in "".join(el.proto.body for el in at.get("html"))

    at.switch_page("views/traces.py").run()
    assert not at.exception and len(at.dataframe[0].value) == 3

    fleet = Fleet(lambda: OTLPSpanExporter(endpoint=f"{served.http_endpoint}/v1/traces"))
    emit_trace(fleet, time.time_ns(), 0)
    assert fleet.flush()
    fleet.shutdown()
    deadline = time.monotonic() + 10  # the store promises visibility within 2 s; summaries follow
    while time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
        if len(at.dataframe[0].value) == 4:
            break
    table = at.dataframe[0].value
    assert len(table) == 4 and int(table["spans"].max()) >= SPANS_PER_TRACE
