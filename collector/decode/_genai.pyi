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
