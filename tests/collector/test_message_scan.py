"""The compiled message-list scanner (``collector/decode/_msgscan.c``) is a sound fast path.

- Whenever it says CANONICAL, the reference (``loads_lenient`` = ``str.lstrip`` + ``orjson.loads``,
  then ``messages._canonical_messages``) accepts the text too, with the same flags: for generated
  message lists rendered with random escapes, whitespace, number spellings and repeated keys, and
  for those texts mutated (truncated, characters inserted / deleted / replaced, UTF-8 bytes flipped).
- It does say CANONICAL for plainly serialized lists the reference accepts, so the fast path is
  taken for what instrumentations actually send.
- ``normalize_messages`` gives the same result with and without it; the unparsed ``JsonList`` it
  builds behaves as the parsed list.
"""

from __future__ import annotations

import copy
import json
import operator
import pickle
import random
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from collector.decode import messages
from collector.decode.messages import (
    _RENAMED_PARTS,
    _REQUIRED_KEY,
    JsonList,
    _canonical_messages,
    normalize_messages,
    reasoning_of,
    system_from_messages,
)
from collector.decode.values import dumps, loads_lenient

_msgscan = pytest.importorskip("collector.decode._msgscan")
scan = _msgscan.scan_messages

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference(text: str) -> tuple[bool, bool] | None:
    """(has_system, may_reason) when the Python path keeps ``text`` as sent, else None."""
    value = loads_lenient(text)
    if value is text:
        return None
    canonical = _canonical_messages(value, text)
    return None if canonical is None else (canonical.has_system, canonical.may_reason)


def verdict(text: str) -> tuple[bool, bool] | None:
    flags = scan(text)
    if not flags:
        return None
    assert flags & _msgscan.CANONICAL
    return bool(flags & _msgscan.HAS_SYSTEM), bool(flags & _msgscan.MAY_REASON)


def assert_sound(text: str) -> tuple[bool, bool] | None:
    got = verdict(text)
    want = reference(text)
    if currently_in_test_context():  # --hypothesis-show-statistics: how often each side accepts
        event(f"scanner {'canonical' if got else 'not sure'}, reference {'canonical' if want else 'not'}")
    if got is not None:
        assert want == got, text
    return got


# ---- generated message lists -------------------------------------------------------------------

_TEXT = st.one_of(
    st.text(max_size=10),
    st.sampled_from(
        ["<think>plan</think>answer", "a < b", "<thinking>x", "<<think", "<thin", "é<think", "plain"]
    ),
)
_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXT,
)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_TEXT, inner, max_size=3)),
    max_leaves=8,
)
_KEPT_TYPES = st.sampled_from(
    ["text", "reasoning", "tool_call", "tool_call_response", "uri", "x", "", "Text"]
)
_ODD_TYPES = st.one_of(st.sampled_from(sorted(_RENAMED_PARTS)), _SCALAR)
_ROLES = st.sampled_from(["user", "assistant", "system", "developer", "tool", "", "System", "systemx"])
_KEYS = st.sampled_from(["content", "name", "response", "role", "parts", "id", "text", "finish_reason"])
# One object in ~10 has one thing wrong with it.
_FLAWS = st.sampled_from([*[None] * 36, "replaced", "odd", "missing", "missing other"])


@st.composite
def _part(draw: st.DrawFn) -> Any:
    """Mostly a part in the normalized shape, else one thing wrong with it."""
    kind = draw(_KEPT_TYPES)
    part: dict[str, Any] = {"type": kind}
    if kind in _REQUIRED_KEY:
        part[_REQUIRED_KEY[kind]] = draw(_TEXT)
    for key in draw(st.lists(_KEYS, max_size=2)):
        part[key] = draw(st.one_of(_TEXT, _SCALAR, _JSON))
    flaw = draw(_FLAWS)
    if flaw == "replaced":
        return draw(_JSON)
    if flaw == "odd":
        part["type"] = draw(_ODD_TYPES)
    elif flaw == "missing":
        part.pop("type")
    elif flaw == "missing other":
        part.pop(_REQUIRED_KEY.get(kind, "content"), None)
    return part


