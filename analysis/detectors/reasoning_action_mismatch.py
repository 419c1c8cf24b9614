"""FM-2.6 reasoning–action mismatch: what an agent's reasoning says it will do is not what it does.

For each LLM call that decided on tool calls (its output's ``tool_call`` parts, else the agent's
next ``execute_tool`` spans), the reasoning is its reasoning column/parts, else the text that came
with the calls ("Thought: ... I'll use X"). Reported:

- ``tool``: the reasoning names declared tools, none of which is called, and a different one is;
- ``arguments``: the reasoning gives an argument a value ("city: Paris", "amount of 500") and the
  call passes another one for that argument;
- ``execution``: the executed tool differs from the call the LLM emitted (same call id).

The origin is the LLM call whose action contradicts its reasoning (for ``execution``, the tool span
that ran something else).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from analysis.detectors.common import Row, clip, finding, name_words, rows, tool_names_declared
from analysis.messages import normalize_text, unwrap_arguments
from analysis.model import Finding, Trace

_VALUE = re.compile(
    r"""\s*(?:[:=]|\bis\b|\bof\b|\bto\b|\bas\b|\bfor\b|\bat\b)?\s*(?:"([^"]{1,80})"|'([^']{1,80})'|\$?([0-9][0-9,]*(?:\.[0-9]+)?)|([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*))"""
)
_INTENT = re.compile(
    r"(\b(use|using|call|calling|invoke|run|try|query|with|let me|i will|i'll"
    r"|i am going to|i'm going to"
    r"|going to|should|need|needs|must|have to|want to|plan to|next|now|then|first)\b|\baction\s*:)[^.\n]*$",
    re.I,
)
_NEGATION = re.compile(
    r"\b(not|don't|do not|won't|instead of|avoid|rather than|no need to|since|because|already|tried"
    r"|after|previous|previously|earlier|failed)\b",
    re.I,
)


def _mentions(text: str, tool: str) -> bool:
    low = text.lower()
    if re.search(rf"(?<![\w]){re.escape(tool.lower())}(?![\w])", low):
        return True
    words = name_words(tool)
    return len(words) > 1 and " ".join(words) in normalize_text(re.sub(r"[_-]", " ", low))


def _scalar(v: Any) -> str | None:
    if isinstance(v, bool) or v is None or isinstance(v, (dict, list)):
        return None
    return str(v)


def _norm(v: str) -> str:
    return v.replace(",", "").strip().lower().rstrip(".")


