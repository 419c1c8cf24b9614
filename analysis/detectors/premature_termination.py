"""FM-3.1 premature termination: the final answer was given while planned work had not happened.

Planned work that did not happen, before the trace's final answer (``common.final_answer``):
- ``unexecuted_call``: a tool call an LLM emitted that never ran (no ``execute_tool`` span with its
  call id or of its name after it, no invocation of a hand-off's target) and whose response never
  came back in any input — only in traces that record tool spans at all;
- ``handoff``: a ``transfer_*`` / ``handoff*`` tool ran but the target agent was never invoked;
- ``plan``: a numbered plan (two or more items) names declared tools that were never used;
- ``instructed``: the system instructions or the task name a declared tool ("finish with
  post_journal") that never ran (verification tools aside: that is ``missing_verification``);
- ``failed_step``: the answering agent's last step failed and the answer does not admit it - unless
  that step only read (a lookup, an enrichment), other steps of the agent succeeded, and the answer
  does not speak of what the failed step was for: the answer then stands on the other sources.
The origin is the final answer: where the work was (prematurely) declared done.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from analysis.detectors.common import (
    READ_VERBS,
    Row,
    clip,
    final_answer,
    finding,
    is_side_effect_tool,
    is_verifier_name,
    name_words,
    rows,
    tool_names_declared,
)
from analysis.happens_before import handoff_target
from analysis.messages import normalize_agent, text_of
from analysis.model import Finding, Trace

_ADMITS = re.compile(
    r"unable|could not|couldn't|cannot|can't|failed|failure|error|unavailable|sorry|apolog"
    r"|not able|did not succeed"
    r"|wasn't able|was not able|try again later",
    re.I,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_REQUIRED = re.compile(
    r"\b(must|always|required?|make sure|be sure|remember to|do not forget|don't forget|complete every"
    r"|including|finish (with|by)|end (with|by)|do not stop|before (you )?(answer|finish|reply|respond))\b",
    re.I,
)
_PLAN_LINE = re.compile(r"^\s*(?:\d+[.)]|step\s*\d+\s*[:.)-]|[-*•])\s+(.+)$", re.I | re.M)


class PrematureTermination:
    name: ClassVar[str] = "premature_termination"
    version: ClassVar[str] = "1"

    def detect(self, trace: Trace) -> list[Finding]:
        rs = rows(trace)
        final = final_answer(rs, trace.hb.order())
        if final is None:
            return []
        ancestors = self._ancestors(rs, final)
        before = [r for r in rs if r.id not in ancestors and trace.hb.precedes(r.id, final.id)]
        missing: list[tuple[str, Row, str]] = []  # (why, span, what)
        missing += self._unexecuted(rs, before)
        missing += self._handoffs(trace, rs, before)
        missing += self._plan(rs, before)
        missing += self._instructed(rs, before, final)
        if not _ADMITS.search(final.output_text()):
            missing += self._failed(before, final)
        if not missing:
            return []
        kinds = sorted({why for why, _, _ in missing})
        severe = any(why != "failed_step" for why in kinds)
        evidence: dict[str, Any] = {
            "signals": kinds,
            "missing_steps": [
                {"signal": why, "span_id": r.id, "step": what} for why, r, what in missing[:20]
            ],
            "final_answer": clip(final.output_text(), 200),
        }
        return [
            finding(
                self,
                trace,
                "premature_termination",
                final,
                [r for _, r, _ in missing],
                "high" if severe else "medium",
                f"{final.agent or 'the system'} gave its final answer while {len(missing)} planned step(s) "
                f"had not run or had failed ({', '.join(kinds)})",
                evidence,
            )
        ]

    @staticmethod
    def _ancestors(rs: list[Row], span: Row) -> set[str]:
        parent = {r.id: r["parent_span_id"] for r in rs}
        out = {span.id}
        cur = parent.get(span.id)
        while cur is not None and cur not in out:
            out.add(cur)
            cur = parent.get(cur)
        return out

    @staticmethod
    def _unexecuted(rs: list[Row], before: list[Row]) -> list[tuple[str, Row, str]]:
        tools = [r for r in rs if r.is_tool]
        if not tools:
            return []  # tool execution is not instrumented in this trace: absence proves nothing
        ran_ids = {r["tool_call_id"] for r in tools if r["tool_call_id"]}
        invoked = {
            normalize_agent(r["agent_name"] or r["agent_id"] or "") for r in rs if r.op == "invoke_agent"
        }
        answered: set[str] = set()
        for r in rs:
            if r.is_llm:
                for m in r.inputs():
                    answered.update(
                        str(p.get("id")) for p in m.parts if p.get("type") == "tool_call_response"
                    )
        out: list[tuple[str, Row, str]] = []
        for r in before:
            if not r.is_llm:
                continue
            for call in r.output_calls():
                if call.call_id and (call.call_id in ran_ids or call.call_id in answered):
                    continue
                # Conventions that drop call ids: a span of that tool after the decision ran it.
                if any(t["tool_name"] == call.name and t.start >= r.start for t in tools):
                    continue
                # Frameworks that run a hand-off as the target's invocation, with no tool span.
                target = handoff_target(call.name)
                if target and any(a == target or a.startswith(target) for a in invoked):
                    continue
                out.append(("unexecuted_call", r, f"{call.name}({clip(call.arguments, 80)})"))
        return out

    @staticmethod
    def _handoffs(trace: Trace, rs: list[Row], before: list[Row]) -> list[tuple[str, Row, str]]:
        handed = {a for a, _, kind in trace.hb.edges() if kind == "handoff"}
        invoked = {
            normalize_agent(r["agent_name"] or r["agent_id"] or "") for r in rs if r.op == "invoke_agent"
        }
        out: list[tuple[str, Row, str]] = []
        for r in before:
            target = handoff_target(r["tool_name"]) if r.is_tool and not r.failed else None
            if target is None or r.id in handed:
                continue
            if target and any(
                a == target or a.startswith(target) or target.startswith(a) for a in invoked if a
            ):
                continue  # invoked, if not where the clock says
            out.append(("handoff", r, str(r["tool_name"])))
        return out

    @staticmethod
    def _plan(rs: list[Row], before: list[Row]) -> list[tuple[str, Row, str]]:
        tools = tool_names_declared(rs)
        used_tools = {r["tool_name"] for r in rs if r.is_tool}
        out: list[tuple[str, Row, str]] = []
        for r in before:
            if not r.is_llm:
                continue
            text = "\n".join(x for x in (r["reasoning"], r.output_text()) if x)
            lines = _PLAN_LINE.findall(text)
            if len(lines) < 2:
                continue
            for line in lines:
                low = line.lower()
                for t in tools - used_tools:
                    if re.search(rf"(?<!\w){re.escape(t.lower())}(?!\w)", low):
                        out.append(("plan", r, t))
            if out:
                break
        return out

    @staticmethod
    def _instructed(rs: list[Row], before: list[Row], final: Row) -> list[tuple[str, Row, str]]:
        """Declared tools that the system instructions or the task name explicitly ("complete every
        step, including send_email") and that never ran before the answer."""
        executed = {r["tool_name"] for r in before if r.is_tool}
        declared = {
            t
            for t in tool_names_declared(rs)
            if t not in executed and not handoff_target(t) and not is_verifier_name(t)
        }
        if not declared:
            return []
        system = (
            "\n".join(text_of(r["system_instructions"]) for r in rs if r.is_llm and r["system_instructions"])
            + "\n"
            + "\n".join(m.text for r in rs if r.is_llm for m in r.inputs() if m.role == "system")
        )
        task = next((m.text for r in rs if r.is_llm for m in r.inputs() if m.role == "user" and m.text), "")
        # Only a requirement that names the tool counts ("complete every step, including
        # send_email"): prompts that describe the tools on offer name them all, and "send the
        # itinerary" without naming send_email is too weak a plan.
        all_tools = tool_names_declared(rs)
        out: list[tuple[str, Row, str]] = []
        for sentence in _SENTENCE.split(system + "\n" + task):
            if not _REQUIRED.search(sentence):
                continue
            named = [t for t in all_tools if re.search(rf"(?<!\w){re.escape(t)}(?!\w)", sentence)]
            if len(named) > 2:
                continue  # a catalogue of tools, not a step
            out.extend(("instructed", final, t) for t in named if t in declared)
        return out

    @staticmethod
    def _failed(before: list[Row], final: Row) -> list[tuple[str, Row, str]]:
        """A failed tool call or sub-agent the agent answered right after, without recovering."""
        steps = [r for r in before if r.is_tool or r.op == "invoke_agent"]
        own = [r for r in steps if r.agent == final.agent]
        if not own:
            return []
        last = max(own, key=lambda r: r.end)
        if not last.failed:
            return []
        label = last["tool_name"] or last["agent_name"] or last["name"]
        if (
            last.is_tool
            and not is_side_effect_tool(label)
            and any(not r.failed for r in own if r is not last)
            and not _speaks_of(final.output_text(), label)
        ):
            return []  # an optional lookup failed; the answer rests on the steps that worked
        return [("failed_step", last, f"{label}: {clip(last.error_text(), 80)}")]


def _speaks_of(answer: str, tool: str) -> bool:
    """Whether ``answer`` names the subject of ``tool`` (``get_weather`` → "weather"): the words of
    its name other than read verbs and filler, as words of the answer (plural or not)."""
    subject = [w for w in name_words(tool) if w not in READ_VERBS and len(w) > 2 and not w.isdigit()]
    words = set(name_words(answer))
    return any(w in words or f"{w}s" in words or w.rstrip("s") in words for w in subject)
