"""Build ``analysis.model.Trace`` objects for the timeout tests: rows in the normalized columns of
``store.schema`` (missing columns are NULL), turned into a Trace by the engine's own
``analysis.load.build_trace`` (real agent resolution and happens-before).

Spans are named in tests ("orch", "search-3"); their ids are stable 16-hex digests of the names.
Times are given in seconds and stored as int64 ns."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import polars as pl
import pyarrow as pa

from analysis.load import build_trace
from analysis.model import Trace
from store import schema

T0 = 1_700_000_000 * 10**9


def sid(name: str) -> str:
    return hashlib.blake2b(name.encode(), digest_size=8).hexdigest()


def tid(name: str) -> str:
    return hashlib.blake2b(name.encode(), digest_size=16).hexdigest()


def _frame(rows: list[dict[str, Any]], arrow_schema: pa.Schema) -> pl.DataFrame:
    table = pa.Table.from_pylist(rows, schema=arrow_schema)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


class TraceBuilder:
    def __init__(self, name: str = "trace") -> None:
        self.trace_id = tid(name)
        self.rows: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []

    def span(
        self, name: str, parent: str | None, start: float, end: float, *, status: int = 0, **cols: Any
    ) -> str:
        """Add a span; ``cols`` are normalized columns (``operation``, ``tool_name``, ...);
        ``tool_arguments`` may be given as a dict."""
        if isinstance(cols.get("tool_arguments"), dict):
            cols["tool_arguments"] = orjson.dumps(cols["tool_arguments"]).decode()
        row = {
            "trace_id": self.trace_id,
            "span_id": sid(name),
            "parent_span_id": sid(parent) if parent else None,
            "name": cols.pop("span_name", name),
            "kind": 1,
            "start_ns": T0 + int(start * 1e9),
            "end_ns": T0 + int(end * 1e9),
            "duration_ns": int((end - start) * 1e9),
            "status_code": status,
            "service_name": cols.pop("service", "agents"),
            **cols,
        }
        self.rows.append(row)
        return sid(name)

    def exception(self, span: str, type_: str, message: str, at: float, escaped: bool = True) -> None:
        attrs = {"exception.type": type_, "exception.message": message, "exception.escaped": escaped}
        idx = sum(1 for e in self.events if e["span_id"] == sid(span))
        self.events.append(
            {
                "trace_id": self.trace_id,
                "span_id": sid(span),
                "idx": idx,
                "time_ns": T0 + int(at * 1e9),
                "name": "exception",
                "attributes": orjson.dumps(attrs).decode(),
            }
        )

    def link(self, span: str, cause: str) -> None:
        idx = sum(1 for e in self.links if e["span_id"] == sid(span))
        self.links.append(
            {
                "trace_id": self.trace_id,
                "span_id": sid(span),
                "idx": idx,
                "linked_trace_id": self.trace_id,
                "linked_span_id": sid(cause),
            }
        )

    def build(self) -> Trace:
        return build_trace(
            self.trace_id,
            _frame(self.rows, schema.SPANS),
            _frame(self.events, schema.SPAN_EVENTS),
            _frame(self.links, schema.SPAN_LINKS),
        )

    # -- GenAI shapes -------------------------------------------------------------------------
    def agent(self, name: str, parent: str | None, start: float, end: float, agent: str, **cols: Any) -> str:
        return self.span(
            name,
            parent,
            start,
            end,
            operation="invoke_agent",
            agent_name=agent,
            span_name=f"invoke_agent {agent}",
            **cols,
        )

    def tool(
        self,
        name: str,
        parent: str,
        start: float,
        end: float,
        tool: str,
        args: dict[str, Any],
        result: str | None = "ok",
        **cols: Any,
    ) -> str:
        return self.span(
            name,
            parent,
            start,
            end,
            operation="execute_tool",
            tool_name=tool,
            tool_arguments=args,
            tool_result=result,
            span_name=f"execute_tool {tool}",
            **cols,
        )

    def chat(self, name: str, parent: str, start: float, end: float, tokens: int = 300, **cols: Any) -> str:
        msgs = orjson.dumps([{"role": "user", "parts": [{"type": "text", "content": name}]}]).decode()
        out = orjson.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "done"}]}]).decode()
        cols.setdefault("output_messages", out)
        return self.span(
            name,
            parent,
            start,
            end,
            operation="chat",
            request_model="gpt-4o",
            provider="openai",
            input_messages=msgs,
            input_tokens=tokens // 2,
            output_tokens=tokens - tokens // 2,
            span_name="chat gpt-4o",
            **cols,
        )
