"""`faultlens serve` as a process: reading while it ingests, read-only SQL, kill -9 durability."""

from __future__ import annotations

import http.client
import json
import os
import signal
from pathlib import Path

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter

from tests.collector.test_receiver_errors import make_request
from tests.conftest import ServeProcess, run_cli, start_serve, stop_serve
from tests.traffic import SPANS_PER_TRACE, Fleet, emit_trace


def sql_json(db: Path, query: str) -> list[dict[str, object]]:
    res = run_cli("sql", "--db", str(db), "--format", "json", query)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert isinstance(rows, list)
    return rows


def test_sql_sees_every_acknowledged_span_while_serving(serve_process: ServeProcess) -> None:
    sent = 0
    for make in (
        lambda: GrpcSpanExporter(endpoint=serve_process.grpc_endpoint, insecure=True),
        lambda: HttpSpanExporter(endpoint=f"{serve_process.http_endpoint}/v1/traces"),
    ):
        fleet = Fleet(make)
        for i in range(15):
            emit_trace(fleet, 1_760_000_000_000_000_000 + (sent + i) * 10**9, i)
        assert fleet.flush()
        fleet.shutdown()
        sent += 15 * SPANS_PER_TRACE
        # still serving: the CLI goes through the server's read path, no lock error
        assert sql_json(serve_process.db, "select count(*) as n from spans") == [{"n": sent}]
    assert serve_process.proc.poll() is None


def test_sql_refuses_writes_clearly(serve_process: ServeProcess) -> None:
    for stmt in (
        "delete from spans",
        "insert into spans (trace_id) values ('x')",
        "create table t (a int)",
        "drop table spans",
        "copy spans to '/tmp/x.csv'",
        "attach 'other.duckdb'",
    ):
        res = run_cli("sql", "--db", str(serve_process.db), stmt)
        assert res.returncode == 2, (stmt, res.stdout, res.stderr)
        assert "read-only" in res.stderr.lower(), res.stderr
        assert res.stderr.strip().count("\n") == 0  # one clear line, no traceback
    stop_serve(serve_process)
    # and when no server holds the file
    res = run_cli("sql", "--db", str(serve_process.db), "delete from spans")
    assert res.returncode == 2 and "read-only" in res.stderr.lower()


def test_sql_formats_without_server(tmp_path: Path) -> None:
    sp = start_serve(tmp_path / "s.duckdb", "--no-analysis")
    try:
        conn = http.client.HTTPConnection("127.0.0.1", sp.http_port, timeout=30)
        conn.request(
            "POST",
            "/v1/traces",
            body=make_request(3).SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
        )
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        stop_serve(sp)
    rows = sql_json(sp.db, "select name from spans order by name")
    assert rows == [{"name": "span-0"}, {"name": "span-1"}, {"name": "span-2"}]
    csv = run_cli("sql", "--db", str(sp.db), "--format", "csv", "select name from spans order by name")
    assert csv.returncode == 0 and csv.stdout.splitlines()[0].strip('"') == "name"
    table = run_cli("sql", "--db", str(sp.db), "select count(*) as n from spans")
    assert table.returncode == 0 and "3" in table.stdout


def test_sql_on_missing_store_is_one_line_error(tmp_path: Path) -> None:
    res = run_cli("sql", "--db", str(tmp_path / "nope.duckdb"), "select 1")
    assert res.returncode == 2
    assert "nope.duckdb" in res.stderr and "Traceback" not in res.stderr


def test_kill_9_keeps_every_acknowledged_span(tmp_path: Path) -> None:
    sp = start_serve(tmp_path / "k.duckdb", "--no-analysis")
    acked = 0
    try:
        conn = http.client.HTTPConnection("127.0.0.1", sp.http_port, timeout=30)
        for i in range(40):
            conn.request(
                "POST",
                "/v1/traces",
                body=make_request(25, trace_byte=i + 1).SerializeToString(),
                headers={"Content-Type": "application/x-protobuf"},
            )
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200
            acked += 25
        conn.close()
    finally:
        os.kill(sp.proc.pid, signal.SIGKILL)  # the instant after the last acknowledgement
        sp.proc.wait(10)
    assert sql_json(sp.db, "select count(*) as n from spans") == [{"n": acked}]
    # the store opens again for serving after the crash
    sp2 = start_serve(sp.db, "--no-analysis")
    stop_serve(sp2)


def test_a_taken_port_or_held_store_is_a_clear_error(serve_process: ServeProcess, tmp_path: Path) -> None:
    """A second server never shares a port with the first (grpc would, by default) nor its store."""
    for args in (
        ("--db", str(tmp_path / "b.duckdb"), "--grpc-port", str(serve_process.grpc_port), "--http-port", "0"),
        ("--db", str(tmp_path / "c.duckdb"), "--grpc-port", "0", "--http-port", str(serve_process.http_port)),
        ("--db", str(serve_process.db), "--grpc-port", "0", "--http-port", "0"),
    ):
        res = run_cli("serve", "--no-analysis", *args, timeout=60)
        assert res.returncode == 3, (args, res.stdout, res.stderr)
        assert "Traceback" not in res.stderr
        assert any(w in res.stderr for w in ("in use", "locked")), res.stderr


def test_db_memory_limit_caps_the_stores_duckdb(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    sp = start_serve(db, "--no-analysis", "--db-memory-limit", "300MB")
    try:
        # `sql` reads through serve's own DuckDB instance: the setting it reports is serve's.
        assert sql_json(db, "select current_setting('memory_limit') as m") == [{"m": "286.1 MiB"}]
    finally:
        stop_serve(sp)
    bad = run_cli("serve", "--db", str(tmp_path / "b.duckdb"), "--db-memory-limit", "lots")
    assert bad.returncode == 2
    assert "'lots' is not a size such as 512MB or 2GB" in bad.stderr
    assert not (tmp_path / "b.duckdb").exists()  # refused before anything opened the store
