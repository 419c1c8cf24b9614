"""Span texts stored once: how the ``spans`` view (and ``whole_spans``, its in-memory twin) gives
back the attributes that the decoder moved into normalized columns (see ``store.schema``).

``attributes_rest`` is compact JSON from ``collector.decode.values.dumps`` (``{...}``, no padding),
so a moved attribute is put back by appending ``"key":<the column's value as JSON>`` (a string or
an integer, as it was sent) to the object's members, which is cheaper than parsing it. The moved
keys come last.
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa

from store import schema


def _whole_attributes_sql() -> str:
    members = ", ".join(
        f"CASE WHEN attributes_in_columns & {1 << i} <> 0 THEN '\"{key}\":' || to_json({column})::VARCHAR END"
        for i, (key, column) in enumerate(schema.MOVED_ATTRIBUTES)
    )
    return (
        "CASE WHEN attributes_in_columns IS NULL OR attributes_in_columns = 0 THEN attributes_rest ELSE "
        "'{' || concat_ws(',', nullif(attributes_rest[2:-2], ''), " + members + ") || '}' END"
    )


def spans_view_sql() -> str:
    """DDL of the ``spans`` view: ``schema.SPANS``' columns, in order, over ``span_rows``."""
    cols = ", ".join(
        f"{_whole_attributes_sql()} AS attributes" if f.name == "attributes" else f.name for f in schema.SPANS
    )
    return f"CREATE OR REPLACE VIEW spans AS SELECT {cols} FROM {schema.SPAN_ROWS_TABLE}"


def whole_spans(table: pa.Table) -> pa.Table:
    """``table`` in ``schema.SPANS`` (attributes whole), from the stored form ``schema.SPAN_ROWS``
    (as the decoder produces it) or from ``SPANS`` already: what the view does, for a batch that
    never went through the store."""
    if "attributes_rest" not in table.column_names:
        return table
    masks = table.column("attributes_in_columns").to_pylist()
    rests = table.column("attributes_rest").to_pylist()
    values: dict[str, list[Any]] = {}
    whole: list[str | None] = []
    for row, (rest, mask) in enumerate(zip(rests, masks, strict=True)):
        if not mask:
            whole.append(rest)
            continue
        attrs = orjson.loads(rest) if rest else {}
        for i, (key, column) in enumerate(schema.MOVED_ATTRIBUTES):
            if mask & (1 << i):
                if column not in values:
                    values[column] = table.column(column).to_pylist()
                attrs[key] = values[column][row]
        whole.append(orjson.dumps(attrs).decode())
    at = table.column_names.index("attributes_rest")
    table = table.drop_columns(["attributes_in_columns"])
    return table.set_column(at, pa.field("attributes", pa.string()), pa.array(whole, pa.string())).cast(
        schema.SPANS
    )
