"""The read path's guard: which SQL a reader may run, and how it runs.

Two layers, so that neither alone has to be perfect:
1. the statement is parsed by DuckDB (``duckdb.extract_statements``) and only one statement of a
   read-only type is let through (SELECT - which covers WITH, FROM, DESCRIBE, SHOW, SUMMARIZE -,
   EXPLAIN of such a statement, and the PRAGMAs that only show things);
2. it runs inside ``BEGIN TRANSACTION READ ONLY``, so anything that would still write is refused by
   DuckDB itself. File and network access is off for the whole database (``store.database.connect``),
   so ``read_csv``/``read_parquet``/``COPY``/``ATTACH``/``LOAD`` cannot reach the file system either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

from store.database import translate_errors
from store.errors import QueryError, ReadOnlyViolation

_READ_TYPES = frozenset(
    {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN, duckdb.StatementType.PRAGMA}
)

#: PRAGMAs that only describe the database; every other PRAGMA (threads=, enable_profiling, ...)
#: changes settings and is refused.
_SHOW_PRAGMAS = frozenset(
    {
        "show_tables",
        "show_tables_expanded",
        "table_info",
        "show",
        "database_size",
        "storage_info",
        "version",
        "platform",
        "functions",
        "collations",
        "metadata_info",
        "show_databases",
    }
)


def _refuse(kind: str) -> ReadOnlyViolation:
    return ReadOnlyViolation(f"the store's query path is read-only: {kind} statements are refused")


def _leading_words(text: str, n: int) -> list[str]:
    return text.strip().lower().replace("(", " ").replace("=", " ").split(None, n)[:n]


def check_read_only(sql: str) -> None:
    """Raise ``ReadOnlyViolation`` unless ``sql`` is exactly one read-only statement, and
    ``QueryError`` when it does not parse."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise QueryError(f"invalid SQL: {str(e).splitlines()[0]}") from e
    if not statements:
        raise QueryError("empty SQL: send one statement")
    for statement in statements:
        _check_statement(statement)
    if len(statements) != 1:
        raise QueryError(f"send exactly one statement per query, got {len(statements)}")


def _check_statement(statement: duckdb.Statement) -> None:
    kind = statement.type
    if kind not in _READ_TYPES:
        raise _refuse(kind.name)
    if kind == duckdb.StatementType.PRAGMA:
        words = _leading_words(statement.query, 2)
        name = words[1] if len(words) > 1 else ""
        if name not in _SHOW_PRAGMAS:
            raise _refuse(f"PRAGMA {name}")
    elif kind == duckdb.StatementType.EXPLAIN:
        # EXPLAIN ANALYZE executes its statement: check what it explains, not just the EXPLAIN.
        rest = statement.query.strip()[len("explain") :].lstrip()
        if rest.lower().startswith("analyze"):
            rest = rest[len("analyze") :].lstrip()
        if rest.startswith("("):  # EXPLAIN (FORMAT json) ...
            rest = rest.partition(")")[2]
        try:
            inner = duckdb.extract_statements(rest)
        except duckdb.Error as e:
            raise QueryError(f"cannot check the statement EXPLAIN explains: {str(e).splitlines()[0]}") from e
        if not inner:
            raise QueryError("EXPLAIN needs a statement to explain")
        for inner_statement in inner:
            _check_statement(inner_statement)


def start_read(
    cursor: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = (), batch_rows: int = 2048
) -> pa.RecordBatchReader | None:
    """Check ``sql`` with ``check_read_only``, open a read-only transaction on ``cursor`` and start
    the statement: its result as a stream of ``batch_rows``-row batches, or None for a statement
    without one. The caller owns the transaction: ``ROLLBACK`` on ``cursor`` once the stream is
    done. Errors come as ``ReadOnlyViolation`` / ``QueryError`` (the transaction then is closed)."""
    check_read_only(sql)
    with translate_errors("query failed", query=True):
        cursor.execute("BEGIN TRANSACTION READ ONLY")
        try:
            relation = cursor.sql(sql, params=list(params) if params else None)
            return None if relation is None else relation.to_arrow_reader(batch_rows)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
