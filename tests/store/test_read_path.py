"""The read path: read-only guard on every reader kind, the query server's protocol and
``open_reader`` across processes (remote reader while another process holds the file, lock errors,
stale discovery files)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from store.api import IngestBatch
from store.discovery import Endpoint, discovery_path, read_endpoint, write_endpoint
from store.errors import QueryError, ReadOnlyViolation, StoreError, StoreLocked
from store.query_server import QueryServer
from store.reader import ConnectionReader, RemoteReader, open_reader
from store.writer import DuckStoreWriter
from tests.store.conftest import StoreUnderTest, span_rows

ROOT = Path(__file__).resolve().parents[2]

REFUSED = [
    "INSERT INTO spans (trace_id, span_id) VALUES ('t', 's')",
    "UPDATE spans SET name = 'x'",
    "DELETE FROM spans",
    "CREATE TABLE evil (x INTEGER)",
    "DROP TABLE spans",
    "COPY spans TO '/tmp/faultlens-evil.csv'",
    "ATTACH '/tmp/faultlens-evil.duckdb' AS evil",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET threads = 1",
    "PRAGMA threads = 1",
    "PRAGMA enable_profiling",
    "CALL checkpoint()",
    "CHECKPOINT",
    "EXPLAIN ANALYZE DELETE FROM spans",
    "EXPLAIN (FORMAT json) DELETE FROM spans",
    "SELECT 1; DELETE FROM spans",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_parquet('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM read_text('/etc/hostname')",
]

ALLOWED = [
    "SELECT count(*) FROM spans",
    "WITH s AS (SELECT * FROM spans) SELECT count(*) FROM s",
    "FROM spans LIMIT 1",
    "DESCRIBE spans",
    "SHOW TABLES",
    "SUMMARIZE spans",
    "PRAGMA show_tables",
    "PRAGMA table_info('spans')",
    "EXPLAIN SELECT * FROM spans",
    "EXPLAIN ANALYZE SELECT count(*) FROM spans",
]


@pytest.fixture(scope="module", params=["direct", "remote", "reopened"])
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StoreUnderTest]:
    """One store per kind for the module: the guard tests must leave it unchanged anyway."""
    sut = StoreUnderTest(request.param, tmp_path_factory.mktemp(request.param) / "faultlens.duckdb")
    sut.write(IngestBatch(spans=span_rows(3)))
    yield sut
    sut.close()


@pytest.mark.parametrize("sql", REFUSED)
def test_writes_and_file_access_are_refused(loaded: StoreUnderTest, sql: str) -> None:
    reader = loaded.settle()
    with pytest.raises(ReadOnlyViolation, match="read-only"):
        reader.query(sql)
    with pytest.raises(ReadOnlyViolation, match="read-only"):
        reader.query_batches(sql)
    assert reader.query("SELECT count(*) AS n FROM spans").column("n")[0].as_py() == 3
    assert not Path("/tmp/faultlens-evil.csv").exists()


@pytest.mark.parametrize("sql", ALLOWED)
def test_read_statements_are_answered(loaded: StoreUnderTest, sql: str) -> None:
    assert loaded.settle().query(sql).num_rows >= 1


def test_invalid_sql_is_a_query_error_not_a_violation(loaded: StoreUnderTest) -> None:
    reader = loaded.settle()
    for sql in ("SELEC 1", "SELECT * FROM no_such_table", ""):
        with pytest.raises(QueryError) as e:
            reader.query(sql)
        assert not isinstance(e.value, ReadOnlyViolation)


def test_server_refuses_a_wrong_token_and_publishes_a_private_discovery_file(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with DuckStoreWriter(db) as writer, QueryServer(writer) as server:
        path = discovery_path(db)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        endpoint = read_endpoint(db)
        assert endpoint == server.endpoint and endpoint.port == server.port
        forged = RemoteReader(Endpoint(endpoint.pid, endpoint.host, endpoint.port, "wrong", endpoint.db))
        assert not forged.ping()
        with pytest.raises(StoreError, match="bearer token"):
            forged.query("SELECT 1")
    assert not discovery_path(db).exists()


def test_stale_discovery_file_falls_back_to_the_file(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with DuckStoreWriter(db) as w:
        w.write(IngestBatch(spans=span_rows(2)))
    # a server killed without cleanup leaves its file behind; nothing listens on that port now
    write_endpoint(db, Endpoint(pid=999_999, host="127.0.0.1", port=1, token="t", db=str(db.resolve())))
    reader = open_reader(db)
    try:
        assert isinstance(reader, ConnectionReader)
        assert reader.query("SELECT count(*) AS n FROM spans").column("n")[0].as_py() == 2
    finally:
        reader.close()


class Holder:
    """Another process holding the store (tests/store/store_proc.py)."""

    def __init__(self, db: Path, *, serve: bool) -> None:
        args = [sys.executable, "-m", "tests.store.store_proc", str(db), *(["--serve"] if serve else [])]
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert self.readline() == "ready"
        if serve:
            assert self.readline().startswith("serving ")

    def readline(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def write(self, n: int) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"write {n}\n")
        self.proc.stdin.flush()
        line = self.readline()
        assert line.startswith("acked "), line
        return int(line.split()[1])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)


def test_remote_reader_sees_acknowledged_spans_of_another_process(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    holder = Holder(db, serve=True)
    try:
        acked = holder.write(5)
        reader = open_reader(db)
        assert isinstance(reader, RemoteReader)
        assert reader.query("SELECT count(*) AS n FROM spans").column("n")[0].as_py() == acked
        acked = holder.write(7)  # read-your-ack: visible as soon as write returned over there
        assert reader.query("SELECT count(*) AS n FROM spans").column("n")[0].as_py() == acked == 12
        with pytest.raises(ReadOnlyViolation):
            reader.query("DELETE FROM spans")
    finally:
        holder.close()
    assert not discovery_path(db).exists()
    reader = open_reader(db)  # the server is gone: the file opens directly
    try:
        assert isinstance(reader, ConnectionReader)
        assert reader.query("SELECT count(*) AS n FROM spans").column("n")[0].as_py() == 12
    finally:
        reader.close()


def test_file_held_without_a_read_path_is_store_locked(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    holder = Holder(db, serve=False)
    try:
        holder.write(1)
        with pytest.raises(StoreLocked, match="no read path"):
            open_reader(db)
    finally:
        holder.close()


def test_query_server_answers_arrow_and_json_errors_over_plain_http(tmp_path: Path) -> None:
    import http.client

    db = tmp_path / "s.duckdb"
    with DuckStoreWriter(db) as writer, QueryServer(writer) as server:
        writer.write(IngestBatch(spans=span_rows(2)))

        def post(body: bytes, token: str = server.token) -> tuple[int, str, bytes]:
            conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
            conn.request("POST", "/query", body=body, headers={"Authorization": f"Bearer {token}"})
            resp = conn.getresponse()
            out = resp.status, resp.getheader("Content-Type", ""), resp.read()
            conn.close()
            return out

        status, ctype, _ = post(orjson.dumps({"sql": "SELECT span_id FROM spans", "params": []}))
        assert (status, ctype) == (200, "application/vnd.apache.arrow.stream")
        status, _, body = post(orjson.dumps({"sql": "DELETE FROM spans"}))
        assert status == 400 and orjson.loads(body)["error"] == "ReadOnlyViolation"
        status, _, body = post(b"not json")
        assert status == 400 and orjson.loads(body)["error"] == "QueryError"
        assert post(b"{}", token="nope")[0] == 401


def test_killed_server_leaves_a_harmless_discovery_file(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    holder = Holder(db, serve=True)
    holder.write(3)
    holder.proc.send_signal(signal.SIGKILL)
    holder.proc.wait(30)
    assert discovery_path(db).exists()
    reader = open_reader(db)
    try:
        assert isinstance(reader, ConnectionReader)
        assert reader.query("SELECT count(*) AS n FROM spans").column("n")[0].as_py() == 3
    finally:
        reader.close()


def test_extra_routes_share_the_token_and_survive_their_own_errors(tmp_path: Path) -> None:
    import http.client

    def echo(body: bytes) -> tuple[int, bytes]:
        return 200, orjson.dumps({"got": orjson.loads(body)})

    def broken(body: bytes) -> tuple[int, bytes]:
        raise RuntimeError("boom")

    db = tmp_path / "s.duckdb"
    with DuckStoreWriter(db) as writer, QueryServer(writer, routes={"/echo": echo}) as server:
        server.add_route("/broken", broken)
        with pytest.raises(ValueError, match="reserved"):
            server.add_route("/query", echo)

        def post(path: str, token: str = server.token) -> tuple[int, bytes]:
            conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
            conn.request("POST", path, body=b'{"a": 1}', headers={"Authorization": f"Bearer {token}"})
            resp = conn.getresponse()
            out = resp.status, resp.read()
            conn.close()
            return out

        assert post("/echo") == (200, b'{"got":{"a":1}}')
        assert post("/echo", token="bad")[0] == 401
        status, body = post("/broken")
        assert status == 500 and orjson.loads(body)["message"] == "boom"
        assert post("/nope")[0] == 404
        assert RemoteReader(server.endpoint).query("SELECT 1 AS x").column("x").to_pylist() == [1]
