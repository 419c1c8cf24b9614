"""Quantities: parse a number with its currency, magnitude and unit into one comparable value, and
decide when two written quantities say the same thing.

``$4.2B``, ``4,200 million dollars`` and ``4.2 billion USD`` all read as ``Quantity(dim="money:usd",
si=4.2e9)``. Every quantity keeps its *resolution* (the value of one unit in its last written digit,
trailing zeros of integers counted as rounding), so "about the same" is decided by how precisely
each side was written, not by a global tolerance: ``$4.2B`` (resolution 0.1e9) agrees with
``4,213 million`` but not with ``$4.7B``.

A bare number (no currency, magnitude or unit; typical of tool results in JSON such as
``{"revenue_musd": 4213}``) says nothing about its scale, so it is compared at every thousands
scale (×1 … ×10^9) and, against a percentage, also as a fraction; when its JSON key names a unit
(``"weight_g": 1250``, ``units.key_unit``) it is also compared in that unit ("1.25 kg").
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.detectors.hallucination.units import (
    CURRENCY_SYMBOLS,
    CURRENCY_WORDS,
    MAGNITUDES,
    UNITS,
)

_UNIT_ALT = "|".join(
    re.escape(u) for u in sorted(UNITS, key=len, reverse=True) if not (len(u) == 1 and u.isalpha())
)
#: one-letter units ("18.4 t", "5 m") must not run into a word: "2 t-shirts" is two shirts
_LETTER_UNITS = "".join(u for u in UNITS if len(u) == 1 and u.isalpha())
_CUR_WORD_ALT = "|".join(sorted(CURRENCY_WORDS, key=len, reverse=True))

#: one quantity: optional currency prefix, the digits, an optional magnitude, an optional unit
QUANTITY = re.compile(
    r"(?<![\w.,/])"
    r"(?P<cur>US\$|C\$|A\$|[$€£¥₹]|(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|INR|CNY)\s?)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?!\.\d)(?!,\d{3})"
    r"(?:(?P<magw>\s?(?:thousand|million|billion|trillion)\b)"
    r"|(?P<mags>(?:k|K|M|MM|mn|mln|bn|Bn|B|tn|T)(?![\w])))?"
    rf"(?:\s?(?P<curw>(?i:{_CUR_WORD_ALT}))(?![\w])"
    rf"|[\s-]?(?P<unit>(?i:{_UNIT_ALT})(?![\w])|(?i:[{_LETTER_UNITS}])(?![\w'’-])))?"
)


@dataclass(frozen=True)
class Quantity:
    """One written quantity. ``value`` is the number as written with its magnitude applied (the
    unit not), ``si`` the value in the dimension's base unit, ``res`` the resolution of ``si``."""

    dim: str  # "none" | "percent" | "money:<ccy>" | "time" | "mass" | "length" | "data" | "temp_c" | ...
    value: float
    si: float
    res: float
    bare: bool  # no currency, magnitude or unit: the scale is unknown
    scale: float = 1.0  # written digits × scale = si (magnitude × unit factor)
    #: a bare JSON number whose key names its unit ("weight_g": 1250): that dimension and the
    #: factor to its base unit; the number stays bare for everything else
    hint: tuple[str, float] | None = None

    @property
    def key(self) -> str:
        """The exact normalized form: equal keys mean equal quantities."""
        return f"{self.dim}:{_fmt(self.si)}"

    @property
    def number_keys(self) -> tuple[str, ...]:
        """The plain numbers this quantity is written as ("$1,628.25" → 1628.25): a bare source
        with exactly that number supports it without a tolerant scan."""
        keys = [f"num:{_fmt(self.value)}"]
        if self.scale not in (0.0, 1.0):
            keys.append(f"num:{_fmt(self.si / self.scale)}")
        return tuple(dict.fromkeys(keys))


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def parse_quantity(m: re.Match[str]) -> Quantity | None:
    """A ``QUANTITY`` match → ``Quantity`` (None when the digits do not parse)."""
    digits = m.group("num").replace(",", "")
    try:
        number = float(digits)
    except ValueError:
        return None
    decimals = len(digits.split(".", 1)[1]) if "." in digits else 0
    if decimals:
        res = 10.0**-decimals
    else:  # "1,500" was rounded to the hundred; "1507" to the unit
        stripped = digits.rstrip("0")
        res = 10.0 ** (len(digits) - len(stripped)) if stripped else 1.0
    mag_word = (m.group("magw") or m.group("mags") or "").strip().lower()
    mag = MAGNITUDES.get(mag_word, 1.0)
    currency = None
    if m.group("cur"):
        cur = m.group("cur").strip().lower()
        currency = CURRENCY_SYMBOLS.get(cur) or CURRENCY_WORDS.get(cur)
    if m.group("curw"):
        currency = currency or CURRENCY_WORDS.get(m.group("curw").lower())
    dim, factor = "none", 1.0
    if currency:
        dim = f"money:{currency}"
    elif m.group("unit"):
        dim, factor = UNITS.get(m.group("unit").lower(), ("none", 1.0))
    value = number * mag
    bare = dim == "none" and mag == 1.0
    return Quantity(dim, value, value * factor, res * mag * factor, bare, mag * factor)


