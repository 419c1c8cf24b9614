"""One span's raw attributes → the normalized columns of ``store.schema.SPANS``.

``normalize_span`` picks the convention (the ``convention`` column) and lets its module fill the
columns, then the GenAI semconv reading fills what is still missing (instrumentations mix keys), then
convention-independent columns (``error.type``, HTTP status, ``db.*``) are read the same way.
Precedence, so the column is deterministic when several conventions are present:

1. ``openinference.span.kind`` present (or ``llm.model_name`` / ``llm.input_messages.*`` without
   any ``gen_ai.*`` key) → ``openinference``;
2. any ``traceloop.*`` key, ``llm.request.type``, or flattened ``gen_ai.prompt.N.*`` /
   ``gen_ai.completion.N.*`` → ``openllmetry``;
3. any ``gen_ai.*`` key, or a GenAI message span event → ``genai``;
4. otherwise NULL (a plain span; the common columns may still be set).

The plain GenAI semconv span (known keys, values the converters keep as sent, messages in the
normalized shape already) is answered by the compiled fast path (collector/decode/_genai.c) when it
is built: the same result, without the walk through the convention modules. It answers only when
sure; every other span, and every span when the module is missing, takes the Python path below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from collector.decode import genai, openinference, openllmetry
from collector.decode.events import MESSAGE_EVENTS
from collector.decode.messages import JsonList, reasoning_of
from collector.decode.values import dumps

_genai: ModuleType | None
try:
    from collector.decode import _genai
except ImportError:  # not compiled: every span takes the Python path
    _genai = None

#: ``_genai.fast_normalize`` (None when not built; tests set None to reach the Python path).
_fast_normalize: Callable[[dict[str, Any], str], dict[str, Any] | None] | None = (
    _genai.fast_normalize if _genai is not None else None
)

#: The SPANS columns this module owns, in schema order.
NORMALIZED_COLUMNS: tuple[str, ...] = (
    "convention",
    "operation",
    "provider",
    "request_model",
    "response_model",
    "agent_id",
    "agent_name",
    "conversation_id",
    "tool_name",
    "tool_call_id",
    "tool_type",
    "tool_arguments",
    "tool_result",
    "tool_definitions",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "reasoning_tokens",
    "input_messages",
    "output_messages",
    "system_instructions",
    "reasoning",
    "finish_reasons",
    "error_type",
    "http_status_code",
    "memory_store_id",
    "memory_record_id",
    "memory_records",
    "memory_version",
    "db_system",
    "db_operation",
    "db_query_text",
)
# Exact keys that settle the convention without scanning every key (the common case).
_OPENLLMETRY_MARKERS = (
    "llm.request.type",
    "traceloop.span.kind",
    "traceloop.entity.name",
    "traceloop.workflow.name",
    "gen_ai.prompt.0.content",
    "gen_ai.prompt.0.role",
    "gen_ai.completion.0.content",
    "gen_ai.completion.0.role",
)
_GENAI_MARKERS = ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.system")


def detect(attrs: dict[str, Any], span_events: Sequence[tuple[str, dict[str, Any]]]) -> str | None:
    """The span's convention (see the module docstring)."""
    if "openinference.span.kind" in attrs:
        return "openinference"
    for key in _OPENLLMETRY_MARKERS:
        if key in attrs:
            return "openllmetry"
    for key in _GENAI_MARKERS:
        if key in attrs:
            return "genai"
    heads = {key.partition(".")[0] for key in attrs}
    if "traceloop" in heads:
        return "openllmetry"
    if "gen_ai" in heads:
        return "genai"
    if "llm" in heads and ("llm.model_name" in attrs or "llm.input_messages.0.message.role" in attrs):
        return "openinference"
    if any(name in MESSAGE_EVENTS for name, _ in span_events):
        return "genai"
    return None


def normalize_span(
    attrs: dict[str, Any], name: str, span_events: Sequence[tuple[str, dict[str, Any]]] = ()
) -> dict[str, Any]:
    """The normalized column values of one span (column → value; absent means NULL). Messages,
    system instructions and other structured columns are JSON text; ``reasoning`` is plain text."""
    if _fast_normalize is not None and not span_events:
        fast = _fast_normalize(attrs, name)
        if fast is not None:
            return fast
    return normalize_span_python(attrs, name, span_events)


def normalize_span_python(
    attrs: dict[str, Any], name: str, span_events: Sequence[tuple[str, dict[str, Any]]] = ()
) -> dict[str, Any]:
    """``normalize_span`` without asking the compiled fast path: the reference, and what a caller
    that asked ``_fast_normalize`` already falls back to."""
    out: dict[str, Any] = {}
    convention = detect(attrs, span_events)
    if convention is not None:
        out["convention"] = convention
        if convention == "openinference":
            openinference.normalize(attrs, name, out)
        elif convention == "openllmetry":
            openllmetry.normalize(attrs, name, out)
    genai.apply_key_table(attrs, out)
    if convention is not None:
        genai.normalize(attrs, name, span_events, out)
        genai.agent_identity(attrs, name, out)
        genai.system_fallback(out)
        reasoning = reasoning_of(out.get("output_messages"))
        if reasoning is not None:
            out["reasoning"] = reasoning
    for column in ("input_messages", "output_messages", "system_instructions"):
        value = out.get(column)
        if value is not None:
            out[column] = value.text if isinstance(value, JsonList) else dumps(value)
    return out
