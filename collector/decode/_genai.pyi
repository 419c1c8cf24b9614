"""Type stub of the compiled GenAI span normalizer (collector/decode/_genai.c); the reference is
``collector.decode.normalize.normalize_span``."""

from typing import Any

#: The tables compiled in, held equal to ``genai``'s and ``normalize``'s by a test:
#: key -> (column, name of its ``KEY_TABLE`` converter, rank), for the keys the fast path reads.
KEYS: dict[str, tuple[str, str, int]]
GENAI_MARKERS: tuple[str, ...]
#: Keys ``normalize_span`` never reads, accepted with any value.
IGNORED_KEYS: tuple[str, ...]
OPERATION_ALIASES: dict[str, str]
KNOWN_OPERATIONS: tuple[str, ...]
AGENT_OPERATIONS: tuple[str, ...]

def fast_normalize(attrs: dict[str, Any], name: str, /) -> dict[str, Any] | None:
    """``normalize_span(attrs, name, ())`` for a plain GenAI semconv span (known keys only, values
    the converters keep as they are, canonical messages without system messages in the input or
    reasoning in the output), else None: not sure, ask ``normalize_span``."""

def move_verbatim(
    attrs: dict[str, Any], norm: dict[str, Any], moved: tuple[tuple[str, str], ...], /
) -> int | None:
    """``collector.decode.traces._move_attributes_py(attrs, norm)`` for the (key, column) pairs
    ``moved`` (bit i for the i-th): deletes the moved keys from ``attrs``, returns their mask."""