_PART = r"(\d+(?:\.\d+)?)[ \t]?(?:{})(?![A-Za-z])"
_JOIN = r",?[ \t]?(?:and[ \t])?"
#: a duration written in several units: "1 h 35 min", "1h35m", "2 days, 4 hours and 10 minutes"
DURATION = re.compile(
    r"(?<![\w.,])"
    + "".join(f"(?:{_PART.format(u)}{_JOIN})?" for u in (r"d|days?", r"h|hrs?|hours?", r"m|mins?|minutes?"))
    + f"(?:{_PART.format(r's|secs?|seconds?')})?"
)
_DURATION_FACTORS = (86400.0, 3600.0, 60.0, 1.0)


def parse_duration(m: re.Match[str]) -> Quantity | None:
    """A ``DURATION`` match of at least two parts → one time ``Quantity`` (seconds), resolved to
    its smallest part; None for a single part (plain ``QUANTITY`` reads those)."""
    parts = [(float(g), f) for g, f in zip(m.groups(), _DURATION_FACTORS, strict=True) if g is not None]
    if len(parts) < 2:
        return None
    total = sum(v * f for v, f in parts)
    return Quantity("time", total, total, parts[-1][1], False)


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol + 1e-9 * max(abs(a), abs(b), 1.0)


_SCALES = (1.0, 1e3, 1e6, 1e9)


def same_quantity(claim: Quantity, source: Quantity) -> bool:
    """True when ``source`` supports ``claim`` as written: equal up to the claim's own resolution
    (a claim may round a precise source, "$4.2B" from "4,213 million"; it may not be more precise
    than its source, "$4,213M" from "$4.2B"), in the same dimension after unit conversion, or —
    bare numbers — at some thousands scale."""
    tol = claim.res / 2
    if claim.dim == source.dim and not claim.bare:
        return _close(claim.si, source.si, tol)
    if source.hint and source.hint[0] == claim.dim:  # "weight_g": 1250 supports "1.25 kg"
        return _close(claim.si, source.si * source.hint[1], tol)
    if claim.hint and claim.hint[0] == source.dim:
        return _close(claim.si * claim.hint[1], source.si, tol * claim.hint[1])
    if claim.dim.startswith("temp") and source.dim.startswith("temp"):
        a = claim.si if claim.dim == "temp_c" else (claim.si - 32) * 5 / 9
        b = source.si if source.dim == "temp_c" else (source.si - 32) * 5 / 9
        return _close(a, b, claim.res)
    if not (claim.bare or source.bare):
        return False
    bare, other = (source, claim) if source.bare else (claim, source)
    # the other side as written ("45" of "45-day", "4.2e9" of "$4.2B") and in base units, each
    # with its resolution; a percentage also as a fraction
    factor = other.si / other.value if other.value else 1.0
    targets = [(other.si, other.res), (other.value, other.res / factor if factor else other.res)]
    if other.dim == "percent":
        targets.append((other.si / 100, other.res / 100))
    scales = (1.0,) if other.bare else _SCALES  # two bare numbers: no scale to infer
    for scale in scales:
        candidate = bare.si * scale
        for target, res in targets:
            # the tolerance is always the claim's resolution, whichever side is bare
            claim_res = res if bare is source else bare.res * scale
            if _close(candidate, target, claim_res / 2):
                return True
    return False


