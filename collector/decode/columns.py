"""Arrow tables from per-column Python lists: the last step of decoding a request.

``pa.table(columns, schema=schema)`` converts every value through pyarrow's generic converter,
tens of ns each: about a quarter of a decode worker's time on GenAI traffic (``bench/ingest.py``).
The compiled packer (``collector/decode/_columns.c``) writes the buffers of string and integer
columns directly instead.

Contract: ``table(columns, schema)`` returns what ``pa.table(columns, schema=schema)`` returns
(tests hold them equal). The packer builds the string, int8, int32 and int64 columns; pyarrow
builds the others, and any column the packer refuses (a value of another type, or out of range),
so its conversions and its errors stay the reference. Without the compiled module (no compiler at
install time) pyarrow builds every column. ``scatter`` spreads sparse rows into column lists
(compiled, or its Python twin).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pyarrow as pa

_columns: ModuleType | None
try:
    from collector.decode import _columns
except ImportError:  # not compiled (no C compiler at install time): pyarrow builds every column
    _columns = None

_STRING = pa.string()
_WIDTHS = {pa.int8(): 1, pa.int32(): 4, pa.int64(): 8}


def array(values: list[Any], type_: pa.DataType) -> pa.Array:
    """``pa.array(values, type_)``, through the packer where it can."""
    if _columns is not None:
        try:
            if type_ == _STRING:
                validity, offsets, data, nulls = _columns.strings(values)
                buffers = [_buffer(validity), pa.py_buffer(offsets), pa.py_buffer(data)]
                return pa.Array.from_buffers(type_, len(values), buffers, null_count=nulls)
            width = _WIDTHS.get(type_)
            if width is not None:
                validity, data, nulls = _columns.integers(values, width)
                return pa.Array.from_buffers(
                    type_, len(values), [_buffer(validity), pa.py_buffer(data)], null_count=nulls
                )
        except (TypeError, OverflowError, UnicodeError):
            pass  # pyarrow converts it, or says why not
    return pa.array(values, type_)


def table(columns: dict[str, list[Any]], schema: pa.Schema) -> pa.Table:
    """``pa.table(columns, schema=schema)``; ``columns`` holds a list for every field of ``schema``."""
    return pa.Table.from_arrays([array(columns[f.name], f.type) for f in schema], schema=schema)


def scatter(rows: list[dict[str, Any]], columns: dict[str, list[Any]]) -> None:
    """Set ``columns[key][i] = value`` for every key and value of ``rows[i]``: sparse rows (most
    spans set few normalized columns) into column lists already long enough."""
    if _columns is not None:
        _columns.scatter(rows, columns)
        return
    for i, row in enumerate(rows):
        for key, value in row.items():
            columns[key][i] = value


def _buffer(bits: bytes | None) -> pa.Buffer | None:
    return None if bits is None else pa.py_buffer(bits)