@st.composite
def _message(draw: st.DrawFn) -> Any:
    """Mostly a message in the normalized shape, else one thing wrong with it."""
    message: dict[str, Any] = {"role": draw(_ROLES), "parts": draw(st.lists(_part(), max_size=3))}
    for key in draw(st.lists(st.sampled_from(["content", "finish_reason", "name", "type"]), max_size=2)):
        message[key] = draw(st.one_of(_SCALAR, _JSON))
    flaw = draw(_FLAWS)
    if flaw == "replaced":
        return draw(_JSON)
    if flaw in ("missing", "missing other"):
        message.pop("role" if flaw == "missing" else "parts")
    elif flaw == "odd":
        message[draw(st.sampled_from(["role", "parts"]))] = draw(_JSON)
    return message


_MESSAGE_LISTS = st.one_of(
    st.lists(_message(), min_size=1, max_size=3), st.lists(_message(), max_size=3), _JSON
)

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_WHITESPACE = ["", "", "", " ", "\n", "\t", "\r\n  "]


def _escape(c: str, rng: random.Random) -> str:
    if c in _SHORT_ESCAPES and rng.random() < 0.5:
        return _SHORT_ESCAPES[c]
    if c == "/" and rng.random() < 0.5:
        return "\\/"
    code = ord(c)
    if code > 0xFFFF:
        code -= 0x10000
        units = [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]
    else:
        units = [code]
    hexes = [f"\\u{u:04x}" for u in units]
    return "".join(h.upper().replace("\\U", "\\u") if rng.random() < 0.3 else h for h in hexes)


def _render_str(s: str, rng: random.Random, escapes: float) -> str:
    out = []
    for c in s:
        if c in '"\\' or c < " " or rng.random() < escapes:
            out.append(_escape(c, rng))
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _render_number(x: int | float, rng: random.Random) -> str:
    if isinstance(x, float):
        return repr(x)
    spellings = [str(x), str(x), f"{x}.0", f"{x}e0", f"{x}E+00", f"{x}.000e-0"]
    return rng.choice(spellings)


def render(value: Any, rng: random.Random, escapes: float, duplicates: float) -> str:
    """JSON text of ``value`` spelled in one of the many valid ways: random whitespace, escapes
    (``escapes``: the share of characters escaped), number spellings, and a key repeated with
    another value (``duplicates``: the chance per object; orjson keeps the last occurrence)."""

    def ws() -> str:
        return rng.choice(_WHITESPACE)

    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return _render_number(value, rng)
    if isinstance(value, str):
        return _render_str(value, rng, escapes)
    if isinstance(value, list):
        return "[" + ws() + ",".join(ws() + render(v, rng, escapes, duplicates) + ws() for v in value) + "]"
    members = [(k, v) for k, v in value.items()]
    if members and rng.random() < duplicates:
        key = rng.choice(members)[0]
        repeated: tuple[str, Any] = (key, rng.choice([None, "system", "reasoning", [], {"type": "text"}]))
        members.insert(rng.choice([0, len(members)]), repeated)
    body = ",".join(
        ws() + _render_str(k, rng, escapes) + ws() + ":" + ws() + render(v, rng, escapes, duplicates) + ws()
        for k, v in members
    )
    return "{" + ws() + body + "}"


#: (share of characters escaped, chance of a repeated key per object, leading whitespace)
_SPELLINGS = [(0.0, 0.0, ""), (0.0, 0.0, " \n"), (0.05, 0.0, ""), (0.5, 0.0, "\t"), (0.0, 0.3, ""),
              (0.05, 0.3, "\u3000"), (0.0, 0.0, "\xa0 ")]  # fmt: skip


def spellings(value: Any, rng: random.Random) -> list[str]:
    return [lead + render(value, rng, escapes, repeats) for escapes, repeats, lead in _SPELLINGS]


_INSERTS = [",", "]", "}", "[", "{", '"', "\\", ":", " ", "\x00", "\x1f", "\x7f", "a", "0", "-", "e", ".",
            "\ud800", "\udc00", "\xa0", "<", "u", "\\u", "NaN", "1e999", "tru", "\\ud800"]  # fmt: skip


