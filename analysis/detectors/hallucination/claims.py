"""Claim extraction without an LLM: the checkable facts of a piece of text, normalized so that
different spellings of the same fact compare equal.

A ``Claim`` is a span of text (``start``/``end`` are character offsets into the text it was
extracted from) with a ``kind`` and normalized ``keys``: the claim is supported by any source claim
whose ``covers`` contains one of its keys (``"March 15"`` is covered by ``"2024-03-15"``, not the
other way round). Quantities also carry a ``Quantity`` for tolerant numeric comparison
(``numbers.same_quantity``), names and quoted strings their ``tokens`` for token-level grounding.

Kinds: ``money``, ``percent``, ``quantity`` (a number with a unit), ``number`` (a bare number worth
checking), ``date``, ``time``, ``year``, ``url``, ``email``, ``identifier``, ``path``, ``code``,
``quoted``, ``name``, ``value`` (a short string value in JSON). Dates and times live in ``dates``.
``strong`` claims can make a finding on their own; weak ones (a bare year, a one-word name, a
snake_case word) only alongside a strong one or when they are the whole final answer, because alone
they are far more often the model's own wording than a fabricated fact. ``checkable`` is False for
small bare numbers: extracted so they can support other claims, never checked themselves.

Patterns run in priority order over one text and each claims its characters, so a date is not also
read as three numbers and an e-mail address not also as a name. Cost: linear in the text length
per pattern.
"""

from __future__ import annotations

import re
from dataclasses import replace

from analysis.detectors.hallucination.claim import Claim
from analysis.detectors.hallucination.dates import DATE_PATTERNS
from analysis.detectors.hallucination.names import NAME, WORD, TextLines, name_claim
from analysis.detectors.hallucination.numbers import (
    DURATION,
    QUANTITY,
    Quantity,
    parse_duration,
    parse_quantity,
    significant,
)
from analysis.detectors.hallucination.units import key_unit

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'`)\]}|]+", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
_IDENTIFIER = re.compile(r"(?<![\w.@/\\-])(?=[\w#-]*\d)[A-Za-z0-9]+(?:[-_#][A-Za-z0-9]+)*(?![\w@/-])")
_PHONE = re.compile(r"(?<![\w+])\+?\d{1,3}?[\s.-]?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b")
_PATH = re.compile(
    r"(?<![\w/:.<])(?:~|\.{1,2})?/(?:[\w.@-]+/)+[\w.@-]+/?"
    r"|(?<![\w/:.<])(?:~|\.{1,2})?/[\w@-]+\.[A-Za-z0-9]{1,5}\b"
    r"|\b[A-Za-z]:\\(?:[\w .-]+\\)*[\w.-]+"
    r"|\b[\w.-]+(?:/[\w.-]+)+\.[A-Za-z0-9]{1,5}\b"
    r"|(?<![\w/])[\w.-]+(?:/[\w.-]+){2,}"
)
_FILENAME = re.compile(
    r"\b[\w-]+\.(?:py|js|ts|tsx|json|ya?ml|csv|tsv|txt|md|pdf|docx?|xlsx?|pptx?|sql|sh|go|rs|java|html?|xml|log|"
    r"cfg|conf|ini|toml|zip|tar|gz|png|jpe?g|parquet|ipynb)\b"
)
_DIGIT = re.compile(r"\d")
_CODE = re.compile(
    r"`([^`\n]{2,80})`"
    r"|\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\(\)"
    r"|\b[A-Za-z_]\w*\(\)"
    r"|\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"
    r"|(?<!\\)\b[a-z]+(?:[A-Z][a-z0-9]+)+\b"
)
_QUOTED = re.compile(r"\"([^\"\n]{3,120})\"|“([^”\n]{3,120})”")
_JSON_VALUE = re.compile(r'(?<=[:\[,])\s*"((?:[^"\\\n]|\\.){2,60})"(?=\s*[,}\]])')
#: values the caller is meant to mint (idempotency keys, request ids, nonces): never facts
_MINTED_VALUE = re.compile(
    r'"[\w-]*(?:idempoten|request[_-]?id|nonce|dedup|correlation|client[_-]?token|trace[_-]?id|uuid)[\w-]*"'
    r'\s*:\s*(?:"(?:[^"\\\n]|\\.)*"|[^,}\]\s]+)',
    re.IGNORECASE,
)
_JSON_KEY = re.compile(r'"(?:[^"\\\n]|\\.){1,80}"(?=\s*:)')
_YEAR = re.compile(r"(?<![\w.,-])(1[89]\d{2}|20\d{2})(?![\w.,-]\d|\w)")
#: words before a number that make it a year
_YEAR_CONTEXT = re.compile(
    r"(?:\b(?:in|since|by|from|until|till|to|of|year|fy|during|before|after|circa|early|late|mid)"
    r"|[-–/'])\W{0,2}$",
    re.IGNORECASE,
)
# the key of a JSON value, also of a number in a string ("dose_mg": "900") or a range ("900-3600")
_KEY_BEFORE_VALUE = re.compile(r'"([A-Za-z][\w.-]{0,60})"\s*:\s*"?(?:[1-9]\d*-)?$')
#: around a JSON number value: "orders": 1987, / [1987]
_JSON_NUMBER_VALUE = re.compile(r"\s*(?:[,}\]]|$)")
_JSON_BEFORE_VALUE = re.compile(r"(?:^|[:\[,])\s*$")
_ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th)$", re.IGNORECASE)


