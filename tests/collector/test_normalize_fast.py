"""The compiled fast path of ``normalize_span`` (``collector/decode/_genai.c``) is sound and is taken.

- Its tables (keys, ranks, converters, markers, operation aliases, known and agent operations)
  equal the Python ones, and the keys it skips are ones ``normalize_span`` never reads.
- Whenever ``fast_normalize`` answers, the answer is the Python path's, key order and value types
  included: for every case of the recorded normalize fixture, and for generated attribute dicts
  mixing the keys it knows with others, values of every type and message texts of every shape.
- It answers for most GenAI spans of the corpus, and for every span the ingest benchmark sends.
- ``move_verbatim``, the C twin of the decoder's ``_move_attributes_py``, moves the same keys out of
  the same attributes and returns the same mask, for generated attributes and their normalized
  columns (equal, equal but of another type, bool for int, str subclasses, absent).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.decode import genai, normalize, traces
from collector.decode.normalize import NORMALIZED_COLUMNS, normalize_span
from collector.decode.values import as_int, as_text
from collector.decode.walk import walk_bytes
from store import schema
from tests.collector.fixtures.bench_traffic import bench_request
from tests.collector.fixtures.normalize_cases import all_sources

_genai = pytest.importorskip("collector.decode._genai")
fast_normalize = _genai.fast_normalize

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def _python_path() -> Iterator[None]:
    saved = normalize._fast_normalize
    normalize._fast_normalize = None
    try:
        yield
    finally:
        normalize._fast_normalize = saved


def python_normalize(attrs: dict[str, Any], name: str) -> Any:
    """``normalize_span(attrs, name, ())`` without the fast path; an exception becomes its type."""
    with _python_path():
        try:
            return normalize_span(attrs, name, ())
        except Exception as e:
            return {"!raises": type(e).__name__}


def assert_same(fast: dict[str, Any], slow: Any, case: Any) -> None:
    assert fast == slow, case
    assert list(fast) == list(slow), case  # the same key order
    assert [type(v) for v in fast.values()] == [type(v) for v in slow.values()], case


# --- tables --------------------------------------------------------------------------------------

_CONVERTERS = {
    "as_text": as_text,
    "as_int": as_int,
    "_operation": genai._operation,
    "_input_messages": genai._input_messages,
    "_output_messages": genai._output_messages,
    "json_array": genai.json_array,
}
#: What genai.normalize / agent_identity read besides KEY_TABLE (the fast path must not skip them).
_READ_BY_GENAI = {
    "gen_ai.output",
    "pydantic_ai.all_messages",
    "final_result",
    "graph.node.id",
    *genai._AGENT_NAME_KEYS,
}


def test_keys_equal_the_key_table() -> None:
    for key, (column, converter, rank) in _genai.KEYS.items():
        assert genai.KEY_TABLE[key] == (column, _CONVERTERS[converter], rank), key
        assert column in NORMALIZED_COLUMNS
    # every key whose converter keeps strings / ints as sent is on the fast path
    plain = {k for k, (_, convert, _) in genai.KEY_TABLE.items() if convert in (as_text, as_int)}
    assert plain <= set(_genai.KEYS), sorted(plain - set(_genai.KEYS))
    assert set(_genai.GENAI_MARKERS) == set(normalize._GENAI_MARKERS)


def test_operations_equal_genai() -> None:
    assert _genai.OPERATION_ALIASES == genai._OPERATION_ALIASES
    assert set(_genai.KNOWN_OPERATIONS) == genai.KNOWN_OPERATIONS
    assert set(_genai.AGENT_OPERATIONS) == genai.AGENT_OPERATIONS


def test_no_known_key_marks_another_convention() -> None:
    """detect() returns "genai" for a span of known keys holding a GenAI marker."""
    others = {"openinference.span.kind", *normalize._OPENLLMETRY_MARKERS}
    for key in (*_genai.KEYS, *_genai.IGNORED_KEYS):
        assert key not in others, key
        assert key.partition(".")[0] not in ("traceloop", "llm"), key


def test_ignored_keys_are_never_read() -> None:
    """On a span with a GenAI marker, which the fast path asks for (without one, a ``gen_ai.*`` key
    alone would make the span a GenAI one)."""
    for key in _genai.IGNORED_KEYS:
        assert key not in genai.KEY_TABLE, key
        assert key not in _READ_BY_GENAI, key
    bases = (
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.output": "done", "agent.name": "a"},
        {"gen_ai.provider.name": "openai", "gen_ai.usage.input_tokens": 3},
        {"gen_ai.system": "x", "gen_ai.input.messages": '[{"role": "system", "parts": []}]'},
    )
    for value in ("x", 3, 2.5, None, True, ["a"], {"b": 1}, '[{"role": "user", "parts": []}]'):
        for attrs in bases:
            plus = {**attrs, **dict.fromkeys(_genai.IGNORED_KEYS, value)}
            assert python_normalize(plus, "invoke_agent planner") == python_normalize(
                attrs, "invoke_agent planner"
            )


# --- the recorded fixture ------------------------------------------------------------------------


def test_fixture_cases_agree() -> None:
    """Events are left out (normalize_span asks the fast path only about spans without any)."""
    genai_spans = taken = 0
    for label, load in all_sources():
        for index, (attrs, name, events) in enumerate(load()):
            slow = python_normalize(attrs, name)
            fast = fast_normalize(attrs, name)
            if fast is not None:
                assert_same(fast, slow, (label, index, attrs, name))
            # The random dicts mix conventions and odd values on purpose: the recorded traces say
            # how often the fast path is taken.
            if not events and not label.startswith("random/") and slow.get("convention") == "genai":
                genai_spans += 1
                taken += fast is not None
    # Most GenAI spans of the recorded traces are plain enough (the rest carry JSON-valued keys:
    # tool definitions, system instructions, any-agent's gen_ai.output).
    assert genai_spans > 900
    assert taken >= 0.6 * genai_spans, (taken, genai_spans)


# --- generated attribute dicts -------------------------------------------------------------------

_SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_OTHER_KEYS = [
    "openinference.span.kind",
    "traceloop.span.kind",
    "traceloop.entity.name",
    "llm.request.type",
    "llm.model_name",
    "gen_ai.prompt",
    "gen_ai.completion",
    "gen_ai.prompt.0.content",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
    "gen_ai.retrieval.documents",
    "http.status_code",
    "http.response.status_code",
    *sorted(_READ_BY_GENAI),
    "custom.key",
]


class _Str(str):
    pass


@st.composite
def _messages_text(draw: st.DrawFn) -> str:
    """A message list as JSON text: canonical or not, with system roles, reasoning and <think>."""
    role = st.sampled_from(["user", "assistant", "system", "developer", "tool", ""])
    text = st.sampled_from(["hi", "<think>plan</think>ok", "a < b", "<thinking>x", "", "é\u2028", "\ud800"])
    part = st.one_of(
        st.fixed_dictionaries({"type": st.just("text"), "content": text}),
        st.fixed_dictionaries({"type": st.just("reasoning"), "content": text}),
        st.fixed_dictionaries({"type": st.just("tool_call"), "name": st.just("f"), "id": st.just("c")}),
        st.fixed_dictionaries({"type": st.just("tool_call_response"), "response": st.integers()}),
        st.fixed_dictionaries({"type": st.sampled_from(["thinking", "tool_use", "text"])}),
        st.fixed_dictionaries({"text": text}),
    )
    message = st.one_of(
        st.fixed_dictionaries({"role": role, "parts": st.lists(part, max_size=3)}),
        st.fixed_dictionaries({"role": role, "content": text}),
    )
    messages = draw(st.lists(message, max_size=3))
    rendered = json.dumps(messages, ensure_ascii=draw(st.booleans()))
    edit = draw(st.integers(0, 9))
    if edit == 0:
        return " " + rendered
    if edit == 1:
        return rendered[: draw(st.integers(0, len(rendered)))]
    if edit == 2:
        return json.dumps({"messages": messages})
    return rendered


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=3))


@st.composite
def _value(draw: st.DrawFn, key: str) -> Any:
    kind = draw(st.integers(0, 19))
    if kind < 7:  # the type the key's converter keeps as sent, most of the time
        spec = _genai.KEYS.get(key)
        if spec is not None and spec[1] == "as_int":
            return draw(st.integers(-(2**63), 2**63 - 1))
        if spec is not None and spec[1].endswith("_messages"):
            return draw(_messages_text())
        if spec is not None and spec[1] == "json_array":
            reasons = st.sampled_from(
                ["stop", "tool_call", "", "é", 'a"b', "a\\b", "\n", "\x7f", "\ud800", "日本"]
            )
            return draw(st.one_of(st.lists(reasons, max_size=3), st.lists(st.one_of(reasons, _SCALARS))))
        if spec is not None and spec[1] == "as_text" and draw(st.booleans()):
            return draw(st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers()))
        if key == "gen_ai.operation.name":
            return draw(st.sampled_from([*genai.KNOWN_OPERATIONS, *genai._OPERATION_ALIASES, "rerank", ""]))
        return draw(st.text(max_size=6))
    return draw(
        st.one_of(
            st.text(max_size=6),
            st.sampled_from(["12", " 7 ", "3.0", "-1", "99999999999999999999", "chat", "invoke_agent"]),
            st.integers(),
            st.sampled_from([2**63, -(2**63) - 1, 2**63 - 1, -(2**63), True, False]),
            st.floats(allow_nan=True),
            st.none(),
            st.lists(st.one_of(st.integers(), st.text(max_size=3)), max_size=2),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
            st.builds(_Str, st.sampled_from(["chat", "x", ""])),
            _messages_text(),
        )
    )


@st.composite
def _attrs(draw: st.DrawFn) -> dict[str, Any]:
    known = sorted(_genai.KEYS)
    keys = draw(st.lists(st.sampled_from(known), max_size=10, unique=True))
    if draw(st.integers(0, 3)) == 0:
        keys += draw(st.lists(st.sampled_from(sorted(_genai.IGNORED_KEYS)), max_size=2, unique=True))
    if draw(st.integers(0, 4)) == 0:
        keys.append(draw(st.sampled_from(_OTHER_KEYS)))
    if draw(st.integers(0, 2)) > 0 and "gen_ai.operation.name" not in keys:
        keys.insert(0, draw(st.sampled_from(["gen_ai.operation.name", "gen_ai.provider.name"])))
    attrs = {key: draw(_value(key)) for key in dict.fromkeys(keys)}
    return attrs


_NAMES = st.one_of(
    st.sampled_from(
        [
            "chat gpt-4o",
            "invoke_agent planner",
            "invoke_agent",
            "invoke_agent ",
            "invoke_agent  two  spaces",
            "create_agent writer",
            "create_agent 日本",
            "execute_tool lookup",
            "invoke_agentx y",
            "embeddings",
            "call_llm x",
            " invoke_agent a",
            "planner",
            "",
            "\ud800 invoke_agent",
            "invoke_agent \ud800",
        ]
    ),
    st.builds(lambda op, rest: f"{op} {rest}", st.sampled_from(sorted(genai.KNOWN_OPERATIONS)), st.text()),
    st.text(max_size=8),
)


@_SETTINGS
@given(_attrs(), _NAMES)
def test_generated_spans_agree(attrs: dict[str, Any], name: str) -> None:
    fast = fast_normalize(attrs, name)
    if fast is not None:
        assert_same(fast, python_normalize(attrs, name), (attrs, name))


def test_generated_spans_often_take_the_fast_path() -> None:
    """The generator above does reach the fast path (else the property would prove little)."""
    taken = 0

    @settings(max_examples=400, deadline=None, database=None)
    @given(_attrs(), _NAMES)
    def count(attrs: dict[str, Any], name: str) -> None:
        nonlocal taken
        taken += fast_normalize(attrs, name) is not None

    count()
    assert taken >= 40, taken


def test_odd_arguments() -> None:
    attrs = {"gen_ai.operation.name": "chat"}
    assert fast_normalize(attrs, "chat") == {"convention": "genai", "operation": "chat"}
    assert fast_normalize(dict(attrs), _Str("chat")) is None
    assert fast_normalize({_Str("gen_ai.operation.name"): "chat"}, "chat") is None
    assert fast_normalize({1: "chat", **attrs}, "chat") is None  # type: ignore[dict-item]
    assert fast_normalize({}, "chat x") is None  # no convention
    assert fast_normalize({"gen_ai.operation.name": None}, "chat x") == python_normalize(
        {"gen_ai.operation.name": None}, "chat x"
    )
    with pytest.raises(TypeError):
        fast_normalize(attrs)  # type: ignore[call-arg]


def test_span_events_take_the_python_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(normalize, "_fast_normalize", lambda *a: calls.append(a))
    event = ("gen_ai.user.message", {"content": "hi"})
    out = normalize_span({"gen_ai.operation.name": "chat"}, "chat", [event])
    assert calls == [] and out["input_messages"]
    normalize_span({"gen_ai.operation.name": "chat"}, "chat", [])
    assert len(calls) == 1


# --- the ingest benchmark's spans ----------------------------------------------------------------


def _bench_spans() -> list[tuple[dict[str, Any], str]]:
    body = bench_request(7, 64)
    resources = walk_bytes(body)
    assert resources is not None
    return [(span[10], span[4]) for _, scopes in resources for _, _, spans in scopes for span in spans]


def test_bench_spans_take_the_fast_path() -> None:
    spans = _bench_spans()
    assert len(spans) == 64
    for attrs, name in spans:
        fast = fast_normalize(attrs, name)
        assert fast is not None, attrs
        assert_same(fast, python_normalize(attrs, name), attrs)


# --- moving verbatim attributes out (move_verbatim) ----------------------------------------------


@settings(max_examples=400, deadline=None)
@given(attrs=_attrs(), data=st.data())
def test_move_verbatim_equals_the_python_mover(attrs: dict[str, Any], data: st.DataObject) -> None:
    norm = python_normalize(attrs, "chat")
    if "!raises" in norm:
        norm = {}
    # Also columns that hold the value in another type, or a value the attribute does not have.
    for key, column in schema.MOVED_ATTRIBUTES:
        if key in attrs and data.draw(st.integers(0, 5)) == 0:
            value = attrs[key]
            norm[column] = data.draw(
                st.sampled_from([value, str(value), _Str(str(value)), True, 1, 1.0, None, "other"])
            )
    fast_attrs, slow_attrs = dict(attrs), dict(attrs)
    fast = _genai.move_verbatim(fast_attrs, norm, schema.MOVED_ATTRIBUTES)
    slow = traces._move_attributes_py(slow_attrs, norm)
    assert fast == slow
    assert list(fast_attrs.items()) == list(slow_attrs.items())


def test_move_verbatim_moves_the_bench_spans_messages() -> None:
    for attrs, name in _bench_spans():
        norm = fast_normalize(attrs, name)
        assert norm is not None
        mask = _genai.move_verbatim(attrs, norm, schema.MOVED_ATTRIBUTES)
        assert mask is not None and mask & 0b11  # input and output messages
        assert "gen_ai.input.messages" not in attrs


def test_move_verbatim_refuses_what_it_cannot_read() -> None:
    with pytest.raises(TypeError):
        _genai.move_verbatim({}, {}, (("a",),))
    with pytest.raises(TypeError):
        _genai.move_verbatim({}, {}, tuple(("k", "c") for _ in range(63)))
    assert _genai.move_verbatim({}, {}, ()) is None
