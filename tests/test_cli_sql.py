"""`faultlens sql` streams: json and csv of a result of many batches are whole and well-formed,
the table shows its first rows and counts the rest, and a failure partway through is one error
line - whether the store file is opened directly or read through a serving process."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from faultlens.commands.sql import TABLE_ROWS
from store.api import IngestBatch
from store.query_server import QueryServer
from store.reader import BATCH_ROWS
from store.writer import DuckStoreWriter
from tests.conftest import ROOT, faultlens_cmd, run_cli
from tests.store.conftest import span_rows
from tests.store.test_conformance import FAILS_MIDWAY

ROWS = 3 * BATCH_ROWS + 7  # several batches, the last one partial
MANY = f"SELECT i, 'row ' || i AS label, [i, i + 1] AS pair FROM range({ROWS}) t(i) ORDER BY i"


@pytest.fixture(params=["file", "served"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A store with a few spans, read from the file or through a QueryServer holding it."""
    path = tmp_path / "s.duckdb"
    writer = DuckStoreWriter(path)
    writer.write(IngestBatch(spans=span_rows(3)))
    if request.param == "file":
        writer.close()
        yield path
        return
    server = QueryServer(writer)
    yield path
    server.close()
    writer.close()


def test_json_of_a_multi_batch_result_is_one_array_with_every_row(db: Path) -> None:
    res = run_cli("sql", "--db", str(db), "--format", "json", MANY)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("\n") == 1  # one array on one line, as before streaming
    rows = json.loads(res.stdout)
    assert rows == [{"i": i, "label": f"row {i}", "pair": [i, i + 1]} for i in range(ROWS)]


def test_json_of_an_empty_result_is_an_empty_array(db: Path) -> None:
    res = run_cli("sql", "--db", str(db), "--format", "json", "SELECT * FROM spans WHERE false")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "[]\n"


def test_csv_of_a_multi_batch_result_has_one_header_and_every_row(db: Path) -> None:
    res = run_cli("sql", "--db", str(db), "--format", "csv", MANY)
    assert res.returncode == 0, res.stderr
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows[0] == ["i", "label", "pair"]
    assert rows[1:] == [[str(i), f"row {i}", f"[{i},{i + 1}]"] for i in range(ROWS)]


def test_table_shows_the_first_rows_and_counts_the_rest(db: Path) -> None:
    res = run_cli("sql", "--db", str(db), MANY, env={"COLUMNS": "200"})
    assert res.returncode == 0, res.stderr
    assert f"{ROWS} rows: the first {TABLE_ROWS} shown, {ROWS - TABLE_ROWS} not shown" in res.stdout
    assert f"row {TABLE_ROWS - 1} " in res.stdout and f"row {TABLE_ROWS} " not in res.stdout


def test_a_failure_partway_through_is_one_error_line(db: Path) -> None:
    res = run_cli("sql", "--db", str(db), "--format", "json", FAILS_MIDWAY)
    assert res.returncode == 2, res.stderr
    assert "convert" in res.stderr and res.stderr.strip().count("\n") == 0
    assert res.stdout.startswith("[{")  # rows came out before the failure; the array stays open


def test_a_reader_that_goes_away_stops_it_quietly(db: Path) -> None:
    """`faultlens sql ... | head`: the rest of an endless-looking result is not read, no traceback."""
    cmd = faultlens_cmd("sql", "--db", str(db), "--format", "csv", "SELECT * FROM range(100000000)")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(6) == b'"range'
    proc.stdout.close()
    assert proc.wait(120) == 0
    assert proc.stderr.read() == b""
