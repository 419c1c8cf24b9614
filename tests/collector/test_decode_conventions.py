"""OpenInference and OpenLLMetry/Traceloop attributes → the same normalized columns."""

from __future__ import annotations

import json

import pytest

from tests.collector.fixtures.decode_support import FIXTURES, decode_one, js

OI_LLM = {
    "openinference.span.kind": "LLM",
    "llm.model_name": "gpt-4o-mini",
    "llm.provider": "openai",
    "llm.invocation_parameters": '{"model": "gpt-4o-mini", "temperature": 0}',
    "llm.token_count.prompt": 50,
    "llm.token_count.completion": 20,
    "llm.token_count.prompt_details.cache_read": 30,
    "llm.token_count.prompt_details.cache_write": 2,
    "llm.token_count.completion_details.reasoning": 8,
    "llm.input_messages.0.message.role": "system",
    "llm.input_messages.0.message.content": "You are a planner.",
    "llm.input_messages.1.message.role": "user",
    "llm.input_messages.1.message.contents.0.message_content.type": "text",
    "llm.input_messages.1.message.contents.0.message_content.text": "Plan a trip",
    "llm.input_messages.1.message.contents.1.message_content.type": "image",
    "llm.input_messages.1.message.contents.1.message_content.image.image.url": "https://img/1.png",
    "llm.input_messages.2.message.role": "tool",
    "llm.input_messages.2.message.tool_call_id": "call_0",
    "llm.input_messages.2.message.content": "sunny",
    "llm.output_messages.0.message.role": "assistant",
    "llm.output_messages.0.message.contents.0.message_content.type": "reasoning",
    "llm.output_messages.0.message.contents.0.message_content.text": "Check flights first.",
    "llm.output_messages.0.message.tool_calls.0.tool_call.id": "call_1",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "search_flights",
    "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"to": "Rome"}',
    "llm.tools.0.tool.json_schema": '{"type": "function", "function": {"name": "search_flights"}}',
    "session.id": "sess-1",
    "input.value": "ignored when messages exist",
}


def test_openinference_llm_span() -> None:
    row = decode_one(OI_LLM, name="ChatOpenAI")
    assert (row["convention"], row["operation"], row["provider"]) == ("openinference", "chat", "openai")
    assert (row["request_model"], row["response_model"]) == ("gpt-4o-mini", "gpt-4o-mini")
    assert (row["input_tokens"], row["output_tokens"]) == (50, 20)
    assert (row["cache_read_tokens"], row["cache_creation_tokens"], row["reasoning_tokens"]) == (30, 2, 8)
    assert row["conversation_id"] == "sess-1"
    assert js(row["input_messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "You are a planner."}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "Plan a trip"},
                {"type": "uri", "modality": "image", "uri": "https://img/1.png"},
            ],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_0", "response": "sunny"}]},
    ]
    assert js(row["output_messages"]) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Check flights first."},
                {"type": "tool_call", "id": "call_1", "name": "search_flights", "arguments": {"to": "Rome"}},
            ],
        }
    ]
    assert row["reasoning"] == "Check flights first."
    assert js(row["system_instructions"]) == [{"type": "text", "content": "You are a planner."}]
    assert js(row["tool_definitions"]) == [{"type": "function", "function": {"name": "search_flights"}}]


@pytest.mark.parametrize(
    ("kind", "operation"),
    [
        ("AGENT", "invoke_agent"),
        ("TOOL", "execute_tool"),
        ("RETRIEVER", "retrieval"),
        ("EMBEDDING", "embeddings"),
        ("CHAIN", "invoke_workflow"),
        ("RERANKER", "retrieval"),
        ("GUARDRAIL", None),
        ("EVALUATOR", None),
        ("UNKNOWN", None),
    ],
)
def test_openinference_span_kinds(kind: str, operation: str | None) -> None:
    row = decode_one({"openinference.span.kind": kind})
    assert (row["convention"], row["operation"]) == ("openinference", operation)


