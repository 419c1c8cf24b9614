"""Properties: each shortcut of the span-normalization hot path agrees with the general path on
every input it accepts.

- ``messages._canonical_messages`` (one fused walk: shape check + ``JsonList`` flags) accepts
  exactly the lists the part-by-part check (``_canonical_part``) accepts; what it keeps as sent is
  what ``normalize_message`` would produce; its flags never hide a system message or reasoning.
- ``genai.apply_key_table`` (values of the converter's own type skip the call) fills the same
  columns as the plain loop that converts every value.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.decode.genai import KEY_TABLE, apply_key_table
from collector.decode.messages import (
    JsonList,
    _canonical_messages,
    _canonical_part,
    normalize_message,
    normalize_messages,
    reasoning_of,
    system_from_messages,
)

_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["<think>plan</think>answer", "a < b", "<thinking>x", "<think>  </think>", "plain"]),
)
_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(-1e6, 1e6),
    _TEXT,
)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_KEPT_TYPES = ["text", "reasoning", "tool_call", "tool_call_response", "uri", "blob", "custom"]
_RENAMED_TYPES = ["thinking", "redacted_thinking", "tool_use", "tool_result", "image_url", "function_call"]
_REQUIRED = {"text": "content", "reasoning": "content", "tool_call": "name", "tool_call_response": "response"}
_PART_KEYS = st.sampled_from(["content", "name", "response", "id", "arguments", "text", "thinking"])
_ROLES = st.sampled_from(["user", "assistant", "system", "developer", "tool", ""])


@st.composite
def _part(draw: st.DrawFn) -> Any:
    """Mostly a part in the normalized shape, else one thing wrong with it."""
    kind = draw(st.sampled_from(_KEPT_TYPES))
    part: dict[str, Any] = {"type": kind}
    if kind in _REQUIRED:
        part[_REQUIRED[kind]] = draw(_TEXT)
    for key in draw(st.lists(_PART_KEYS, max_size=2)):
        part[key] = draw(st.one_of(_TEXT, _JSON))
    flaw = draw(st.integers(0, 29))
    if flaw == 0:
        return draw(_JSON)  # not an object
    if flaw == 1:
        part["type"] = draw(st.one_of(st.sampled_from(_RENAMED_TYPES), _SCALAR))
    elif flaw == 2:
        part.pop("type")
    elif flaw == 3 and kind in _REQUIRED:
        part.pop(_REQUIRED[kind], None)
    return part


@st.composite
def _message(draw: st.DrawFn) -> Any:
    """Mostly a message in the normalized shape, else one thing wrong with it."""
    message: dict[str, Any] = {"role": draw(_ROLES), "parts": draw(st.lists(_part(), max_size=3))}
    for key in draw(st.lists(st.sampled_from(["content", "finish_reason", "name", "message"]), max_size=2)):
        message[key] = draw(_JSON)
    flaw = draw(st.integers(0, 19))
    if flaw == 0:
        return draw(_JSON)
    if flaw == 1:
        message["role"] = draw(_SCALAR)
    elif flaw == 2:
        message.pop(draw(st.sampled_from(["role", "parts"])))
    elif flaw == 3:
        message["parts"] = draw(_JSON)
    return message


# JSON text and what orjson gives back for it: the only input _canonical_messages ever sees.
_DOCUMENTS = st.one_of(st.lists(_message(), max_size=4), st.lists(_message(), max_size=4), _JSON).map(
    lambda value: (orjson.loads(orjson.dumps(value)), orjson.dumps(value).decode())
)


def _reference_canonical(value: Any) -> bool:
    """The shape check before the walk was fused: every part through ``_canonical_part``."""
    if type(value) is not list or not value:
        return False
    for m in value:
        if type(m) is not dict or type(m.get("role")) is not str:
            return False
        parts = m.get("parts")
        if type(parts) is not list or not all(_canonical_part(p) for p in parts):
            return False
    return True


@_SETTINGS
@given(_DOCUMENTS)
def test_canonical_check_accepts_what_the_part_check_accepts(document: tuple[Any, str]) -> None:
    value, text = document
    canonical = _canonical_messages(value, text)
    assert (canonical is not None) == _reference_canonical(value)
    if canonical is not None:
        assert canonical == value and canonical.text == text


@_SETTINGS
@given(_DOCUMENTS, st.sampled_from(["user", "assistant"]))
def test_canonical_lists_agree_with_the_general_path(document: tuple[Any, str], role: str) -> None:
    value, text = document
    canonical = _canonical_messages(value, text)
    if canonical is None:
        return
    general = [normalize_message(m, role) for m in value]
    # Kept as sent, except that the general path gives an empty role the default one.
    assert general == [{**m, "role": m["role"] or role} for m in canonical]
    # The flags only skip walks that find nothing: a plain list is always walked.
    assert system_from_messages(canonical) == system_from_messages(list(canonical))
    assert reasoning_of(canonical) == reasoning_of(list(canonical))
    assert normalize_messages(text, role) == canonical


def _reference_apply_key_table(attrs: dict[str, Any], out: dict[str, Any]) -> None:
    """``apply_key_table`` before the dispatch table: every value through its converter, except
    strings for ``as_text`` and ints for ``as_int`` (tested by type at each key)."""
    from collector.decode.values import as_int, as_text

    ranks: dict[str, int] = {}
    for key, value in attrs.items():
        spec = KEY_TABLE.get(key)
        if spec is None or value is None:
            continue
        column, convert, rank = spec
        if column in out:
            previous = ranks.get(column)
            if previous is None or previous <= rank:
                continue
        if (type(value) is str and convert is as_text) or (type(value) is int and convert is as_int):
            converted = value
        else:
            converted = convert(value)
        if converted is not None:
            out[column] = converted
            ranks[column] = rank


_MESSAGE_TEXT = st.lists(_message(), max_size=3).map(lambda v: orjson.dumps(v).decode())
_ATTR_VALUES = st.one_of(
    _SCALAR, _JSON, _MESSAGE_TEXT, st.sampled_from(["", " 12 ", "[1", "chat", "call_llm"])
)
_ATTRS = st.dictionaries(
    st.one_of(st.sampled_from(sorted(KEY_TABLE)), st.text(max_size=8)), _ATTR_VALUES, max_size=10
)
_PRESET = st.dictionaries(st.sampled_from(sorted({c for c, _, _ in KEY_TABLE.values()})), _TEXT, max_size=3)


def _typed(out: dict[str, Any]) -> dict[str, Any]:
    return {k: (type(v).__name__, v, getattr(v, "text", None)) for k, v in out.items()}


@_SETTINGS
@given(_ATTRS, _PRESET)
def test_key_table_dispatch_agrees_with_converting_every_value(
    attrs: dict[str, Any], preset: dict[str, Any]
) -> None:
    fast, reference = dict(preset), dict(preset)
    apply_key_table(attrs, fast)
    _reference_apply_key_table(attrs, reference)
    assert _typed(fast) == _typed(reference)
    for value in fast.values():
        assert not isinstance(value, JsonList) or value.text in attrs.values()
