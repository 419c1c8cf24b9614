"""OTLP ``AnyValue`` / attribute lists to plain Python values and JSON text.

The mapping is lossless except where JSON cannot carry the value:

- string / bool / int / double map to ``str`` / ``bool`` / ``int`` / ``float``;
- non-finite doubles become the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (the proto3
  JSON spelling), because JSON has no literal for them and orjson would silently write ``null``;
- ``array_value`` → list, ``kvlist_value`` → dict (a repeated key keeps its last value, as in a
  span's attribute map), ``bytes_value`` → standard base64 text, unset → ``None``.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable
from typing import Any

import orjson
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _double(x: float) -> float | str:
    if math.isfinite(x):
        return x
    return _NON_FINITE[repr(x)]


def any_value(v: AnyValue) -> Any:
    """One AnyValue as a JSON-compatible Python value (see the module docstring)."""
    which = v.WhichOneof("value")
    if which == "string_value":
        return v.string_value
    if which == "int_value":
        return v.int_value
    if which == "bool_value":
        return v.bool_value
    if which == "double_value":
        return _double(v.double_value)
    if which == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(v.bytes_value).decode("ascii")
    return None


def attributes(kvs: Iterable[KeyValue]) -> dict[str, Any]:
    """A repeated KeyValue as a dict (a repeated key keeps its last value)."""
    out: dict[str, Any] = {}
    for kv in kvs:
        v = kv.value
        # Reading the field directly is ~3x cheaper than WhichOneof; only an empty string (or
        # another type) pays for the generic path.
        text = v.string_value
        out[kv.key] = text if text else any_value(v)
    return out


def _plain(value: Any) -> Any:
    """orjson's ``default`` for subclasses of the JSON types (``OPT_PASSTHROUGH_SUBCLASS``): their
    plain value, read through their own methods. A lazily parsed ``messages.JsonList`` keeps its
    items out of the list's storage until first use, where orjson alone would find it empty."""
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def dumps(value: Any) -> str:
    """JSON text of a decoded value. Never raises: values orjson refuses (nesting beyond its limit,
    integers beyond 64 bits from JSON input) fall back to the standard library."""
    try:
        return orjson.dumps(value, default=_plain, option=orjson.OPT_PASSTHROUGH_SUBCLASS).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):
        try:
            return json.dumps(value, ensure_ascii=False, default=str)
        except (ValueError, RecursionError):
            return json.dumps(str(value))


def dumps_or_none(value: Any) -> str | None:
    """``dumps`` for a value that may be absent: ``None`` stays NULL (not the text ``null``)."""
    return None if value is None else dumps(value)


def loads_lenient(text: Any) -> Any:
    """Parse ``text`` when it is a JSON string holding an array or object; otherwise return it
    unchanged. Structured GenAI attributes arrive either as JSON text or as AnyValue arrays/maps."""
    if isinstance(text, str):
        s = text.lstrip()
        if s[:1] in ("[", "{"):
            try:
                return orjson.loads(s)
            except orjson.JSONDecodeError:
                return text
    return text


def as_text(value: Any) -> str | None:
    """A value destined for a string column: strings as sent, structured values as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return dumps(value)


def as_int(value: Any) -> int | None:
    """An integer column value; numeric strings and integral floats are accepted, the rest → NULL."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**63 else None
    if isinstance(value, str):
        try:
            return as_int(int(value.strip()))
        except ValueError:
            return None
    return None