class _Mask:
    """Characters already claimed by a higher-priority pattern."""

    def __init__(self, n: int) -> None:
        self._bits = bytearray(n)

    def free(self, start: int, end: int) -> bool:
        return not any(self._bits[start:end])

    def take(self, start: int, end: int) -> None:
        self._bits[start:end] = b"\x01" * (end - start)


def extract_claims(text: str, *, json_text: bool = False) -> list[Claim]:
    """Every claim in ``text``, in text order. ``json_text`` marks serialized JSON (tool arguments
    and results): quoted strings there are just JSON strings, not quotations."""
    mask = _Mask(len(text))
    out: list[Claim] = []

    def add(claim: Claim | None) -> None:
        if claim is not None and mask.free(claim.start, claim.end):
            if claim.checkable:  # "5" of "Terminal 5" stays available to the name
                mask.take(claim.start, claim.end)
            out.append(claim)

    if json_text:  # object keys are the tool's vocabulary, not claims
        for m in _MINTED_VALUE.finditer(text):
            mask.take(m.start(), m.end())
        for m in _JSON_KEY.finditer(text):
            mask.take(m.start(), m.end())
    # cheap guards first: most texts have no "://", "@", "/" or digit, and the patterns cost
    # microseconds per character
    if "://" in text or "www." in text:
        for m in _URL.finditer(text):
            add(_url(m))
    if "@" in text:
        for m in _EMAIL.finditer(text):
            add(_simple("email", m, "email:" + m.group(0).lower()))
    digits = _DIGIT.search(text) is not None
    if digits:
        for rx, make in DATE_PATTERNS:
            for m in rx.finditer(text):
                add(make(m))
    if "/" in text or "\\" in text:
        for m in _PATH.finditer(text):
            add(_path(m))
    if "." in text:
        for m in _FILENAME.finditer(text):
            add(_path(m))
    if digits:
        for m in _PHONE.finditer(text):
            add(_simple("identifier", m, "id:" + re.sub(r"\D", "", m.group(0))))
        for m in _IDENTIFIER.finditer(text):
            add(_identifier(m))
        for m in _YEAR.finditer(text):
            add(_year(m, json_text))
        for m in DURATION.finditer(text):
            if m.end() > m.start():
                add(_duration(m))
        for m in QUANTITY.finditer(text):
            add(_quantity(m, json_text))
    for m in _CODE.finditer(text):
        add(_code(m))
    if not json_text:
        for m in _QUOTED.finditer(text):
            add(_quoted(m, out))
    # names inside JSON string values too ("to": "Dana Whitfield", an e-mail body); keys are masked
    lines = TextLines(text, json_text=json_text)
    for m in NAME.finditer(text):
        add(name_claim(m, lines))
    if json_text:
        for m in _JSON_VALUE.finditer(text):
            add(_value(m))
    out.sort(key=lambda c: c.start)
    return out


