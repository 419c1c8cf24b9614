"""Dates, quarters and times: patterns and their normalized keys.

A full date's key is ``date:YYYY-MM-DD`` and it covers its partial forms (``md:MM-DD``,
``month:YYYY-MM``, ``year:YYYY``), so "March 15" is supported by "2024-03-15" but not the other way
round. ``03/04/2024`` keeps both readings (US and elsewhere) as keys. Textual dates go through
dateutil's parser; a missing year or day is detected by parsing against two different defaults.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from dateutil import parser as dateparser

from analysis.detectors.hallucination.claim import Claim

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"(?:[0-2]?\d|3[01])(?:st|nd|rd|th)?"
_ISO_DATE = re.compile(
    r"\b(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?:[T ]([01]\d|2[0-3]):([0-5]\d)(?::[0-5]\d(?:\.\d+)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?)?\b"
)
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})([/.])(\d{1,2})\2(\d{4}|\d{2})\b")
_TEXT_DATE = re.compile(
    rf"\b(?:{_MONTHS}\s+{_DAY}(?:,?\s+\d{{4}})?|{_DAY}\s+(?:of\s+)?{_MONTHS}(?:,?\s+\d{{4}})?|{_MONTHS},?\s+\d{{4}})\b",
    re.IGNORECASE,
)
_QUARTER = re.compile(r"\b(?:Q([1-4])[\s-]?(?:FY\s?)?'?(\d{4}|\d{2})|(?:FY\s?)?(\d{4})[\s-]?Q([1-4]))\b")
_TIME = re.compile(
    r"\b([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?\s?([AaPp]\.?[Mm]\.?)?(?![\w:])|\b(1[0-2]|0?[1-9])\s?([AaPp]\.?[Mm]\.?)(?!\w)"
)


def _date_claim(m: re.Match[str], year: int | None, month: int, day: int | None) -> Claim | None:
    if not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
        return None
    covers: tuple[str, ...]
    if year is not None and day is not None:
        key = f"date:{year:04d}-{month:02d}-{day:02d}"
        covers = (f"md:{month:02d}-{day:02d}", f"month:{year:04d}-{month:02d}", f"year:{year:04d}")
    elif day is not None:
        key, covers = f"md:{month:02d}-{day:02d}", ()
    elif year is not None:
        key, covers = f"month:{year:04d}-{month:02d}", (f"year:{year:04d}",)
    else:
        return None
    return Claim("date", m.group(0), m.start(), m.end(), (key,), frozenset((key, *covers)))


def _iso_date(m: re.Match[str]) -> Claim | None:
    claim = _date_claim(m, int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if claim is not None and m.group(4):
        return Claim(
            claim.kind,
            claim.text,
            claim.start,
            claim.end,
            claim.keys,
            claim.covers | {f"time:{m.group(4)}:{m.group(5)}"},
        )
    return claim


def _numeric_date(m: re.Match[str]) -> Claim | None:
    a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
    if year < 100:
        year += 2000
    # 03/04/2024 is March 4th in the US and 3 April elsewhere: either reading may be the source's
    readings = [(a, b), (b, a)] if m.group(2) == "/" else [(b, a), (a, b)]
    claims = [c for mo, d in readings if (c := _date_claim(m, year, mo, d)) is not None]
    if not claims:
        return None
    keys = tuple(dict.fromkeys(k for c in claims for k in c.keys))
    return Claim("date", m.group(0), m.start(), m.end(), keys, frozenset().union(*(c.covers for c in claims)))


_NO_YEAR = (datetime(1, 1, 1), datetime(2, 2, 2))


def _text_date(m: re.Match[str]) -> Claim | None:
    text = re.sub(r"\bof\b", " ", m.group(0))
    try:
        a = dateparser.parse(text, default=_NO_YEAR[0])
        b = dateparser.parse(text, default=_NO_YEAR[1])
    except (ValueError, OverflowError):
        return None
    if a is None or b is None:
        return None
    year = a.year if a.year == b.year else None
    day = a.day if a.day == b.day else None
    return _date_claim(m, year, a.month, day)


def _quarter(m: re.Match[str]) -> Claim:
    q, y = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    year = int(y) + (2000 if len(y) == 2 else 0)
    key = f"quarter:{year}-Q{q}"
    return _one("date", m, key, covers=(f"year:{year}",))


def _time(m: re.Match[str]) -> Claim:
    if m.group(1) is not None:
        hour, minute, ampm = int(m.group(1)), int(m.group(2)), m.group(3)
    else:
        hour, minute, ampm = int(m.group(4)), 0, m.group(5)
    if ampm:
        pm = ampm.lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    return _one("time", m, f"time:{hour:02d}:{minute:02d}")


def _one(kind: str, m: re.Match[str], key: str, *, covers: tuple[str, ...] = ()) -> Claim:
    return Claim(kind, m.group(0), m.start(), m.end(), (key,), frozenset((key, *covers)))


DATE_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Claim | None]], ...] = (
    (_ISO_DATE, _iso_date),
    (_NUMERIC_DATE, _numeric_date),
    (_TEXT_DATE, _text_date),
    (_QUARTER, _quarter),
    (_TIME, _time),
)
