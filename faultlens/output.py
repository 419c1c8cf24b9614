"""Printing Arrow query results as JSON (an array of row objects), CSV or a terminal table."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import uuid
from typing import Any

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


def to_json(table: pa.Table) -> bytes:
    return orjson.dumps(table.to_pylist(), default=_default, option=orjson.OPT_NON_STR_KEYS)


def to_csv(table: pa.Table) -> bytes:
    # CSV cannot hold nested values: render those as JSON text.
    cols = []
    for col in table.columns:
        if pa.types.is_nested(col.type):
            cols.append(
                pa.array(
                    [
                        None if v is None else orjson.dumps(v, default=_default).decode()
                        for v in col.to_pylist()
                    ]
                )
            )
        else:
            cols.append(col)
    out = io.BytesIO()
    pacsv.write_csv(pa.table(cols, names=table.column_names), out)
    return out.getvalue()


def print_table(table: pa.Table, console: Console | None = None, max_width: int = 60) -> None:
    console = console or Console()
    view = Table(show_lines=False)
    for name in table.column_names:
        view.add_column(name, overflow="fold", max_width=max_width)
    for row in table.to_pylist():
        view.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(view)
    console.print(f"{table.num_rows} row{'s' if table.num_rows != 1 else ''}", style="dim")
