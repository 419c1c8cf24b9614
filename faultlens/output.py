"""Printing Arrow query results as JSON (an array of row objects), CSV or a terminal table.

``write_json`` and ``write_csv`` take the result batch by batch and write (and flush) each batch as
it comes, holding one batch at a time; their output is byte for byte that of ``to_json`` /
``to_csv`` on the whole result. The terminal table is for reading: ``print_table`` shows what it is
given and can say how many rows were left out.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import uuid
from collections.abc import Iterable
from typing import Any, BinaryIO

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
from rich.console import Console
from rich.table import Table


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID | dt.date | dt.time):
        return str(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def write_json(batches: Iterable[pa.RecordBatch], out: BinaryIO) -> None:
    """One JSON array of row objects (no trailing newline), written batch by batch."""
    out.write(b"[")
    first = True
    for batch in batches:
        if batch.num_rows == 0:
            continue
        rows = orjson.dumps(batch.to_pylist(), default=_default, option=orjson.OPT_NON_STR_KEYS)
        if not first:
            out.write(b",")
        out.write(memoryview(rows)[1:-1])  # the rows without the batch's own brackets
        out.flush()
        first = False
    out.write(b"]")


def to_json(table: pa.Table) -> bytes:
    out = io.BytesIO()
    write_json(table.to_batches(), out)
    return out.getvalue()


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    # CSV cannot hold nested values: they are written as JSON text.
    return pa.schema([pa.field(f.name, pa.string()) if pa.types.is_nested(f.type) else f for f in schema])


def _csv_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    columns = [
        pa.array([None if v is None else orjson.dumps(v, default=_default).decode() for v in col.to_pylist()])
        if pa.types.is_nested(col.type)
        else col
        for col in batch.columns
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def write_csv(schema: pa.Schema, batches: Iterable[pa.RecordBatch], out: BinaryIO) -> None:
    """A header line for ``schema``, then the rows of ``batches``, written batch by batch."""
    csv_schema = _csv_schema(schema)
    with pacsv.CSVWriter(out, csv_schema) as writer:
        for batch in batches:
            writer.write_batch(_csv_batch(batch, csv_schema))
            out.flush()


def to_csv(table: pa.Table) -> bytes:
    out = io.BytesIO()
    write_csv(table.schema, table.to_batches(), out)
    return out.getvalue()


def print_table(
    table: pa.Table, console: Console | None = None, max_width: int = 60, total_rows: int | None = None
) -> None:
    """``table`` as a terminal table and its row count; ``total_rows`` (when more than the table
    holds) is the size of the result it was cut from, and the count says how many are not shown."""
    console = console or Console()
    view = Table(show_lines=False)
    for name in table.column_names:
        view.add_column(name, overflow="fold", max_width=max_width)
    for row in table.to_pylist():
        view.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(view)
    total = max(total_rows or 0, table.num_rows)
    if total > table.num_rows:
        hidden = total - table.num_rows
        console.print(f"{total} rows: the first {table.num_rows} shown, {hidden} not shown", style="dim")
    else:
        console.print(f"{total} row{'s' if total != 1 else ''}", style="dim")
