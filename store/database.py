"""Open a faultlens DuckDB file: connection settings, schema version, migrations, error wrapping.

The file records its schema version in ``faultlens_meta``. A fresh file is created at the current
version straight from ``store.schema.TABLES`` (the DDL is generated from the Arrow schemas, so the
two cannot drift); an older file is brought forward by ``MIGRATIONS``, in order, in one transaction;
a file written by a newer faultlens is refused with ``SchemaError``. Every duckdb exception the store
raises passes through ``translate_errors`` - the one place where library errors become
``store.errors``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from store import schema, span_text
from store.errors import QueryError, ReadOnlyViolation, SchemaError, StoreError, StoreLocked, StoreNotFound

META_TABLE = "faultlens_meta"
#: Spans whose GenAI content columns were filled from log events, and which ones (a bit mask in
#: ``store.maintenance.CONTENT_COLUMNS`` order): such a column is rebuilt when more events arrive.
LOG_FILL_TABLE = "span_log_fill"

_INTERNAL_DDL = (
    f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)",
    f"CREATE TABLE IF NOT EXISTS {LOG_FILL_TABLE} ("
    "trace_id VARCHAR, span_id VARCHAR, mask TINYINT, PRIMARY KEY (trace_id, span_id))",
)


@dataclass(frozen=True)
class Migration:
    """Brings a file from ``version - 1`` to ``version``. ``apply`` runs inside the migration
    transaction and must not commit."""

    version: int
    description: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


def _store_span_text_once(con: duckdb.DuckDBPyConnection) -> None:
    """Version 2: ``spans`` becomes a view over ``span_rows`` (see ``store.schema``). Stored rows
    keep their attributes whole (nothing moved); the mask column is appended, so inserts name
    their columns (``store.ingest.positional_tables``)."""
    con.execute(f"ALTER TABLE spans RENAME TO {schema.SPAN_ROWS_TABLE}")
    con.execute(f"ALTER TABLE {schema.SPAN_ROWS_TABLE} RENAME COLUMN attributes TO attributes_rest")
    con.execute(f"ALTER TABLE {schema.SPAN_ROWS_TABLE} ADD COLUMN attributes_in_columns INTEGER")


def _without_primary_key(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """``table`` without its primary key: DuckDB cannot drop one, so the table is copied (columns
    in their stored order) and replaced."""
    con.execute(f"CREATE TABLE {table}_copy AS SELECT * FROM {table}")
    con.execute(f"DROP TABLE {table}")
    con.execute(f"ALTER TABLE {table}_copy RENAME TO {table}")


def _drop_span_primary_key(con: duckdb.DuckDBPyConnection) -> None:
    """Version 3: ``span_rows`` without its primary key, whose index DuckDB keeps resident (the
    writer checks span keys itself, ``store.stored_keys``). The ``spans`` view over it is dropped
    here and created again after migrating."""
    con.execute("DROP VIEW IF EXISTS spans")
    _without_primary_key(con, schema.SPAN_ROWS_TABLE)


def _drop_ingest_primary_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Version 4: the other ingest tables (span events and links, logs, metrics) without their
    primary keys, for the same reason."""
    for name in ("span_events", "span_links", "logs", "metrics"):
        _without_primary_key(con, name)


#: Migrations to versions 2 .. ``schema.SCHEMA_VERSION``, ascending. A fresh file skips them all.
#: The views (``spans``) are created afresh after migrating, on every writable open.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "store each span text once: spans is a view over span_rows", _store_span_text_once),
    Migration(3, "span_rows without a primary key: the writer checks span keys", _drop_span_primary_key),
    Migration(4, "no primary key on the other ingest tables either", _drop_ingest_primary_keys),
)


@contextmanager
def translate_errors(action: str, *, query: bool = False) -> Iterator[None]:
    """Turn a duckdb exception raised inside the block into the store's hierarchy (``raise ... from``).

    ``query=True`` marks user SQL on the read path: invalid SQL becomes ``QueryError`` and a write
    attempt caught by DuckDB's read-only transaction becomes ``ReadOnlyViolation``."""
    try:
        yield
    except duckdb.Error as e:
        raise _translate(e, action, query=query) from e


