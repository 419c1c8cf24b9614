"""The incremental scheduler (quiet traces, re-analysis of late spans) and analysis on demand over
HTTP (``POST /analyze``), against a real store."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from analysis.remote import AnalysisUnavailable, AnalyzeRoute, request_analysis
from analysis.scheduler import AnalysisScheduler
from store.api import IngestBatch
from store.discovery import Endpoint
from tests.analysis.test_engine_report import repeated_tool_trace
from tests.analysis.tracekit import TraceSpec, store


def test_scheduler_waits_for_quiet_and_reanalyses_late_spans(tmp_path: Path) -> None:
    spec = repeated_tool_trace()
    writer = store(tmp_path / "s.duckdb", [spec])
    try:
        reader = writer.reader()
        sched = AnalysisScheduler(reader, writer, quiet_seconds=3600, poll_seconds=0.05)
        assert sched.run_once() == 0  # not quiet yet
        assert sched.run_once(now_ns=time.time_ns() + 7200 * 10**9) == 1
        assert sched.run_once(now_ns=time.time_ns() + 7200 * 10**9) == 0  # nothing new
        first = reader.query("SELECT count(*) AS n FROM findings").column("n").to_pylist()[0]
        assert first == 1
        # a late span of the same trace: a third identical lookup
        late = TraceSpec(spec.trace_id, first_id=100)  # span ids distinct from the first batch
        parent = spec.rows[1]["span_id"]
        late.tool("lookup", 41, 45, parent, {"q": "Lyon"}, {"population": 522250})
        writer.write(IngestBatch(spans=late.spans_table()))
        writer.sync()
        assert sched.due(now_ns=time.time_ns() + 7200 * 10**9) == [spec.trace_id]
        assert sched.run_once(now_ns=time.time_ns() + 7200 * 10**9) == 1
        rows = reader.query("SELECT evidence FROM findings").to_pylist()
        assert len(rows) == 1 and orjson.loads(rows[0]["evidence"])["repetitions"] == 2
    finally:
        writer.close()


def test_scheduler_thread_starts_and_stops(tmp_path: Path) -> None:
    writer = store(tmp_path / "t.duckdb", [repeated_tool_trace()])
    try:
        sched = AnalysisScheduler(writer.reader(), writer, quiet_seconds=0, poll_seconds=0.02)
        sched.start()
        deadline = time.monotonic() + 30
        while sched.analysed == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        sched.stop()
        assert sched.analysed == 1
    finally:
        writer.close()


class _Server:
    """A loopback HTTP server that dispatches POST /analyze to an ``AnalyzeRoute`` (what the lead
    wires into the query server), with the bearer-token check the real one does."""

    def __init__(self, route: AnalyzeRoute, token: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Authorization") != f"Bearer {token}":
                    status, payload = 401, b'{"error":"Unauthenticated","message":"no"}'
                elif self.path != "/analyze":
                    status, payload = 404, b'{"error":"NotFound","message":"no"}'
                else:
                    status, payload = route(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_analyze_over_http(tmp_path: Path) -> None:
    spec = repeated_tool_trace()
    writer = store(tmp_path / "r.duckdb", [spec])
    server = _Server(AnalyzeRoute(writer.reader(), writer), "tok")
    try:
        ep = Endpoint(pid=1, host="127.0.0.1", port=server.httpd.server_address[1], token="tok", db="x")
        stats = request_analysis(ep, [spec.trace_id])
        assert stats["traces"] == 1 and stats["findings"] == 1 and stats["failed_traces"] == 1
        assert writer.reader().query("SELECT count(*) AS n FROM trace_analysis").column("n").to_pylist() == [
            1
        ]
        status, body = AnalyzeRoute(writer.reader(), writer)(b'{"trace_ids": "nope"}')
        assert status == 400 and b"trace_ids" in body
        missing = Endpoint(pid=1, host="127.0.0.1", port=server.httpd.server_address[1], token="tok", db="x")
        server.close()
        with pytest.raises(Exception, match="did not answer"):
            request_analysis(missing, None)
    finally:
        writer.close()


def test_server_without_the_route_is_reported(tmp_path: Path) -> None:
    writer = store(tmp_path / "n.duckdb", [])
    server = _Server(AnalyzeRoute(writer.reader(), writer), "tok")
    try:
        ep = Endpoint(pid=1, host="127.0.0.1", port=server.httpd.server_address[1], token="tok", db="x")
        import analysis.remote as remote

        original = remote.ANALYZE_PATH
        remote.ANALYZE_PATH = "/elsewhere"
        try:
            with pytest.raises(AnalysisUnavailable):
                request_analysis(ep)
        finally:
            remote.ANALYZE_PATH = original
    finally:
        server.close()
        writer.close()