def _simple(
    kind: str, m: re.Match[str], key: str, *, strong: bool = True, covers: tuple[str, ...] = ()
) -> Claim:
    return Claim(kind, m.group(0), m.start(), m.end(), (key,), frozenset((key, *covers)), strong)


def _url(m: re.Match[str]) -> Claim:
    raw = m.group(0).rstrip(".,;:!?'\"")
    norm = re.sub(r"^(?:https?://)?(?:www\.)?", "", raw.lower())
    norm = re.split(r"[?#]", norm, maxsplit=1)[0].rstrip("/")
    host = norm.split("/", 1)[0]
    key = f"url:{norm}"
    return Claim("url", raw, m.start(), m.start() + len(raw), (key,), frozenset((key, f"url:{host}")))


def _path(m: re.Match[str]) -> Claim | None:
    raw = m.group(0).rstrip(".,;:")
    if raw in ("/", "//") or re.fullmatch(r"/[\w-]{1,3}", raw):
        return None  # "/s", "and/or"-like fragments, not paths
    norm = raw.replace("\\", "/").lower().removeprefix("./")
    base = norm.rstrip("/").rsplit("/", 1)[-1]
    keys = (f"path:{norm}", f"file:{base}") if "." in base else (f"path:{norm}",)
    return Claim("path", raw, m.start(), m.start() + len(raw), keys, frozenset(keys))


#: "900-3600", "15-29": a range of two numbers, read as the numbers (with their unit), not as an id
_RANGE = re.compile(r"([1-9]\d*)-([1-9]\d*)")


def _is_range(raw: str) -> bool:
    m = _RANGE.fullmatch(raw)
    return m is not None and int(m.group(1)) < int(m.group(2)) and abs(len(m.group(1)) - len(m.group(2))) <= 1


def _identifier(m: re.Match[str]) -> Claim | None:
    raw = m.group(0)
    if _is_range(raw):
        return None
    digits = sum(ch.isdigit() for ch in raw)
    letters = sum(ch.isalpha() for ch in raw)
    if len(raw) < 5 or digits < 2 or (letters == 0 and "-" not in raw and "_" not in raw and "#" not in raw):
        return None
    if _ORDINAL.match(raw) or ((qm := QUANTITY.fullmatch(raw)) and (qm.group("unit") or qm.group("mags"))):
        return None
    norm = re.sub(r"[^a-z0-9]", "", raw.lower())
    # "ORD-7731" is still supported by a source that says "order 7731"
    tail = re.search(r"\d{4,}$", norm)
    covers = (f"id:{tail.group(0)}",) if tail else ()
    return Claim(
        "identifier", raw, m.start(), m.end(), (f"id:{norm}", *covers), frozenset((f"id:{norm}", *covers))
    )


def _quantity(m: re.Match[str], json_text: bool) -> Claim | None:
    q = parse_quantity(m)
    if q is None:
        return None
    if json_text and q.bare:
        q = _with_key_unit(q, m.string, m.start())
    text = m.group(0).rstrip()
    if q.dim.startswith("money"):
        kind = "money"
    elif q.dim == "percent":
        kind = "percent"
    else:
        kind = "number" if q.dim == "none" else "quantity"
    keys: tuple[str, ...] = (q.key, *q.number_keys)
    if q.bare and q.si.is_integer():  # "7731" and "ORD-7731" name the same thing
        keys = (*keys, f"id:{int(q.si)}")
    # a bare number covers every quantity written with its digits; a dimensioned one only itself
    covers = frozenset(keys) if q.bare else frozenset((q.key,))
    if q.bare and q.si.is_integer() and 1800 <= q.si < 2100:
        # "1,987" written without its separator reads as a year; as a claim it is still a count,
        # which a date in that year does not support
        covers |= {f"year:{int(q.si)}"}
    checkable = significant(q, m.group("num"))
    return Claim(kind, text, m.start(), m.start() + len(text), keys, covers, checkable, q, (), checkable)