def _translate(e: duckdb.Error, action: str, *, query: bool) -> StoreError:
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    if isinstance(e, duckdb.IOException) and "lock" in text.lower():
        return StoreLocked(f"{action}: the file is locked by another process ({text})")
    if query and isinstance(e, duckdb.TransactionException) and "read-only" in text:
        return ReadOnlyViolation(f"the store's query path is read-only: {text}")
    if query and isinstance(e, duckdb.PermissionException):
        return ReadOnlyViolation(f"the store's query path is read-only and cannot access files: {text}")
    if query:
        return QueryError(f"{action}: {text}")
    return StoreError(f"{action}: {text}")


def unregister_quietly(con: duckdb.DuckDBPyConnection, view: str) -> None:
    """Drop a registered Arrow view. Fails inside an aborted transaction, where it must not mask
    the error that aborted it; the next ``register`` of the name replaces the view anyway."""
    with contextlib.suppress(duckdb.Error):
        con.unregister(view)


#: The name a writable store is attached under (see ``connect``).
CATALOG = "faultlens"
#: Rows per row group of a writable store (DuckDB's default is 122,880). A transaction appending a
#: whole row group writes it to the file compressed at once, and the WAL only points to it; smaller
#: appends go through the WAL and a later checkpoint compresses them. A busy server's group commits
#: are a few 512-span requests, so at the default size every span was written twice, and each
#: checkpoint cost ~8 us/span (``bench/store_insert.py``); at this size a commit of four such
#: requests or more is written once. The price: up to ~40% more bytes per span on disk
#: (compression works on smaller groups).
ROW_GROUP_SIZE = 2048


def connect(
    path: str | os.PathLike[str],
    *,
    read_only: bool = False,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file with the store's settings. External access (files, network, ATTACH,
    INSTALL/LOAD) is switched off for the whole database: the query path runs user SQL with this
    process's rights, and the store itself only reads Arrow objects it registers.

    A writable store is attached as ``CATALOG`` with ``ROW_GROUP_SIZE`` (an option of ATTACH only)
    and made the connection's default: cursors start on DuckDB's in-memory catalog, so take them
    with ``cursor``."""
    p = Path(path)
    if read_only and not p.exists():
        raise StoreNotFound(f"no store at {p}")
    config: dict[str, str | bool | int | float | list[str]] = {}
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if threads is not None:
        config["threads"] = threads
    with translate_errors(f"cannot open {p}"):
        if read_only:
            con = duckdb.connect(str(p), read_only=True, config={**config, "enable_external_access": False})
        else:
            con = duckdb.connect(":memory:", config=config)
            try:
                quoted = str(p).replace("'", "''")
                con.execute(f"ATTACH '{quoted}' AS {CATALOG} (ROW_GROUP_SIZE {ROW_GROUP_SIZE})")
                con.execute(f"USE {CATALOG}")
                con.execute("SET enable_external_access = false")
            except BaseException:
                con.close()
                raise
        # No progress bar on this process's terminal (it would corrupt `report`'s stdout); a
        # connection-local setting that the cursors made from this connection inherit.
        con.execute("SET enable_progress_bar = false")
        return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A new cursor of a writable store's connection (or of one of its cursors), on its catalog."""
    cur = con.cursor()
    cur.execute(f"USE {CATALOG}")
    return cur


def read_meta(con: duckdb.DuckDBPyConnection, *keys: str) -> dict[str, str]:
    """The values of ``keys`` in ``faultlens_meta`` (a key without a value is left out)."""
    placeholders = ", ".join("?" for _ in keys)
    rows = con.execute(f"SELECT key, value FROM {META_TABLE} WHERE key IN ({placeholders})", keys).fetchall()
    return {key: value for key, value in rows}


def write_meta(con: duckdb.DuckDBPyConnection, values: dict[str, str]) -> None:
    """Set ``values`` in ``faultlens_meta`` (inside the caller's transaction, if any). An UPDATE
    first: it costs DuckDB half of what INSERT OR REPLACE does, and the writer sets its applied
    journal mark in every group it commits."""
    for key, value in values.items():
        row = con.execute(f"UPDATE {META_TABLE} SET value = ? WHERE key = ?", [value, key]).fetchone()
        if row is None or row[0] == 0:
            con.execute(f"INSERT INTO {META_TABLE} VALUES (?, ?)", [key, value])