def test_openinference_llm_span_from_input_value_json() -> None:
    row = decode_one(
        {
            "openinference.span.kind": "LLM",
            "input.mime_type": "application/json",
            "input.value": '{"messages": [{"role": "user", "content": "hi"}], "model": "m"}',
            "output.mime_type": "text/plain",
            "output.value": "<think>greet back</think>hello",
        }
    )
    assert js(row["input_messages"]) == [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
    assert js(row["output_messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "<think>greet back</think>hello"}]}
    ]
    assert row["reasoning"] == "greet back"


def test_openinference_agent_and_tool_spans() -> None:
    row = decode_one(
        {
            "openinference.span.kind": "AGENT",
            "agent.name": "researcher",
            "graph.node.id": "n1",
            "input.value": "find X",
            "output.value": "X is 3",
        },
        name="Agent.run",
    )
    assert (row["agent_name"], row["agent_id"]) == ("researcher", "n1")
    assert js(row["input_messages"]) == [{"role": "user", "parts": [{"type": "text", "content": "find X"}]}]
    assert js(row["output_messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "X is 3"}]}
    ]
    row = decode_one({"openinference.span.kind": "AGENT", "graph.node.name": "critic"})
    assert row["agent_name"] == "critic"
    row = decode_one({"openinference.span.kind": "AGENT"}, name="CodeAgent.run")
    assert row["agent_name"] == "CodeAgent.run"

    row = decode_one(
        {
            "openinference.span.kind": "TOOL",
            "tool.name": "web_search",
            "tool_call.id": "t1",
            "tool.description": "Search",
            "tool.parameters": '{"query": {"type": "string"}}',
            "input.value": '{"query": "rome"}',
            "output.value": "3 results",
        }
    )
    assert (row["tool_name"], row["tool_call_id"]) == ("web_search", "t1")
    assert (row["tool_arguments"], row["tool_result"]) == ('{"query": "rome"}', "3 results")
    assert js(row["tool_definitions"]) == [
        {
            "type": "function",
            "name": "web_search",
            "description": "Search",
            "parameters": {"query": {"type": "string"}},
        }
    ]
    assert row["input_messages"] is None  # a tool's input is its arguments, not a message


def test_openinference_retrieved_documents_become_the_result() -> None:
    row = decode_one(
        {
            "openinference.span.kind": "RETRIEVER",
            "input.value": "warranty on refurbished phones",
            "retrieval.documents.1.document.id": "kb-12",
            "retrieval.documents.1.document.content": "Batteries are covered for 6 months.",
            "retrieval.documents.0.document.id": "kb-3",
            "retrieval.documents.0.document.score": 0.82,
            "retrieval.documents.0.document.content": "Refurbished phones carry a 90-day warranty.",
            "retrieval.documents.0.document.metadata": '{"source": "warranty.md", "page": 2}',
            "output.value": "ignored when documents exist",
        },
        name="retrieve",
    )
    assert (row["operation"], row["tool_name"]) == ("retrieval", None)
    assert js(row["tool_result"]) == [
        {
            "id": "kb-3",
            "score": 0.82,
            "content": "Refurbished phones carry a 90-day warranty.",
            "metadata": {"source": "warranty.md", "page": 2},
        },
        {"id": "kb-12", "content": "Batteries are covered for 6 months."},
    ]
    assert row["tool_arguments"] is None and row["output_messages"] is None
    reranked = decode_one(
        {
            "openinference.span.kind": "RERANKER",
            "reranker.input_documents.0.document.content": "dropped by the reranker",
            "reranker.output_documents.0.document.content": "kept by the reranker",
        }
    )
    assert js(reranked["tool_result"]) == [{"content": "kept by the reranker"}]
    plain = decode_one({"openinference.span.kind": "RETRIEVER", "output.value": "one passage"})
    assert plain["tool_result"] == "one passage"
    assert decode_one({"openinference.span.kind": "RETRIEVER"})["tool_result"] is None


def test_openinference_spans_from_trail() -> None:
    """Real OpenInference spans (TRAIL excerpt, see fixtures/README.md)."""
    doc = json.loads((FIXTURES / "trail" / "openinference_spans.json").read_text())
    agent, llm, tool = (decode_one({k: v for k, v in s["span_attributes"].items() if v is not None},
                                   name=s["span_name"]) for s in doc["spans"])  # fmt: skip
    assert (agent["convention"], agent["operation"], agent["agent_name"]) == (
        "openinference",
        "invoke_agent",
        doc["spans"][0]["span_name"],
    )
    assert agent["input_tokens"] is not None and js(agent["input_messages"])
    assert (llm["operation"], llm["request_model"], llm["response_model"]) == ("chat", "o3-mini", "o3-mini")
    inputs, outputs = js(llm["input_messages"]), js(llm["output_messages"])
    assert inputs[0]["role"] in ("system", "user") and inputs[0]["parts"][0]["type"] == "text"
    assert outputs[0]["role"] == "assistant" and outputs[0]["parts"][0]["content"]
    assert (tool["operation"], tool["tool_name"]) == (
        "execute_tool",
        doc["spans"][2]["span_attributes"]["tool.name"],
    )
    assert js(tool["tool_definitions"])[0]["name"] == tool["tool_name"]
    assert tool["tool_arguments"] is not None


def test_openllmetry_llm_span() -> None:
    row = decode_one(
        {
            "gen_ai.system": "OpenAI",
            "llm.request.type": "chat",
            "gen_ai.request.model": "gpt-4",
            "gen_ai.response.model": "gpt-4-0613",
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": "Be exact.",
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.1.content": "Capital of France?",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": "Paris.",
            "gen_ai.completion.0.finish_reason": "stop",
            "gen_ai.completion.1.role": "assistant",
            "gen_ai.completion.1.tool_calls.0.id": "c1",
            "gen_ai.completion.1.tool_calls.0.name": "lookup",
            "gen_ai.completion.1.tool_calls.0.arguments": '{"q": "France"}',
            "gen_ai.usage.prompt_tokens": 12,
            "gen_ai.usage.completion_tokens": 3,
            "gen_ai.usage.cache_read_input_tokens": 4,
            "llm.usage.total_tokens": 15,
            "llm.request.functions.0.name": "lookup",
            "llm.request.functions.0.description": "Look things up",
            "llm.request.functions.0.parameters": '{"type": "object"}',
        },
        name="openai.chat",
    )
    assert (row["convention"], row["operation"], row["provider"]) == ("openllmetry", "chat", "OpenAI")
    assert (row["request_model"], row["response_model"]) == ("gpt-4", "gpt-4-0613")
    assert (row["input_tokens"], row["output_tokens"], row["cache_read_tokens"]) == (12, 3, 4)
    assert js(row["input_messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be exact."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Capital of France?"}]},
    ]
    assert js(row["output_messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Paris."}], "finish_reason": "stop"},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "c1", "name": "lookup", "arguments": {"q": "France"}}],
        },
    ]
    assert js(row["system_instructions"]) == [{"type": "text", "content": "Be exact."}]
    assert js(row["tool_definitions"]) == [
        {
            "type": "function",
            "name": "lookup",
            "description": "Look things up",
            "parameters": {"type": "object"},
        }
    ]


