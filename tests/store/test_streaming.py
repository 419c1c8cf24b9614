"""Streaming reads: a ``ConnectionReader`` stream releases its cursor however it ends, and the query
server sends a result batch by batch - the first batch reaches the client while the statement is
still running, a client that leaves or stalls frees the server's cursor, and a failure after the
first batch cuts the HTTP body short. No timing: servers are stepped with blocking gates, and
waits only guard against a hang."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pytest

from store.api import IngestBatch
from store.database import open_database
from store.errors import QueryError
from store.query_server import QueryServer
from store.reader import BATCH_ROWS, BatchStream, ConnectionReader, RemoteReader
from store.writer import DuckStoreWriter
from tests.store.conftest import span_rows
from tests.store.test_conformance import FAILS_MIDWAY

HANG_GUARD = 60.0  # seconds; only ever reached when something is stuck


def _spans(n: int) -> IngestBatch:
    return IngestBatch(spans=span_rows(n, parents=[None] * n))


def _is_closed(cursor: duckdb.DuckDBPyConnection) -> bool:
    try:
        cursor.execute("SELECT 1")
    except duckdb.Error as e:  # an open stream refuses with "connection has an open result"
        return isinstance(e, duckdb.ConnectionException)
    return False


@pytest.fixture
def spied(tmp_path: Path) -> Iterator[tuple[ConnectionReader, list[duckdb.DuckDBPyConnection]]]:
    """A read-only ``ConnectionReader`` on a store of 4 batches of spans, and every cursor it took."""
    db = tmp_path / "s.duckdb"
    with DuckStoreWriter(db) as writer:
        writer.write(_spans(4 * BATCH_ROWS))
    con = open_database(db, read_only=True)
    cursors: list[duckdb.DuckDBPyConnection] = []

    def cursor() -> duckdb.DuckDBPyConnection:
        cursors.append(con.cursor())
        return cursors[-1]

    yield ConnectionReader(cursor), cursors
    con.close()


def test_a_local_stream_releases_its_cursor_however_it_ends(
    spied: tuple[ConnectionReader, list[duckdb.DuckDBPyConnection]],
) -> None:
    reader, cursors = spied
    read_out = reader.query_batches("SELECT * FROM spans")
    assert not _is_closed(cursors[-1])
    assert sum(b.num_rows for b in read_out) == 4 * BATCH_ROWS
    assert _is_closed(cursors[-1])

    closed_early = reader.query_batches("SELECT * FROM spans")
    next(closed_early)
    closed_early.close()
    assert _is_closed(cursors[-1])

    dropped = reader.query_batches("SELECT * FROM spans")
    next(dropped)
    del dropped  # abandoned: garbage collection releases it
    assert _is_closed(cursors[-1])

    failed = reader.query_batches(FAILS_MIDWAY)
    with pytest.raises(QueryError):
        list(failed)
    assert _is_closed(cursors[-1])

    with pytest.raises(QueryError):
        reader.query_batches("SELECT * FROM no_such_table")
    assert _is_closed(cursors[-1])
    assert all(_is_closed(c) for c in cursors)


class GatedReader:
    """Stands in for the server's reader: streams ``source()`` (the real query's batches unless
    given), counting the batches the server pulled, blocking before pull number ``gate_at`` until
    ``gate`` is set, and setting ``released`` when the server releases the stream."""

    def __init__(self, real: ConnectionReader, gate_at: int = 0) -> None:
        self.real = real
        self.gate_at = gate_at
        self.gate = threading.Event()
        self.released = threading.Event()
        self.pulled = 0
        self.source: Callable[[], Iterator[pa.RecordBatch]] | None = None

    def query_batches(self, sql: str, params: Sequence[Any] = ()) -> BatchStream:
        stream = self.real.query_batches(sql, params)
        batches = self.source() if self.source is not None else iter(stream)

        def pull() -> pa.RecordBatch | None:
            if self.pulled + 1 == self.gate_at:
                assert self.gate.wait(HANG_GUARD)
            batch = next(batches, None)
            self.pulled += batch is not None
            return batch

        def release() -> None:
            stream.close()
            self.released.set()

        return BatchStream(stream.schema, pull, release)

    def close(self) -> None:
        self.real.close()


@pytest.fixture
def gated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[QueryServer, GatedReader]]:
    writer = DuckStoreWriter(tmp_path / "s.duckdb")
    writer.write(_spans(6 * BATCH_ROWS))
    writer.sync()
    reader = GatedReader(writer.reader(), gate_at=2)
    monkeypatch.setattr(writer, "reader", lambda: reader)
    server = QueryServer(writer, stall_timeout=1.0)
    yield server, reader
    reader.gate.set()
    server.close()
    writer.close()


def test_the_first_batch_arrives_while_the_statement_still_runs(
    gated: tuple[QueryServer, GatedReader],
) -> None:
    """The server sends each batch as it is produced: the client holds the first batch while the
    server's statement is blocked before its second, having pulled no more than that."""
    server, reader = gated
    client = RemoteReader(server.endpoint, timeout=HANG_GUARD)
    with client.query_batches("SELECT span_id FROM spans ORDER BY span_id") as stream:
        first = next(stream)
        assert not reader.gate.is_set() and reader.pulled <= 1  # the rest is not even computed
        reader.gate.set()
        rest = list(stream)
    assert reader.released.wait(HANG_GUARD)
    assert len(rest) >= 2
    ids = pa.Table.from_batches([first, *rest]).column("span_id").to_pylist()
    assert ids == sorted(ids) and len(ids) == 6 * BATCH_ROWS


