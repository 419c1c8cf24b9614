"""Build ``analysis.model.Trace`` objects for the hallucination tests: span rows in the normalized
columns of ``store.schema`` (missing columns NULL, messages in the GenAI semconv shape), turned into
a Trace by the engine's own ``analysis.load.build_trace`` (real agent resolution, real
happens-before). Spans are named in tests; their ids are stable 16-hex digests of the names, times
are seconds from an epoch offset."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
import polars as pl
import pyarrow as pa

from analysis.load import build_trace
from analysis.model import Trace
from store import schema

T0 = 1_750_000_000 * 10**9

Msg = tuple[str, str]  # (role, text)


def sid(name: str) -> str:
    return hashlib.blake2b(name.encode(), digest_size=8).hexdigest()


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def messages(items: Sequence[Msg], tool_calls: Sequence[tuple[str, dict[str, Any]]] = ()) -> str:
    """Messages in the semconv shape; ``tool_calls`` are appended to the last message."""
    out: list[dict[str, Any]] = [{"role": r, "parts": [{"type": "text", "content": t}]} for r, t in items]
    if tool_calls:
        if not out:
            out.append({"role": "assistant", "parts": []})
        for i, (name, args) in enumerate(tool_calls):
            out[-1]["parts"].append({"type": "tool_call", "id": f"call_{i}", "name": name, "arguments": args})
    return _json(out)


class TraceBuilder:
    def __init__(self, name: str) -> None:
        self.trace_id = hashlib.blake2b(name.encode(), digest_size=16).hexdigest()
        self.rows: list[dict[str, Any]] = []

    def span(self, name: str, parent: str | None, start: float, end: float, **cols: Any) -> str:
        row = {
            "trace_id": self.trace_id,
            "span_id": sid(name),
            "parent_span_id": sid(parent) if parent else None,
            "name": cols.pop("span_name", name),
            "kind": 1,
            "start_ns": T0 + int(start * 1e9),
            "end_ns": T0 + int(end * 1e9),
            "duration_ns": int((end - start) * 1e9),
            "status_code": cols.pop("status", 0),
            "service_name": cols.pop("service", "agents"),
            "convention": "genai",
            **cols,
        }
        self.rows.append(row)
        return sid(name)

    def agent(
        self,
        name: str,
        parent: str | None,
        start: float,
        end: float,
        agent: str,
        input: str | None = None,
        output: str | None = None,
    ) -> str:
        return self.span(
            name,
            parent,
            start,
            end,
            span_name=f"invoke_agent {agent}",
            operation="invoke_agent",
            agent_name=agent,
            input_messages=messages([("user", input)]) if input is not None else None,
            output_messages=messages([("assistant", output)]) if output is not None else None,
        )

    def chat(
        self,
        name: str,
        parent: str,
        start: float,
        end: float,
        *,
        input: Sequence[Msg],
        output: str = "",
        system: str | None = None,
        tools: Sequence[str] = (),
        tool_calls: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> str:
        return self.span(
            name,
            parent,
            start,
            end,
            span_name="chat model",
            operation="chat",
            request_model="model",
            system_instructions=_json([{"type": "text", "content": system}]) if system else None,
            input_messages=messages(input),
            output_messages=messages([("assistant", output)] if output else [], tool_calls),
            tool_definitions=_json([{"type": "function", "name": t} for t in tools]) if tools else None,
        )

    def tool(
        self,
        name: str,
        parent: str,
        start: float,
        end: float,
        tool: str,
        args: dict[str, Any],
        result: Any,
        **cols: Any,
    ) -> str:
        return self.span(
            name,
            parent,
            start,
            end,
            span_name=f"execute_tool {tool}",
            operation="execute_tool",
            tool_name=tool,
            tool_arguments=_json(args),
            tool_result=result if isinstance(result, str) or result is None else _json(result),
            **cols,
        )

    def memory(
        self,
        name: str,
        parent: str,
        start: float,
        end: float,
        op: str,
        key: str,
        records: Any,
        version: str | None = None,
    ) -> str:
        return self.span(
            name,
            parent,
            start,
            end,
            span_name=f"{op} shared",
            operation=op,
            memory_store_id="shared",
            memory_record_id=key,
            memory_records=_json(records),
            memory_version=version,
        )

    def build(self) -> Trace:
        spans = _frame(self.rows, schema.SPANS)
        return build_trace(
            self.trace_id,
            spans,
            _frame([], schema.SPAN_EVENTS),
            _frame([], schema.SPAN_LINKS),
        )


def _frame(rows: list[dict[str, Any]], arrow_schema: pa.Schema) -> pl.DataFrame:
    frame = pl.from_arrow(pa.Table.from_pylist(rows, schema=arrow_schema))
    assert isinstance(frame, pl.DataFrame)
    return frame