def derived(
    claim: Quantity, sources: list[Quantity], limit: int = 120, groups: Sequence[Sequence[Quantity]] = ()
) -> str | None:
    """A simple derivation of ``claim`` from two source quantities, as text ("a + b", ...), or None.

    Considered: sum and difference of two quantities of the claim's own dimension (``_as_dim``:
    bare sources in the unit their JSON key names, else at the claim's scale; never a version
    label such as "2025.2"), the total or mean of the quantities of one text (``groups``: a tool
    result's line items), with or without one of them (an id or a rate among the items); for a percentage,
    also the ratio and relative change of two quantities of any one dimension ("$3.12B vs $2.79B"
    → "11.8%"); for money and bare numbers, a product with a small count or a rate (a bare number
    below 10 with decimals: 0.92, 1.08). Dimensions never mix: otherwise almost any number
    "derives" from a long enough tool result. O(min(n, limit)^2).
    """
    if claim.bare and claim.si < 10 and claim.res >= 1:
        return None
    pool: list[float] = []
    counts: list[float] = []
    rates: list[float] = []
    by_dim: dict[str, list[float]] = {}
    seen: set[str] = set()
    for s in sources:
        if s.key in seen or _version_label(s):
            continue
        seen.add(s.key)
        if s.bare and claim.dim in ("none", "percent"):
            pool.append(s.si)
        elif (v := _as_dim(s, claim)) is not None:
            pool.append(v)
        if s.bare and s.si.is_integer() and 1 < s.si <= 100:
            counts.append(s.si)
        elif s.bare and 0 < s.si < 10 and not s.si.is_integer():
            rates.append(s.si)
        if claim.dim == "percent" and s.dim != "percent":
            by_dim.setdefault(s.dim, []).append(s.si)
    tol = claim.res / 2
    target = claim.si
    pool = pool[:limit]
    for i, a in enumerate(pool):
        for b in pool[i + 1 :]:
            if _close(a + b, target, tol):
                return f"{_fmt(a)} + {_fmt(b)}"
            if _close(abs(a - b), abs(target), tol):
                return f"{_fmt(max(a, b))} - {_fmt(min(a, b))}"
    for group in groups:
        how = _total_of(claim, group, tol)
        if how:
            return how
    if claim.dim == "percent":
        for values in by_dim.values():
            how = _percent_of_pair(values[:limit], target, tol)
            if how:
                return how
    if claim.dim.startswith("money") or claim.bare:
        # a price times a count, or an amount times a rate (exchange rate, tax, discount)
        for a in pool:
            for n in counts + rates:
                if a != n and _close(a * n, target, tol):
                    return f"{_fmt(a)} × {_fmt(n)}"
    return None


def _as_dim(q: Quantity, claim: Quantity) -> float | None:
    """``q`` in the base unit of ``claim``'s dimension, when it can be read so: a quantity of that
    dimension; a bare number whose JSON key names a unit of it ("dose_mg"); any other bare number
    at the claim's own scale ("1.2" + "3.0" → "$4.2B"). None otherwise, and for version labels."""
    if _version_label(q):
        return None
    if q.dim == claim.dim:
        return q.si
    if not q.bare:
        return None
    if q.hint is not None:
        return q.si * q.hint[1] if q.hint[0] == claim.dim else None
    return q.si * claim.scale


def _version_label(q: Quantity) -> bool:
    """A bare year-dot-release number ("formulary 2025.2", "2024.1"): a calendar version label,
    not an amount, so it takes part in no derivation."""
    return q.bare and 1900 <= q.value < 2100 and not q.value.is_integer() and q.res >= 0.01


def _total_of(claim: Quantity, group: Sequence[Quantity], tol: float) -> str | None:
    """The total or mean of one text's quantities (all of them, or all but one), O(n)."""
    values = [v for v in (_as_dim(q, claim) for q in group) if v is not None]
    if not 2 < len(values) <= 100:
        return None
    total = sum(values)
    for left_out in (None, *values):
        rest = total - (left_out or 0.0)
        n = len(values) - (left_out is not None)
        if _close(rest, claim.si, tol):
            return f"total of {n} values"
        if _close(rest / n, claim.si, tol):
            return f"mean of {n} values"
    return None


def _percent_of_pair(values: list[float], target: float, tol: float) -> str | None:
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            for x, y in ((a, b), (b, a)):
                if y and _close(100 * x / y, target, tol):
                    return f"{_fmt(x)} / {_fmt(y)}"
                if y and _close(abs(100 * (x - y) / y), abs(target), tol):
                    return f"({_fmt(x)} - {_fmt(y)}) / {_fmt(y)}"
    return None


def significant(q: Quantity, text: str) -> bool:
    """Whether a quantity is worth checking as a claim. Small bare integers are list numbering,
    step counts and ordinary counting ("3 options"), not facts; bare years are dates' business;
    0% and 100% are "none" and "all"."""
    if q.dim == "percent" and q.si in (0.0, 100.0):
        return False  # "100% of tests pass", "0% errors": logic, not a figure to source
    if not q.bare:
        return True
    if "." in text:
        return not math.isclose(q.si, round(q.si)) or q.si >= 10
    return q.si >= 100 and not (1900 <= q.si <= 2100 and "," not in text)
