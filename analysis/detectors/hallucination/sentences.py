"""Sentences of a text, for semantic grounding (``semantic``): the sentence that states a claim,
and the sentences of the texts a span could have read.

- Prose is cut after ``.``, ``!`` or ``?`` followed by white space (not after an abbreviation or
  an initial: "Dr. P. Raman" stays whole) and at line breaks, escaped ones (``\\n`` in serialized
  JSON) included.
- Serialized JSON (a tool result, a memory record) is read as data: each object becomes one
  sentence of its scalar fields (``"ceo": "Dana Whitfield", "company": "Globex"`` →
  ``ceo: Dana Whitfield; company: Globex``), and string values long enough to be prose are cut
  like prose.

Sentences are stripped, at most ``MAX_CHARS`` long (the model reads 256 tokens at most anyway) and
at least ``MIN_CHARS``. Pure functions, linear in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from analysis.messages import loads

MAX_CHARS = 400
MIN_CHARS = 12
#: a string value in JSON at least this long is prose, cut into sentences of its own
PROSE_VALUE_CHARS = 80

_BREAK = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)|\r?\n|\\n")
_WORD_BEFORE = re.compile(r"(\w+)[.!?]*[\"'”’)\]]*$")
#: words that end with a full stop without ending the sentence
_ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "prof", "sr", "jr", "st", "inc", "corp", "ltd", "co", "no", "vs", "etc"}
    | {"approx", "dept", "est", "fig", "eg", "ie", "al", "mt", "ft", "jan", "feb", "mar", "apr", "jun"}
    | {"jul", "aug", "sep", "sept", "oct", "nov", "dec"}
)
_SPACE = re.compile(r"\s+")


def _is_break(text: str, m: re.Match[str]) -> bool:
    if m.group(0)[0] not in ".!?":
        return True
    word = _WORD_BEFORE.search(text, max(0, m.start() - 24), m.end())
    if word is None:
        return True
    w = word.group(1)
    # "Dr." and initials ("P.") do not end a sentence; "e.g." neither
    return not (w.lower() in _ABBREVIATIONS or (len(w) == 1 and w.isalpha()))


def bounds(text: str) -> list[tuple[int, int]]:
    """[start, end) of every sentence of prose ``text``, in order, covering the text."""
    out: list[tuple[int, int]] = []
    start = 0
    for m in _BREAK.finditer(text):
        if _is_break(text, m):
            end = m.end() if m.group(0)[0] in ".!?" else m.start()
            out.append((start, end))
            start = m.end()
    out.append((start, len(text)))
    return out


def around(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) of the sentence holding ``text[start:end]`` (widened when the span crosses a
    break), at most ``MAX_CHARS`` around it."""
    spans = bounds(text)
    lo = max((s for s, _ in spans if s <= start), default=0)
    hi = min((e for _, e in spans if e >= end), default=len(text))
    reach = max(0, (MAX_CHARS - (end - start)) // 2)
    return max(lo, start - reach), min(hi, end + reach)


def clean(text: str) -> str:
    """White space collapsed, layout marks at the ends stripped."""
    return _SPACE.sub(" ", text.replace("\\n", " ")).strip(" \t-*#>•|:;,")


def prose(text: str) -> Iterator[str]:
    """The sentences of prose ``text``."""
    for s, e in bounds(text):
        sentence = clean(text[s:e])
        if len(sentence) >= MIN_CHARS:
            yield sentence[:MAX_CHARS]


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and len(value) < PROSE_VALUE_CHARS:
        return value.strip() or None
    return None


def _data(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > 32:
        return
    if isinstance(value, dict):
        fields = []
        for k, v in value.items():
            s = _scalar(v)
            if s is not None:
                fields.append(f"{str(k).replace('_', ' ')}: {s}")
            else:
                yield from _data(v, depth + 1)
        line = "; ".join(fields)
        if len(line) >= MIN_CHARS:
            yield line[:MAX_CHARS]
    elif isinstance(value, list):
        for v in value:
            yield from _data(v, depth + 1)
    elif isinstance(value, str):
        yield from prose(value)


def of_text(text: str, json_text: bool) -> list[str]:
    """The sentences of one text unit (``texts.TextUnit``): data sentences for JSON, prose
    sentences otherwise; duplicates removed, order kept."""
    value = loads(text) if json_text else None
    found = _data(value) if value is not None else prose(text)
    return list(dict.fromkeys(found))
