"""Model prices and cache-aware cost.

Prices are USD per million tokens. A price key matches a model name exactly or as a prefix
followed by ``-`` (``gpt-4o`` prices ``gpt-4o-2024-08-06``); the longest key wins, so
``gpt-4o-mini`` is not priced as ``gpt-4o``. Provider prefixes (``openai/gpt-4o``) are stripped.

Cost of one span, with the GenAI semconv meaning of the counts (input includes cached tokens)::

    (input - cache_read - cache_creation) * input_price
      + cache_read * cache_read_price          (input price when unknown)
      + cache_creation * cache_write_price     (input price when unknown)
      + output * output_price                   (reasoning tokens are part of output)

Users extend or override the built-in table with a TOML or JSON file (``FAULTLENS_PRICING``)::

    [models."my-model"]
    input = 1.0
    output = 2.0
    cache_read = 0.1     # optional
    cache_write = 1.25   # optional
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class PricingError(ValueError):
    """The pricing file cannot be read or has a bad entry; the message names the file and key."""


@dataclass(frozen=True)
class ModelPrice:
    model: str  # lowercase key, matched exactly or as "<key>-..." prefix
    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None


# List prices in USD per 1M tokens (public price pages, 2025). Extend or override with a file.
BUILTIN_PRICES: tuple[ModelPrice, ...] = (
    ModelPrice("gpt-4o", 2.50, 10.00, 1.25),
    ModelPrice("gpt-4o-mini", 0.15, 0.60, 0.075),
    ModelPrice("gpt-4.1", 2.00, 8.00, 0.50),
    ModelPrice("gpt-4.1-mini", 0.40, 1.60, 0.10),
    ModelPrice("gpt-4.1-nano", 0.10, 0.40, 0.025),
    ModelPrice("gpt-5", 1.25, 10.00, 0.125),
    ModelPrice("gpt-5-mini", 0.25, 2.00, 0.025),
    ModelPrice("gpt-5-nano", 0.05, 0.40, 0.005),
    ModelPrice("o3", 2.00, 8.00, 0.50),
    ModelPrice("o4-mini", 1.10, 4.40, 0.275),
    ModelPrice("gpt-3.5-turbo", 0.50, 1.50),
    ModelPrice("text-embedding-3-small", 0.02, 0.0),
    ModelPrice("text-embedding-3-large", 0.13, 0.0),
    ModelPrice("claude-opus-4", 15.00, 75.00, 1.50, 18.75),
    ModelPrice("claude-opus-4-5", 5.00, 25.00, 0.50, 6.25),
    ModelPrice("claude-sonnet-4", 3.00, 15.00, 0.30, 3.75),
    ModelPrice("claude-sonnet-4-5", 3.00, 15.00, 0.30, 3.75),
    ModelPrice("claude-3-7-sonnet", 3.00, 15.00, 0.30, 3.75),
    ModelPrice("claude-3-5-sonnet", 3.00, 15.00, 0.30, 3.75),
    ModelPrice("claude-3-5-haiku", 0.80, 4.00, 0.08, 1.00),
    ModelPrice("claude-haiku-4-5", 1.00, 5.00, 0.10, 1.25),
    ModelPrice("gemini-2.5-pro", 1.25, 10.00, 0.31),
    ModelPrice("gemini-2.5-flash", 0.30, 2.50, 0.075),
    ModelPrice("gemini-2.0-flash", 0.10, 0.40, 0.025),
    ModelPrice("mistral-large", 2.00, 6.00),
    ModelPrice("mistral-small", 0.10, 0.30),
)

_FIELDS = ("input", "output", "cache_read", "cache_write")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PricingError(f"{where}: expected a non-negative number, got {value!r}")
    return float(value)


def parse_prices(doc: Mapping[str, Any], source: str) -> tuple[ModelPrice, ...]:
    """Entries of a pricing document: ``{"models": {name: {input, output, cache_read?, cache_write?}}}``
    (the ``models`` level is optional)."""
    models = doc.get("models", doc)
    if not isinstance(models, Mapping):
        raise PricingError(f"{source}: 'models' must be a table of model names")
    prices = []
    for name, entry in models.items():
        where = f"{source}: models.{name}"
        if not isinstance(entry, Mapping):
            raise PricingError(f"{where}: expected a table with input/output prices")
        unknown = set(entry) - set(_FIELDS)
        if unknown:
            raise PricingError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        for required in ("input", "output"):
            if required not in entry:
                raise PricingError(f"{where}.{required}: missing")
        optional = {k: _number(entry[k], f"{where}.{k}") for k in ("cache_read", "cache_write") if k in entry}
        prices.append(
            ModelPrice(
                model=str(name).strip().lower(),
                input=_number(entry["input"], f"{where}.input"),
                output=_number(entry["output"], f"{where}.output"),
                cache_read=optional.get("cache_read"),
                cache_write=optional.get("cache_write"),
            )
        )
    return tuple(prices)


def load_pricing(path: str | None) -> tuple[ModelPrice, ...]:
    """The built-in table, extended and overridden (by model key) with the entries of ``path``."""
    merged = {p.model: p for p in BUILTIN_PRICES}
    if path:
        file = Path(path)
        try:
            raw = file.read_bytes()
            doc = tomllib.loads(raw.decode()) if file.suffix.lower() == ".toml" else json.loads(raw)
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise PricingError(f"{path}: cannot read pricing file: {e}") from e
        if not isinstance(doc, Mapping):
            raise PricingError(f"{path}: expected a table/object at the top level")
        merged.update({p.model: p for p in parse_prices(doc, path)})
    return tuple(sorted(merged.values(), key=lambda p: p.model))


def price_for(model: str | None, prices: tuple[ModelPrice, ...]) -> ModelPrice | None:
    """The longest matching price key for ``model`` (same rule as the SQL in ``usage_ctes``)."""
    if not model:
        return None
    name = model.strip().lower().rsplit("/", 1)[-1]
    best: ModelPrice | None = None
    for p in prices:
        if (name == p.model or name.startswith(p.model + "-")) and (
            best is None or len(p.model) > len(best.model)
        ):
            best = p
    return best


def cost_usd(
    price: ModelPrice | None,
    input_tokens: int | None,
    output_tokens: int | None,
    cache_read: int | None = None,
    cache_creation: int | None = None,
) -> float | None:
    """Cache-aware cost of one call; ``None`` when the model has no price."""
    if price is None:
        return None
    inp, out, cr, cw = (input_tokens or 0), (output_tokens or 0), (cache_read or 0), (cache_creation or 0)
    uncached = max(inp - cr - cw, 0)
    read_price = price.input if price.cache_read is None else price.cache_read
    write_price = price.input if price.cache_write is None else price.cache_write
    return (uncached * price.input + cr * read_price + cw * write_price + out * price.output) / 1e6