class ReasoningActionMismatch:
    name: ClassVar[str] = "reasoning_action_mismatch"
    version: ClassVar[str] = "1"

    def detect(self, trace: Trace) -> list[Finding]:
        rs = rows(trace)
        tools = tool_names_declared(rs)
        # Call ids are only unique per conversation (frameworks number them "call_0", "call_1"...):
        # a call is matched to a run of the same agent that follows it.
        executed: dict[tuple[str | None, str], list[Row]] = {}
        for r in rs:
            if r.is_tool and r["tool_call_id"]:
                executed.setdefault((r.agent, r["tool_call_id"]), []).append(r)

        def run_of(llm: Row, call_id: str | None) -> Row | None:
            cands = executed.get((llm.agent, call_id or ""), [])
            return next((c for c in cands if trace.hb.precedes(llm.id, c.id)), None)

        by_agent: dict[str | None, list[Row]] = {}
        for r in rs:
            by_agent.setdefault(r.agent, []).append(r)
        out: list[Finding] = []
        for r in rs:
            if not r.is_llm:
                continue
            calls = [(c.name, unwrap_arguments(c.arguments), c.call_id) for c in r.output_calls()]
            spans = [s for s in (run_of(r, c) for _, _, c in calls) if s is not None]
            if not calls:
                spans = self._next_tools(trace, r, by_agent.get(r.agent, []))
                calls = [
                    (s["tool_name"], unwrap_arguments(s["tool_arguments"]), s["tool_call_id"]) for s in spans
                ]
            if not calls:
                continue
            for name, _, call_id in calls:
                run = run_of(r, call_id)
                if run is not None and name and run["tool_name"] and run["tool_name"] != name:
                    out.append(
                        finding(
                            self,
                            trace,
                            "reasoning_action_mismatch",
                            run,
                            [r, run],
                            "high",
                            f"{r.agent or 'an agent'} decided to call {name} but {run['tool_name']} ran",
                            {"mismatch": "execution", "decided": name, "executed": run["tool_name"]},
                            key=f"exec:{call_id}",
                        )
                    )
            # ReAct-style agents think in the text of the same output ("Thought: ... Action: X").
            reasoning = r["reasoning"] or r.output_text()
            if not reasoning:
                continue
            f = self._tool_mismatch(trace, r, reasoning, calls, tools, spans) or self._arg_mismatch(
                trace, r, reasoning, calls, spans
            )
            if f is not None:
                out.append(f)
        return out

    @staticmethod
    def _next_tools(trace: Trace, llm: Row, agent_rows: list[Row]) -> list[Row]:
        """The agent's tool spans after ``llm`` and before its next LLM call."""
        out: list[Row] = []
        for s in agent_rows:
            if s.start < llm.start or s.id == llm.id:
                continue
            if s.is_llm:
                break
            if s.is_tool and trace.hb.precedes(llm.id, s.id):
                out.append(s)
        return out

    def _tool_mismatch(
        self,
        trace: Trace,
        r: Row,
        reasoning: str,
        calls: list[tuple[str, Any, Any]],
        tools: set[str],
        spans: list[Row],
    ) -> Finding | None:
        called = {c[0] for c in calls if c[0]}
        named = {t for t in tools if _mentions(reasoning, t) and self._intended(reasoning, t)}
        if not named or named & called:
            return None
        # "instead of X" / "not X" names a tool it rightly avoids
        named = {t for t in named if not self._negated(reasoning, t)}
        if not named:
            return None
        return finding(
            self,
            trace,
            "reasoning_action_mismatch",
            r,
            [r, *spans],
            "medium",
            f"{r.agent or 'an agent'} reasoned about {', '.join(sorted(named))} "
            f"but called {', '.join(sorted(called))}",
            {
                "mismatch": "tool",
                "reasoned": sorted(named),
                "called": sorted(called),
                "reasoning": clip(reasoning, 300),
            },
            key=f"tool:{r.id}",
        )

    @staticmethod
    def _intended(reasoning: str, tool: str) -> bool:
        """The tool is named as something to do ("I'll use X", "Action: X"), not as past history."""
        low = reasoning.lower()
        for m in re.finditer(re.escape(tool.lower()), low):
            if _INTENT.search(low[max(0, m.start() - 40) : m.start()]):
                return True
        spaced = " ".join(name_words(tool))
        for m in re.finditer(re.escape(spaced), re.sub(r"[_-]", " ", low)):
            if _INTENT.search(low[max(0, m.start() - 40) : m.start()]):
                return True
        return False

    @staticmethod
    def _negated(reasoning: str, tool: str) -> bool:
        low = reasoning.lower()
        i = low.find(tool.lower())
        return i >= 0 and bool(_NEGATION.search(low[max(0, i - 25) : i]))

    def _arg_mismatch(
        self, trace: Trace, r: Row, reasoning: str, calls: list[tuple[str, Any, Any]], spans: list[Row]
    ) -> Finding | None:
        for name, args, _ in calls:
            if not isinstance(args, dict):
                continue
            for key, value in args.items():
                actual = _scalar(value)
                if actual is None or _norm(actual) in _norm(reasoning):
                    continue
                stated = self._stated(reasoning, str(key))
                if (
                    stated is not None
                    and _norm(stated) != _norm(actual)
                    and not re.search(rf"(?<![\w.]){re.escape(_norm(stated))}(?![\w])", _norm(actual))
                ):
                    span = next((s for s in spans if s["tool_name"] == name), None)
                    return finding(
                        self,
                        trace,
                        "reasoning_action_mismatch",
                        r,
                        [r, *([span] if span else [])],
                        "medium",
                        f"{r.agent or 'an agent'} reasoned {key} = {stated} "
                        f"but called {name} with {key} = {clip(actual, 60)}",
                        {
                            "mismatch": "arguments",
                            "tool": name,
                            "argument": key,
                            "reasoned": stated,
                            "called": actual,
                            "reasoning": clip(reasoning, 300),
                        },
                        key=f"args:{r.id}:{name}:{key}",
                    )
        return None

    @staticmethod
    def _stated(reasoning: str, key: str) -> str | None:
        """The value the reasoning gives argument ``key`` ("city: Paris", "amount of $500")."""
        words = name_words(key)
        if not words or all(len(w) < 3 for w in words):
            return None
        phrase = r"[\s_-]+".join(re.escape(w) for w in words)
        m = re.search(rf"\b{phrase}\b", reasoning, re.I)
        if m is None:
            return None
        v = _VALUE.match(reasoning, m.end())
        if v is None:
            return None
        return next((g for g in v.groups() if g), None)
