"""Chat messages in any shape to the GenAI semconv >= 1.37 shape (see ``store.schema``).

Accepted inputs, per message: semconv (``role`` + ``parts``), OpenAI chat style (``content`` as a
string or a list of content items, ``tool_calls``, ``tool_call_id``), OpenAI choices
(``{"message": ..., "finish_reason": ...}``), Anthropic-style content blocks (``tool_use``,
``tool_result``, ``thinking``), Gemini parts (``text``, ``function_call``, ``function_response``),
and bare strings. Parts are normalized to ``text``, ``reasoning``,
``tool_call`` (id, name, arguments), ``tool_call_response`` (id, response — ``result`` accepted),
``blob``, ``uri``, ``file``; other part types are kept as sent.

A JSON text already in that shape is kept as sent (``JsonList``). Whether it is, is first asked of
the compiled scanner (collector/decode/_msgscan.c), which reads the text without building objects
and answers only when sure; otherwise, or without the module, orjson parses the text and
``_canonical_messages`` walks it (the reference the scanner is tested against).
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any

import orjson

from collector.decode.values import loads_lenient

_msgscan: ModuleType | None
try:
    from collector.decode import _msgscan
except ImportError:  # not compiled: orjson + _canonical_messages check every message list
    _msgscan = None

Message = dict[str, Any]
Part = dict[str, Any]

# Part types the decoder renames or restructures; any other typed part is kept as sent.
_RENAMED_PARTS = frozenset(
    [
        "thinking",
        "redacted_thinking",
        "function_call",
        "tool_use",
        "tool_result",
        "function_call_output",
        "image_url",
    ]
)
_REQUIRED_KEY = {
    "text": "content",
    "reasoning": "content",
    "tool_call": "name",
    "tool_call_response": "response",
}


class JsonList(list[Any]):
    """A message list that arrived in the normalized shape already: ``text`` is its JSON as sent,
    stored as is instead of being serialized again (the hot path for semconv >= 1.37 spans).
    ``has_system`` / ``may_reason`` are noted while the shape is checked: False proves that
    ``system_from_messages`` / ``reasoning_of`` find nothing, so the common span skips those walks.
    Never mutated (``events`` copies before extending).

    Built by ``_canonical_messages`` from the parsed list, or by ``unparsed`` from the text alone
    when the compiled scanner vouched for its shape: then the items are parsed on first use (any
    list method, iteration, ``len``, comparison), which the common span never needs, since only
    the text is stored. Truth needs no parse: a canonical list is never empty. Only code reading
    the list's storage directly (``orjson.dumps`` without ``values.dumps``' passthrough of
    subclasses) would see it empty: store ``text``, or serialize with ``values.dumps``."""

    __slots__ = ("_unparsed", "has_system", "may_reason", "text")

    text: str
    has_system: bool
    may_reason: bool
    _unparsed: bool

    def __new__(cls, *args: Any, **kwargs: Any) -> JsonList:  # also when copied or unpickled
        messages = super().__new__(cls, *args, **kwargs)
        messages._unparsed = False
        return messages

    @classmethod
    def unparsed(cls, text: str, has_system: bool, may_reason: bool) -> JsonList:
        messages: JsonList = list.__new__(cls)
        messages.text = text
        messages.has_system = has_system
        messages.may_reason = may_reason
        messages._unparsed = True
        return messages

    def _parse(self) -> None:
        if self._unparsed:
            self._unparsed = False
            list.extend(self, orjson.loads(self.text.lstrip()))  # as loads_lenient, but never quietly

    def __bool__(self) -> bool:
        return self._unparsed or list.__len__(self) > 0

    def __radd__(self, other: Any) -> Any:  # list + JsonList would read the storage directly
        self._parse()
        return list.__add__(other, self) if isinstance(other, list) else NotImplemented


def _parsed_first(method: Any) -> Any:
    def call(self: JsonList, *args: Any, **kwargs: Any) -> Any:
        self._parse()
        for arg in args:
            if type(arg) is JsonList:
                arg._parse()
        return method(self, *args, **kwargs)

    call.__name__ = call.__qualname__ = method.__name__
    return call


for _name in (
    *("__iter__", "__reversed__", "__len__", "__getitem__", "__contains__", "__repr__", "__sizeof__"),
    *("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__add__", "__mul__", "__rmul__"),
    *("copy", "count", "index", "__reduce_ex__"),
    *("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend", "insert", "pop"),
    *("remove", "reverse", "sort", "clear"),
):
    setattr(JsonList, _name, _parsed_first(getattr(list, _name)))


_SYSTEM_ROLES = ("system", "developer")
_HAS_SYSTEM = _msgscan.HAS_SYSTEM if _msgscan is not None else 0
_MAY_REASON = _msgscan.MAY_REASON if _msgscan is not None else 0
_RENAMED = ""
#: part type → the key a canonical part of that type must have, or ``_RENAMED`` (never canonical)
_PART_RULES: dict[str, str] = {**dict.fromkeys(_RENAMED_PARTS, _RENAMED), **_REQUIRED_KEY}


def _canonical_part(p: Any) -> bool:
    if type(p) is not dict:
        return False
    kind = p.get("type")
    if type(kind) is not str or kind in _RENAMED_PARTS:
        return False
    required = _REQUIRED_KEY.get(kind)
    return required is None or required in p


def _canonical_messages(value: Any, text: str) -> JsonList | None:
    """``value`` (``text`` parsed by orjson) as a ``JsonList`` when it is a non-empty list of
    messages in the normalized shape already (each part one ``_canonical_part`` accepts, which
    ``normalize_part`` returns as is), else None. The same walk sets the ``JsonList`` flags.

    It runs on every message attribute the compiled scanner is not sure about (all of them when
    it is not built), hence subscripts instead of ``get`` plus type checks: on parsed JSON a
    missing key raises KeyError and a non-object TypeError, and both mean "not canonical"."""
    if type(value) is not list or not value:
        return None
    has_system = may_reason = False
    try:
        for m in value:
            role = m["role"]
            parts = m.get("parts")  # get: OpenAI-style messages have none, and raising is slow
            if type(role) is not str or type(parts) is not list:
                return None
            if role in _SYSTEM_ROLES:
                has_system = True
            for p in parts:
                kind = p["type"]
                if type(kind) is not str:
                    return None
                rule = _PART_RULES.get(kind)
                if rule is None:
                    continue  # a part type kept as sent
                if rule == _RENAMED:
                    return None
                content = p[rule]  # the key this part type requires
                if kind == "text":
                    # reasoning_of reads <think> blocks of text parts. Looking for "<" first
                    # (memchr) is ~10x cheaper than the substring search and settles most texts.
                    if isinstance(content, str) and "<" in content and "<think" in content:
                        may_reason = True
                elif kind == "reasoning":
                    may_reason = True
    except (KeyError, TypeError):
        return None
    messages = JsonList(value)
    messages.text = text
    messages.has_system = has_system
    messages.may_reason = may_reason
    return messages


_THINK_OPEN = re.compile(r"<(think|thinking)>")


def think_blocks(text: str) -> list[str]:
    """The contents of ``<think>…</think>`` (or ``<thinking>``) blocks, in order; an unclosed block
    runs to the end of the text. Linear in the text: each search starts where the last one ended."""
    blocks: list[str] = []
    pos = 0
    while (opening := _THINK_OPEN.search(text, pos)) is not None:
        close = f"</{opening.group(1)}>"
        end = text.find(close, opening.end())
        if end < 0:
            blocks.append(text[opening.end() :])
            break
        blocks.append(text[opening.end() : end])
        pos = end + len(close)
    return [b.strip() for b in blocks if b.strip()]


def _tool_call(id_: Any, name: Any, arguments: Any) -> Part:
    part: Part = {"type": "tool_call", "id": id_, "name": name}
    if arguments is not None:
        part["arguments"] = loads_lenient(arguments)
    return part


def normalize_part(p: Any) -> Part:
    """One content part (dict or bare string) in semconv shape."""
    if not isinstance(p, dict):
        return {"type": "text", "content": p if isinstance(p, str) else loads_lenient(p)}
    if _canonical_part(p):
        return p
    kind = p.get("type")
    if kind == "text" or (kind is None and ("text" in p or "content" in p)):
        return {"type": "text", "content": p.get("content", p.get("text"))}
    if kind in ("reasoning", "thinking", "redacted_thinking"):
        return {"type": "reasoning", "content": p.get("content", p.get("thinking", p.get("text")))}
    if kind in ("tool_call", "function_call", "tool_use"):
        args = p.get("arguments", p.get("input"))
        return _tool_call(p.get("id", p.get("call_id")), p.get("name"), args)
    if kind in ("tool_call_response", "tool_result", "function_call_output"):
        response = p.get("response", p.get("result", p.get("content", p.get("output"))))
        part = {
            "type": "tool_call_response",
            "id": p.get("id", p.get("tool_use_id", p.get("call_id"))),
            "response": response,
        }
        if p.get("name") is not None:
            part["name"] = p["name"]
        return part
    if kind == "image_url":
        image = p.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        return {"type": "uri", "modality": "image", "uri": url}
    if kind is None and isinstance(p.get("function_call"), dict):  # Gemini
        call = p["function_call"]
        return _tool_call(call.get("id"), call.get("name"), call.get("args"))
    if kind is None and isinstance(p.get("function_response"), dict):  # Gemini
        reply = p["function_response"]
        return {"type": "tool_call_response", "id": reply.get("id"), "name": reply.get("name"),
                "response": reply.get("response")}  # fmt: skip
    return dict(p)


def _parts_of_content(content: Any) -> list[Part]:
    content = loads_lenient(content)
    if isinstance(content, str):  # plain text, the common case
        return [{"type": "text", "content": content}]
    if content is None:
        return []
    if isinstance(content, list):
        return [normalize_part(p) for p in content]
    if isinstance(content, dict) and "type" in content:
        return [normalize_part(content)]
    return [{"type": "text", "content": content}]  # a scalar (loads_lenient returns non-text as is)


def normalize_message(m: Any, default_role: str) -> Message:
    """One message in semconv shape; ``default_role`` when the message names none."""
    if not isinstance(m, dict):
        return {"role": default_role, "parts": _parts_of_content(m)}
    if "message" in m and isinstance(m["message"], dict) and "role" not in m:
        # An OpenAI choice / legacy gen_ai.choice event body.
        inner = normalize_message(m["message"], default_role)
        if m.get("finish_reason") is not None:
            inner["finish_reason"] = m["finish_reason"]
        return inner
    role = m.get("role") or default_role
    parts_in = m.get("parts")
    if isinstance(parts_in, list):
        # Semconv shape: keep extra keys (name, finish_reason, vendor fields) as sent.
        semconv = dict(m)
        semconv["role"] = role
        semconv["parts"] = [normalize_part(p) for p in parts_in]
        return semconv
    parts = _parts_of_content(m.get("content"))
    if role == "tool" and (tool_id := m.get("tool_call_id", m.get("id"))) is not None:
        parts = [
            {
                "type": "tool_call_response",
                "id": tool_id,
                "response": _flatten_text(parts) if parts else m.get("content"),
            }
        ]
    calls = m.get("tool_calls")
    for call in calls if isinstance(calls, list) else ():
        if isinstance(call, dict):
            function = call.get("function")
            fn: dict[str, Any] = function if isinstance(function, dict) else call
            parts.append(_tool_call(call.get("id"), fn.get("name"), fn.get("arguments")))
    out: Message = {"role": role, "parts": parts}
    for key in ("name", "finish_reason"):
        if m.get(key) is not None:
            out[key] = m[key]
    return out


def _flatten_text(parts: list[Part]) -> Any:
    if len(parts) == 1 and parts[0].get("type") == "text":
        return parts[0].get("content")
    return parts


def normalize_messages(value: Any, default_role: str) -> list[Message] | None:
    """A messages attribute (JSON text, AnyValue array/map, or plain text) as a semconv message
    list; ``None`` when there is nothing."""
    if isinstance(value, str):
        text = value
        if _msgscan is not None and (flags := _msgscan.scan_messages(text)):
            # Canonical for sure: the text is stored as sent, and parsed only if someone reads the
            # items (reasoning, system parts, event merging). Otherwise orjson + the walk decide.
            return JsonList.unparsed(text, bool(flags & _HAS_SYSTEM), bool(flags & _MAY_REASON))
        value = loads_lenient(text)
        if value is not text:
            canonical = _canonical_messages(value, text)
            if canonical is not None:
                return canonical
    if isinstance(value, list):  # JSON or AnyValue array: the common case
        return [normalize_message(m, default_role) for m in value] if value else None
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, dict):
        inner = value.get("messages")
        value = inner if isinstance(inner, list) else [value]
    if not isinstance(value, list):
        value = [value]
    return [normalize_message(m, default_role) for m in value]


def normalize_system(value: Any) -> list[Part] | None:
    """System instructions as a JSON array of parts. Accepts parts, messages (their parts are
    taken) and plain text."""
    value = loads_lenient(value)
    if value is None or value == "" or value == []:
        return None
    items = value if isinstance(value, list) else [value]
    parts: list[Part] = []
    for item in items:
        if isinstance(item, dict) and ("role" in item or "parts" in item):
            parts.extend(normalize_message(item, "system")["parts"])
        else:
            parts.append(normalize_part(item))
    return parts


def system_from_messages(messages: list[Message] | None) -> list[Part] | None:
    """System-role input messages' parts: where older conventions keep system instructions."""
    if (type(messages) is JsonList and not messages.has_system) or not messages:
        return None
    parts = [p for m in messages if m.get("role") in ("system", "developer") for p in m["parts"]]
    return parts or None


def reasoning_of(messages: list[Message] | None) -> str | None:
    """The reasoning an output carries: reasoning parts, then ``<think>`` blocks of text parts
    (the text itself is kept as sent). Joined by blank lines; ``None`` when there is none."""
    if (type(messages) is JsonList and not messages.may_reason) or not messages:
        return None
    found: list[str] = []
    for m in messages:
        for p in m.get("parts", ()):
            kind = p.get("type")
            content = p.get("content")
            if kind == "reasoning" and content:
                found.append(content if isinstance(content, str) else str(content))
            elif kind == "text" and isinstance(content, str) and "<" in content and "<think" in content:
                found.extend(think_blocks(content))
    return "\n\n".join(found) if found else None


def text_message(role: str, text: Any) -> list[Message]:
    """A one-message list holding ``text`` (e.g. OpenInference ``input.value``)."""
    return [{"role": role, "parts": [{"type": "text", "content": text}]}]
