"""OTel GenAI semantic conventions (>= 1.37 and deprecated forms) → normalized span columns."""

from __future__ import annotations

import orjson

from collector.decode.messages import think_blocks
from tests.collector.fixtures.decode_support import decode_one, js

USER = [{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}]
OUTPUT = [
    {
        "role": "assistant",
        "parts": [
            {"type": "reasoning", "content": "The user wants weather; call the tool."},
            {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}},
        ],
        "finish_reason": "tool_call",
    }
]


def test_chat_span_semconv_1_37_fills_every_column() -> None:
    row = decode_one(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.conversation.id": "conv-7",
            "gen_ai.usage.input_tokens": 120,
            "gen_ai.usage.output_tokens": 30,
            "gen_ai.usage.cache_read.input_tokens": 100,
            "gen_ai.usage.cache_creation.input_tokens": 5,
            "gen_ai.usage.reasoning.output_tokens": 12,
            "gen_ai.input.messages": orjson.dumps(USER).decode(),
            "gen_ai.output.messages": orjson.dumps(OUTPUT).decode(),
            "gen_ai.system_instructions": '[{"type": "text", "content": "You are a weather bot."}]',
            "gen_ai.response.finish_reasons": ["tool_call"],
            "gen_ai.tool.definitions": '[{"type": "function", "name": "get_weather"}]',
        },
        name="chat gpt-4o",
    )
    assert row["convention"] == "genai"
    assert (row["operation"], row["provider"]) == ("chat", "openai")
    assert (row["request_model"], row["response_model"]) == ("gpt-4o", "gpt-4o-2024-08-06")
    assert row["conversation_id"] == "conv-7"
    assert (row["input_tokens"], row["output_tokens"]) == (120, 30)
    assert (row["cache_read_tokens"], row["cache_creation_tokens"], row["reasoning_tokens"]) == (100, 5, 12)
    assert js(row["input_messages"]) == USER
    assert js(row["output_messages"]) == OUTPUT
    assert js(row["system_instructions"]) == [{"type": "text", "content": "You are a weather bot."}]
    assert row["reasoning"] == "The user wants weather; call the tool."
    assert js(row["finish_reasons"]) == ["tool_call"]
    assert js(row["tool_definitions"]) == [{"type": "function", "name": "get_weather"}]
    assert row["agent_name"] is None  # a chat span names no agent without gen_ai.agent.name


def test_structured_values_as_anyvalue_kvlist_and_array() -> None:
    row = decode_one(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.input.messages": USER,  # array of kvlists, not JSON text
            "gen_ai.output.messages": OUTPUT,
            "gen_ai.system_instructions": [{"type": "text", "content": "Be brief."}],
            "gen_ai.response.finish_reasons": "stop",
        }
    )
    assert js(row["input_messages"]) == USER
    assert js(row["output_messages"]) == OUTPUT
    assert js(row["system_instructions"]) == [{"type": "text", "content": "Be brief."}]
    assert js(row["finish_reasons"]) == ["stop"]


def test_tool_call_response_accepts_result_and_other_part_types_are_kept() -> None:
    messages = [
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "result": {"temp": 21}}]},
        {
            "role": "user",
            "parts": [
                {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "aGk="},
                {"type": "uri", "modality": "image", "uri": "https://x/y.png"},
                {"type": "file", "modality": "image", "file_id": "file-1"},
            ],
        },
    ]
    row = decode_one(
        {"gen_ai.operation.name": "chat", "gen_ai.input.messages": orjson.dumps(messages).decode()}
    )
    got = js(row["input_messages"])
    assert got[0]["parts"] == [{"type": "tool_call_response", "id": "c1", "response": {"temp": 21}}]
    assert got[1] == messages[1]


def test_execute_tool_span() -> None:
    row = decode_one(
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "get_weather",
            "gen_ai.tool.call.id": "call_1",
            "gen_ai.tool.type": "function",
            "gen_ai.tool.call.arguments": '{"city": "Paris"}',
            "gen_ai.tool.call.result": {"temp": 21, "unit": "C"},
        },
        name="execute_tool get_weather",
    )
    assert (row["operation"], row["tool_name"], row["tool_call_id"], row["tool_type"]) == (
        "execute_tool",
        "get_weather",
        "call_1",
        "function",
    )
    assert row["tool_arguments"] == '{"city": "Paris"}'  # strings are kept as sent
    assert js(row["tool_result"]) == {"temp": 21, "unit": "C"}


