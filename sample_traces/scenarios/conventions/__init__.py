"""One module per attribute convention, behind the ``Convention`` interface.

A scenario describes an agent step once, convention-neutrally (``AgentRec``, ``ChatRec``,
``ToolRec``); the convention decides the span name, span kind and attribute keys. Memory-operation
and plain RPC spans are the same in every convention (SPEC §5.2 defines the memory vocabulary only
in ``gen_ai.*`` terms), so the trace builder emits those itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from sample_traces.scenarios.model import Json, Message, ToolDef, Usage

ConventionName = Literal["genai", "openinference", "openllmetry"]


@dataclass(frozen=True)
class AgentRec:
    """An agent invocation: what it was asked and what it finally answered."""

    name: str
    agent_id: str
    conversation_id: str
    description: str = ""
    input: str | None = None
    output: str | None = None


@dataclass(frozen=True)
class ChatRec:
    """One LLM call of an agent."""

    agent: str
    provider: str
    model: str
    conversation_id: str
    input: Sequence[Message]
    output: Sequence[Message]
    system: str | None = None
    tools: Sequence[ToolDef] = ()
    usage: Usage | None = None
    response_id: str = ""
    temperature: float | None = None


@dataclass(frozen=True)
class ToolRec:
    """One tool execution. ``result`` is None when the tool failed before returning anything."""

    name: str
    call_id: str
    arguments: Mapping[str, Json]
    result: Json = None
    description: str = ""
    tool_type: str = "function"
    agent: str = ""


@dataclass(frozen=True)
class Emission:
    name: str
    kind: SpanKind
    attributes: dict[str, AttributeValue] = field(default_factory=dict)


class Convention(Protocol):
    """Renders neutral records as one instrumentation library would. Pure and deterministic."""

    name: ClassVar[ConventionName]
    #: instrumentation scope (name, version) the convention's spans are emitted under
    scope: ClassVar[tuple[str, str]]

    def agent(self, rec: AgentRec, workflow: str) -> Emission: ...

    def chat(self, rec: ChatRec, workflow: str) -> Emission: ...

    def tool(self, rec: ToolRec, workflow: str) -> Emission: ...


def get(name: ConventionName) -> Convention:
    """The convention called ``name``."""
    from sample_traces.scenarios.conventions import genai, openinference, openllmetry

    table: dict[str, Convention] = {
        "genai": genai.GenAI(),
        "openinference": openinference.OpenInference(),
        "openllmetry": openllmetry.OpenLLMetry(),
    }
    return table[name]


CONVENTIONS: tuple[ConventionName, ...] = ("genai", "openinference", "openllmetry")
