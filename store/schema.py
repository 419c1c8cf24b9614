"""The normalized schema: the one contract between the collector, the store and every reader.

Every convention (OTel GenAI semconv, its deprecated forms, OpenInference, OpenLLMetry) is decoded
at the collector's edge into these columns; nothing downstream reads convention-specific keys.

Conventions of the columns:
- ids are lowercase hex strings (trace 32 chars, span 16 chars); "no parent" is NULL, never "".
- times are int64 nanoseconds since the Unix epoch (``*_ns``).
- structured values (attributes, messages, tool definitions, ...) are JSON text. Messages always
  use the GenAI semconv >= 1.37 shape, whatever convention they arrived in::

      [{"role": "user", "parts": [{"type": "text", "content": "..."}]}, ...]

  with parts of type ``text``, ``reasoning``, ``tool_call`` (id, name, arguments),
  ``tool_call_response`` (id, response), ``blob``, ``uri``, ``file``; output messages carry
  ``finish_reason``. System instructions are a JSON array of parts.
- ``attributes`` / ``resource_attributes`` keep the raw key/values losslessly as a JSON object.

Each text is stored once. A raw attribute whose value a normalized column holds verbatim (the usual
``gen_ai.input.messages`` of a semconv span is the ``input_messages`` text, byte for byte) is kept
in that column only: ``spans`` is a view over the stored table ``span_rows`` (``SPAN_ROWS``), whose
``attributes_rest`` lacks such attributes and whose ``attributes_in_columns`` bit mask names them
(bit i: ``MOVED_ATTRIBUTES[i]``); the view puts them back, so ``spans.attributes`` is the whole
object (the moved keys come last: JSON objects are unordered). Writers may give ``attributes``
whole instead (nothing moved); only the collector's decoder moves values (``store.span_text``).

The Arrow schemas below are what the collector produces and the writer consumes; the DuckDB DDL is
generated from them so the two cannot drift.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 4

_STR = pa.string()
_I64 = pa.int64()

SPANS = pa.schema(
    [
        ("trace_id", _STR),
        ("span_id", _STR),
        ("parent_span_id", _STR),
        ("trace_state", _STR),
        ("name", _STR),
        (
            "kind",
            pa.int8(),
        ),  # OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer
        ("start_ns", _I64),
        ("end_ns", _I64),
        ("duration_ns", _I64),
        ("status_code", pa.int8()),  # 0 unset, 1 ok, 2 error
        ("status_message", _STR),
        ("service_name", _STR),
        ("resource_attributes", _STR),
        ("scope_name", _STR),
        ("scope_version", _STR),
        ("attributes", _STR),
        ("convention", _STR),  # genai | openinference | openllmetry | NULL (plain span)
        # normalized GenAI columns
        ("operation", _STR),  # gen_ai.operation.name vocabulary (chat, execute_tool, invoke_agent, ...)
        ("provider", _STR),
        ("request_model", _STR),
        ("response_model", _STR),
        ("agent_id", _STR),  # the span's own agent (invoke_agent / create_agent / agent kind spans)
        ("agent_name", _STR),
        ("conversation_id", _STR),
        ("tool_name", _STR),
        ("tool_call_id", _STR),
        ("tool_type", _STR),
        ("tool_arguments", _STR),
        ("tool_result", _STR),  # also a retrieval span's documents: JSON [{"id", "score", "content", ...}]
        ("tool_definitions", _STR),  # JSON array
        ("input_tokens", _I64),  # includes cached tokens, per GenAI semconv
        ("output_tokens", _I64),
        ("cache_read_tokens", _I64),
        ("cache_creation_tokens", _I64),
        ("reasoning_tokens", _I64),
        ("input_messages", _STR),  # JSON array, semconv shape
        ("output_messages", _STR),  # JSON array, semconv shape
        ("system_instructions", _STR),  # JSON array of parts
        ("reasoning", _STR),  # reasoning text (reasoning parts, <think> blocks, OpenInference reasoning)
        ("finish_reasons", _STR),  # JSON array
        ("error_type", _STR),
        ("http_status_code", pa.int32()),
        ("memory_store_id", _STR),
        ("memory_record_id", _STR),
        ("memory_records", _STR),
        ("memory_version", _STR),
        ("db_system", _STR),
        ("db_operation", _STR),
        ("db_query_text", _STR),
        # filled by the store: nearest agent ancestor (the span itself when it is an agent span)
        ("resolved_agent_id", _STR),
        ("resolved_agent_name", _STR),
        ("ingested_ns", _I64),
    ]
)

#: Raw attribute key → the normalized column that may hold its value verbatim. Bit i of
#: ``attributes_in_columns`` is entry i; append only (stored rows refer to the positions).
#: Strings move to text columns, integers to integer columns, never across types.
MOVED_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("gen_ai.input.messages", "input_messages"),
    ("gen_ai.output.messages", "output_messages"),
    ("gen_ai.system_instructions", "system_instructions"),
    ("gen_ai.tool.call.arguments", "tool_arguments"),
    ("gen_ai.tool.call.result", "tool_result"),
    ("gen_ai.tool.definitions", "tool_definitions"),
    ("db.query.text", "db_query_text"),
    ("gen_ai.operation.name", "operation"),
    ("gen_ai.provider.name", "provider"),
    ("gen_ai.system", "provider"),
    ("gen_ai.request.model", "request_model"),
    ("gen_ai.response.model", "response_model"),
    ("gen_ai.agent.name", "agent_name"),
    ("gen_ai.agent.id", "agent_id"),
    ("gen_ai.conversation.id", "conversation_id"),
    ("gen_ai.tool.name", "tool_name"),
    ("gen_ai.tool.call.id", "tool_call_id"),
    ("gen_ai.usage.input_tokens", "input_tokens"),
    ("gen_ai.usage.output_tokens", "output_tokens"),
)

# Spliced into JSON and SQL literals as they are.
assert all(k.isascii() and k.replace(".", "").replace("_", "").isalnum() for k, _ in MOVED_ATTRIBUTES)

_ATTRIBUTES_AT = SPANS.get_field_index("attributes")
#: How ``spans`` is stored (table ``span_rows``): ``attributes`` split into what was not moved and
#: the mask of what was (NULL: nothing; see the module docstring).
SPAN_ROWS = (
    SPANS.remove(_ATTRIBUTES_AT)
    .insert(_ATTRIBUTES_AT, pa.field("attributes_rest", _STR))
    .insert(_ATTRIBUTES_AT + 1, pa.field("attributes_in_columns", pa.int32()))
)
SPAN_ROWS_TABLE = "span_rows"


SPAN_EVENTS = pa.schema(
    [
        ("trace_id", _STR),
        ("span_id", _STR),
        ("idx", pa.int32()),  # position of the event within its span
        ("time_ns", _I64),
        ("name", _STR),
        ("attributes", _STR),
    ]
)

SPAN_LINKS = pa.schema(
    [
        ("trace_id", _STR),
        ("span_id", _STR),
        ("idx", pa.int32()),
        ("linked_trace_id", _STR),
        ("linked_span_id", _STR),
        ("trace_state", _STR),
        ("attributes", _STR),
    ]
)

LOGS = pa.schema(
    [
        ("log_id", _STR),  # content hash: a retried request stores each record once
        ("trace_id", _STR),
        ("span_id", _STR),
        ("time_ns", _I64),
        ("observed_ns", _I64),
        ("severity_number", pa.int32()),
        ("severity_text", _STR),
        ("event_name", _STR),  # LogRecord.event_name, or the `event.name` attribute
        ("body", _STR),  # JSON value
        ("attributes", _STR),
        ("service_name", _STR),
        ("resource_attributes", _STR),
        ("scope_name", _STR),
        # GenAI events, normalized like the span columns of the same names (JSON text, semconv
        # shape; NULL when the record contributes none): the store merges them into the span
        # (trace_id, span_id) whichever arrives first, without any convention logic.
        ("input_messages", _STR),
        ("output_messages", _STR),
        ("system_instructions", _STR),
        ("reasoning", _STR),
        ("ingested_ns", _I64),
    ]
)

METRICS = pa.schema(
    [
        ("point_id", _STR),  # content hash
        ("name", _STR),
        ("unit", _STR),
        ("type", _STR),  # gauge | sum | histogram | exponential_histogram | summary
        ("time_ns", _I64),
        ("start_ns", _I64),
        ("value", pa.float64()),  # gauge / sum value
        ("count", _I64),
        ("sum", pa.float64()),
        ("min", pa.float64()),
        ("max", pa.float64()),
        ("bucket_counts", _STR),  # JSON array
        ("explicit_bounds", _STR),  # JSON array
        ("attributes", _STR),
        ("service_name", _STR),
        ("resource_attributes", _STR),
        ("scope_name", _STR),
        ("ingested_ns", _I64),
    ]
)

TRACES = pa.schema(
    [
        ("trace_id", _STR),
        ("root_span_id", _STR),
        ("root_span_name", _STR),
        ("root_service_name", _STR),
        ("services", _STR),  # JSON array
        ("agents", _STR),  # JSON array of resolved agent names
        ("models", _STR),  # JSON array
        ("start_ns", _I64),
        ("end_ns", _I64),
        ("duration_ns", _I64),
        ("span_count", _I64),
        ("error_count", _I64),
        ("orphan_count", _I64),  # spans whose parent has not (yet) arrived
        ("input_tokens", _I64),
        ("output_tokens", _I64),
        ("last_ingested_ns", _I64),
    ]
)

FINDINGS = pa.schema(
    [
        (
            "finding_id",
            _STR,
        ),  # stable: re-running the same detector version on the same trace gives the same id
        ("trace_id", _STR),
        ("detector", _STR),
        ("detector_version", _STR),
        ("kind", _STR),
        ("origin_span_id", _STR),
        ("span_ids", _STR),  # JSON array, origin included
        ("agents", _STR),  # JSON array
        ("severity", _STR),  # info | low | medium | high | critical
        ("mast", _STR),  # JSON array of MAST ids ("FM-3.2", ...)
        ("summary", _STR),
        ("evidence", _STR),  # JSON object
        ("created_ns", _I64),
    ]
)

#: One row per analysed trace: what the analysis saw, so late spans trigger a re-analysis.
TRACE_ANALYSIS = pa.schema(
    [
        ("trace_id", _STR),
        ("analyzed_ns", _I64),
        ("span_count", _I64),  # spans of the trace when it was analysed
        ("last_ingested_ns", _I64),  # traces.last_ingested_ns when it was analysed
        ("attribution", _STR),  # JSON {"agent", "span_id", "reason"} or null
    ]
)

REPORTS = pa.schema(
    [
        ("report_id", _STR),
        ("generated_ns", _I64),
        ("format", _STR),
        ("body", _STR),
    ]
)

#: (table name, Arrow schema, key). The key makes writes idempotent: a row whose key is stored
#: already is not stored again. DuckDB enforces it as the primary key, except for the tables of
#: ``KEYS_CHECKED_BY_WRITER``.
TABLES: tuple[tuple[str, pa.Schema, tuple[str, ...]], ...] = (
    ("spans", SPANS, ("trace_id", "span_id")),
    ("span_events", SPAN_EVENTS, ("trace_id", "span_id", "idx")),
    ("span_links", SPAN_LINKS, ("trace_id", "span_id", "idx")),
    ("logs", LOGS, ("log_id",)),
    ("metrics", METRICS, ("point_id",)),
    ("traces", TRACES, ("trace_id",)),
    ("findings", FINDINGS, ("finding_id",)),
    ("trace_analysis", TRACE_ANALYSIS, ("trace_id",)),
    ("reports", REPORTS, ("report_id",)),
)

#: The ingest tables, whose key is not a DuckDB primary key: the writer checks it itself
#: (``store.stored_keys``), because DuckDB keeps a primary key's index resident (~60-70 bytes per
#: row for the span ids). Per table, the time column that a copy sent again shares with the
#: stored row (None: none), so that a suspected duplicate is looked up first among the stored
#: rows of its times, whose row groups DuckDB finds by their statistics.
KEYS_CHECKED_BY_WRITER: dict[str, str | None] = {
    "spans": "start_ns",
    "span_events": "time_ns",
    "span_links": None,
    "logs": "time_ns",
    "metrics": "time_ns",
}

_DUCK_TYPES = {
    pa.string(): "VARCHAR",
    pa.int8(): "TINYINT",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
}


def stored(name: str, table_schema: pa.Schema) -> tuple[str, pa.Schema]:
    """The table that stores ``TABLES``' table ``name``, and its Arrow schema: ``span_rows`` /
    ``SPAN_ROWS`` for ``spans`` (read through the view of that name), the table itself otherwise."""
    return (SPAN_ROWS_TABLE, SPAN_ROWS) if name == "spans" else (name, table_schema)


def create_table_sql(name: str, schema: pa.Schema, key: tuple[str, ...] | None) -> str:
    """DDL for one table, derived from its Arrow schema; ``key``: its primary key, if any."""
    cols = [f"{f.name} {_DUCK_TYPES[f.type]}" for f in schema]
    if key:
        cols.append(f"PRIMARY KEY ({', '.join(key)})")
    return f"CREATE TABLE IF NOT EXISTS {name} (\n  " + ",\n  ".join(cols) + "\n)"


def primary_key(name: str, key: tuple[str, ...]) -> tuple[str, ...] | None:
    """The DuckDB primary key of ``TABLES``' table ``name`` with ``key`` (None: the writer checks it)."""
    return None if name in KEYS_CHECKED_BY_WRITER else key


def empty_table(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()