def test_agent_spans_name_their_agent() -> None:
    row = decode_one(
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner", "gen_ai.agent.id": "ag-1"},
        name="invoke_agent planner",
    )
    assert (row["operation"], row["agent_name"], row["agent_id"]) == ("invoke_agent", "planner", "ag-1")
    # name from the span name when the attribute is missing
    row = decode_one({"gen_ai.operation.name": "invoke_agent"}, name="invoke_agent researcher")
    assert row["agent_name"] == "researcher"
    row = decode_one({"gen_ai.operation.name": "create_agent", "gen_ai.agent.name": "writer"})
    assert row["agent_name"] == "writer"
    # a non-agent span carries an agent only through gen_ai.agent.name
    row = decode_one({"gen_ai.operation.name": "chat", "gen_ai.agent.name": "planner"}, name="chat x")
    assert row["agent_name"] == "planner"
    row = decode_one({"gen_ai.operation.name": "chat", "agent.name": "planner"}, name="invoke_agent x")
    assert row["agent_name"] is None


def test_operation_inferred_from_span_name_and_aliases() -> None:
    assert (
        decode_one({"gen_ai.provider.name": "openai"}, name="embeddings text-3")["operation"] == "embeddings"
    )
    assert decode_one({"gen_ai.operation.name": "call_llm"})["operation"] == "chat"


def test_deprecated_attributes() -> None:
    row = decode_one(
        {
            "gen_ai.system": "anthropic",
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.prompt_tokens": 10,
            "gen_ai.usage.completion_tokens": "4",  # int64 as a string
            "gen_ai.prompt": '[{"role": "system", "content": "Be terse."}, '
            '{"role": "user", "content": "hi"}]',
            "gen_ai.completion": "hello",
        }
    )
    assert row["provider"] == "anthropic"
    assert (row["input_tokens"], row["output_tokens"]) == (10, 4)
    assert js(row["input_messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be terse."}]},
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]},
    ]
    assert js(row["output_messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "hello"}]}
    ]
    assert js(row["system_instructions"]) == [{"type": "text", "content": "Be terse."}]


def test_semconv_wins_over_deprecated_whatever_the_order() -> None:
    row = decode_one(
        {
            "gen_ai.system": "old",
            "gen_ai.provider.name": "new",
            "gen_ai.usage.prompt_tokens": 1,
            "gen_ai.usage.input_tokens": 2,
        }
    )
    assert (row["provider"], row["input_tokens"]) == ("new", 2)


def test_deprecated_per_message_span_events() -> None:
    events = [
        ("gen_ai.system.message", {"gen_ai.system": "openai", "content": "You are helpful."}),
        ("gen_ai.user.message", {"content": "What is 2+2?"}),
        (
            "gen_ai.assistant.message",
            {
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "calc", "arguments": '{"e": "2+2"}'},
                    }
                ]
            },
        ),
        ("gen_ai.tool.message", {"content": "4", "id": "c1"}),
        (
            "gen_ai.choice",
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "<think>easy</think>It is 4."},
            },
        ),
    ]
    row = decode_one({"gen_ai.operation.name": "chat", "gen_ai.system": "openai"}, events=events)
    inputs = js(row["input_messages"])
    assert [m["role"] for m in inputs] == ["system", "user", "assistant", "tool"]
    assert inputs[2]["parts"] == [
        {"type": "tool_call", "id": "c1", "name": "calc", "arguments": {"e": "2+2"}}
    ]
    assert inputs[3]["parts"] == [{"type": "tool_call_response", "id": "c1", "response": "4"}]
    assert js(row["output_messages"]) == [
        {
            "role": "assistant",
            "finish_reason": "stop",
            "parts": [{"type": "text", "content": "<think>easy</think>It is 4."}],
        }
    ]
    assert row["reasoning"] == "easy"  # copied out of the text, which is kept as sent
    assert js(row["system_instructions"]) == [{"type": "text", "content": "You are helpful."}]


def test_think_blocks_in_output_text_become_reasoning() -> None:
    out = [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "<think>step 1\nstep 2</think>Answer: 42"}],
        }
    ]
    row = decode_one({"gen_ai.operation.name": "chat", "gen_ai.output.messages": orjson.dumps(out).decode()})
    assert row["reasoning"] == "step 1\nstep 2"
    assert js(row["output_messages"]) == out


def test_memory_operations() -> None:
    row = decode_one(
        {
            "gen_ai.operation.name": "update_memory",
            "gen_ai.memory.store.id": "blackboard",
            "gen_ai.memory.record.id": "order-42",
            "gen_ai.memory.records": '[{"status": "shipped"}]',
            "faultlens.memory.version": 3,
        }
    )
    assert (row["operation"], row["memory_store_id"], row["memory_record_id"]) == (
        "update_memory",
        "blackboard",
        "order-42",
    )
    assert js(row["memory_records"]) == [{"status": "shipped"}]
    assert row["memory_version"] == "3"
    row = decode_one(
        {"gen_ai.operation.name": "search_memory", "gen_ai.memory.records": [{"status": "pending"}]}
    )
    assert js(row["memory_records"]) == [{"status": "pending"}]


