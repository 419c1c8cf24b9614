"""The decode pool answers exactly what decoding in the request's thread does, then
``store.ingest.conform_batch`` (which the workers run): same tables after the Arrow IPC hand-off,
same rejections, the batch marked ``conformed`` and carrying its journal encoding; a malformed
payload raises in the caller."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import zlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from collector.decode import Decoded, Format, Signal, parse_and_decode
from collector.decode_pool import DecodePool, DecodePoolBroken
from collector.errors import MalformedPayload
from store import journal
from store.ingest import conform_batch
from tests.collector.fixtures.decode_support import request, span
from tests.store.conftest import fixture_names, load_fixture

TABLES = ("spans", "span_events", "span_links", "logs", "metrics")


@pytest.fixture(scope="module", params=["shared-memory", "pipes"])
def pool(request: pytest.FixtureRequest) -> Iterator[DecodePool]:
    """Every test runs with both hand-offs: tmpfs files and the pool's pipes."""
    p = DecodePool(1, shared_memory=request.param == "shared-memory")
    if request.param == "shared-memory" and not p.shared_memory:
        p.close()
        pytest.skip("no tmpfs at /dev/shm here")
    yield p
    p.close()


def _message(role: str, text: str) -> str:
    return orjson.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}]).decode()


def multi_agent_request(traces: int = 12, bad: int = 0) -> ExportTraceServiceRequest:
    """``traces`` traces of an agent calling a model, a tool and a sub-agent (GenAI semconv, with
    messages, token counts, events and links), plus ``bad`` spans with an invalid span id."""
    spans: list[Span] = []
    t0 = 1_760_000_000_000_000_000
    for t in range(traces):
        trace_id = (t + 1).to_bytes(16, "big")
        ids = [(t * 16 + i + 1).to_bytes(8, "big") for i in range(6)]
        start = t0 + t * 10**9
        plan: list[tuple[int | None, str, dict[str, Any]]] = [
            (
                None,
                "invoke_agent planner",
                {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"},
            ),
            (
                0,
                "chat gpt-4o",
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.usage.input_tokens": 120 + t,
                    "gen_ai.usage.output_tokens": 30,
                    "gen_ai.input.messages": _message("user", f"find order {t} " * 20),
                    "gen_ai.output.messages": _message("assistant", f"order {t} ships tomorrow " * 10),
                },
            ),
            (
                0,
                "execute_tool lookup",
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "lookup_order",
                    "gen_ai.tool.call.arguments": json.dumps({"order_id": t}),
                },
            ),
            (
                0,
                "invoke_agent researcher",
                {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "researcher",
                    "gen_ai.agent.id": f"r-{t}",
                },
            ),
            (3, "chat gpt-4o-mini", {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini"}),
            (3, "plain step", {}),
        ]
        for i, (parent, name, attrs) in enumerate(plan):
            s = span(
                attrs,
                name=name,
                trace_id=trace_id,
                span_id=ids[i],
                parent=b"" if parent is None else ids[parent],
                start=start + i * 1000,
                end=start + i * 1000 + 500,
                events=[("exception", {"exception.message": "timeout"})] if i == 2 and t % 3 == 0 else (),
                kind=Span.SPAN_KIND_CLIENT,
            )
            if i == 0 and t:
                s.links.add(trace_id=(t).to_bytes(16, "big"), span_id=((t - 1) * 16 + 1).to_bytes(8, "big"))
            spans.append(s)
    spans += [span({}, name="bad", span_id=b"\x01\x02\x03") for _ in range(bad)]
    return request(*spans, service="agents")


def assert_same_as_in_thread(pooled: Decoded, signal: Signal, body: bytes, fmt: Format) -> None:
    in_thread = parse_and_decode(signal, body, fmt)
    expected = conform_batch(in_thread.batch)
    assert (pooled.rejected, pooled.error_message) == (in_thread.rejected, in_thread.error_message)
    assert pooled.batch.conformed
    for name in TABLES:
        got, want = getattr(pooled.batch, name), getattr(expected, name)
        assert got.schema.equals(want.schema), name
        assert got.equals(want), name
    assert pooled.batch == expected


def test_realistic_request_comes_back_as_decoded_and_conformed_in_thread(pool: DecodePool) -> None:
    body = multi_agent_request().SerializeToString()
    pooled = pool.decode("traces", body, "protobuf")
    assert_same_as_in_thread(pooled, "traces", body, "protobuf")
    batch = pooled.batch
    assert (batch.spans.num_rows, batch.span_events.num_rows, batch.span_links.num_rows) == (72, 4, 11)
    # conform_batch ran in the worker: agents resolved within the batch
    assert set(batch.spans.column("resolved_agent_name").to_pylist()) == {"planner", "researcher"}
    # ... and encoded it for the journal: the bytes the tables were read from, and their CRC
    assert batch.encoded is not None
    payload, crc = batch.encoded
    assert journal.decode(payload) == batch and zlib.crc32(payload) == crc


def test_rejected_spans_are_reported_as_in_thread(pool: DecodePool) -> None:
    body = multi_agent_request(traces=2, bad=3).SerializeToString()
    pooled = pool.decode("traces", body, "protobuf")
    assert pooled.rejected == 3 and pooled.error_message
    assert pooled.batch.spans.num_rows == 12
    assert_same_as_in_thread(pooled, "traces", body, "protobuf")


@pytest.mark.parametrize("name", fixture_names())
def test_store_fixtures_of_every_signal_round_trip(pool: DecodePool, name: str) -> None:
    for req in load_fixture(name)["requests"]:
        body = json.dumps(req["body"]).encode()
        assert_same_as_in_thread(pool.decode(req["signal"], body, "json"), req["signal"], body, "json")


def test_empty_request_gives_an_empty_conformed_batch(pool: DecodePool) -> None:
    pooled = pool.decode("traces", b"", "protobuf")
    assert pooled.batch.item_count == 0 and pooled.batch.conformed
    assert_same_as_in_thread(pooled, "traces", b"", "protobuf")


def test_malformed_payload_raises_in_the_caller(pool: DecodePool) -> None:
    with pytest.raises(MalformedPayload):
        pool.decode("traces", b"\xff\xff\xff not protobuf", "protobuf")
    body = multi_agent_request(traces=1).SerializeToString()
    assert pool.decode("traces", body, "protobuf").batch.spans.num_rows == 6  # the pool still works


def test_a_full_tmpfs_falls_back_to_the_pipes() -> None:
    """When the hand-off directory cannot take a file (here: it is gone), requests still decode."""
    p = DecodePool(1, shared_memory=True)
    try:
        if not p.shared_memory:
            pytest.skip("no tmpfs at /dev/shm here")
        assert p._dir is not None
        p._dir.close()  # every write into it now fails, in the server and in the worker
        body = multi_agent_request(traces=1).SerializeToString()
        assert_same_as_in_thread(p.decode("traces", body, "protobuf"), "traces", body, "protobuf")
    finally:
        p.close()


def test_no_hand_off_file_is_left_behind(pool: DecodePool) -> None:
    body = multi_agent_request(traces=2).SerializeToString()
    for _ in range(3):
        pool.decode("traces", body, "protobuf")
    with pytest.raises(MalformedPayload):
        pool.decode("traces", b"\xff\xff not protobuf", "protobuf")
    if pool._dir is not None:
        assert list(pool._dir.path.iterdir()) == []


def test_a_killed_worker_costs_one_retry_not_the_pool() -> None:
    """The OS kills a decode worker: the request in flight may fail with DecodePoolBroken (a 503,
    retried by OTLP clients); the next ones are decoded by a fresh pool."""
    p = DecodePool(1, shared_memory=False)
    try:
        body = multi_agent_request(traces=1).SerializeToString()
        for pid in list(p._pool._processes):  # the pool's worker processes
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(DecodePoolBroken):
            p.decode("traces", body, "protobuf")
        assert p.decode("traces", body, "protobuf").batch.spans.num_rows == 6
    finally:
        p.close()
