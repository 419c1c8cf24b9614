"""Decoder throughput: realistic multi-agent GenAI export requests → normalized Arrow tables.

Builds requests of 512 spans (~1.8 KB of protobuf each: GenAI semconv chat / execute_tool /
invoke_agent spans with two ~600-character message attributes), then reports spans/s for
parse + decode of the protobuf and the OTLP/JSON bodies, and for decode alone. A benchmark, not a
test: run ``python bench/decode.py [--requests N]`` from the repository root.
"""

from __future__ import annotations

import argparse
import base64
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: bench/ must not shadow the project's packages
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import orjson
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from collector.decode import decode_traces, parse_traces

_WORDS = ("the", "agent", "checks", "order", "42", "shipment", "Berlin", "EUR", "tool", "result", "delayed")


def _text(rng: random.Random, length: int) -> str:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < length:
        words.append(rng.choice(_WORDS))
    return " ".join(words)[:length]


def _kv(key: str, value: str | int) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _span(rng: random.Random, trace_id: bytes, i: int, parent: bytes | None, t0: int) -> Span:
    kind = ("invoke_agent", "chat", "execute_tool", "chat")[i % 4]
    agent = f"agent-{i % 5}"
    attrs: list[KeyValue] = [_kv("gen_ai.operation.name", kind), _kv("gen_ai.provider.name", "openai")]
    if kind == "chat":
        user = orjson.dumps(
            [{"role": "user", "parts": [{"type": "text", "content": _text(rng, 600)}]}]
        ).decode()
        out = orjson.dumps(
            [
                {
                    "role": "assistant",
                    "parts": [{"type": "text", "content": _text(rng, 600)}],
                    "finish_reason": "stop",
                }
            ]
        ).decode()
        attrs += [
            _kv("gen_ai.request.model", "gpt-4o"),
            _kv("gen_ai.response.model", "gpt-4o-2024-08-06"),
            _kv("gen_ai.usage.input_tokens", rng.randint(100, 4000)),
            _kv("gen_ai.usage.output_tokens", rng.randint(10, 800)),
            _kv("gen_ai.input.messages", user),
            _kv("gen_ai.output.messages", out),
            _kv("gen_ai.response.id", f"chatcmpl-{rng.getrandbits(64):x}"),
            _kv("gen_ai.conversation.id", f"conv-{trace_id.hex()[:8]}"),
        ]
    elif kind == "execute_tool":
        attrs += [
            _kv("gen_ai.tool.name", "lookup_order"),
            _kv("gen_ai.tool.call.id", f"call_{i}"),
            _kv("gen_ai.tool.type", "function"),
            _kv("gen_ai.tool.call.arguments", orjson.dumps({"order_id": i, "q": _text(rng, 580)}).decode()),
            _kv(
                "gen_ai.tool.call.result", orjson.dumps({"status": "ok", "detail": _text(rng, 600)}).decode()
            ),
        ]
    else:
        attrs += [
            _kv("gen_ai.agent.name", agent),
            _kv("gen_ai.agent.id", f"id-{agent}"),
            _kv(
                "gen_ai.input.messages", orjson.dumps([{"role": "user", "content": _text(rng, 600)}]).decode()
            ),
            _kv(
                "gen_ai.output.messages",
                orjson.dumps([{"role": "assistant", "content": _text(rng, 600)}]).decode(),
            ),
        ]
    attrs += [_kv("server.address", "api.openai.com"), _kv("server.port", 443), _kv("thread.id", 7)]
    start = t0 + i * 1_000_000
    return Span(
        trace_id=trace_id,
        span_id=rng.getrandbits(64).to_bytes(8, "big"),
        parent_span_id=parent or b"",
        name=f"{kind} {agent}",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start,
        end_time_unix_nano=start + rng.randint(1, 900) * 1_000_000,
        attributes=attrs,
    )


def build_request(n_spans: int = 512, seed: int = 1) -> ExportTraceServiceRequest:
    """One request of ``n_spans`` GenAI spans in traces of 16 spans, three services."""
    rng = random.Random(seed)
    req = ExportTraceServiceRequest()
    for service in ("planner", "researcher", "writer"):
        rs = req.resource_spans.add()
        rs.resource.attributes.extend([_kv("service.name", service), _kv("telemetry.sdk.language", "python")])
        ss = rs.scope_spans.add()
        ss.scope.name = "opentelemetry.instrumentation.openai_v2"
        ss.scope.version = "2.1b0"
    t0 = 1_760_000_000_000_000_000
    trace_id, parent = b"", None
    for i in range(n_spans):
        if i % 16 == 0:
            trace_id, parent = rng.getrandbits(128).to_bytes(16, "big"), None
        s = _span(rng, trace_id, i, parent, t0)
        req.resource_spans[i % 3].scope_spans[0].spans.append(s)
        parent = s.span_id  # a chain: each span calls the next, as agents hand off
    return req


def to_otlp_json(req: ExportTraceServiceRequest) -> bytes:
    """OTLP/JSON: the proto3 JSON mapping with hex (not base64) ids."""
    doc = json_format.MessageToDict(req, use_integers_for_enums=True)
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex().upper()
    return orjson.dumps(doc)


def _best(fn: Callable[[], object], reps: int, rounds: int) -> float:
    """Best CPU seconds per call over ``rounds`` timed loops. CPU time, not wall time: the machine
    is shared, and spans per CPU-second is the per-core rate whatever else runs."""
    best = float("inf")
    for _ in range(rounds):
        t = time.process_time()
        for _ in range(reps):
            fn()
        best = min(best, (time.process_time() - t) / reps)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=5, help="requests per timed loop")
    ap.add_argument("--rounds", type=int, default=5, help="timed loops; the best one is reported")
    args = ap.parse_args()
    req = build_request()
    n = sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
    body = req.SerializeToString()
    json_body = to_otlp_json(req)
    print(
        f"request: {n} spans, protobuf {len(body):,} B ({len(body) / n:,.0f} B/span), "
        f"OTLP/JSON {len(json_body):,} B"
    )
    parsed = parse_traces(body, "protobuf")
    cases: list[tuple[str, Callable[[], object]]] = [
        ("parse protobuf", lambda: parse_traces(body, "protobuf")),
        ("decode (parsed request -> Arrow)", lambda: decode_traces(parsed)),
        ("parse + decode, protobuf", lambda: decode_traces(parse_traces(body, "protobuf"))),
        ("parse OTLP/JSON", lambda: parse_traces(json_body, "json")),
        ("parse + decode, OTLP/JSON", lambda: decode_traces(parse_traces(json_body, "json"))),
    ]
    for label, fn in cases:
        fn()  # warm up
        seconds = _best(fn, args.requests, args.rounds)
        print(f"{label:<34} {n / seconds:>10,.0f} spans/s/core   {seconds * 1000:7.1f} ms CPU per request")


if __name__ == "__main__":
    main()