def mutate(text: str, rng: random.Random) -> str:
    """``text`` with one to three edits: truncated, a character inserted, deleted or replaced, or
    a bit of its UTF-8 flipped (invalid bytes come back as lone surrogates)."""
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(text))
        kind = rng.randrange(5)
        if kind == 0:
            text = text[:at]
        elif kind == 1:
            text = text[:at] + rng.choice(_INSERTS) + text[at:]
        elif kind == 2:
            text = text[:at] + text[at + 1 :]
        elif kind == 3:
            text = (
                text[:at] + chr(rng.choice([rng.randrange(0x80), rng.randrange(0x110000)])) + text[at + 1 :]
            )
        else:
            raw = bytearray(text.encode("utf-8", "surrogatepass"))
            if raw:
                raw[at % len(raw)] ^= 1 << rng.randrange(8)
            text = raw.decode("utf-8", "surrogateescape")
    return text


_RNG = st.randoms(use_true_random=True)  # seeded by hypothesis; much cheaper per call


@_SETTINGS
@given(_MESSAGE_LISTS, _RNG)
def test_canonical_only_when_the_reference_agrees(value: Any, rng: random.Random) -> None:
    for text in spellings(value, rng):
        assert_sound(text)


@_SETTINGS
@given(_MESSAGE_LISTS, _RNG)
def test_mutated_texts_are_never_wrongly_accepted(value: Any, rng: random.Random) -> None:
    for text in spellings(value, rng):
        for _ in range(4):
            mutated = mutate(text, rng)
            if assert_sound(mutated) is not None:
                orjson.loads(mutated.lstrip())  # stored as a JSON column: must be valid JSON


@_SETTINGS
@given(st.lists(_message(), min_size=1, max_size=4), st.sampled_from([orjson.dumps, json.dumps]))
def test_plain_serializations_take_the_fast_path(value: list[Any], dumps: Any) -> None:
    """What instrumentations send (orjson / json.dumps of a list): the scanner decides exactly as
    the reference, unless a key or role / type string of a message or part comes escaped (json.dumps
    escapes non-ASCII) or a number is near the limits of a double."""
    text = dumps(value)
    text = text.decode() if isinstance(text, bytes) else text
    got = assert_sound(text)
    if got is None and reference(text) is not None:
        shape_strings = [
            s for m in value for s in [*m, m["role"], *(k for p in m["parts"] for k in [*p, p["type"]])]
        ]
        spelled = any(json.dumps(s, ensure_ascii=False)[1:-1] != s or not s.isascii() for s in shape_strings)
        assert spelled or any(abs(x) > 1e300 or 0 < abs(x) < 1e-300 for x in _floats(value)), text


def _floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [x for v in value for x in _floats(v)] if isinstance(value, list) else []


def test_common_spans_take_the_fast_path() -> None:
    messages_in = [
        {"role": "user", "parts": [{"type": "text", "content": "Where is order 42? ünïcødé 🚚\n"}]}
    ]
    messages_out = [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "look it up"},
                {"type": "tool_call", "id": "c1", "name": "lookup", "arguments": {"order": 42, "x": 1.5e-3}},
            ],
            "finish_reason": "tool_call",
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": {"ok": True}}]},
    ]
    system = [{"role": "system", "parts": [{"type": "text", "content": "be brief"}]}, *messages_in]
    for value, flags in [
        (messages_in, (False, False)),
        (messages_out, (False, True)),
        (system, (True, False)),
    ]:
        for text in (json.dumps(value), json.dumps(value, ensure_ascii=False), orjson.dumps(value).decode(),
                     json.dumps(value, indent=2)):  # fmt: skip
            assert verdict(text) == flags == reference(text)


# ---- explicit cases ------------------------------------------------------------------------------

