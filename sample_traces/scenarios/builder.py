"""Build one trace through the OTel SDK with explicit timestamps (nothing sleeps).

Scenarios call ``TraceBuilder`` in neutral terms — an agent, an LLM call, a tool call, a memory
operation, a hand-off, a plain RPC — with times in milliseconds from the trace's start. The builder
creates real SDK spans (the service's provider, the parent's context passed explicitly, links),
lets the convention name them and set their attributes, and applies a per-service clock skew.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from sample_traces.scenarios.conventions import AgentRec, ChatRec, Convention, ToolRec
from sample_traces.scenarios.model import Failure, Json, Message, ToolDef, Usage, dumps
from sample_traces.scenarios.telemetry import Telemetry

MEMORY_SCOPE = ("faultlens.sample_agents.memory", "0.3.0")
RPC_SCOPE = ("opentelemetry.instrumentation.httpx", "0.66b2")


def ms(value: float) -> int:
    return round(value * 1_000_000)


@dataclass
class Step:
    """A span the builder created. Open agent spans are closed with ``close``."""

    span: SdkSpan
    service: str
    agent: str
    rec: AgentRec | None = None
    links: list[Link] = field(default_factory=list)

    @property
    def span_id(self) -> str:
        return format(self.span.get_span_context().span_id, "016x")

    @property
    def trace_id(self) -> str:
        return format(self.span.get_span_context().trace_id, "032x")


class TraceBuilder:
    """Spans of one trace. ``base_ns`` is the trace's wall-clock start; ``skew_ms`` shifts every
    timestamp of a service (a badly synchronised host)."""

    def __init__(
        self,
        telemetry: Telemetry,
        convention: Convention,
        *,
        base_ns: int,
        workflow: str,
        conversation_id: str,
        rng: random.Random,
        provider: str = "openai",
        skew_ms: Mapping[str, float] | None = None,
    ) -> None:
        self.telemetry = telemetry
        self.convention = convention
        self.base_ns = base_ns
        self.workflow = workflow
        self.conversation_id = conversation_id
        self.rng = rng
        self.provider = provider
        self.skew_ms = dict(skew_ms or {})
        self.steps: list[Step] = []

    # -- helpers -----------------------------------------------------------------------------
    def _ns(self, service: str, at_ms: float) -> int:
        return self.base_ns + ms(at_ms + self.skew_ms.get(service, 0.0))

    def call_id(self) -> str:
        return "call_" + "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))

    def _start(
        self,
        service: str,
        scope: tuple[str, str],
        name: str,
        kind: SpanKind,
        parent: Step | None,
        start: float,
        links: Sequence[Step] = (),
    ) -> SdkSpan:
        tracer = self.telemetry.provider(service).get_tracer(scope[0], scope[1])
        ctx = trace.set_span_in_context(parent.span) if parent is not None else Context()
        otel_links = [Link(s.span.get_span_context(), {"faultlens.link.kind": "caused_by"}) for s in links]
        span = tracer.start_span(
            name, context=ctx, kind=kind, links=otel_links, start_time=self._ns(service, start)
        )
        assert isinstance(span, SdkSpan)
        return span

    def link(self, effect: Step, cause: Step) -> None:
        """Add a link ``cause → effect`` to the still-open span ``effect``."""
        effect.span.add_link(cause.span.get_span_context(), {"faultlens.link.kind": "caused_by"})

    def _finish(self, span: SdkSpan, service: str, end: float, failure: Failure | None) -> None:
        end_ns = self._ns(service, end)
        if failure is not None:
            span.set_attribute("error.type", failure.error_type)
            if failure.http_status is not None:
                span.set_attribute("http.response.status_code", failure.http_status)
            if failure.grpc_status is not None:
                span.set_attribute("rpc.grpc.status_code", failure.grpc_status)
            span.add_event(
                "exception",
                {"exception.type": failure.error_type, "exception.message": failure.message},
                timestamp=end_ns,
            )
            span.set_status(Status(StatusCode.ERROR, failure.message))
        span.end(end_time=end_ns)

    def _set(self, span: SdkSpan, attrs: Mapping[str, AttributeValue]) -> None:
        for k, v in attrs.items():
            span.set_attribute(k, v)

    # -- neutral operations --------------------------------------------------------------------
    def agent(
        self,
        name: str,
        *,
        service: str,
        start: float,
        parent: Step | None = None,
        input: str | None = None,
        description: str = "",
        links: Sequence[Step] = (),
    ) -> Step:
        """Open an ``invoke_agent`` span; close it with ``close_agent``."""
        rec = AgentRec(
            name=name,
            agent_id=f"agt_{name.replace('-', '_')}",
            conversation_id=self.conversation_id,
            description=description,
            input=input,
        )
        em = self.convention.agent(rec, self.workflow)
        span = self._start(service, self.convention.scope, em.name, em.kind, parent, start, links)
        step = Step(span, service, name, rec)
        self.steps.append(step)
        return step

    def close_agent(
        self, step: Step, end: float, *, output: str | None = None, failure: Failure | None = None
    ) -> None:
        assert step.rec is not None
        rec = replace(step.rec, output=output)
        self._set(step.span, self.convention.agent(rec, self.workflow).attributes)
        self._finish(step.span, step.service, end, failure)

    def chat(
        self,
        parent: Step,
        *,
        start: float,
        end: float,
        model: str,
        input: Sequence[Message],
        output: Sequence[Message] = (),
        system: str | None = None,
        tools: Sequence[ToolDef] = (),
        usage: Usage | None = None,
        failure: Failure | None = None,
        provider: str | None = None,
        temperature: float | None = None,
    ) -> Step:
        """One LLM call made by ``parent``'s agent, in its service."""
        rec = ChatRec(
            agent=parent.agent,
            provider=provider or self.provider,
            model=model,
            conversation_id=self.conversation_id,
            input=input,
            output=output,
            system=system,
            tools=tools,
            usage=usage,
            response_id="chatcmpl-" + format(self.rng.getrandbits(64), "016x") if output else "",
            temperature=temperature,
        )
        em = self.convention.chat(rec, self.workflow)
        span = self._start(parent.service, self.convention.scope, em.name, em.kind, parent, start)
        self._set(span, em.attributes)
        self._finish(span, parent.service, end, failure)
        step = Step(span, parent.service, parent.agent)
        self.steps.append(step)
        return step

    def tool(
        self,
        parent: Step,
        name: str,
        args: Mapping[str, Json],
        *,
        start: float,
        end: float,
        result: Json = None,
        failure: Failure | None = None,
        call_id: str | None = None,
        description: str = "",
        service: str | None = None,
        links: Sequence[Step] = (),
    ) -> Step:
        """An ``execute_tool`` span of ``parent``'s agent (in ``service`` when the tool runs remotely)."""
        rec = ToolRec(name, call_id or self.call_id(), args, result, description, agent=parent.agent)
        em = self.convention.tool(rec, self.workflow)
        svc = service or parent.service
        span = self._start(svc, self.convention.scope, em.name, em.kind, parent, start, links)
        self._set(span, em.attributes)
        self._finish(span, svc, end, failure)
        step = Step(span, svc, parent.agent)
        self.steps.append(step)
        return step

    def handoff(
        self,
        parent: Step,
        target: str,
        *,
        start: float,
        end: float,
        reason: str = "",
        call_id: str | None = None,
    ) -> Step:
        """``execute_tool transfer_to_<target>``: the agent hands the conversation over (``call_id``:
        the LLM tool call it executes, when an LLM decided it)."""
        args: dict[str, Json] = {"reason": reason} if reason else {}
        return self.tool(
            parent,
            f"transfer_to_{target}",
            args,
            start=start,
            end=end,
            result={"assistant": target},
            call_id=call_id,
        )

    def memory(
        self,
        parent: Step,
        op: str,
        *,
        store: str,
        key: str,
        records: Json,
        start: float,
        end: float,
        version: int | None = None,
        service: str = "memory-service",
        failure: Failure | None = None,
        links: Sequence[Step] = (),
    ) -> Step:
        """A memory operation (SPEC §5.2): ``search_memory`` reads, ``create/update/upsert/delete_memory``
        write. ``records`` is the value written or returned (JSON), ``version`` the version written
        or observed."""
        attrs: dict[str, AttributeValue] = {
            "gen_ai.operation.name": op,
            "gen_ai.memory.store.id": store,
            "gen_ai.memory.record.id": key,
            "gen_ai.memory.records": dumps(records),
            "gen_ai.agent.name": parent.agent,
        }
        if version is not None:
            attrs["faultlens.memory.version"] = version
        span = self._start(service, MEMORY_SCOPE, f"{op} {store}", SpanKind.CLIENT, parent, start, links)
        self._set(span, attrs)
        self._finish(span, service, end, failure)
        step = Step(span, service, parent.agent)
        self.steps.append(step)
        return step

    def rpc(
        self,
        parent: Step,
        name: str,
        *,
        service: str,
        start: float,
        end: float,
        attributes: Mapping[str, AttributeValue],
        failure: Failure | None = None,
        kind: SpanKind = SpanKind.CLIENT,
    ) -> Step:
        """A plain (non-GenAI) span: an HTTP call from a tool gateway to a vendor API, a queue hop."""
        span = self._start(service, RPC_SCOPE, name, kind, parent, start)
        self._set(span, attributes)
        self._finish(span, service, end, failure)
        step = Step(span, service, parent.agent)
        self.steps.append(step)
        return step

    def http(
        self,
        parent: Step,
        method: str,
        url: str,
        *,
        status: int | None,
        start: float,
        end: float,
        service: str = "tool-gateway",
        failure: Failure | None = None,
    ) -> Step:
        """An HTTP client span (``http.request.method``, ``url.full``, ``http.response.status_code``)."""
        attrs: dict[str, AttributeValue] = {"http.request.method": method, "url.full": url}
        host = url.split("/")[2] if "://" in url else url
        attrs["server.address"] = host
        if status is not None:
            attrs["http.response.status_code"] = status
        return self.rpc(
            parent, method, service=service, start=start, end=end, attributes=attrs, failure=failure
        )
