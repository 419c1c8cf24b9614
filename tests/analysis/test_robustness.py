"""Bad data never crashes the analysis: random span trees (cycles, dangling parents, skewed and
inverted times, malformed JSON, odd operations) through happens-before and every structural
detector (property-based)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.attribution import attribute
from analysis.registry import detectors, window_detectors
from tests.analysis.tracekit import TraceSpec

OPS = [
    None,
    "chat",
    "execute_tool",
    "invoke_agent",
    "search_memory",
    "update_memory",
    "create_agent",
    "weird",
]
JSONISH = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(
        [
            "[]",
            "{}",
            '[{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]',
            '[{"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "send_email", '
            '"arguments": {"to": "x"}}]}]',
            '[{"role": 3, "parts": "nope"}]',
            '{"args": [], "kwargs": {"idempotency_key": "k"}}',
            "[1, 2",
        ]
    ),
)
SPAN = st.fixed_dictionaries(
    {
        "parent": st.integers(min_value=-1, max_value=12),
        "start": st.integers(min_value=-5, max_value=50),
        "length": st.integers(min_value=-3, max_value=30),
        "op": st.sampled_from(OPS),
        "agent": st.sampled_from([None, "a", "b", "verifier", "transfer_to_b"]),
        "tool": st.sampled_from([None, "send_email", "transfer_to_b", "get_x", "verify_facts"]),
        "json": JSONISH,
        "status": st.sampled_from([0, 1, 2]),
        "http": st.sampled_from([None, 200, 429, 504]),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SPAN, min_size=1, max_size=12))
def test_random_traces_never_crash(specs: list[dict[str, object]]) -> None:
    s = TraceSpec()
    ids: list[str] = []
    for spec in specs:
        start = float(spec["start"])  # type: ignore[arg-type]
        ids.append(
            s.add(
                "span",
                start,
                start + float(spec["length"]),  # type: ignore[arg-type]
                operation=spec["op"],
                agent_name=spec["agent"],
                tool_name=spec["tool"],
                input_messages=spec["json"],
                output_messages=spec["json"],
                tool_arguments=spec["json"],
                tool_result=spec["json"],
                memory_records=spec["json"],
                memory_store_id="kv",
                memory_record_id="k",
                status_code=spec["status"],
                http_status_code=spec["http"],
            )
        )
    for row, spec in zip(s.rows, specs, strict=True):
        p = int(spec["parent"])  # type: ignore[call-overload]
        row["parent_span_id"] = ids[p] if 0 <= p < len(ids) else (None if p < 0 else "ffffffffffffffff")
    trace = s.trace()
    order = list(trace.hb.order())
    assert sorted(order) == sorted(ids)
    for a in ids:
        assert a not in trace.hb.past(a)
        for b in ids:
            assert not (trace.hb.precedes(a, b) and trace.hb.precedes(b, a))
    findings = [f for d in detectors() if d.__module__.count(".") == 2 for f in d.detect(trace)]
    findings += [
        f for w in window_detectors() if w.__module__.count(".") == 2 for f in w.detect_window([trace])
    ]
    for f in findings:
        assert f.origin_span_id in f.span_ids and set(f.span_ids) <= set(ids)
    attribute(trace, findings)