_OK = '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]'


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (_OK, (False, False)),
        ('[{"parts":[],"role":"developer"}]', (True, False)),
        ('[{"role":"a","parts":[{"content":"<think>x","type":"text"}]}]', (False, True)),
        ('[{"role":"a","parts":[{"type":"text","content":"\\u003cth\\u0069nk>"}]}]', (False, True)),
        ('[{"role":"a","parts":[{"type":"text","content":"<<think"}]}]', (False, True)),
        ('[{"role":"a","parts":[{"type":"text","content":"<thin"}]}]', (False, False)),
        ('[{"role":"a","parts":[{"type":"x","content":"<think>"}]}]', (False, False)),
        ('[{"role":"a","parts":[{"type":"text","content":["<think>"]}]}]', (False, False)),
        ('[{"role":"a","parts":[{"type":"reasoning","content":null}]}]', (False, True)),
        ('[{"role":"a","parts":[{"type":"tool_call","name":null}]}]', (False, False)),
        (
            '[{"role":"a","parts":[{"type":"x"}],"x":[1,-0,0.5,1E+5,2e-300,true,false,null,{},[]]}]',
            (False, False),
        ),
        ('[{"role":"a","parts":[],"s":"\\ud83d\\ude00 \\u0000 \\/ é 🚚"}]', (False, False)),
        ("\u3000\xa0\x0b\x1c " + _OK + " \n\t\r", (False, False)),
        # not sure (the reference may or may not accept: the Python path decides)
        ("[]", None),
        ("{}", None),
        ('[{"role":"a"}]', None),
        ('[{"role":"a","parts":[{"type":"reasoning"}]}]', None),
        ('[{"role":"a","parts":[{"type":"thinking","content":"x"}]}]', None),
        ('[{"role":"a","parts":[{"type":"text","content":"x"}],"role":"system"}]', None),
        ('[{"role":"sys\\u0074em","parts":[]}]', None),
        ('[{"rol\\u0065":"a","parts":[]}]', None),
        ('[{"role":"a","parts":[{"type":"te\\u0078t"}]}]', None),
        ('[{"role":"a","parts":[],"x":1e400}]', None),
        ('[{"role":"a","parts":[],"x":1' + "0" * 80 + "}]", None),
        ('[{"role":"a","parts":[],"x":' + "[" * 70 + "]" * 70 + "}]", None),
        # invalid JSON
        (_OK + "x", None),
        (_OK + "\x0b", None),
        (_OK[:-1], None),
        ('[{"role":"a","parts":[],}]', None),
        ('[{"role":"a","parts":[]},]', None),
        ('[{"role":"a","parts":[],"x":01}]', None),
        ('[{"role":"a","parts":[],"x":1.}]', None),
        ('[{"role":"a","parts":[],"x":.5}]', None),
        ('[{"role":"a","parts":[],"x":+1}]', None),
        ('[{"role":"a","parts":[],"x":NaN}]', None),
        ('[{"role":"a","parts":[],"x":-Infinity}]', None),
        ('[{"role":"a","parts":[],"x":"\\ud800"}]', None),
        ('[{"role":"a","parts":[],"x":"\\udc00\\ud800"}]', None),
        ('[{"role":"a","parts":[],"x":"\\ud800\\u0041"}]', None),
        ('[{"role":"a","parts":[],"x":"\\x41"}]', None),
        ('[{"role":"a","parts":[],"x":"\\u12"}]', None),
        ('[{"role":"a","parts":[],"x":"\t"}]', None),
        ('[{"role":"a","parts":[],"x":"\ud800"}]', None),  # a lone surrogate in the str itself
        ('[{"role":"a","parts":[],"x":tru}]', None),
        ('[{"role":"a","parts":[] "x":1}]', None),
        ("\ufeff" + _OK, None),
    ],
)
def test_explicit_cases(text: str, want: tuple[bool, bool] | None) -> None:
    assert verdict(text) == want
    if want is not None:
        assert reference(text) == want


def test_leading_whitespace_is_what_str_lstrip_removes() -> None:
    spaces = [code for code in range(0x110000) if chr(code).isspace()]
    for code in sorted({*range(0x80), *spaces, *(c + 1 for c in spaces), *(c - 1 for c in spaces), 0xFEFF}):
        c = chr(code)
        assert (verdict(c + _OK) is not None) == c.isspace(), hex(code)
        assert (verdict(_OK + c) is not None) == (c in " \t\n\r"), hex(code)


