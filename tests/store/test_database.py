"""Schema versioning: fresh files, migrations from an older version, refusal of newer files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from store import schema
from store.database import META_TABLE, Migration, open_database
from store.errors import SchemaError, StoreError
from store.reader import open_reader
from store.writer import DuckStoreWriter


def _version(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'").fetchone()
        assert row is not None
        return int(row[0])
    finally:
        con.close()


def _columns(path: Path, table: str) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    finally:
        con.close()


def _add_column(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("ALTER TABLE reports ADD COLUMN added_in_v2 VARCHAR")
    con.execute("UPDATE reports SET added_in_v2 = 'migrated'")


NEXT = schema.SCHEMA_VERSION + 1
V2 = (Migration(NEXT, "reports.added_in_v2", _add_column),)


def test_fresh_file_gets_every_table_at_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    open_database(path).close()
    assert _version(path) == schema.SCHEMA_VERSION
    for name, table_schema, _ in schema.TABLES:
        assert _columns(path, name) == table_schema.names


def test_older_file_is_migrated_in_order_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    con = open_database(path)
    con.execute("INSERT INTO reports (report_id) VALUES ('r')")
    con.close()
    open_database(path, migrations=V2, target_version=NEXT).close()
    assert _version(path) == NEXT
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT report_id, added_in_v2 FROM reports").fetchall() == [("r", "migrated")]
    con.close()


def test_failing_migration_rolls_back_everything(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    open_database(path).close()

    def broken(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("ALTER TABLE reports ADD COLUMN half_done VARCHAR")
        con.execute("SELECT * FROM no_such_table")

    with pytest.raises(SchemaError, match=f"schema version {NEXT + 1} failed"):
        open_database(path, migrations=(*V2, Migration(NEXT + 1, "broken", broken)), target_version=NEXT + 1)
    assert _version(path) == schema.SCHEMA_VERSION
    assert "added_in_v2" not in _columns(path, "reports") and "half_done" not in _columns(path, "reports")


def test_missing_migration_is_a_schema_error(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    open_database(path).close()
    with pytest.raises(SchemaError, match=f"no migration to schema version {NEXT}"):
        open_database(path, migrations=(), target_version=NEXT)


def test_newer_file_is_refused_by_writer_and_reader(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    open_database(path, migrations=V2, target_version=NEXT).close()
    with pytest.raises(SchemaError, match="newer faultlens"):
        DuckStoreWriter(path)
    with pytest.raises(SchemaError, match=f"schema version {NEXT}"):
        open_reader(path)


def test_reader_never_migrates(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    open_database(path).close()
    with pytest.raises(SchemaError, match="open it once for writing"):
        open_database(path, read_only=True, migrations=V2, target_version=NEXT)
    assert _version(path) == schema.SCHEMA_VERSION


def test_a_foreign_duckdb_file_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE spans (x INTEGER)")
    con.close()
    with pytest.raises(SchemaError, match="not a faultlens store"):
        DuckStoreWriter(path)


def test_missing_file_is_no_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        open_reader(tmp_path / "absent.duckdb")
    assert not (tmp_path / "absent.duckdb").exists()
