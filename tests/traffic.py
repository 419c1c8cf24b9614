"""Multi-agent traffic for the receiver tests, made with the real OpenTelemetry SDK.

Three services (planner, researcher, memory), agents handing off through ``transfer_to_*`` tools,
GenAI chat spans with messages and tokens, tool and memory-operation spans, and an OpenInference LLM
span — with explicit timestamps (no sleeping)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Status, StatusCode

SERVICES = ("planner-svc", "research-svc", "memory-svc")
SPANS_PER_TRACE = 9


class Fleet:
    """One TracerProvider per service, all exporting through exporters made by ``make_exporter``."""

    def __init__(self, make_exporter: Callable[[], SpanExporter]) -> None:
        self.providers: dict[str, TracerProvider] = {}
        for service in SERVICES:
            provider = TracerProvider(resource=Resource.create({"service.name": service}))
            provider.add_span_processor(BatchSpanProcessor(make_exporter(), max_export_batch_size=128))
            self.providers[service] = provider

    def tracer(self, service: str) -> trace.Tracer:
        return self.providers[service].get_tracer("faultlens.tests")

    def flush(self) -> bool:
        return all(p.force_flush(30_000) for p in self.providers.values())

    def shutdown(self) -> None:
        for p in self.providers.values():
            p.shutdown()


def _msgs(role: str, text: str) -> str:
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}])


def emit_trace(fleet: Fleet, t0_ns: int, idx: int) -> None:
    """One multi-agent trace of ``SPANS_PER_TRACE`` spans across the three services."""
    ms = 1_000_000
    planner = fleet.tracer("planner-svc")
    research = fleet.tracer("research-svc")
    memory = fleet.tracer("memory-svc")

    @contextmanager
    def span(
        tracer: trace.Tracer, name: str, start: int, end: int, attrs: dict[str, object]
    ) -> Iterator[trace.Span]:
        s = tracer.start_span(name, start_time=t0_ns + start * ms, attributes=attrs)  # type: ignore[arg-type]
        with trace.use_span(s, end_on_exit=False):
            yield s
        s.end(end_time=t0_ns + end * ms)

    with span(
        planner,
        "invoke_agent planner",
        0,
        100,
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "planner",
            "gen_ai.conversation.id": f"conv-{idx}",
        },
    ):
        with span(
            planner,
            "chat gpt-4o",
            1,
            20,
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 120,
                "gen_ai.usage.output_tokens": 30,
                "gen_ai.input.messages": _msgs("user", f"What was ACME's revenue in 2024? (request {idx})"),
                "gen_ai.output.messages": json.dumps(
                    [
                        {
                            "role": "assistant",
                            "finish_reason": "tool_call",
                            "parts": [
                                {
                                    "type": "tool_call",
                                    "id": f"call-{idx}",
                                    "name": "transfer_to_researcher",
                                    "arguments": {},
                                }
                            ],
                        }
                    ]
                ),
            },
        ):
            pass
        with span(
            planner,
            "execute_tool transfer_to_researcher",
            21,
            22,
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "transfer_to_researcher",
                "gen_ai.tool.call.id": f"call-{idx}",
            },
        ):
            pass
        with span(
            research,
            "invoke_agent researcher",
            23,
            90,
            {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "researcher",
            },
        ):
            with span(
                research,
                "execute_tool web_search",
                24,
                40,
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "web_search",
                    "gen_ai.tool.call.arguments": '{"q": "ACME revenue 2024"}',
                    "gen_ai.tool.call.result": "ACME reported revenue of $4.2B in fiscal 2024.",
                },
            ):
                pass
            with span(
                memory,
                "search_memory facts",
                41,
                45,
                {
                    "gen_ai.operation.name": "search_memory",
                    "gen_ai.memory.store.id": "facts",
                    "gen_ai.memory.record.id": "acme.revenue",
                    "gen_ai.memory.records": '[{"value": "4.2B"}]',
                    "faultlens.memory.version": "3",
                },
            ):
                pass
            with span(
                research,
                "ChatOpenAI",
                46,
                80,
                {
                    "openinference.span.kind": "LLM",
                    "llm.model_name": "gpt-4o-mini",
                    "llm.input_messages.0.message.role": "user",
                    "llm.input_messages.0.message.content": "Summarize: ACME reported revenue of $4.2B.",
                    "llm.output_messages.0.message.role": "assistant",
                    "llm.output_messages.0.message.content": "ACME's 2024 revenue was $4.2B.",
                    "llm.token_count.prompt": 40,
                    "llm.token_count.completion": 12,
                },
            ):
                pass
            with span(
                memory,
                "update_memory facts",
                81,
                85,
                {
                    "gen_ai.operation.name": "update_memory",
                    "gen_ai.memory.store.id": "facts",
                    "gen_ai.memory.record.id": "acme.summary",
                    "gen_ai.memory.records": '[{"value": "revenue $4.2B"}]',
                    "faultlens.memory.version": "1",
                },
            ):
                pass
        with span(
            planner,
            "execute_tool send_report",
            91,
            99,
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "send_report",
                "error.type": "TimeoutError",
            },
        ) as s:
            s.set_status(Status(StatusCode.ERROR, "deadline exceeded"))
