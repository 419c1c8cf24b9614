"""Build normalized span rows (``store.schema.SPANS``) for analysis tests, and store them in a real
DuckDB file through ``store.writer.DuckStoreWriter``.

A ``TraceSpec`` hands out deterministic lowercase-hex ids; times are milliseconds from the trace
start, stored as int64 ns. Message helpers produce the GenAI semconv shape the decoders emit.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from analysis.load import build_trace
from analysis.model import Trace
from store import schema
from store.api import IngestBatch
from store.writer import DuckStoreWriter

BASE_NS = 1_750_000_000_000_000_000
_trace_counter = itertools.count(1)


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def text(role: str, content: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": content}]}


def call(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {"type": "tool_call", "id": call_id, "name": name, "arguments": arguments}


def calls(*parts: dict[str, Any], content: str = "") -> dict[str, Any]:
    body: list[dict[str, Any]] = [{"type": "text", "content": content}] if content else []
    return {"role": "assistant", "parts": [*body, *parts], "finish_reason": "tool_call"}


def response(call_id: str, result: Any) -> dict[str, Any]:
    return {"role": "tool", "parts": [{"type": "tool_call_response", "id": call_id, "response": result}]}


class TraceSpec:
    """Spans of one trace. Every ``add`` returns the new span id."""

    def __init__(self, trace_id: str | None = None, base_ns: int = BASE_NS, first_id: int = 1) -> None:
        self.trace_id = trace_id or format(next(_trace_counter) * 7919 + 0xABC, "032x")
        self.base_ns = base_ns
        self.rows: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self._ids = itertools.count(first_id)

    def add(self, name: str, start_ms: float, end_ms: float, parent: str | None = None, **cols: Any) -> str:
        span_id = format(int(self.trace_id[-8:], 16) * 4096 + next(self._ids), "016x")
        row: dict[str, Any] = {f.name: None for f in schema.SPANS}
        row.update(
            trace_id=self.trace_id,
            span_id=span_id,
            parent_span_id=parent,
            name=name,
            kind=1,
            start_ns=self.base_ns + int(start_ms * 1e6),
            end_ns=self.base_ns + int(end_ms * 1e6),
            status_code=0,
            service_name="svc",
            attributes="{}",
        )
        row["duration_ns"] = row["end_ns"] - row["start_ns"]
        for k, v in cols.items():
            row[k] = dumps(v) if isinstance(v, (list, dict)) else v
        self.rows.append(row)
        return span_id

    def agent(self, name: str, start_ms: float, end_ms: float, parent: str | None = None, **cols: Any) -> str:
        return self.add(
            f"invoke_agent {name}",
            start_ms,
            end_ms,
            parent,
            operation="invoke_agent",
            agent_name=name,
            **cols,
        )

    def llm(
        self,
        start_ms: float,
        end_ms: float,
        parent: str,
        inputs: Sequence[dict[str, Any]],
        outputs: Sequence[dict[str, Any]],
        **cols: Any,
    ) -> str:
        return self.add(
            "chat gpt-4o",
            start_ms,
            end_ms,
            parent,
            operation="chat",
            provider="openai",
            request_model="gpt-4o",
            input_messages=list(inputs),
            output_messages=list(outputs),
            **cols,
        )

    def tool(
        self,
        name: str,
        start_ms: float,
        end_ms: float,
        parent: str,
        arguments: Any = None,
        result: Any = None,
        **cols: Any,
    ) -> str:
        return self.add(
            f"execute_tool {name}",
            start_ms,
            end_ms,
            parent,
            operation="execute_tool",
            tool_name=name,
            tool_arguments=dumps(arguments if arguments is not None else {}),
            tool_result=None if result is None else dumps(result),
            **cols,
        )

    def link(self, span_id: str, linked_span_id: str) -> None:
        self.links.append(
            {
                "trace_id": self.trace_id,
                "span_id": span_id,
                "idx": len(self.links),
                "linked_trace_id": self.trace_id,
                "linked_span_id": linked_span_id,
                "trace_state": None,
                "attributes": "{}",
            }
        )

    def spans_table(self) -> pa.Table:
        return pa.Table.from_pylist(self.rows, schema=schema.SPANS)

    def links_table(self) -> pa.Table:
        return pa.Table.from_pylist(self.links, schema=schema.SPAN_LINKS)

    def trace(self) -> Trace:
        """The ``Trace`` a detector sees, built without a store."""
        import polars as pl

        spans = pl.from_arrow(self.spans_table())
        events = pl.from_arrow(schema.SPAN_EVENTS.empty_table())
        links = pl.from_arrow(self.links_table())
        assert (
            isinstance(spans, pl.DataFrame)
            and isinstance(events, pl.DataFrame)
            and isinstance(links, pl.DataFrame)
        )
        return build_trace(self.trace_id, spans, events, links)


def store(path: Path, specs: Iterable[TraceSpec]) -> DuckStoreWriter:
    """A writer on a fresh DuckDB file at ``path`` holding ``specs``; synced, so the ``traces``
    summary and agent resolution are done."""
    writer = DuckStoreWriter(path)
    for spec in specs:
        writer.write(IngestBatch(spans=spec.spans_table(), span_links=spec.links_table()))
    writer.sync()
    return writer