def _duration(m: re.Match[str]) -> Claim | None:
    q = parse_duration(m)
    if q is None:
        return None
    raw = m.group(0).rstrip(" \t,")
    raw = raw.removesuffix(" and").rstrip(" \t,")
    end = m.start() + len(raw)
    return Claim("quantity", raw, m.start(), end, (q.key,), frozenset((q.key,)), True, q)


def _year(m: re.Match[str], json_text: bool) -> Claim:
    """A year-like integer. Unless a preposition makes it a year ("in 1987", "since 2019") it also
    covers the number it is ("orders": 1987 supports "1,987 orders"); a JSON value ("visitors":
    2040) may be a count, so it is also a quantity that others can round or derive from, like
    every bare number in JSON."""
    year = m.group(1)
    text, start = m.string, m.start()
    before = text[max(0, start - 16) : start]
    numbers = () if _YEAR_CONTEXT.search(before) else (f"none:{year}", f"num:{year}", f"id:{year}")
    claim = _simple("year", m, f"year:{year}", strong=False, covers=numbers)
    if json_text and _JSON_NUMBER_VALUE.match(text, m.end()) and _JSON_BEFORE_VALUE.search(before):
        qm = QUANTITY.fullmatch(year)
        quantity = parse_quantity(qm) if qm else None
        quantity = quantity and _with_key_unit(quantity, text, start)
        return Claim("year", year, start, m.end(), claim.keys, claim.covers, False, quantity)
    return claim


def _with_key_unit(q: Quantity, text: str, start: int) -> Quantity:
    """A bare JSON number with the unit its key names ("duration_ms": 5400000), if any."""
    m = _KEY_BEFORE_VALUE.search(text, max(0, start - 80), start)
    unit = key_unit(m.group(1)) if m else None
    return replace(q, hint=unit) if unit else q


def _code(m: re.Match[str]) -> Claim | None:
    raw = m.group(0)
    inner = m.group(1) if m.group(1) is not None else raw
    symbol = inner.strip().removesuffix("()").lower()
    if not symbol:
        return None
    backticked = m.group(1) is not None
    # `pandas` is a word in code font; `compute_total()`, `Invoice.total`, `retry_after` are symbols
    structured = any(ch in symbol for ch in "._(:/") or any(ch.isupper() for ch in inner[1:])
    strong = (backticked and structured) or raw.endswith("()") or "." in symbol
    # a snippet (`retry_limit: 5`, `SELECT id FROM t`) is also supported by its words, as a name
    # is: a config line quoted from a tool's output is not reproduced character for character
    tokens = tuple(WORD.findall(symbol)) if backticked and any(ch.isspace() for ch in symbol) else ()
    key = f"code:{symbol}"
    return Claim("code", raw, m.start(), m.end(), (key,), frozenset((key,)), strong, tokens=tokens)


def _quoted(m: re.Match[str], earlier: list[Claim]) -> Claim | None:
    inner = m.group(1) if m.group(1) is not None else m.group(2)
    s, e = m.span(1) if m.group(1) is not None else m.span(2)
    if any(c.start == s and c.end == e for c in earlier):
        return None  # "2024-03-01" is the date claim already
    tokens = tuple(WORD.findall(inner.lower()))
    if not tokens or m.group(0) == m.string.strip():
        return None  # a whole text that is one JSON string literal is not a quotation
    key = "quote:" + " ".join(tokens)
    # a two-word lowercase status ("report ready") is a label; titles and sentences are claims
    strong = len(tokens) >= 3 or (len(tokens) == 2 and any(ch.isupper() for ch in inner))
    return Claim("quoted", m.group(0), m.start(), m.end(), (key,), frozenset((key,)), strong, None, tokens)


def _value(m: re.Match[str]) -> Claim | None:
    """A short JSON string value ("customer": "globex-emea"): the entities tools are asked about."""
    tokens = tuple(WORD.findall(m.group(1).lower()))
    if not tokens or not any(ch.isalpha() for ch in m.group(1)):
        return None
    key = "value:" + " ".join(tokens)
    return Claim("value", m.group(1), m.start(1), m.end(1), (key,), frozenset((key,)), False, None, tokens)
