"""Memory-operation spans for the causal-consistency tests, on top of the engine's ``TraceSpec``
(normalized ``store.schema.SPANS`` rows → a real ``Trace`` with the real happens-before)."""

from __future__ import annotations

from typing import Any

from tests.analysis.tracekit import TraceSpec, dumps

__all__ = ["TraceSpec", "handoff", "kv", "mem"]


def mem(
    spec: TraceSpec,
    parent: str,
    op: str,
    key: str,
    records: Any,
    start: float,
    end: float,
    *,
    version: int | None = None,
    store: str = "board",
    service: str = "memory-service",
    failed: bool = False,
) -> str:
    """A GenAI memory span (SPEC §5.2); ``records`` is the JSON value written or returned."""
    return spec.add(
        f"{op} {store}",
        start,
        end,
        parent,
        operation=op,
        memory_store_id=store,
        memory_record_id=key,
        memory_records=None if records is None else dumps(records),
        memory_version=None if version is None else str(version),
        service_name=service,
        kind=3,
        status_code=2 if failed else 0,
    )


def handoff(spec: TraceSpec, parent: str, target: str, start: float) -> str:
    """``execute_tool transfer_to_<target>``: the engine links it to the target's next agent span."""
    return spec.tool(
        f"transfer_to_{target}", start, start + 1, parent, arguments={}, result={"assistant": target}
    )


def kv(
    spec: TraceSpec,
    parent: str,
    statement: str,
    start: float,
    end: float,
    response: Any = None,
    *,
    captured: bool = False,
) -> str:
    """A Redis client span as the OTel redis instrumentation records it (``db.statement`` text, the
    response only when a response hook captured it)."""
    attrs: dict[str, Any] = {
        "db.system": "redis",
        "server.address": "cache",
        "server.port": 6379,
        "db.redis.database_index": 0,
        "db.statement": statement,
    }
    if captured:
        attrs["db.redis.response"] = (
            response if isinstance(response, str) or response is None else dumps(response)
        )
    return spec.add(
        statement.split()[0],
        start,
        end,
        parent,
        kind=3,
        service_name="cache-client",
        db_system="redis",
        db_operation=statement.split()[0],
        db_query_text=statement,
        attributes=dumps(attrs),
    )
