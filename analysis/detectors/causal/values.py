"""Values written to and returned by shared state, in one comparable form.

Reads-from is matched by value when no version is recorded, so the record a store returns must
compare equal to the record an agent wrote even when the store decorates it (ids, scores,
timestamps) or the instrumentation serialises it differently (a JSON string vs the bare text).
"""

from __future__ import annotations

from typing import Any

import orjson

ID_FIELDS = ("id", "record_id", "memory_id", "key")
_CONTENT_FIELDS = ("content", "value", "text", "memory", "data", "payload")
#: fields a store adds to what it returns; they say nothing about the value written
_META_FIELDS = frozenset(
    {
        *ID_FIELDS,
        "version",
        "score",
        "distance",
        "similarity",
        "relevance",
        "created_at",
        "updated_at",
        "timestamp",
        "ts",
        "metadata",
        "store",
        "store_id",
    }
)


_JSON_START = frozenset('{["-0123456789tfn')


def loads(text: str | None) -> Any:
    """JSON text → value; text that is not JSON stays the text; None stays None."""
    if text is None:
        return None
    head = text.lstrip()[:1]
    if head not in _JSON_START:
        return text  # plain text: skip the (costly) failing parse
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def canonical_value(value: Any) -> str | None:
    """The comparable form of a value written or returned; None for "nothing" (null, [], {}).

    Strings holding JSON are parsed first; a one-element list is its element; a record with a
    content-like field (content, value, text, ...) is that field; other records drop their
    bookkeeping fields; the rest is sorted-key JSON. Text is compared with whitespace collapsed."""
    if isinstance(value, str):
        parsed = loads(value)
        if isinstance(parsed, str):
            return " ".join(parsed.split())
        return canonical_value(parsed)
    if value is None or value == [] or value == {}:
        return None
    if isinstance(value, list) and len(value) == 1:
        return canonical_value(value[0])
    if isinstance(value, dict):
        for f in _CONTENT_FIELDS:
            if f in value:
                return canonical_value(value[f])
        rest = {k: v for k, v in value.items() if k not in _META_FIELDS}
        if not rest:
            return None
        value = rest
    return orjson.dumps(_numbers(value), option=orjson.OPT_SORT_KEYS).decode()


def _numbers(value: Any) -> Any:
    """2400.0 and 2400 are the same value, whichever side serialised it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def record_id(record: Any) -> str | None:
    """The key a record names (``id``, ``record_id``, ``memory_id`` or ``key``), if any."""
    if isinstance(record, dict):
        for f in ID_FIELDS:
            v = record.get(f)
            if isinstance(v, str | int) and not isinstance(v, bool):
                return str(v)
    return None