def test_db_http_and_error_columns_on_plain_spans() -> None:
    row = decode_one(
        {
            "db.system.name": "postgresql",
            "db.operation.name": "SELECT",
            "db.query.text": "SELECT 1",
            "http.response.status_code": 504,
            "error.type": "TimeoutError",
        }
    )
    assert row["convention"] is None
    assert (row["db_system"], row["db_operation"], row["db_query_text"]) == (
        "postgresql",
        "SELECT",
        "SELECT 1",
    )
    assert (row["http_status_code"], row["error_type"]) == (504, "TimeoutError")
    row = decode_one(
        {"db.system": "redis", "db.operation": "GET", "db.statement": "GET k", "http.status_code": "429"}
    )
    assert (row["db_system"], row["db_operation"], row["db_query_text"]) == ("redis", "GET", "GET k")
    assert row["http_status_code"] == 429
    # gRPC status codes are not HTTP status codes
    assert decode_one({"rpc.grpc.status_code": 4})["http_status_code"] is None


def test_openai_style_messages_are_normalized() -> None:
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Describe"},
                {"type": "image_url", "image_url": {"url": "https://img"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c9", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c9", "content": "done"},
    ]
    row = decode_one(
        {"gen_ai.operation.name": "chat", "gen_ai.input.messages": orjson.dumps(messages).decode()}
    )
    assert js(row["input_messages"]) == [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "Describe"},
                {"type": "uri", "modality": "image", "uri": "https://img"},
            ],
        },
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "c9", "name": "f", "arguments": {}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c9", "response": "done"}]},
    ]


def test_invalid_structured_values_are_kept_not_fatal() -> None:
    row = decode_one(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.input.messages": "[not json",
            "gen_ai.usage.input_tokens": "many",
            "gen_ai.tool.definitions": "{bad",
        }
    )
    assert js(row["input_messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "[not json"}]}
    ]
    assert row["input_tokens"] is None
    assert js(row["tool_definitions"]) == ["{bad"]


def test_think_block_extraction_edge_cases() -> None:
    assert think_blocks("<think>a</think>x<thinking> b </thinking><think>unclosed") == ["a", "b", "unclosed"]
    assert think_blocks("plain") == [] and think_blocks("<think> </think>") == []
    # Many openings and no closing: one block to the end, found in one linear scan.
    assert len(think_blocks("<think>" * 200_000)) == 1


def test_messages_of_several_events_are_concatenated() -> None:
    first = '[{"role": "user", "parts": [{"type": "text", "content": "one"}]}]'
    second = '[{"role": "user", "parts": [{"type": "text", "content": "two"}]}]'
    events = [
        ("gen_ai.client.inference.operation.details", {"gen_ai.input.messages": first}),
        ("gen_ai.client.inference.operation.details", {"gen_ai.input.messages": second}),
    ]
    row = decode_one({"gen_ai.operation.name": "chat"}, events=events)
    assert [m["parts"][0]["content"] for m in js(row["input_messages"])] == ["one", "two"]


def test_anthropic_and_gemini_content_blocks() -> None:
    messages = [
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "need weather"},
            {"type": "tool_use", "id": "tu1", "name": "weather", "input": {"city": "Oslo"}},
        ]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu1", "content": "cold"}]},
        {"role": "model", "parts": [{"text": "It is cold."},
                                    {"function_call": {"name": "f", "args": {"a": 1}}},
                                    {"function_response": {"name": "f", "response": {"ok": True}}}]},
    ]  # fmt: skip
    row = decode_one(
        {"gen_ai.operation.name": "chat", "gen_ai.input.messages": orjson.dumps(messages).decode()}
    )
    got = js(row["input_messages"])
    assert got[0]["parts"] == [
        {"type": "reasoning", "content": "need weather"},
        {"type": "tool_call", "id": "tu1", "name": "weather", "arguments": {"city": "Oslo"}},
    ]
    assert got[1]["parts"] == [{"type": "tool_call_response", "id": "tu1", "response": "cold"}]
    assert got[2]["parts"] == [
        {"type": "text", "content": "It is cold."},
        {"type": "tool_call", "id": None, "name": "f", "arguments": {"a": 1}},
        {"type": "tool_call_response", "id": None, "name": "f", "response": {"ok": True}},
    ]


def test_retrieval_documents_land_in_tool_result_as_json_or_structured() -> None:
    docs = [{"id": "doc-7", "score": 0.82, "content": "The Nile is about 6,650 km long."}]
    for value in (orjson.dumps(docs).decode(), docs):
        row = decode_one({"gen_ai.operation.name": "retrieval", "gen_ai.retrieval.documents": value})
        assert row["operation"] == "retrieval"
        assert js(row["tool_result"]) == docs