def _endless(rows: int = 1 << 16) -> Callable[[], Iterator[pa.RecordBatch]]:
    """A result that never ends, 512 KB a batch: only a client leaving can stop the server."""
    batch = pa.record_batch({"span_id": pa.array(["x" * 8] * rows)})
    return lambda: iter(lambda: batch, None)


def test_a_client_leaving_mid_stream_frees_the_server(gated: tuple[QueryServer, GatedReader]) -> None:
    server, reader = gated
    reader.gate.set()
    reader.source = _endless()
    stream = RemoteReader(server.endpoint, timeout=HANG_GUARD).query_batches("SELECT span_id FROM spans")
    assert next(stream).num_rows > 0
    stream.close()
    assert reader.released.wait(HANG_GUARD)  # the server's next write failed; it let go
    reader.source = None
    assert RemoteReader(server.endpoint).query("SELECT count(*) AS n FROM spans").column("n")[0].as_py() > 0


def test_a_client_that_stops_reading_is_dropped_after_the_stall_timeout(
    gated: tuple[QueryServer, GatedReader],
) -> None:
    server, reader = gated
    reader.gate.set()
    reader.source = _endless()
    request = orjson.dumps({"sql": "SELECT span_id FROM spans"})
    with socket.create_connection((server.host, server.port), timeout=HANG_GUARD) as sock:
        sock.sendall(
            b"POST /query HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + server.token.encode()
            + b"\r\nContent-Length: "
            + str(len(request)).encode()
            + b"\r\n\r\n"
            + request
        )
        assert sock.recv(12) == b"HTTP/1.1 200"
        # ...and never reads again: the server blocks on a full socket until stall_timeout passes
        assert reader.released.wait(HANG_GUARD)


def test_the_http_body_is_chunked_and_cut_short_by_a_late_failure(tmp_path: Path) -> None:
    """What a plain HTTP + Arrow client sees: several batches in a chunked body; a failure after
    the first batch leaves the body without its final chunk, so it cannot pass for a whole result."""
    with DuckStoreWriter(tmp_path / "s.duckdb") as writer, QueryServer(writer) as server:
        writer.write(_spans(3 * BATCH_ROWS))

        def post(sql: str) -> http.client.HTTPResponse:
            conn = http.client.HTTPConnection(server.host, server.port, timeout=HANG_GUARD)
            conn.request(
                "POST",
                "/query",
                body=orjson.dumps({"sql": sql}),
                headers={"Authorization": f"Bearer {server.token}"},
            )
            return conn.getresponse()

        resp = post("SELECT * FROM spans")
        assert resp.status == 200 and resp.getheader("Transfer-Encoding") == "chunked"
        batches = list(pa.ipc.open_stream(resp.read()))
        assert len(batches) > 1 and sum(b.num_rows for b in batches) == 3 * BATCH_ROWS

        resp = post(FAILS_MIDWAY)
        assert resp.status == 200
        with pytest.raises(http.client.IncompleteRead):
            resp.read()
