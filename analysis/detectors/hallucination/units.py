"""Unit, currency and magnitude vocabulary of ``numbers``, and the unit a JSON key names for its
number (``"weight_g": 1250`` is 1.25 kg, ``"revenue_usd_millions": 3120`` is $3.12B)."""

from __future__ import annotations

import re

#: unit word → (dimension, factor to the dimension's base unit): symbols with their SI prefixes
#: (only those that stay unambiguous when matched case-insensitively: "Ms" would read as "ms") and
#: the spelled-out words, singular and plural
UNITS: dict[str, tuple[str, float]] = {
    "%": ("percent", 1.0),
    "percent": ("percent", 1.0),
    "per cent": ("percent", 1.0),
    "pct": ("percent", 1.0),
    "percentage points": ("percent", 1.0),
    "min": ("time", 60.0),
    "mins": ("time", 60.0),
    "h": ("time", 3600.0),
    "hr": ("time", 3600.0),
    "hrs": ("time", 3600.0),
    "sec": ("time", 1.0),
    "secs": ("time", 1.0),
    "msec": ("time", 1e-3),
    "t": ("mass", 1000.0),  # the metric tonne
    "mcg": ("mass", 1e-9),
    "lb": ("mass", 0.45359237),
    "lbs": ("mass", 0.45359237),
    "oz": ("mass", 0.028349523125),
    "mi": ("length", 1609.344),
    "ft": ("length", 0.3048),
    "yd": ("length", 0.9144),
    "kb": ("data", 1e3),
    "mb": ("data", 1e6),
    "gb": ("data", 1e9),
    "tb": ("data", 1e12),
    "kib": ("data", 1024.0),
    "mib": ("data", 1024.0**2),
    "gib": ("data", 1024.0**3),
    "tib": ("data", 1024.0**4),
    "°c": ("temp_c", 1.0),
    "°f": ("temp_f", 1.0),
}


def _si_units() -> dict[str, tuple[str, float]]:
    """Seconds, grams, metres and litres with the SI prefixes people use for them, as symbols
    ("ms", "kg", "µm", "ml") and words ("milliseconds", "kilogram", "kilometres", "centilitre")."""
    prefixes = {"n": ("nano", 1e-9), "µ": ("micro", 1e-6), "μ": ("micro", 1e-6), "m": ("milli", 1e-3)}
    prefixes |= {"c": ("centi", 1e-2), "": ("", 1.0), "k": ("kilo", 1e3)}
    bases = (  # symbol, words, dimension, factor of the unprefixed unit, prefixes it takes
        ("s", ("second",), "time", 1.0, "nµμm"),
        ("g", ("gram",), "mass", 1e-3, "nµμmk"),
        ("m", ("meter", "metre"), "length", 1.0, "nµμmck"),
        ("l", ("liter", "litre"), "volume", 1.0, "µμmc"),
    )
    units: dict[str, tuple[str, float]] = {}
    for symbol, words, dim, factor, allowed in bases:
        for prefix, (word_prefix, scale) in prefixes.items():
            if prefix and prefix not in allowed:
                continue
            units[prefix + symbol] = (dim, factor * scale)
            for word in words:
                units[word_prefix + word] = units[word_prefix + word + "s"] = (dim, factor * scale)
    return units


UNITS |= _si_units()
UNITS |= {
    "kilo": ("mass", 1.0),
    "kilos": ("mass", 1.0),
    "tonne": ("mass", 1000.0),
    "tonnes": ("mass", 1000.0),
    "metric ton": ("mass", 1000.0),
    "metric tons": ("mass", 1000.0),
    "ton": ("mass", 1000.0),  # read as metric: a short ton (907 kg) is within a one-ton claim anyway
    "tons": ("mass", 1000.0),
    "ounce": ("mass", 0.028349523125),
    "ounces": ("mass", 0.028349523125),
    "micron": ("length", 1e-6),
    "microns": ("length", 1e-6),
    "mile": ("length", 1609.344),
    "miles": ("length", 1609.344),
    "foot": ("length", 0.3048),
    "feet": ("length", 0.3048),
    "inch": ("length", 0.0254),
    "inches": ("length", 0.0254),
    "yard": ("length", 0.9144),
    "yards": ("length", 0.9144),
    "minute": ("time", 60.0),
    "minutes": ("time", 60.0),
    "hour": ("time", 3600.0),
    "hours": ("time", 3600.0),
    "day": ("time", 86400.0),
    "days": ("time", 86400.0),
    "week": ("time", 604800.0),
    "weeks": ("time", 604800.0),
    "wk": ("time", 604800.0),
    "wks": ("time", 604800.0),
    "gal": ("volume", 3.785411784),
    "gallon": ("volume", 3.785411784),
    "gallons": ("volume", 3.785411784),
}

CURRENCY_SYMBOLS = {
    "$": "usd",
    "us$": "usd",
    "€": "eur",
    "£": "gbp",
    "¥": "jpy",
    "₹": "inr",
    "c$": "cad",
    "a$": "aud",
}
CURRENCY_WORDS = {
    "usd": "usd",
    "dollar": "usd",
    "dollars": "usd",
    "eur": "eur",
    "euro": "eur",
    "euros": "eur",
    "gbp": "gbp",
    "jpy": "jpy",
    "yen": "jpy",
    "chf": "chf",
    "cad": "cad",
    "aud": "aud",
    "inr": "inr",
    "cny": "cny",
    "rmb": "cny",
    "yuan": "cny",
}
MAGNITUDES = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "mn": 1e6,
    "mln": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "tn": 1e12,
    "trillion": 1e12,
}

#: the dimension a JSON key's last word names; one-letter and ambiguous words left out ("_m" is
#: metres or millions, "_t" tonnes or time, "_min" minutes or minimum)
_KEY_UNIT_EXCLUDED = frozenset({"m", "t", "l", "min", "mins", "mi", "c", "f"})
_KEY_MAGNITUDES = {
    "k": 1e3,
    "thousands": 1e3,
    "mn": 1e6,
    "millions": 1e6,
    "mm": 1e6,
    "bn": 1e9,
    "billions": 1e9,
}
_KEY_WORD = re.compile(r"[a-z]+")
_TIME_WORDS = frozenset(
    {"duration", "time", "elapsed", "wait", "delay", "eta", "runtime", "uptime", "travel"}
)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def key_unit(key: str) -> tuple[str, float] | None:
    """(dimension, factor to its base unit) of a number stored under ``key``, from its last words:
    ``weight_g`` → ("mass", 0.001), ``latencyMs`` → ("time", 0.001), ``revenue_usd_millions`` →
    ("money:usd", 1e6); None when the key names no unit."""
    words = _KEY_WORD.findall(_CAMEL.sub("_", key).lower())
    mag = 1.0
    if len(words) > 1 and words[-1] in _KEY_MAGNITUDES:
        mag = _KEY_MAGNITUDES[words.pop()]
    if len(words) < 2:  # "ms" alone is a key, not a unit of something
        return None
    last = words[-1]
    if last in ("min", "mins") and _TIME_WORDS.intersection(words):  # "duration_min", not "price_min"
        return "time", mag * 60.0
    if last in CURRENCY_WORDS:
        return f"money:{CURRENCY_WORDS[last]}", mag
    if last in UNITS and last not in _KEY_UNIT_EXCLUDED and UNITS[last][0] != "percent":
        dim, factor = UNITS[last]
        return dim, mag * factor
    return None