def test_nesting_has_a_bound() -> None:
    def nested(depth: int) -> str:
        return '[{"role":"a","parts":[{"type":"x","v":' + "[" * depth + "]" * depth + "}]}]"

    depths = range(1, 100)
    accepted = [depth for depth in depths if assert_sound(nested(depth)) is not None]
    assert all(reference(nested(depth)) is not None for depth in depths)  # orjson: up to 1024
    assert accepted == list(range(1, len(accepted) + 1)) and 40 <= len(accepted) < 99


def test_part_rules_match_the_python_ones() -> None:
    assert set(_msgscan.RENAMED_PARTS) == _RENAMED_PARTS
    assert _msgscan.REQUIRED_KEY == _REQUIRED_KEY


def test_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        scan(b"[]")


# ---- the fast path in use ------------------------------------------------------------------------


@_SETTINGS
@given(_MESSAGE_LISTS, _RNG, st.sampled_from(["user", "assistant"]))
def test_normalize_messages_is_the_same_without_the_scanner(
    value: Any, rng: random.Random, role: str
) -> None:
    for text in spellings(value, rng)[:3]:
        same_without_the_scanner(text, role)
        same_without_the_scanner(mutate(text, rng), role)


def same_without_the_scanner(text: str, role: str) -> None:
    fast = normalize_messages(text, role)
    saved, messages._msgscan = messages._msgscan, None
    try:
        slow = normalize_messages(text, role)
    finally:
        messages._msgscan = saved
    assert type(fast) is type(slow)
    assert fast == slow
    if isinstance(fast, JsonList) and isinstance(slow, JsonList):
        assert (fast.text, fast.has_system, fast.may_reason) == (slow.text, slow.has_system, slow.may_reason)
        assert reasoning_of(fast) == reasoning_of(slow)
        assert system_from_messages(fast) == system_from_messages(slow)


def _unparsed() -> JsonList:
    text = ' [{"role":"system","parts":[{"type":"text","content":"<think>a</think>b"}]}]'
    messages = normalize_messages(text, "user")
    assert type(messages) is JsonList and messages._unparsed
    return messages


def test_an_unparsed_list_behaves_as_the_parsed_one() -> None:
    parsed = orjson.loads(_unparsed().text)
    unread = _unparsed()
    assert unread and unread._unparsed  # truth needs no parse
    assert _unparsed() == parsed and parsed == _unparsed() and _unparsed() == _unparsed()
    assert operator.ne(_unparsed(), parsed) is False
    assert len(_unparsed()) == 1 and list(_unparsed()) == parsed and [*_unparsed()] == parsed
    assert _unparsed()[0] == parsed[0] and _unparsed()[-1:] == parsed and _unparsed()[:0] == []
    assert parsed[0] in _unparsed() and list(reversed(_unparsed())) == parsed
    assert [1, *parsed] == [1] + _unparsed() and _unparsed() + [1] == [*parsed, 1]  # noqa: RUF005
    assert _unparsed() * 2 == parsed * 2 and 2 * _unparsed() == parsed * 2
    extended: list[Any] = [1]
    extended.extend(_unparsed())
    assert extended == [1, *parsed]
    assert repr(_unparsed()) == repr(parsed)
    for copied in (
        copy.copy(_unparsed()),
        copy.deepcopy(_unparsed()),
        pickle.loads(pickle.dumps(_unparsed())),
    ):
        assert copied == parsed and copied.text == _unparsed().text and copied.has_system
    grown = _unparsed()
    grown.append(2)
    assert grown == [*parsed, 2]
    assert reasoning_of(_unparsed()) == "a"
    assert system_from_messages(_unparsed()) == parsed[0]["parts"]


def test_an_unparsed_list_serializes_whole_through_values_dumps() -> None:
    """``values.dumps`` reads a JsonList through its methods, never its (still empty) storage."""
    text = '[{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]'
    messages = normalize_messages(text, "user")
    assert type(messages) is JsonList
    assert orjson.loads(dumps({"nested": [messages]})) == {"nested": [orjson.loads(text)]}