def test_openllmetry_workflow_agent_and_tool_spans() -> None:
    row = decode_one(
        {
            "traceloop.span.kind": "agent",
            "traceloop.entity.name": "support_agent",
            "traceloop.workflow.name": "support",
            "traceloop.entity.input": '{"q": "refund?"}',
            "traceloop.entity.output": '"ok"',
        }
    )
    assert (row["convention"], row["operation"], row["agent_name"]) == (
        "openllmetry",
        "invoke_agent",
        "support_agent",
    )
    assert js(row["input_messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": '{"q": "refund?"}'}]}
    ]
    row = decode_one(
        {
            "traceloop.span.kind": "tool",
            "traceloop.entity.name": "refund",
            "traceloop.entity.input": '{"args": [], "kwargs": {"id": 3}}',
            "traceloop.entity.output": "done",
        }
    )
    assert (row["operation"], row["tool_name"], row["tool_result"]) == ("execute_tool", "refund", "done")
    assert js(row["tool_arguments"]) == {"args": [], "kwargs": {"id": 3}}
    assert row["agent_name"] is None
    for kind in ("workflow", "task"):
        assert decode_one({"traceloop.span.kind": kind})["operation"] == "invoke_workflow"
    assert decode_one({"llm.request.type": "embedding"})["operation"] == "embeddings"
    assert decode_one({"llm.request.type": "completion"})["operation"] == "text_completion"