def stored_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The file's schema version, or None for a file without faultlens tables."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if META_TABLE not in tables:
        if "spans" in tables or schema.SPAN_ROWS_TABLE in tables:
            raise SchemaError("not a faultlens store: it has a spans table but no schema version")
        return None
    version = read_meta(con, "schema_version").get("schema_version")
    if version is None:
        raise SchemaError(f"{META_TABLE} holds no schema_version")
    return int(version)


def ensure_schema(
    con: duckdb.DuckDBPyConnection,
    *,
    migrations: Sequence[Migration] = MIGRATIONS,
    target_version: int = schema.SCHEMA_VERSION,
) -> int:
    """Create or migrate the file to ``target_version`` and (re)create the ``spans`` view, in one
    transaction; return the version the file had before (0 for a fresh file). Raises
    ``SchemaError`` for a newer file, a missing or failing migration, or tables that lack columns
    of ``store.schema`` after migrating."""
    with translate_errors("cannot read the schema version"):
        before = stored_version(con)
    if before is not None and before > target_version:
        raise SchemaError(
            f"the store was written by a newer faultlens (schema version {before}, "
            f"this faultlens understands up to {target_version})"
        )
    con.execute("BEGIN TRANSACTION")
    try:
        if before is None:
            for name, table_schema, key in schema.TABLES:
                con.execute(
                    schema.create_table_sql(*schema.stored(name, table_schema), schema.primary_key(name, key))
                )
            for ddl in _INTERNAL_DDL:
                con.execute(ddl)
        elif before != target_version:
            _migrate(con, before, target_version, migrations)
        con.execute(span_text.spans_view_sql())
        if before != target_version:
            write_meta(con, {"schema_version": str(target_version)})
        check_columns(con)
        con.execute("COMMIT")
    except duckdb.Error as e:
        con.execute("ROLLBACK")
        raise SchemaError(f"migrating the store to schema version {target_version} failed: {e}") from e
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return before or 0


def _migrate(
    con: duckdb.DuckDBPyConnection, before: int, target: int, migrations: Sequence[Migration]
) -> None:
    by_version = {m.version: m for m in migrations}
    for version in range(before + 1, target + 1):
        migration = by_version.get(version)
        if migration is None:
            raise SchemaError(f"no migration to schema version {version}")
        migration.apply(con)


def check_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Raise ``SchemaError`` when a table lacks a column that ``store.schema`` declares."""
    rows = con.execute("SELECT table_name, column_name FROM duckdb_columns()").fetchall()
    present: dict[str, set[str]] = {}
    for table, column in rows:
        present.setdefault(table, set()).add(column)
    for name, table_schema in (schema.stored(n, s) for n, s, _ in schema.TABLES):
        missing = [f.name for f in table_schema if f.name not in present.get(name, set())]
        if missing:
            raise SchemaError(f"table {name} lacks columns {missing}: a migration is missing")


def open_database(
    path: str | os.PathLike[str],
    *,
    read_only: bool = False,
    memory_limit: str | None = None,
    threads: int | None = None,
    migrations: Sequence[Migration] = MIGRATIONS,
    target_version: int = schema.SCHEMA_VERSION,
) -> duckdb.DuckDBPyConnection:
    """Open (creating or migrating when writable) a faultlens store. A read-only open never
    migrates: a file at another schema version raises ``SchemaError``."""
    con = connect(path, read_only=read_only, memory_limit=memory_limit, threads=threads)
    try:
        if read_only:
            with translate_errors("cannot read the schema version"):
                version = stored_version(con)
            if version != target_version:
                raise SchemaError(
                    f"{path} has schema version {version}, this faultlens reads {target_version}"
                    + (
                        " (open it once for writing, e.g. with faultlens serve, to migrate)"
                        if version is not None and version < target_version
                        else ""
                    )
                )
        else:
            ensure_schema(con, migrations=migrations, target_version=target_version)
    except BaseException:
        con.close()
        raise
    return con
