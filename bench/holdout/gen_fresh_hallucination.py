"""A second, independent hold-out set for ``hallucination_propagation``, written from SPEC §5.1 only.

Contract: ``SCENARIOS`` holds 22 labelled failure traces (16 ``ungrounded_claim``, 3
``undeclared_tool``, 3 ``not_found_entity``) and 17 clean controls. Every name starts with
``fresh_`` (``run.py --only fresh``). Conventions go genai, openinference, openinference, genai, ...
so that, with ``run.py`` alternating transports, each convention is sent over both transports.

How the labels read the spec:
- The origin is the span that first states the claim without support: the LLM call whose output
  carries it (the agent span when a trace records no LLM calls). ``also`` names the enclosing agent
  span, whose answer repeats the claim moments later.
- ``undeclared_tool`` / ``not_found_entity``: the origin is the LLM call that emitted the tool call;
  ``also`` is the tool span that ran it (none when the framework refused to run it).
- A tool hallucination that no other agent takes up is labelled with its tool kind only; an
  ``ungrounded_claim`` finding there is listed as extra, not scored.
- Clean controls state only facts found in the causal past (user input, system instructions, tool
  results, retrieved documents, memory reads, earlier messages), possibly reformatted, rounded,
  unit-converted or derived as a sum or difference (issue 5's "simple derivations").
- ``fresh_clean_verifier_catches``: a draft's invented percentage is rejected by the fact-checker
  and removed before the final answer. SPEC §5.1 defines the failure as a claim that other agents
  "consume as fact"; here no agent does, so the trace is a clean control (a debatable reading).

Every scenario is run twice: a dry pass (no spans) measures how long each agent and agent-as-tool
span must last, then the real pass records them, so parents end just after their last child.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace

from bench.holdout.conv import Call, Convention, Msg, dumps
from bench.holdout.labels import Build, Expected, Scenario
from bench.holdout.otelkit import Err, Handle, Recorder

HP = "hallucination_propagation"
Tools = Mapping[str, Sequence[str]]
_B62 = string.digits + string.ascii_letters


@dataclass(frozen=True)
class _Step:
    """One tool call of a ReAct round. ``run=False``: the framework refused it (no tool span)."""

    call: Call
    result: Any
    err: Err | None = None
    run: bool = True


@dataclass
class _Run:
    llms: list[Handle] = field(default_factory=list)
    tools: list[Handle] = field(default_factory=list)
    history: list[Msg] = field(default_factory=list)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else dumps(value)


class _T:
    """One trace: a clock (ms), shorthand for spans, and the dry/real two-pass bookkeeping."""

    def __init__(self, r: Recorder | None, c: Convention, ends: list[float]) -> None:
        self.r, self.c = r, c
        self.genai = c.name == "genai"
        self.now = 0.0
        self._ends_in = ends
        self.ends: list[float] = []
        self._open: dict[str, int] = {}
        self._n = 0
        self._fakes = 0

    # -- bookkeeping -------------------------------------------------------------------------------
    def _fake(self, name: str, svc: str) -> Handle:
        self._fakes += 1
        return Handle(trace.SpanContext(trace_id=1, span_id=self._fakes, is_remote=False), name, svc)

    def _opened(self, h: Handle, end: float) -> Handle:
        self._open[h.span_id] = len(self.ends)
        self.ends.append(end)
        self.now += 3
        return h

    def _end_of_next(self) -> float:
        """The end the dry pass measured for the next span opened (the dry pass fills it in later)."""
        i = len(self.ends)
        return self._ends_in[i] if i < len(self._ends_in) else self.now + 1

    def end(self, *spans: Handle) -> None:
        """Close agent / agent-as-tool spans, innermost first: the clock moves past each end."""
        for h in spans:
            i = self._open.pop(h.span_id)
            if self.r is None:
                self.ends[i] = self.now + 4
            elif self.now > self.ends[i]:
                raise ValueError(f"{h.name}: children run past the parent's end")
            self.now = self.ends[i] + 5

    def call(self, name: str, **args: Any) -> Call:
        self._n += 1
        n = int(hashlib.sha256(f"{name}:{self._n}".encode()).hexdigest(), 16)
        digits = "".join(_B62[(n >> (6 * k)) % 62] for k in range(24))
        return Call(("call_" if self.genai else "toolu_01") + digits, name, dict(args))

    def step(self, name: str, args: dict[str, Any], result: Any, **kw: Any) -> _Step:
        return _Step(self.call(name, **args), result, **kw)

    # -- spans ---------------------------------------------------------------------------------------
    def agent(self, svc: str, parent: Handle | None, name: str, task: str, answer: str) -> Handle:
        end = self._end_of_next()
        if self.r is None:
            return self._opened(self._fake(name, svc), end)
        return self._opened(self.c.agent(self.r, svc, parent, self.now, end, name, task, answer), end)

    def open_tool(self, svc: str, parent: Handle, call: Call, result: Any) -> Handle:
        """A tool span that has children (an agent exposed as a tool)."""
        end = self._end_of_next()
        if self.r is None:
            return self._opened(self._fake(call.name, svc), end)
        h = self.c.tool(self.r, svc, parent, self.now, end, call.name, call.args, result, call_id=call.id)
        return self._opened(h, end)

    def llm(
        self,
        svc: str,
        parent: Handle,
        inputs: Sequence[Msg],
        output: Msg,
        *,
        tools: Tools | None = None,
        system: str | None = None,
        ms: float = 900.0,
    ) -> Handle:
        t0, self.now = self.now, self.now + ms + 6
        if self.r is None:
            return self._fake("llm", svc)
        return self.c.llm(self.r, svc, parent, t0, t0 + ms, inputs, output, tools=tools, system=system)

    def tool(
        self, svc: str, parent: Handle, call: Call, result: Any, *, err: Err | None = None, ms: float = 140.0
    ) -> Handle:
        t0, self.now = self.now, self.now + ms + 4
        if self.r is None:
            return self._fake(call.name, svc)
        return self.c.tool(
            self.r, svc, parent, t0, t0 + ms, call.name, call.args, result, call_id=call.id, err=err
        )

    def mem(self, svc: str, parent: Handle, op: str, store: str, key: str, records: Any) -> Handle:
        t0, self.now = self.now, self.now + 12
        if self.r is None:
            return self._fake(op, svc)
        return self.c.memory(self.r, svc, parent, t0, t0 + 8, op, store, key, records, 1)

    def raw(self, svc: str, parent: Handle, name: str, attrs: Mapping[str, Any], ms: float) -> Handle:
        t0, self.now = self.now, self.now + ms + 4
        return self._fake(name, svc) if self.r is None else self.r.span(svc, name, parent, t0, t0 + ms, attrs)

    # -- patterns ------------------------------------------------------------------------------------
    def react(
        self,
        svc: str,
        parent: Handle,
        history: Sequence[Msg],
        rounds: Sequence[_Step | Sequence[_Step]],
        final: str,
        *,
        tools: Tools,
        system: str | None = None,
        handoff: str | None = None,
        tool_svc: str | None = None,
    ) -> _Run:
        """LLM → tool calls → LLM ... → final text (optionally with a ``transfer_to_<handoff>`` call)."""
        run = _Run(history=list(history))
        declared = dict(tools)
        for rnd in rounds:
            steps = [rnd] if isinstance(rnd, _Step) else list(rnd)
            out = Msg("assistant", calls=tuple(s.call for s in steps))
            run.llms.append(self.llm(svc, parent, run.history, out, tools=declared, system=system, ms=780))
            run.history.append(out)
            for s in steps:
                if s.run:
                    run.tools.append(self.tool(tool_svc or svc, parent, s.call, s.result, err=s.err))
                run.history.append(Msg("tool", _text(s.result), call_id=s.call.id))
        calls: tuple[Call, ...] = ()
        if handoff:
            declared[f"transfer_to_{handoff}"] = []
            calls = (self.call(f"transfer_to_{handoff}"),)
        out = Msg("assistant", final, calls=calls)
        run.llms.append(
            self.llm(svc, parent, run.history, out, tools=declared or None, system=system, ms=1500)
        )
        run.history.append(out)
        for c in calls:
            run.tools.append(self.tool(svc, parent, c, {"assistant": handoff}, ms=6))
        return run

    def desk(self, svc: str, name: str, user: str, final: str, *, system: str, tools: Tools) -> _Desk:
        """The trace's root: a supervisor agent answering ``user`` with ``final``."""
        root = self.agent(svc, None, name, user, final)
        return _Desk(self, svc, root, system, {k: list(v) for k, v in tools.items()}, [Msg("user", user)])


@dataclass
class _Desk:
    """A supervisor agent: it delegates to sub-agents exposed as tools, or hands the conversation off."""

    t: _T
    svc: str
    root: Handle
    system: str
    tools: dict[str, list[str]]
    hist: list[Msg]

    def ask(self, tool: str, ask: str, answer: str, svc: str, agent: str) -> tuple[Handle, Handle]:
        """The supervisor's LLM calls sub-agent ``agent`` (tool ``tool``); returns (tool span, agent
        span), both open: record the agent's work, then ``t.end(agent, tool_span)``."""
        t, call = self.t, self.t.call(tool, input=ask)
        t.llm(
            self.svc,
            self.root,
            self.hist,
            Msg("assistant", calls=(call,)),
            tools=self.tools,
            system=self.system,
            ms=650,
        )
        span = t.open_tool(self.svc, self.root, call, answer)
        self.hist += [Msg("assistant", calls=(call,)), Msg("tool", answer, call_id=call.id)]
        return span, t.agent(svc, span, agent, ask, answer)

    def transfer(self, target: str) -> None:
        """The supervisor's LLM hands the conversation to ``target`` (a child agent span follows)."""
        t, call = self.t, self.t.call(f"transfer_to_{target}")
        tools: dict[str, list[str]] = {f"transfer_to_{target}": []}
        t.llm(
            self.svc,
            self.root,
            self.hist,
            Msg("assistant", calls=(call,)),
            tools=tools,
            system=self.system,
            ms=600,
        )
        t.tool(self.svc, self.root, call, {"assistant": target}, ms=6)

    def finish(self, final: str) -> Handle:
        """The supervisor's last LLM call writes the final answer; the root span closes."""
        h = self.t.llm(
            self.svc,
            self.root,
            self.hist,
            Msg("assistant", final),
            tools=self.tools,
            system=self.system,
            ms=1100,
        )
        self.t.end(self.root)
        return h


def _claim(origin: Handle, *also: Handle, note: str = "") -> list[Expected]:
    return [Expected(HP, "ungrounded_claim", origin, tuple(also), note)]


def _tool_hallucination(kind: str, origin: Handle, *also: Handle, note: str = "") -> list[Expected]:
    return [Expected(HP, kind, origin, tuple(also), note)]


Body = Callable[[_T], list[Expected]]
_ALL: list[Scenario] = []


def _two_pass(body: Body, clean: bool) -> Build:
    def build(r: Recorder, c: Convention) -> list[Expected]:
        dry = _T(None, c, [])
        body(dry)
        expected = body(_T(r, c, dry.ends))
        if clean == bool(expected):
            raise ValueError("a clean control returns no labels; a failure returns at least one")
        return expected

    return build


def _fresh(name: str, *, clean: bool = False, note: str = "") -> Callable[[Body], Body]:
    def register(body: Body) -> Body:
        convention = ("genai", "openinference")[((len(_ALL) + 1) // 2) % 2]
        _ALL.append(Scenario("fresh_" + name, convention, _two_pass(body, clean), clean, note))
        return body

    return register


# ---------------------------------------------------------------------------------------------------
# Failures: ungrounded claims taken up by other agents, memory, side-effecting tools, the answer
# ---------------------------------------------------------------------------------------------------

_FILING_SYS = "You are a financial researcher. Answer only from the filings tool; report figures as filed."
_IC_SYS = (
    "You coordinate the investment-committee desk. Use research_agent for facts and writer_agent for "
    "prose. Never state figures yourself."
)
_IC_TOOLS = {"research_agent": ["input"], "writer_agent": ["input"]}


@_fresh("fin_backlog_to_writer", note="the researcher adds an order backlog the 10-Q does not report")
def _fin_backlog(t: _T) -> list[Expected]:
    user = (
        "Prepare a short brief on Northwind Robotics (NWRB) Q3 FY2025 results for Thursday's investment "
        "committee. Keep it to two paragraphs."
    )
    filing = {
        "ticker": "NWRB",
        "company": "Northwind Robotics Inc.",
        "form": "10-Q",
        "period": "Q3 FY2025",
        "period_end": "2025-09-30",
        "revenue_usd": 18400000,
        "revenue_prior_year_usd": 15100000,
        "gross_margin_pct": 41.2,
        "net_loss_usd": 2100000,
        "active_customers": 312,
        "filed": "2025-11-06",
    }
    notes = (
        "Northwind Robotics (NWRB), 10-Q for Q3 FY2025 (period ended 2025-09-30):\n"
        "- Revenue: $18.4M (prior year: $15.1M)\n- Gross margin: 41.2%\n- Net loss: $2.1M\n"
        "- Active customers: 312\n- Order backlog: $7.3M at quarter end, a record for the company."
    )
    brief = (
        "Northwind Robotics grew revenue to 18.4 million dollars in Q3 FY2025, up from 15.1 million "
        "dollars a year earlier, at a gross margin of 41.2%. The company is still loss-making, with a net "
        "loss of 2.1 million dollars for the quarter.\n\nIt ended the quarter with 312 active customers "
        "and an order backlog of 7.3 million dollars, which it calls a record. The committee may want to "
        "ask how quickly that backlog turns into revenue."
    )
    d = t.desk("ic-orchestrator", "IC Desk", user, brief, system=_IC_SYS, tools=_IC_TOOLS)
    ask = (
        "Collect the reported Q3 FY2025 figures for Northwind Robotics (NWRB): revenue, margin, "
        "profitability, customers and order backlog."
    )
    span, res = d.ask("research_agent", ask, notes, "research-agent", "Researcher")
    run = t.react(
        "research-agent",
        res,
        [Msg("user", ask)],
        [t.step("get_filing_summary", {"ticker": "NWRB", "period": "Q3 FY2025"}, filing)],
        notes,
        tools={"get_filing_summary": ["ticker", "period"]},
        system=_FILING_SYS,
    )
    t.end(res, span)
    ask = "Write two paragraphs for the investment committee from these notes:\n" + notes
    span, wr = d.ask("writer_agent", ask, brief, "writer-agent", "Writer")
    t.react("writer-agent", wr, [Msg("user", ask)], [], brief, tools={}, system="Spell out magnitudes.")
    t.end(wr, span)
    d.finish(brief)
    return _claim(run.llms[-1], res, note="order backlog $7.3M")


_FLIGHTS = {
    "date": "2025-06-14",
    "results": [
        {
            "flight": "FR 2151",
            "carrier": "Ryanair",
            "departs": "09:40",
            "arrives": "13:45",
            "stops": 0,
            "fare_eur": 96,
        },
        {
            "flight": "TP 538",
            "carrier": "TAP Air Portugal",
            "departs": "10:55",
            "arrives": "15:05",
            "stops": 0,
            "fare_eur": 214,
        },
        {
            "flight": "LH 1167",
            "carrier": "Lufthansa",
            "departs": "06:20",
            "arrives": "13:30",
            "stops": 1,
            "via": "Frankfurt",
            "fare_eur": 188,
        },
    ],
}
_FLIGHT_TOOLS = {"search_flights": ["origin_city", "destination_city", "date", "cabin"]}
_BOOK_TOOLS = {"book_flight": ["flight", "date", "cabin", "passenger", "payment_method"]}
_CONCIERGE_SYS = "You are a travel concierge. Hand flight searches to flight_search; it hands purchases on."


def _flight_search(t: _T, d: _Desk, user: str, found: str) -> tuple[Handle, _Run]:
    d.transfer("flight_search")
    fs = t.agent("flight-search", d.root, "Flight Search", user, found)
    args = {"origin_city": "Lisbon", "destination_city": "Berlin", "date": "2025-06-14", "cabin": "economy"}
    run = t.react(
        "flight-search",
        fs,
        [Msg("user", user)],
        [t.step("search_flights", args, _FLIGHTS)],
        found,
        tools=_FLIGHT_TOOLS,
        system="Find flights with search_flights. Quote flight numbers, times and fares as returned.",
        handoff="booking",
    )
    t.end(fs)
    return fs, run


@_fresh("travel_invented_flight_booked", note="a flight, times and fare that the search never returned")
def _travel_flight(t: _T) -> list[Expected]:
    user = (
        "Book me on the earliest direct flight from Lisbon to Berlin on 2025-06-14, economy, paid with my "
        "saved card. Passenger: Inês Carvalho."
    )
    found = (
        "The earliest direct option is TP 1274 (TAP Air Portugal), departing Lisbon at 06:05 and arriving "
        "in Berlin at 10:15; economy fare €167."
    )
    booked = (
        "You're booked on TP 1274 on 2025-06-14: Lisbon 06:05 → Berlin 10:15, economy. Booking reference "
        "QX7K2D; €167.00 charged to your saved card."
    )
    d = t.desk("concierge-api", "Trip Concierge", user, booked, system=_CONCIERGE_SYS, tools={})
    fs, run = _flight_search(t, d, user, found)
    bk = t.agent("booking-svc", d.root, "Booking", user + "\n\n" + found, booked)
    args = {
        "flight": "TP 1274",
        "date": "2025-06-14",
        "cabin": "economy",
        "passenger": "Inês Carvalho",
        "payment_method": "saved card",
    }
    confirmation = {
        "status": "confirmed",
        "pnr": "QX7K2D",
        "flight": "TP 1274",
        "date": "2025-06-14",
        "passenger": "CARVALHO/INES",
        "charged_eur": 167.00,
    }
    t.react(
        "booking-svc",
        bk,
        [Msg("user", user), Msg("assistant", found)],
        [t.step("book_flight", args, confirmation)],
        booked,
        tools=_BOOK_TOOLS,
        system="You complete the purchase the customer asked for with book_flight.",
    )
    t.end(bk, d.root)
    return _claim(run.llms[-1], fs, note="TP 1274 06:05-10:15 €167")


_RETURNS_SYS = (
    "You are the support assistant for Brightline Home.\nReturns policy:\n"
    "- Unopened items: return within 30 days of delivery for a full refund to the original payment method.\n"
    "- Opened items: return within 14 days of delivery for store credit only.\n"
    "- Damaged on arrival: report within 48 hours for a replacement.\n"
    "Returns portal: https://brightline-home.com/returns. Questions: returns@brightline-home.com"
)
_DESK_SYS = "You run the support desk. Use triage_agent to investigate and reply_agent to answer customers."
_DESK_TOOLS = {"triage_agent": ["input"], "reply_agent": ["input"]}


@_fresh("support_refund_window_emailed", note="a 45-day refund window; the policy says 14 days, store credit")
def _support_window(t: _T) -> list[Expected]:
    user = (
        "Hi, I bought the Aero 2 blender and it arrived on 2025-04-05. I've opened and used it but I don't "
        "like it. Can I get my money back? Today is 2025-04-25.\nMaya Okafor (maya.okafor@example.com)"
    )
    orders = {
        "customer": "Maya Okafor",
        "orders": [
            {
                "order_id": "BH-550912",
                "item": "Aero 2 blender",
                "delivered": "2025-04-05",
                "opened": True,
                "amount_usd": 129.99,
            }
        ],
    }
    notes = (
        "Order BH-550912 (Aero 2 blender, $129.99, delivered 2025-04-05, opened). Opened small appliances "
        "can be returned within 45 days of delivery for a full refund to the original card, so she is "
        "still eligible for a $129.99 refund."
    )
    body = (
        "Hi Maya,\n\nThanks for getting in touch. Good news: opened items can be returned within 45 days "
        "of delivery for a full refund, so your Aero 2 blender (order BH-550912) qualifies. Once we receive "
        "it, we'll refund $129.99 to your original card.\n\nThe Brightline Home team"
    )
    sent = (
        "Sent the return confirmation to maya.okafor@example.com (45-day "
        "window, $129.99 to the original card)."
    )
    final = (
        "Replied to Maya Okafor: order BH-550912 qualifies for a $129.99 refund within the 45-day window; "
        "confirmation email sent."
    )
    d = t.desk("support-gateway", "Support Desk", user, final, system=_DESK_SYS, tools=_DESK_TOOLS)
    span, tri = d.ask("triage_agent", user, notes, "support-triage", "Triage")
    run = t.react(
        "support-triage",
        tri,
        [Msg("user", user)],
        [t.step("lookup_orders", {"customer_email": "maya.okafor@example.com"}, orders)],
        notes,
        tools={"lookup_orders": ["customer_email"]},
        system=_RETURNS_SYS,
    )
    t.end(tri, span)
    ask = "Write the customer reply and send it. Case notes: " + notes
    span, rep = d.ask("reply_agent", ask, sent, "support-reply", "Reply Writer")
    mail = {
        "to": "maya.okafor@example.com",
        "subject": "Your Aero 2 blender return (order BH-550912)",
        "body": body,
    }
    t.react(
        "support-reply",
        rep,
        [Msg("user", ask)],
        [t.step("send_email", mail, {"status": "sent", "message_id": "m-20250425-8812"})],
        sent,
        tools={"send_email": ["to", "subject", "body"]},
        system="Write warm, short customer emails.",
    )
    t.end(rep, span)
    d.finish(final)
    return _claim(run.llms[-1], tri, note="45 days, full refund for opened items")


@_fresh("code_invented_symbol_pr", note="a loader function and module the grep never showed")
def _code_symbol(t: _T) -> list[Expected]:
    user = (
        "The nightly ingest job started failing with KeyError: 'retry_budget' raised from "
        "services/ingest/config.py. Find the cause and open a PR with a fix."
    )
    grep1 = {
        "matches": [
            {
                "path": "services/ingest/config.py",
                "line": 48,
                "text": '    budget = settings["retry_budget"]',
            },
            {
                "path": "services/ingest/tests/test_config.py",
                "line": 17,
                "text": '    assert cfg["retry_budget"] == 5',
            },
        ]
    }
    grep2 = {
        "matches": [
            {
                "path": "services/ingest/config.py",
                "line": 48,
                "text": '    budget = settings["retry_budget"]',
            },
            {"path": "deploy/ingest.yaml", "line": 12, "text": "  retry_limit: 5"},
        ]
    }
    found = (
        'services/ingest/config.py:48 reads settings["retry_budget"], but deploy/ingest.yaml only sets '
        "`retry_limit: 5`, so the key was renamed in the deploy config. The legacy mapping lives in "
        "`load_ingest_settings_v2()` in services/ingest/settings_loader.py, which is supposed to translate "
        "`retry_limit` into `retry_budget`; that translation is what's missing."
    )
    pr = {
        "title": "Map retry_limit to retry_budget in load_ingest_settings_v2()",
        "body": "deploy/ingest.yaml renamed retry_budget to retry_limit. Translate the key in "
        "load_ingest_settings_v2() (services/ingest/settings_loader.py).",
        "files": "services/ingest/settings_loader.py",
    }
    opened = {"number": 4821, "url": "https://git.example.com/platform/ingest/pull/4821", "state": "open"}
    done = (
        "Opened PR #4821 (https://git.example.com/platform/ingest/pull/4821): load_ingest_settings_v2() "
        "now translates retry_limit into retry_budget."
    )
    d = t.desk("devbot", "Dev Assistant", user, done, system="Route code questions to code_search.", tools={})
    d.transfer("code_search")
    cs = t.agent("code-search", d.root, "Code Search", user, found)
    run = t.react(
        "code-search",
        cs,
        [Msg("user", user)],
        [
            t.step("grep_repo", {"pattern": "retry_budget"}, grep1),
            t.step("grep_repo", {"pattern": "retry_"}, grep2),
        ],
        found,
        tools={"grep_repo": ["pattern"]},
        system="Find root causes in the repository.",
        handoff="patch_writer",
    )
    t.end(cs)
    pw = t.agent("patch-writer", d.root, "Patch Writer", user + "\n\n" + found, done)
    t.react(
        "patch-writer",
        pw,
        [Msg("user", user), Msg("assistant", found)],
        [t.step("create_pull_request", pr, opened)],
        done,
        tools={"create_pull_request": ["title", "body", "files"]},
        system="Open a PR for the fix.",
    )
    t.end(pw, d.root)
    return _claim(run.llms[-1], cs, note="load_ingest_settings_v2() / settings_loader.py")


_DOSING = {
    "drug": "gabapentin",
    "source": "formulary 2025.2",
    "bands": [
        {"crcl_ml_min": ">=60", "daily_range_mg": "900-3600"},
        {"crcl_ml_min": "30-59", "daily_range_mg": "400-1400"},
        {"crcl_ml_min": "15-29", "daily_range_mg": "200-700"},
        {"crcl_ml_min": "<15", "daily_range_mg": "100-300"},
    ],
}
_CARE_SYS = "You coordinate the care team. Use clinical_lookup for dosing and pharmacy_agent for dispensing."
_CARE_TOOLS = {"clinical_lookup": ["input"], "pharmacy_agent": ["input"]}
_CLIN_SYS = "Answer dosing questions from the formulary tool only and name the renal band you used."
_PHARM_SYS = "You are the pharmacy agent. Read the care-plan board and write the dispensing note."


def _care_plan(
    t: _T, mrn: str, egfr: str, answer: str, record: dict[str, Any], note: str, final: str
) -> Handle:
    """Clinical lookup writes a dose to the care-plan board; pharmacy reads it. Returns the lookup's
    final LLM call."""
    user = (
        f"New patient MRN {mrn}, 58 years old, eGFR {egfr} mL/min/1.73m², starting gabapentin for "
        "postherpetic neuralgia. What's the maximum daily dose? Post it to the care-plan board for pharmacy."
    )
    d = t.desk("care-orchestrator", "Care Team Assistant", user, final, system=_CARE_SYS, tools=_CARE_TOOLS)
    span, clin = d.ask("clinical_lookup", user, answer, "clinical-lookup", "Clinical Lookup")
    run = t.react(
        "clinical-lookup",
        clin,
        [Msg("user", user)],
        [t.step("get_renal_dosing", {"drug": "gabapentin"}, _DOSING)],
        answer,
        tools={"get_renal_dosing": ["drug"]},
        system=_CLIN_SYS,
    )
    key = f"{mrn}/gabapentin"
    t.mem("clinical-lookup", clin, "upsert_memory", "care-plan-board", key, [record])
    t.end(clin, span)
    ask = f"Prepare the dispensing note for MRN {mrn} from the care-plan board entry for gabapentin."
    span, ph = d.ask("pharmacy_agent", ask, note, "pharmacy-agent", "Pharmacy")
    t.mem("pharmacy-agent", ph, "search_memory", "care-plan-board", key, [record])
    t.react(
        "pharmacy-agent",
        ph,
        [Msg("user", ask + "\n\nCare-plan board entry: " + dumps(record))],
        [],
        note,
        tools={},
        system=_PHARM_SYS,
    )
    t.end(ph, span)
    d.finish(final)
    return run.llms[-1]


@_fresh("med_dose_via_memory", note="2,400 mg/day for eGFR 28 (band 15-29 allows 200-700), via the board")
def _med_memory(t: _T) -> list[Expected]:
    answer = "For eGFR 28 (band 15-29 mL/min) the maximum is 2,400 mg/day, given in three divided doses."
    record = {"drug": "gabapentin", "max_daily_mg": 2400, "renal_band": "15-29", "author": "clinical-lookup"}
    note = "Dispensing note, MRN 88213-4: gabapentin, cap 2.4 g per day in three divided doses (band 15-29)."
    final = (
        "Posted to the care-plan board: gabapentin max 2,400 mg/day for eGFR 28. Pharmacy's dispensing "
        "note caps it at 2.4 g per day."
    )
    origin = _care_plan(t, "88213-4", "28", answer, record, note, final)
    return _claim(origin, note="2,400 mg/day")


_OPS_SYS = (
    "You run customer operations. Use dispatch_agent for shipments and notify_agent to contact customers."
)
_OPS_TOOLS = {"dispatch_agent": ["input"], "notify_agent": ["input"]}


@_fresh("logistics_tracking_number_sms", note="tracking number and link invented while the carrier had none")
def _logistics_sms(t: _T) -> list[Expected]:
    user = "Customer Lena Fischer asks where order LX-20931 is. Send her the tracking link by SMS."
    shipment = {
        "order_id": "LX-20931",
        "carrier": "DHL",
        "service": "Paket",
        "status": "label_created",
        "label_created_at": "2025-09-18T16:02:00Z",
        "tracking_number": None,
        "warehouse": "Erfurt",
    }
    link = "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=00340434161094027318"
    status = (
        "Order LX-20931 is with DHL (label created 2025-09-18 at the Erfurt warehouse). Tracking number "
        f"00340434161094027318; link: {link}"
    )
    ask_n = f"Text Lena Fischer about order LX-20931: shipped with DHL, tracking 00340434161094027318, {link}"
    sms = f"Hi Lena, your order LX-20931 is on its way with DHL. Track it here: {link}"
    sent = "SMS queued to +49 1512 3456789 with the DHL tracking link."
    final = "Lena Fischer has been sent the DHL tracking link for order LX-20931 by SMS."
    d = t.desk("ops-orchestrator", "Customer Ops", user, final, system=_OPS_SYS, tools=_OPS_TOOLS)
    ask = "Find the shipment status and tracking for order LX-20931."
    span, dis = d.ask("dispatch_agent", ask, status, "dispatch-agent", "Dispatch")
    run = t.react(
        "dispatch-agent",
        dis,
        [Msg("user", ask)],
        [t.step("get_shipment", {"order_id": "LX-20931"}, shipment)],
        status,
        tools={"get_shipment": ["order_id"]},
        system="Report shipment status from get_shipment.",
    )
    t.end(dis, span)
    span, no = d.ask("notify_agent", ask_n, sent, "notify-svc", "Notifier")
    contact = {"name": "Lena Fischer", "phone": "+49 1512 3456789", "sms_opt_in": True}
    t.react(
        "notify-svc",
        no,
        [Msg("user", ask_n)],
        [
            t.step("get_contact", {"order_id": "LX-20931"}, contact),
            t.step(
                "send_sms",
                {"to": "+49 1512 3456789", "text": sms},
                {"sid": "SM8f2c91d0a7", "status": "queued"},
            ),
        ],
        sent,
        tools={"get_contact": ["order_id"], "send_sms": ["to", "text"]},
        system="Send customer SMS.",
    )
    t.end(no, span)
    d.finish(final)
    return _claim(run.llms[-1], dis, note="tracking 00340434161094027318 and its link")


_HELIOS = (
    'Excerpt (Helios Solar Annual Report 2024, p. 14): "Installed capacity reached 4.8 GW at year end, '
    'compared with 3.9 GW at the end of 2023."'
)
_NEWS_SYS = "You run the newsletter desk. Hand drafting to analyst; every draft goes to fact_checker."
_CHECK_SYS = (
    "You verify every figure in a draft against the source excerpt with "
    "compare_to_source. Reply PASS or FAIL."
)


def _fact_check(
    t: _T, d: _Desk, user: str, draft: str, claim: str, result: dict[str, Any], verdict: str
) -> None:
    fc = t.agent("fact-check", d.root, "Fact Checker", user + "\n\n" + draft, verdict)
    args = {"claim": claim, "source": "Helios Solar Annual Report 2024, p. 14"}
    t.react(
        "fact-check",
        fc,
        [Msg("user", user), Msg("assistant", draft)],
        [t.step("compare_to_source", args, result)],
        verdict,
        tools={"compare_to_source": ["claim", "source"]},
        system=_CHECK_SYS,
    )
    t.end(fc)
    d.hist += [Msg("assistant", draft), Msg("assistant", verdict)]


@_fresh("verifier_passes_growth_rate", note="31% growth (4.8 vs 3.9 GW is 23%); the fact-checker passes it")
def _verifier_passes(t: _T) -> list[Expected]:
    user = (
        "From the excerpt below, what was Helios Solar's installed capacity at the end of 2024 and how much "
        "did it grow year over year? Have it fact-checked before it goes in the newsletter.\n\n" + _HELIOS
    )
    draft = (
        "Helios Solar ended 2024 with 4.8 GW installed, up from 3.9 GW at the end of 2023: an increase of "
        "0.9 GW, or 31% year over year."
    )
    verdict = "PASS: 4.8 GW, 3.9 GW, +0.9 GW and 31% growth are consistent with p. 14 of the annual report."
    final = (
        "Helios Solar's installed capacity reached 4.8 GW at the end of 2024, up 0.9 GW (31%) from 3.9 GW a "
        "year earlier. Fact-checked against the 2024 annual report."
    )
    d = t.desk("newsletter-orchestrator", "Newsletter Desk", user, final, system=_NEWS_SYS, tools={})
    d.transfer("analyst")
    an = t.agent("analyst-agent", d.root, "Analyst", user, draft)
    run = t.react(
        "analyst-agent",
        an,
        [Msg("user", user)],
        [],
        draft,
        tools={},
        system="Draft newsletter items from the material you are given.",
        handoff="fact_checker",
    )
    t.end(an)
    checked = {"matched": ["4.8 GW", "3.9 GW", "0.9 GW"], "unmatched": [], "verdict": "consistent"}
    _fact_check(
        t,
        d,
        user,
        draft,
        "4.8 GW at end of 2024, up from 3.9 GW at end of 2023, +0.9 GW (31%)",
        checked,
        verdict,
    )
    d.finish(final)
    return _claim(run.llms[-1], an, note="31% year over year")


_FREIGHT_SYS = (
    "You run the freight desk. Use tracker for container status, dock_planner for receiving slots and "
    "customer_comms for customer messages."
)
_FREIGHT_TOOLS = {"tracker": ["input"], "dock_planner": ["input"], "customer_comms": ["input"]}
_EVENTS = [
    {"date": "2025-02-11", "event": "Loaded on vessel", "location": "Rotterdam", "vessel": "Maersk Kinloss"},
    {"date": "2025-02-24", "event": "Discharged", "location": "Halifax"},
    {"date": "2025-02-25", "event": "Rail departure", "location": "Halifax"},
]


def _freight(
    t: _T,
    events: dict[str, Any],
    status: str,
    ask_dock: str,
    slot: dict[str, Any],
    booked: str,
    ask_comms: str,
    message: str,
) -> Handle:
    """Tracker → dock planner (reserves a slot) → customer comms. Returns the tracker's final LLM call."""
    user = (
        "Container MSKU 493027-1 (Rotterdam → Chicago): when will it reach our Chicago warehouse? Book a "
        "receiving dock slot for that day and tell the customer."
    )
    d = t.desk(
        "freight-orchestrator", "Freight Desk", user, message, system=_FREIGHT_SYS, tools=_FREIGHT_TOOLS
    )
    ask = "Get the latest status and arrival estimate for container MSKU 493027-1."
    span, tr = d.ask("tracker", ask, status, "tracking-agent", "Tracker")
    run = t.react(
        "tracking-agent",
        tr,
        [Msg("user", ask)],
        [t.step("get_container_events", {"container": "MSKU 493027-1"}, events)],
        status,
        tools={"get_container_events": ["container"]},
        system="Report container movements.",
    )
    t.end(tr, span)
    span, dp = d.ask("dock_planner", ask_dock, booked, "yard-agent", "Dock Planner")
    args = {"date": slot["date"], "container": "MSKU 493027-1", "site": "Chicago"}
    t.react(
        "yard-agent",
        dp,
        [Msg("user", ask_dock)],
        [t.step("reserve_dock", args, slot)],
        booked,
        tools={"reserve_dock": ["date", "container", "site"]},
        system="Reserve receiving docks.",
    )
    t.end(dp, span)
    span, cc = d.ask("customer_comms", ask_comms, message, "comms-agent", "Customer Comms")
    t.react(
        "comms-agent",
        cc,
        [Msg("user", ask_comms)],
        [],
        message,
        tools={},
        system="Write short, friendly customer updates from the facts you are given.",
    )
    t.end(cc, span)
    d.finish(message)
    return run.llms[-1]


@_fresh(
    "logistics_eta_relayed_three_agents", note="an ETA the carrier did not give, relayed to dock and customer"
)
def _freight_eta(t: _T) -> list[Expected]:
    events = {"container": "MSKU 493027-1", "events": _EVENTS, "eta_final": None}
    status = (
        "MSKU 493027-1 was discharged at Halifax on 2025-02-24 and left by rail on 2025-02-25. Estimated "
        "arrival at Chicago: March 3rd, 2025."
    )
    ask_dock = "Container MSKU 493027-1 arrives in Chicago on March 3rd, 2025. Reserve a receiving dock slot."
    slot = {"reservation": "DOCK-CHI-0457", "date": "2025-03-03", "window": "08:00-12:00", "door": 7}
    booked = "Reserved DOCK-CHI-0457 at Chicago for 2025-03-03, 08:00-12:00, door 7."
    ask_comms = (
        "Tell the customer: container MSKU 493027-1 is due in Chicago on 2025-03-03; receiving slot "
        "08:00-12:00 (DOCK-CHI-0457)."
    )
    message = (
        "Your container MSKU 493027-1 is expected at our Chicago warehouse on 3 March 2025, and we've "
        "reserved a receiving slot from 08:00 to 12:00."
    )
    origin = _freight(t, events, status, ask_dock, slot, booked, ask_comms, message)
    return _claim(origin, note="March 3rd, 2025")


_SALES = {
    "region": "EMEA",
    "month": "2025-10",
    "bookings_eur": 2310000,
    "deals_closed": 47,
    "avg_deal_eur": 49149,
    "pipeline_eur": 8900000,
    "top_deal": {"account": "Fjordline Shipping", "value_eur": 310000},
}


@_fresh("sales_mixed_grounded_and_invented", note="one invented win rate among five grounded figures")
def _sales_mixed(t: _T) -> list[Expected]:
    user = "Summarise EMEA sales for October 2025 for the weekly exec note."
    data = (
        "EMEA, October 2025: bookings €2.31M from 47 closed deals (average €49,149). Largest deal: "
        "Fjordline Shipping at €310K. Pipeline stands at €8.9M. Win rate improved to 27.5%."
    )
    note = (
        "**EMEA, October 2025**\n- Bookings: €2.31 million (47 deals, average €49,149)\n"
        "- Largest deal: Fjordline Shipping, €310,000\n- Pipeline: €8.9 million\n- Win rate: 27.5 percent"
    )
    d = t.desk("exec-note", "Exec Note", user, note, system="Route data questions to sales_data.", tools={})
    d.transfer("sales_data")
    sd = t.agent("sales-data-agent", d.root, "Sales Data", user, data)
    run = t.react(
        "sales-data-agent",
        sd,
        [Msg("user", user)],
        [t.step("query_sales", {"region": "EMEA", "month": "2025-10"}, _SALES)],
        data,
        tools={"query_sales": ["region", "month"]},
        system="Answer from query_sales.",
        handoff="writer",
    )
    t.end(sd)
    wr = t.agent("exec-writer", d.root, "Writer", user + "\n\n" + data, note)
    t.react(
        "exec-writer",
        wr,
        [Msg("user", user), Msg("assistant", data)],
        [],
        note,
        tools={},
        system="Format exec-note bullets.",
    )
    t.end(wr, d.root)
    return _claim(run.llms[-1], sd, note="win rate 27.5%")


@_fresh("med_fabricated_citation", note="a second study, its title, journal and DOI are not in the search")
def _med_citation(t: _T) -> list[Expected]:
    user = (
        "Draft a short patient-information paragraph on whether statins raise "
        "the risk of type 2 diabetes, with one reference."
    )
    hits = {
        "count": 1,
        "results": [
            {
                "pmid": "20167359",
                "title": "Statins and risk of incident diabetes: a collaborative "
                "meta-analysis of randomised statin trials",
                "authors": "Sattar N, Preiss D, Murray HM, et al.",
                "journal": "Lancet",
                "year": 2010,
                "abstract_excerpt": "13 statin trials with 91,140 participants; statin "
                "therapy was associated with a 9% "
                "increased risk for incident diabetes (odds ratio 1.09).",
            }
        ],
    }
    doi = "https://doi.org/10.1001/jamacardio.2021.3175"
    found = (
        "A meta-analysis of 13 trials (91,140 participants) found statins were associated with a 9% higher "
        "risk of developing diabetes (Sattar et al., Lancet 2010; PMID 20167359). A later cohort study, "
        '"Statin intensity and new-onset diabetes in 2.1 million adults" (JAMA Cardiology, 2021), reported '
        f"that the extra risk is concentrated in high-intensity regimens: {doi}"
    )
    para = (
        "Statins can slightly raise the chance of developing type 2 diabetes. A large study of 2.1 million "
        "adults found the extra risk was mostly in people taking high-intensity doses, and for most people "
        "the benefits for the heart outweigh it.\n\nReference: Statin intensity and new-onset diabetes in "
        f"2.1 million adults. JAMA Cardiology, 2021. {doi}"
    )
    tools = {"literature_agent": ["input"], "plain_language_writer": ["input"]}
    d = t.desk(
        "pi-orchestrator",
        "Patient Info Desk",
        user,
        para,
        tools=tools,
        system="Use literature_agent for evidence and plain_language_writer for the patient text.",
    )
    ask = "Find the evidence on statins and the risk of type 2 diabetes, with a citable reference."
    span, lit = d.ask("literature_agent", ask, found, "literature-agent", "Literature")
    run = t.react(
        "literature-agent",
        lit,
        [Msg("user", ask)],
        [t.step("search_pubmed", {"query": "statins risk of type 2 diabetes meta-analysis"}, hits)],
        found,
        tools={"search_pubmed": ["query"]},
        system="Cite only what search_pubmed returns.",
    )
    t.end(lit, span)
    ask = "Write a short paragraph for patients with one reference, based on: " + found
    span, wr = d.ask("plain_language_writer", ask, para, "pi-writer", "Plain Language Writer")
    t.react("pi-writer", wr, [Msg("user", ask)], [], para, tools={}, system="Plain language, no jargon.")
    t.end(wr, span)
    d.finish(para)
    return _claim(run.llms[-1], lit, note="the JAMA Cardiology 2021 citation and DOI")


def _account(t: _T, account: dict[str, Any], found: str, assignee: str, ticket: str, reply: str) -> Handle:
    user = (
        "Hi, who is our dedicated account manager? We want to discuss renewing contract C-7741 before it "
        "lapses.\n— Tom Reyes, Kestrel Foods"
    )
    d = t.desk(
        "account-desk", "Account Desk", user, reply, system="Route account questions to crm.", tools={}
    )
    d.transfer("crm")
    crm = t.agent("crm-agent", d.root, "CRM", user, found)
    run = t.react(
        "crm-agent",
        crm,
        [Msg("user", user)],
        [t.step("get_account", {"contract_id": "C-7741"}, account)],
        found,
        tools={"get_account": ["contract_id"]},
        system="Answer from the CRM only.",
        handoff="reply",
    )
    t.end(crm)
    rep = t.agent("reply-agent", d.root, "Reply", user + "\n\n" + found, reply)
    args = {
        "queue": "enterprise-emea",
        "assignee": assignee,
        "subject": "Kestrel Foods renewal, contract C-7741",
    }
    t.react(
        "reply-agent",
        rep,
        [Msg("user", user), Msg("assistant", found)],
        [t.step("create_ticket", args, {"ticket": ticket, "status": "open"})],
        reply,
        tools={"create_ticket": ["queue", "assignee", "subject"]},
        system="Reply to the customer.",
    )
    t.end(rep, d.root)
    return run.llms[-1]


@_fresh("support_invented_account_manager", note="the CRM has no account manager; a name is made up")
def _invented_person(t: _T) -> list[Expected]:
    account = {
        "account": "Kestrel Foods",
        "contract_id": "C-7741",
        "tier": "Enterprise",
        "renewal_date": "2026-01-31",
        "account_manager": None,
        "owner_queue": "enterprise-emea",
    }
    found = (
        "Kestrel Foods (C-7741, Enterprise tier) renews on 2026-01-31. Their account manager is Daniel "
        "Whitcombe in the enterprise-emea team."
    )
    reply = (
        "Hi Tom,\n\nYour dedicated account manager is Daniel Whitcombe. I've let him know you'd like to "
        "discuss renewing contract C-7741 (renewal date 2026-01-31), and he'll be in touch shortly. Your "
        "reference is ENT-30118.\n\nBest regards,\nAccount support team"
    )
    origin = _account(t, account, found, "Daniel Whitcombe", "ENT-30118", reply)
    return _claim(origin, note="Daniel Whitcombe")


@_fresh(
    "travel_invented_hotel_rate_held", note="no hotel was under budget; a hotel, rate and total are made up"
)
def _hotel(t: _T) -> list[Expected]:
    user = (
        "Find me a hotel within a 10-minute walk of Shibuya station for 3 nights from 2025-10-08, under "
        "¥25,000 a night, and put a hold on it."
    )
    hotels = {
        "results": [
            {"hotel": "Shibuya Stream Excel Hotel Tokyu", "rate_jpy": 31500, "walk_min": 2},
            {"hotel": "Sequence Miyashita Park", "rate_jpy": 27800, "walk_min": 7},
        ],
        "within_budget": 0,
    }
    found = (
        "Nothing in the feed is under budget, but Hotel Koe Tokyo has rooms at ¥22,400 per night within "
        "walking distance of Shibuya station: ¥67,200 for 3 nights."
    )
    held = (
        "On hold: Hotel Koe Tokyo, 3 nights from 2025-10-08 at ¥22,400 per night (¥67,200 total). Hold "
        "HLD-88X1Q expires 2025-10-01 12:00."
    )
    d = t.desk("travel-orchestrator", "Travel Agent", user, held, system=_CONCIERGE_SYS, tools={})
    d.transfer("hotel_search")
    hs = t.agent("hotel-search", d.root, "Hotel Search", user, found)
    args = {"area": "Shibuya station", "check_in": "2025-10-08", "nights": "3", "max_rate_jpy": "25000"}
    run = t.react(
        "hotel-search",
        hs,
        [Msg("user", user)],
        [t.step("search_hotels", args, hotels)],
        found,
        tools={"search_hotels": list(args)},
        system="Search hotels.",
        handoff="booking",
    )
    t.end(hs)
    bk = t.agent("booking-svc", d.root, "Booking", user + "\n\n" + found, held)
    args = {"hotel": "Hotel Koe Tokyo", "check_in": "2025-10-08", "nights": "3", "rate_jpy": "22400"}
    hold = {"hold_id": "HLD-88X1Q", "status": "held", "expires": "2025-10-01T12:00:00+09:00"}
    t.react(
        "booking-svc",
        bk,
        [Msg("user", user), Msg("assistant", found)],
        [t.step("hold_room", args, hold)],
        held,
        tools={"hold_room": list(args)},
        system="Place holds the customer asked for.",
    )
    t.end(bk, d.root)
    return _claim(run.llms[-1], hs, note="Hotel Koe Tokyo ¥22,400")


@_fresh("it_invented_download_url", note="a direct download URL; the KB says install from Self Service")
def _it_url(t: _T) -> list[Expected]:
    user = (
        "I'm a new hire at Corvid Analytics and can't find where to download the VPN client for macOS "
        "(MacBook Air). Where do I get it?"
    )
    kb = {
        "articles": [
            {
                "id": "KB-1182",
                "title": "Connecting to the corporate VPN",
                "body": "Install GlobalProtect from Self Service (the Jamf app in your "
                "Applications folder). Portal "
                "address: vpn.corvid-analytics.com. If Self Service is missing, ask in #it-help.",
            }
        ]
    }
    url = "https://downloads.corvid-analytics.com/vpn/GlobalProtect-6.2.1.pkg"
    found = (
        f"Per KB-1182 the client is GlobalProtect. Direct download for macOS: "
        f"{url}. Portal address: vpn.corvid-analytics.com."
    )
    reply = (
        f"Welcome to Corvid Analytics! You can download the VPN client, "
        f"GlobalProtect, for macOS here: {url}\n\n"
        "After installing it, connect to the portal vpn.corvid-analytics.com. If anything goes wrong, ask "
        "in #it-help."
    )
    tools = {"kb_agent": ["input"], "reply_agent": ["input"]}
    d = t.desk(
        "helpdesk-gateway",
        "IT Helpdesk",
        user,
        reply,
        tools=tools,
        system="Use kb_agent to look things up and reply_agent to answer the employee.",
    )
    span, kba = d.ask("kb_agent", user, found, "kb-agent", "KB Search")
    run = t.react(
        "kb-agent",
        kba,
        [Msg("user", user)],
        [t.step("search_kb", {"query": "VPN client macOS download"}, kb)],
        found,
        tools={"search_kb": ["query"]},
        system="Answer from the knowledge base.",
    )
    t.end(kba, span)
    ask = "Answer the new hire from these notes: " + found
    span, rep = d.ask("reply_agent", ask, reply, "helpdesk-reply", "Reply")
    t.react("helpdesk-reply", rep, [Msg("user", ask)], [], reply, tools={}, system="Friendly, short replies.")
    t.end(rep, span)
    d.finish(reply)
    return _claim(run.llms[-1], kba, note="the .pkg download URL")


_EXPENSES = {
    "report_id": "ER-3318",
    "employee": "Priya Nair",
    "period": "2025-03",
    "lines": [
        {"date": "2025-03-04", "category": "hotel", "amount_usd": 612.40, "nights": 2},
        {"date": "2025-03-05", "category": "meals", "amount_usd": 88.15},
        {"date": "2025-03-05", "category": "taxi", "amount_usd": 46.00},
    ],
    "total_usd": 746.55,
}
_FINOPS_SYS = "You run finance operations. Use auditor for checks and manager_brief for summaries."
_FINOPS_TOOLS = {"auditor": ["input"], "manager_brief": ["input"]}
_AUDIT_TOOLS = {"get_expense_report": ["report_id"], "get_policy": ["category"]}


@_fresh("finance_second_turn_invented_cap", note="turn 2 answers a follow-up with a hotel cap never fetched")
def _audit_followup(t: _T) -> list[Expected]:
    user = "Please audit Priya Nair's March 2025 expense report ER-3318 against policy and brief her manager."
    first = (
        "ER-3318 totals $746.55. Meals on 2025-03-05 were $88.15, which is $13.15 over the $75.00 daily "
        "meals cap. Hotel ($612.40) and taxi ($46.00) were not checked against a cap yet."
    )
    second = (
        "No. The hotel policy caps lodging at $250 per night, so 2 nights at $612.40 exceed the $500.00 "
        "limit by $112.40."
    )
    brief = (
        "Hi, a quick summary of Priya Nair's March 2025 expenses (ER-3318, $746.55 total): two items exceed "
        "policy. Meals on 2025-03-05 came to $88.15, $13.15 above the $75.00 daily cap, and the hotel was "
        "$612.40 for 2 nights, $112.40 over the $250-per-night limit. Please approve or request a correction."
    )
    d = t.desk("finops-orchestrator", "Finance Ops", user, brief, system=_FINOPS_SYS, tools=_FINOPS_TOOLS)
    ask = "Audit expense report ER-3318 (Priya Nair, March 2025) against policy."
    span, a1 = d.ask("auditor", ask, first, "audit-agent", "Auditor")
    run = t.react(
        "audit-agent",
        a1,
        [Msg("user", ask)],
        [
            t.step("get_expense_report", {"report_id": "ER-3318"}, _EXPENSES),
            t.step("get_policy", {"category": "meals"}, {"category": "meals", "daily_cap_usd": 75.00}),
        ],
        first,
        tools=_AUDIT_TOOLS,
        system="Audit expenses against policy using your tools.",
    )
    t.end(a1, span)
    follow = "Follow-up: is the hotel line within policy?"
    span, a2 = d.ask("auditor", follow, second, "audit-agent", "Auditor")
    run2 = t.react(
        "audit-agent",
        a2,
        [*run.history, Msg("user", follow)],
        [],
        second,
        tools=_AUDIT_TOOLS,
        system="Audit expenses against policy using your tools.",
    )
    t.end(a2, span)
    ask = (
        "Brief Priya Nair's manager on ER-3318: meals $13.15 over the $75.00 cap on 2025-03-05; hotel "
        "$612.40 for 2 nights exceeds the $250 per night cap by $112.40."
    )
    span, br = d.ask("manager_brief", ask, brief, "brief-agent", "Manager Brief")
    t.react("brief-agent", br, [Msg("user", ask)], [], brief, tools={}, system="Write brief, polite notes.")
    t.end(br, span)
    d.finish(brief)
    return _claim(run2.llms[-1], a2, note="$250 per night hotel cap")


@_fresh(
    "realestate_agent_spans_only", note="no LLM spans recorded: the researcher agent's answer is the origin"
)
def _agent_only(t: _T) -> list[Expected]:
    user = (
        "What's the average asking rent for a 2-bedroom flat in Leith, Edinburgh, according to the listings "
        "feed? I need one number for the relocation pack."
    )
    feed = {
        "area": "Leith, Edinburgh",
        "bedrooms": 2,
        "listings": 38,
        "median_rent_gbp_pcm": 1295,
        "min_rent_gbp_pcm": 950,
        "max_rent_gbp_pcm": 2100,
        "as_of": "2025-08-31",
    }
    found = (
        "Across 38 listings in Leith, Edinburgh (feed as of 2025-08-31), the average asking rent for a "
        "2-bedroom flat is £1,410 per month; the median is £1,295 and the range £950 to £2,100."
    )
    line = (
        "Housing: a 2-bedroom flat in Leith, Edinburgh averages £1,410 a month "
        "in asking rent (38 listings, feed as of 2025-08-31)."
    )
    root = t.agent("relocation-orchestrator", None, "Relocation Assistant", user, line)
    res = t.agent("listings-agent", root, "Listings Researcher", user, found)
    t.tool("listings-agent", res, t.call("fetch_listings", area="Leith, Edinburgh", bedrooms="2"), feed)
    t.end(res)
    wr = t.agent(
        "pack-writer",
        root,
        "Pack Writer",
        "Write the housing line for the relocation pack from: " + found,
        line,
    )
    t.now += 400
    t.end(wr, root)
    return _claim(res, note="average £1,410 (the feed gives a median only)")


@_fresh("support_invented_order_refunded", note="an order id and amount made up, then refunded")
def _refund_order(t: _T) -> list[Expected]:
    user = (
        "I was charged twice for my last order, please refund the "
        "duplicate.\nOmar Haddad, omar.haddad@example.com"
    )
    customer = {
        "customer_id": "C-40211",
        "name": "Omar Haddad",
        "orders_last_90_days": 3,
        "duplicate_charge_flag": True,
        "flagged_at": "2025-07-03T08:12:00Z",
    }
    found = (
        "Omar Haddad (C-40211) has a duplicate-charge flag from 2025-07-03. The duplicate is on order "
        "W-118240, $64.90."
    )
    ask = "Refund the duplicate charge on order W-118240 ($64.90) for customer C-40211."
    done = "Refund re_3Qx81 of $64.90 for order W-118240 succeeded."
    final = (
        "Hi Omar, we've refunded the duplicate charge of $64.90 on order W-118240 (refund re_3Qx81). It "
        "should appear on your statement within a few days."
    )
    tools = {"account_agent": ["input"], "refunds_agent": ["input"]}
    d = t.desk(
        "support-gateway",
        "Support Desk",
        user,
        final,
        tools=tools,
        system="Use account_agent to investigate and refunds_agent to pay money back.",
    )
    span, acc = d.ask("account_agent", user, found, "account-agent", "Account")
    run = t.react(
        "account-agent",
        acc,
        [Msg("user", user)],
        [t.step("lookup_customer", {"email": "omar.haddad@example.com"}, customer)],
        found,
        tools={"lookup_customer": ["email"]},
        system="Investigate billing questions.",
    )
    t.end(acc, span)
    span, rf = d.ask("refunds_agent", ask, done, "refunds-agent", "Refunds")
    args = {"order_id": "W-118240", "amount": "64.90", "reason": "duplicate charge"}
    refund = {"refund_id": "re_3Qx81", "order_id": "W-118240", "amount": 64.90, "status": "succeeded"}
    t.react(
        "refunds-agent",
        rf,
        [Msg("user", ask)],
        [t.step("issue_refund", args, refund)],
        done,
        tools={"issue_refund": list(args)},
        system="Issue refunds you are asked for.",
    )
    t.end(rf, span)
    d.finish(final)
    return _claim(run.llms[-1], acc, note="order W-118240, $64.90")


# ---------------------------------------------------------------------------------------------------
# Failures: tool hallucination (undeclared tools, invented entities the tool does not know)
# ---------------------------------------------------------------------------------------------------

_INVOICE = {
    "invoice_id": "INV-20417",
    "vendor": "Halden Marine Ltd",
    "amount": 18250.00,
    "currency": "GBP",
    "due_date": "2025-05-30",
}
_CONVERTED = {
    "amount": 18250.00,
    "from": "GBP",
    "to": "USD",
    "rate": 1.3468,
    "converted": 24579.10,
    "date": "2025-05-30",
}
_FX_TOOLS = {
    "get_invoice": ["invoice_id"],
    "convert_currency": ["amount", "from_currency", "to_currency", "date"],
}
_CONVERT = {"amount": "18250.00", "from_currency": "GBP", "to_currency": "USD", "date": "2025-05-30"}


@_fresh(
    "fx_undeclared_rate_tool", note="calls get_exchange_rate, which is not declared; the runtime refuses it"
)
def _fx_undeclared(t: _T) -> list[Expected]:
    user = "Convert invoice INV-20417 to USD at the rate on its due date."
    final = "INV-20417 (Halden Marine Ltd): £18,250.00 = $24,579.10 at 1.3468 GBP/USD on 2025-05-30."
    d = t.desk("ap-orchestrator", "AP Assistant", user, final, system="Route currency work to fx.", tools={})
    d.transfer("fx")
    fx = t.agent("fx-agent", d.root, "FX", user, final)
    missing = {"error": "Tool 'get_exchange_rate' not found. Available tools: get_invoice, convert_currency"}
    run = t.react(
        "fx-agent",
        fx,
        [Msg("user", user)],
        [
            t.step("get_invoice", {"invoice_id": "INV-20417"}, _INVOICE),
            t.step(
                "get_exchange_rate",
                {"base": "GBP", "quote": "USD", "date": "2025-05-30"},
                missing,
                err=Err("ToolNotFoundError", "get_exchange_rate is not registered", style="both"),
            ),
            t.step("convert_currency", _CONVERT, _CONVERTED),
        ],
        final,
        tools=_FX_TOOLS,
        system="Convert invoice amounts with your tools.",
    )
    t.end(fx, d.root)
    return _tool_hallucination("undeclared_tool", run.llms[1], run.tools[1], note="get_exchange_rate")


@_fresh(
    "billing_undeclared_pause_executed", note="pause_subscription is not declared to the agent, yet it runs"
)
def _pause_undeclared(t: _T) -> list[Expected]:
    user = (
        "Please pause my Pro plan for 2 months while I'm travelling, don't "
        "cancel it. Account: a.lindqvist@example.se"
    )
    sub = {
        "subscription_id": "sub_1PqK8sLzT4",
        "plan": "Pro",
        "status": "active",
        "pause_supported": True,
        "max_pause_months": 3,
        "next_invoice": "2025-07-01",
    }
    paused = {"subscription_id": "sub_1PqK8sLzT4", "status": "paused", "resumes_on": "2025-09-01"}
    final = (
        "Your Pro plan (sub_1PqK8sLzT4) is paused for 2 months and resumes on 2025-09-01. You won't be "
        "charged on 2025-07-01."
    )
    d = t.desk(
        "billing-gateway",
        "Billing Support",
        user,
        final,
        tools={"billing_agent": ["input"]},
        system="Use billing_agent for subscription changes.",
    )
    span, ba = d.ask("billing_agent", user, final, "billing-agent", "Billing")
    run = t.react(
        "billing-agent",
        ba,
        [Msg("user", user)],
        [
            t.step("get_subscription", {"email": "a.lindqvist@example.se"}, sub),
            t.step("pause_subscription", {"subscription_id": "sub_1PqK8sLzT4", "months": "2"}, paused),
        ],
        final,
        tools={"get_subscription": ["email"], "create_ticket": ["queue", "subject"]},
        system="You handle subscription requests. Open a ticket for anything your tools cannot do.",
        tool_svc="billing-mcp",
    )
    t.end(ba, span)
    d.finish(final)
    return _tool_hallucination("undeclared_tool", run.llms[1], run.tools[1], note="pause_subscription")


@_fresh("customs_undeclared_tool_refused", note="lookup_duty_rate belongs to another agent; never executed")
def _customs_undeclared(t: _T) -> list[Expected]:
    user = (
        "Classify this shipment for customs and tell me the import duty: 400 units of stainless-steel "
        "insulated water bottles, 0.5 L, from Vietnam to the UK."
    )
    hs = {"commodity_code": "9617000000", "description": "Vacuum flasks and other vacuum vessels, complete"}
    tariff = {
        "commodity_code": "9617000000",
        "third_country_duty": "6.00%",
        "preferential": [{"origin": "Vietnam", "scheme": "UK-Vietnam FTA", "duty": "0.00%"}],
    }
    refused = "Error: lookup_duty_rate is not a valid tool, try one of [classify_hs_code, get_uk_tariff]."
    final = (
        "Commodity code 9617000000 (vacuum flasks and other vacuum vessels). UK import duty: 6.00% standard, "
        "0.00% from Vietnam under the UK-Vietnam FTA with proof of origin."
    )
    d = t.desk(
        "trade-orchestrator", "Trade Desk", user, final, system="Route customs work to customs.", tools={}
    )
    d.transfer("customs")
    cu = t.agent("customs-agent", d.root, "Customs Broker", user, final)
    run = t.react(
        "customs-agent",
        cu,
        [Msg("user", user)],
        [
            t.step("classify_hs_code", {"description": "stainless-steel insulated water bottles, 0.5 L"}, hs),
            t.step(
                "lookup_duty_rate", {"commodity_code": "9617000000", "origin": "Vietnam"}, refused, run=False
            ),
            t.step("get_uk_tariff", {"commodity_code": "9617000000"}, tariff),
        ],
        final,
        tools={"classify_hs_code": ["description"], "get_uk_tariff": ["commodity_code"]},
        system="Classify goods and quote UK duty with your tools.",
    )
    t.end(cu, d.root)
    return _tool_hallucination(
        "undeclared_tool", run.llms[1], note="lookup_duty_rate (refused, no tool span)"
    )


@_fresh("procurement_invented_sku", note="a guessed SKU the stock service reports as not found (HTTP 404)")
def _sku(t: _T) -> list[Expected]:
    user = (
        "Do we have the 27-inch Dell UltraSharp 4K monitors in stock at the Leeds warehouse? We need 12 for "
        "the new office."
    )
    final = (
        "Leeds has 9 of the Dell UltraSharp 27 4K USB-C Hub Monitor (MON-DL-U2723QE) in stock, 3 short of "
        "the 12 you need; the next delivery is due 2025-11-20."
    )
    d = t.desk(
        "office-bot",
        "Office Manager",
        user,
        final,
        tools={"procurement_agent": ["input"]},
        system="Use procurement_agent for stock and purchasing questions.",
    )
    span, pa = d.ask("procurement_agent", user, final, "procurement-agent", "Procurement")
    missing = {"error": "not_found", "message": "SKU DEL-U2724D-UK not found in catalogue"}
    run = t.react(
        "procurement-agent",
        pa,
        [Msg("user", user)],
        [
            t.step(
                "check_stock",
                {"sku": "DEL-U2724D-UK", "warehouse": "Leeds"},
                missing,
                err=Err("NotFoundError", "SKU DEL-U2724D-UK not found", http=404),
            ),
            t.step(
                "search_catalogue",
                {"query": "Dell UltraSharp 27 4K"},
                {
                    "items": [
                        {"sku": "MON-DL-U2723QE", "name": "Dell UltraSharp 27 4K USB-C Hub Monitor - U2723QE"}
                    ]
                },
            ),
            t.step(
                "check_stock",
                {"sku": "MON-DL-U2723QE", "warehouse": "Leeds"},
                {"sku": "MON-DL-U2723QE", "warehouse": "Leeds", "on_hand": 9, "next_delivery": "2025-11-20"},
            ),
        ],
        final,
        tools={"check_stock": ["sku", "warehouse"], "search_catalogue": ["query"]},
        system="Answer stock questions with the inventory tools.",
        tool_svc="inventory-api",
    )
    t.end(pa, span)
    d.finish(final)
    return _tool_hallucination("not_found_entity", run.llms[0], run.tools[0], note="DEL-U2724D-UK")


@_fresh("code_invented_file_path", note="reads a file that does not exist; ENOENT as plain text, span OK")
def _file(t: _T) -> list[Expected]:
    user = "Since yesterday's deploy, GET /api/orders returns 401 for valid tokens. What changed?"
    source = (
        "import { verify } from './tokens';\n\nconst CLOCK_TOLERANCE_S = 0; // was 30 before 4f2a9c1\n\n"
        "export function requireAuth(req, res, next) {\n"
        "  const claims = verify(req.headers.authorization, { clockTolerance: CLOCK_TOLERANCE_S });\n"
        "  if (!claims) return res.status(401).end();\n  next();\n}\n"
    )
    final = (
        "src/auth/middleware.ts sets CLOCK_TOLERANCE_S = 0 (it was 30 before commit 4f2a9c1), so "
        "`requireAuth` rejects tokens whose timestamps are even slightly off the server clock and answers "
        "401. Restore the 30-second tolerance."
    )
    d = t.desk("devbot", "Dev Assistant", user, final, system="Route code questions to code_agent.", tools={})
    d.transfer("code_agent")
    ca = t.agent("code-agent", d.root, "Code Agent", user, final)
    run = t.react(
        "code-agent",
        ca,
        [Msg("user", user)],
        [
            t.step(
                "read_file",
                {"path": "src/auth/jwt_middleware.ts"},
                "ENOENT: no such file or directory, open 'src/auth/jwt_middleware.ts'",
            ),
            t.step(
                "list_dir",
                {"path": "src/auth"},
                {"path": "src/auth", "entries": ["index.ts", "middleware.ts", "tokens.ts"]},
            ),
            t.step("read_file", {"path": "src/auth/middleware.ts"}, source),
        ],
        final,
        tools={"read_file": ["path"], "list_dir": ["path"]},
        system="Investigate the repository with your tools.",
    )
    t.end(ca, d.root)
    return _tool_hallucination(
        "not_found_entity", run.llms[0], run.tools[0], note="src/auth/jwt_middleware.ts"
    )


@_fresh("payments_invented_customer_id", note="a guessed Stripe-style customer id: resource_missing")
def _customer(t: _T) -> list[Expected]:
    user = "Acme Dental says they were charged twice for their March invoice. Find the duplicate charge."
    missing = {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "customer",
            "message": "No such customer: 'cus_AcmeDental01'",
        }
    }
    charges = {
        "data": [
            {
                "id": "ch_3PZa1",
                "amount": 34900,
                "currency": "usd",
                "created": "2025-03-01T09:14:07Z",
                "description": "Invoice INV-0392",
            },
            {
                "id": "ch_3PZa2",
                "amount": 34900,
                "currency": "usd",
                "created": "2025-03-01T09:14:52Z",
                "description": "Invoice INV-0392",
            },
        ]
    }
    final = (
        "Acme Dental LLC (cus_PZ7ab31KcQ) was charged twice for Invoice INV-0392 on 2025-03-01: ch_3PZa1 "
        "and ch_3PZa2, each for 34900 (usd, in cents). ch_3PZa2 is the duplicate to refund."
    )
    d = t.desk(
        "billing-ops", "Billing Ops", user, final, system="Route payment questions to payments.", tools={}
    )
    d.transfer("payments")
    pa = t.agent("payments-agent", d.root, "Payments", user, final)
    run = t.react(
        "payments-agent",
        pa,
        [Msg("user", user)],
        [
            t.step(
                "list_charges",
                {"customer": "cus_AcmeDental01"},
                missing,
                err=Err(
                    "InvalidRequestError", "No such customer: 'cus_AcmeDental01'", style="event", http=404
                ),
            ),
            t.step(
                "search_customers",
                {"query": "name:'Acme Dental'"},
                {
                    "data": [
                        {
                            "id": "cus_PZ7ab31KcQ",
                            "name": "Acme Dental LLC",
                            "email": "billing@acmedental.example",
                        }
                    ]
                },
            ),
            t.step("list_charges", {"customer": "cus_PZ7ab31KcQ"}, charges),
        ],
        final,
        tools={"list_charges": ["customer"], "search_customers": ["query"]},
        system="Investigate payments with the Stripe tools.",
        tool_svc="stripe-proxy",
    )
    t.end(pa, d.root)
    return _tool_hallucination("not_found_entity", run.llms[0], run.tools[0], note="cus_AcmeDental01")


# ---------------------------------------------------------------------------------------------------
# Clean controls: every stated fact is in the causal past (reformatted, rounded, converted, derived)
# ---------------------------------------------------------------------------------------------------


@_fresh(
    "clean_fin_rounded_figures", clean=True, note="18437912 → $18.44M → about $18.4 million; 41.27 → 41.3%"
)
def _c_rounding(t: _T) -> list[Expected]:
    user = "Give me the headline numbers from Northwind Robotics (NWRB) Q3 FY2025 for a slide."
    filing = {
        "ticker": "NWRB",
        "period": "Q3 FY2025",
        "revenue_usd": 18437912,
        "revenue_prior_year_usd": 15104220,
        "gross_margin_pct": 41.27,
        "net_loss_usd": 2093455,
        "active_customers": 312,
    }
    notes = (
        "Q3 FY2025: revenue $18.44M (prior year $15.10M), gross margin 41.3%, "
        "net loss $2.09M, 312 active customers."
    )
    slide = (
        "**Northwind Robotics, Q3 FY2025**\n- Revenue: about $18.4 million "
        "(prior year: about $15.1 million)\n"
        "- Gross margin: 41.3%\n- Net loss: roughly $2.1 million\n- Active customers: 312"
    )
    d = t.desk("ic-orchestrator", "IC Desk", user, slide, system=_IC_SYS, tools=_IC_TOOLS)
    ask = "Collect the reported Q3 FY2025 figures for Northwind Robotics (NWRB)."
    span, res = d.ask("research_agent", ask, notes, "research-agent", "Researcher")
    t.react(
        "research-agent",
        res,
        [Msg("user", ask)],
        [t.step("get_filing_summary", {"ticker": "NWRB", "period": "Q3 FY2025"}, filing)],
        notes,
        tools={"get_filing_summary": ["ticker", "period"]},
        system=_FILING_SYS,
    )
    t.end(res, span)
    ask = "Turn these notes into slide bullets: " + notes
    span, wr = d.ask("writer_agent", ask, slide, "writer-agent", "Writer")
    t.react("writer-agent", wr, [Msg("user", ask)], [], slide, tools={}, system="Round for slides.")
    t.end(wr, span)
    d.finish(slide)
    return []


@_fresh("clean_travel_date_and_fare_formats", clean=True, note="2025-06-14 → 14 June 2025; €96 → EUR 96.00")
def _c_flight(t: _T) -> list[Expected]:
    user = (
        "Book the cheapest direct flight from Lisbon to Berlin on 2025-06-14 for Inês Carvalho, economy, "
        "with my saved card."
    )
    found = "Cheapest direct: FR 2151 (Ryanair), departs Lisbon 09:40, arrives Berlin 13:45, €96."
    booked = (
        "Booked: Ryanair FR 2151 on 14 June 2025, Lisbon 09:40 → Berlin 13:45, economy. Reference M4RT9Z; "
        "EUR 96.00 charged to your saved card."
    )
    d = t.desk("concierge-api", "Trip Concierge", user, booked, system=_CONCIERGE_SYS, tools={})
    _flight_search(t, d, user, found)
    bk = t.agent("booking-svc", d.root, "Booking", user + "\n\n" + found, booked)
    args = {
        "flight": "FR 2151",
        "date": "2025-06-14",
        "cabin": "economy",
        "passenger": "Inês Carvalho",
        "payment_method": "saved card",
    }
    confirmation = {
        "status": "confirmed",
        "pnr": "M4RT9Z",
        "flight": "FR 2151",
        "date": "2025-06-14",
        "charged": "EUR 96.00",
    }
    t.react(
        "booking-svc",
        bk,
        [Msg("user", user), Msg("assistant", found)],
        [t.step("book_flight", args, confirmation)],
        booked,
        tools=_BOOK_TOOLS,
        system="You complete the purchase the customer asked for with book_flight.",
    )
    t.end(bk, d.root)
    return []


@_fresh(
    "clean_expenses_sum_and_difference", clean=True, note="1000.00 - 746.55 = 253.45; 612.40 + 46.00 = 658.40"
)
def _c_sums(t: _T) -> list[Expected]:
    user = (
        "Check Priya Nair's March 2025 expense report ER-3318 against her $1,000.00 trip budget and brief "
        "her manager."
    )
    found = (
        "ER-3318 totals $746.55, leaving $253.45 of the $1,000.00 budget. Hotel and taxi together come to "
        "$658.40; meals were $88.15 on 2025-03-05."
    )
    brief = (
        "Priya Nair's March 2025 report (ER-3318) comes to $746.55, which is $253.45 under her $1,000.00 "
        "budget. Lodging plus taxi is $658.40 and meals $88.15."
    )
    d = t.desk("finops-orchestrator", "Finance Ops", user, brief, system=_FINOPS_SYS, tools=_FINOPS_TOOLS)
    span, au = d.ask("auditor", user, found, "audit-agent", "Auditor")
    t.react(
        "audit-agent",
        au,
        [Msg("user", user)],
        [t.step("get_expense_report", {"report_id": "ER-3318"}, _EXPENSES)],
        found,
        tools=_AUDIT_TOOLS,
        system="Audit expenses against the budget using your tools.",
    )
    t.end(au, span)
    ask = "Brief the manager from: " + found
    span, br = d.ask("manager_brief", ask, brief, "brief-agent", "Manager Brief")
    t.react("brief-agent", br, [Msg("user", ask)], [], brief, tools={}, system="Write brief, polite notes.")
    t.end(br, span)
    d.finish(brief)
    return []


@_fresh(
    "clean_logistics_unit_conversions", clean=True, note="24,000 kg → 24 tonnes; 1,050 km → about 652 miles"
)
def _c_units(t: _T) -> list[Expected]:
    user = (
        "Our customer in Ohio wants the weight and distance of consignment CN-55810 for their paperwork, "
        "in tonnes and in miles."
    )
    cons = {
        "consignment": "CN-55810",
        "gross_weight_kg": 24000,
        "pallets": 22,
        "route": [{"from": "Duisburg", "to": "Milan", "distance_km": 1050}],
    }
    found = "CN-55810: 24,000 kg gross on 22 pallets, Duisburg → Milan, 1,050 km."
    note = (
        "Consignment CN-55810 weighs 24 tonnes gross (22 pallets) and travels 1,050 km (about 652 miles) "
        "from Duisburg to Milan."
    )
    tools = {"shipment_agent": ["input"], "customer_writer": ["input"]}
    d = t.desk(
        "logistics-desk",
        "Logistics Desk",
        user,
        note,
        tools=tools,
        system="Use shipment_agent for data and customer_writer for customer text.",
    )
    span, sa = d.ask(
        "shipment_agent", "Get weight and route for consignment CN-55810.", found, "tms-agent", "Shipments"
    )
    t.react(
        "tms-agent",
        sa,
        [Msg("user", "Get weight and route for consignment CN-55810.")],
        [t.step("get_consignment", {"consignment": "CN-55810"}, cons)],
        found,
        tools={"get_consignment": ["consignment"]},
        system="Answer from the TMS.",
        tool_svc="tms-api",
    )
    t.end(sa, span)
    ask = "Give the customer the weight in tonnes and the distance in miles, from: " + found
    span, cw = d.ask("customer_writer", ask, note, "customer-writer", "Customer Writer")
    t.react("customer-writer", cw, [Msg("user", ask)], [], note, tools={}, system="Convert units as asked.")
    t.end(cw, span)
    d.finish(note)
    return []


@_fresh("clean_med_dose_via_memory", clean=True, note="3,600 mg/day through the board; 3.6 g per day")
def _c_med(t: _T) -> list[Expected]:
    answer = "eGFR 72 falls in the >=60 mL/min band (900-3600 mg/day), so the maximum is 3,600 mg/day."
    record = {"drug": "gabapentin", "max_daily_mg": 3600, "renal_band": ">=60", "author": "clinical-lookup"}
    note = "Dispensing note, MRN 77120-9: gabapentin, maximum 3.6 g per day (renal band >=60)."
    final = (
        "Posted to the care-plan board: gabapentin up to 3,600 mg/day for MRN 77120-9. Pharmacy's "
        "dispensing note caps it at 3.6 g per day."
    )
    _care_plan(t, "77120-9", "72", answer, record, note, final)
    return []


@_fresh("clean_itinerary_via_memory", clean=True, note="a reservation written to the trip board and emailed")
def _c_trip(t: _T) -> list[Expected]:
    user = (
        "Plan my Porto trip: I arrive 2025-05-09 and leave 2025-05-12. Book one dinner near Ribeira for 2 "
        "people on the first night, and email me the plan at j.moreau@example.fr."
    )
    table = {
        "restaurant": "Taberna dos Mercadores",
        "area": "Ribeira",
        "date": "2025-05-09",
        "time": "20:30",
        "party_size": 2,
        "booking_ref": "TM-4471",
        "status": "confirmed",
    }
    plan = (
        "Dinner booked at Taberna dos Mercadores, Ribeira, on 2025-05-09 at 20:30 for 2 (ref TM-4471). "
        "Stay: 2025-05-09 to 2025-05-12."
    )
    record = {
        "arrive": "2025-05-09",
        "depart": "2025-05-12",
        "dinner": {
            "restaurant": "Taberna dos Mercadores",
            "date": "2025-05-09",
            "time": "20:30",
            "ref": "TM-4471",
        },
    }
    body = (
        "Arrival: 9 May 2025\nDeparture: 12 May 2025\nDinner: Taberna dos Mercadores (Ribeira), 9 May 2025 "
        "at 20:30 for 2, reference TM-4471."
    )
    sent = "Emailed your Porto plan to j.moreau@example.fr."
    tools = {"planner": ["input"], "mailer": ["input"]}
    d = t.desk(
        "trip-orchestrator",
        "Trip Assistant",
        user,
        sent,
        tools=tools,
        system="planner books and writes the trip board; mailer sends the plan from the board.",
    )
    span, pl = d.ask("planner", user, plan, "planner-agent", "Planner")
    args = {"area": "Ribeira", "date": "2025-05-09", "party_size": "2"}
    t.react(
        "planner-agent",
        pl,
        [Msg("user", user)],
        [t.step("reserve_table", args, table)],
        plan,
        tools={"reserve_table": list(args)},
        system="Plan trips and make the bookings asked for.",
    )
    t.mem("planner-agent", pl, "create_memory", "trip-board", "trip/itinerary", [record])
    t.end(pl, span)
    ask = "Email the plan on the trip board to j.moreau@example.fr."
    span, ma = d.ask("mailer", ask, sent, "mailer-agent", "Mailer")
    t.mem("mailer-agent", ma, "search_memory", "trip-board", "trip/itinerary", [record])
    mail = {"to": "j.moreau@example.fr", "subject": "Your Porto trip", "body": body}
    t.react(
        "mailer-agent",
        ma,
        [Msg("user", ask + "\n\nTrip board: " + dumps(record))],
        [t.step("send_email", mail, {"status": "sent", "id": "msg_8812"})],
        sent,
        tools={"send_email": ["to", "subject", "body"]},
        system="Send the plan by email.",
    )
    t.end(ma, span)
    d.finish(sent)
    return []


@_fresh(
    "clean_policy_from_system_instructions",
    clean=True,
    note="30 days / portal URL / email from the system prompt",
)
def _c_policy(t: _T) -> list[Expected]:
    user = (
        "Hi, my Aero 2 blender arrived on 2025-04-05 and I haven't opened it. Can I return it for a refund? "
        "Today is 2025-04-25.\nMaya Okafor (maya.okafor@example.com)"
    )
    orders = {
        "customer": "Maya Okafor",
        "orders": [
            {
                "order_id": "BH-550912",
                "item": "Aero 2 blender",
                "delivered": "2025-04-05",
                "opened": False,
                "amount_usd": 129.99,
            }
        ],
    }
    notes = (
        "Order BH-550912 (Aero 2 blender, $129.99, delivered 2025-04-05) is unopened, so it can be returned "
        "within 30 days of delivery for a full refund to the original payment method. Returns portal: "
        "https://brightline-home.com/returns. Questions: returns@brightline-home.com."
    )
    body = (
        "Hi Maya,\n\nYes: unopened items can be returned within 30 days of "
        "delivery for a full refund to your "
        "original payment method, so your Aero 2 blender (order BH-550912) qualifies. Start the return at "
        "https://brightline-home.com/returns and we'll refund $129.99 once it arrives. Questions? Write to "
        "returns@brightline-home.com.\n\nThe Brightline Home team"
    )
    sent = "Sent the return instructions to maya.okafor@example.com (30-day window, $129.99 refund)."
    final = (
        "Replied to Maya Okafor: order BH-550912 is unopened and within the "
        "30-day window; $129.99 refund once returned."
    )
    d = t.desk("support-gateway", "Support Desk", user, final, system=_DESK_SYS, tools=_DESK_TOOLS)
    span, tri = d.ask("triage_agent", user, notes, "support-triage", "Triage")
    t.react(
        "support-triage",
        tri,
        [Msg("user", user)],
        [t.step("lookup_orders", {"customer_email": "maya.okafor@example.com"}, orders)],
        notes,
        tools={"lookup_orders": ["customer_email"]},
        system=_RETURNS_SYS,
    )
    t.end(tri, span)
    ask = "Write the customer reply and send it. Case notes: " + notes
    span, rep = d.ask("reply_agent", ask, sent, "support-reply", "Reply Writer")
    mail = {
        "to": "maya.okafor@example.com",
        "subject": "Returning your Aero 2 blender (order BH-550912)",
        "body": body,
    }
    t.react(
        "support-reply",
        rep,
        [Msg("user", ask)],
        [t.step("send_email", mail, {"status": "sent", "message_id": "m-20250425-8813"})],
        sent,
        tools={"send_email": ["to", "subject", "body"]},
        system="Write warm, short customer emails.",
    )
    t.end(rep, span)
    d.finish(final)
    return []


_HR_DOCS = [
    (
        "HR-DE-014",
        0.83,
        "Germany, parental leave (Elternzeit). Secondary caregivers receive 4 "
        "weeks of fully paid leave, to be "
        "taken within 12 months of the birth or adoption. Statutory Elternzeit of up to 3 years per child "
        "remains available unpaid. Contact: hr-de@northwind.example",
    ),
    (
        "HR-GLOBAL-002",
        0.61,
        "Global minimum: every employee receives at least 2 weeks of paid parental leave.",
    ),
]


@_fresh(
    "clean_rag_answer_checked", clean=True, note="answer from retrieved policy documents; reviewer passes it"
)
def _c_rag(t: _T) -> list[Expected]:
    user = "What's our parental leave policy for secondary caregivers in Germany?"
    answer = (
        "In Germany, secondary caregivers get 4 weeks of fully paid parental leave, to be taken within 12 "
        "months of the birth or adoption (HR-DE-014). Statutory Elternzeit of up to 3 years per child is "
        "also available, unpaid. Questions: hr-de@northwind.example."
    )
    verdict = "PASS: 4 weeks, 12 months and 3 years all match HR-DE-014."
    tools = {"policy_rag": ["input"], "compliance_review": ["input"]}
    d = t.desk(
        "hr-assistant",
        "HR Assistant",
        user,
        answer,
        tools=tools,
        system="Answer with policy_rag, then have compliance_review check the answer.",
    )
    span, rag = d.ask("policy_rag", user, answer, "policy-rag", "Policy RAG")
    context = "\n\n".join(f"[{doc_id}] {text}" for doc_id, _, text in _HR_DOCS)
    if t.genai:
        hits = {"documents": [{"id": i, "score": s, "content": c} for i, s, c in _HR_DOCS]}
        t.react(
            "policy-rag",
            rag,
            [Msg("user", user)],
            [t.step("search_policies", {"query": user}, hits)],
            answer,
            tools={"search_policies": ["query"]},
            system="Answer from the policy search only.",
        )
    else:
        attrs: dict[str, Any] = {"openinference.span.kind": "RETRIEVER", "input.value": user}
        for k, (doc_id, score, text) in enumerate(_HR_DOCS):
            attrs |= {
                f"retrieval.documents.{k}.document.id": doc_id,
                f"retrieval.documents.{k}.document.score": score,
                f"retrieval.documents.{k}.document.content": text,
            }
        t.raw("policy-search", rag, "retrieve", attrs, 60)
        t.llm(
            "policy-rag",
            rag,
            [Msg("user", user)],
            Msg("assistant", answer),
            ms=1400,
            system="Answer from these policy excerpts only:\n\n" + context,
        )
    t.end(rag, span)
    ask = "Check this answer against HR-DE-014: " + answer
    span, rv = d.ask("compliance_review", ask, verdict, "hr-compliance", "Compliance Reviewer")
    t.llm(
        "hr-compliance",
        rv,
        [Msg("user", ask)],
        Msg("assistant", verdict),
        ms=900,
        system="Check HR answers against the cited policy:\n\n" + context,
    )
    t.end(rv, span)
    d.finish(answer)
    return []


@_fresh("clean_relay_three_agents", clean=True, note="carrier ETA relayed faithfully; 132 hours → 5.5 days")
def _c_relay(t: _T) -> list[Expected]:
    events = {
        "container": "MSKU 493027-1",
        "events": _EVENTS,
        "rail_transit_hours": 132,
        "eta_final": "2025-03-04",
        "eta_location": "Chicago",
    }
    status = (
        "MSKU 493027-1 left Halifax by rail on 2025-02-25; rail transit is 132 hours and the carrier's ETA "
        "at Chicago is 2025-03-04."
    )
    ask_dock = (
        "Container MSKU 493027-1 is due in Chicago on 2025-03-04 (carrier "
        "ETA). Reserve a receiving dock slot."
    )
    slot = {"reservation": "DOCK-CHI-0462", "date": "2025-03-04", "window": "13:00-17:00", "door": 4}
    booked = "Reserved DOCK-CHI-0462 at Chicago on 2025-03-04, 13:00-17:00, door 4."
    ask_comms = (
        "Tell the customer: MSKU 493027-1 left Halifax by rail on 2025-02-25, 132 hours of rail transit, "
        "due in Chicago on 2025-03-04; receiving slot 13:00-17:00 (DOCK-CHI-0462)."
    )
    message = (
        "Your container MSKU 493027-1 left Halifax by rail on 25 February 2025 and, after a rail journey of "
        "5.5 days, is due at our Chicago warehouse on 4 March 2025. We've reserved a receiving slot from "
        "13:00 to 17:00."
    )
    _freight(t, events, status, ask_dock, slot, booked, ask_comms, message)
    return []


@_fresh(
    "clean_verifier_catches",
    clean=True,
    note="the draft's 31% is rejected and removed before the answer: nobody consumes it as fact",
)
def _c_caught(t: _T) -> list[Expected]:
    user = (
        "From the excerpt below, how much did Helios Solar's installed capacity grow in 2024? Fact-check it "
        "before it goes in the newsletter.\n\n" + _HELIOS
    )
    draft = (
        "Helios Solar's installed capacity grew from 3.9 GW to 4.8 GW in 2024, an increase of 0.9 GW, or 31%."
    )
    fail = (
        "FAIL: 31% is not supported by the excerpt (p. 14 gives 3.9 GW and 4.8 "
        "GW only). Remove the percentage."
    )
    revised = (
        "Helios Solar's installed capacity grew from 3.9 GW at the end of 2023 to 4.8 GW at the end of 2024, "
        "an increase of 0.9 GW."
    )
    verdict = "PASS: 3.9 GW, 4.8 GW and the 0.9 GW increase match p. 14."
    d = t.desk("newsletter-orchestrator", "Newsletter Desk", user, revised, system=_NEWS_SYS, tools={})
    d.transfer("analyst")
    an = t.agent("analyst-agent", d.root, "Analyst", user, draft)
    t.react(
        "analyst-agent",
        an,
        [Msg("user", user)],
        [],
        draft,
        tools={},
        system="Draft newsletter items from the material you are given.",
        handoff="fact_checker",
    )
    t.end(an)
    rejected = {"matched": ["3.9 GW", "4.8 GW", "0.9 GW"], "unmatched": ["31%"], "verdict": "inconsistent"}
    _fact_check(t, d, user, draft, draft, rejected, fail)
    d.transfer("analyst")
    an = t.agent(
        "analyst-agent", d.root, "Analyst", "Revise the draft: remove the unsupported percentage.", revised
    )
    t.react(
        "analyst-agent",
        an,
        [Msg("user", user), Msg("assistant", draft), Msg("user", fail)],
        [],
        revised,
        tools={},
        system="Draft newsletter items from the material you are given.",
        handoff="fact_checker",
    )
    t.end(an)
    passed = {"matched": ["3.9 GW", "4.8 GW", "0.9 GW"], "unmatched": [], "verdict": "consistent"}
    _fact_check(t, d, user, revised, revised, passed, verdict)
    d.finish(revised)
    return []


@_fresh(
    "clean_code_paths_and_symbols",
    clean=True,
    note="paths, line numbers and symbols all from grep/read results",
)
def _c_code(t: _T) -> list[Expected]:
    user = (
        "The nightly ingest job started failing with KeyError: 'retry_budget' raised from "
        "services/ingest/config.py. Find the cause and open a PR with a fix."
    )
    grep = {
        "matches": [
            {
                "path": "services/ingest/config.py",
                "line": 48,
                "text": '    budget = settings["retry_budget"]',
            },
            {"path": "deploy/ingest.yaml", "line": 12, "text": "  retry_limit: 5"},
        ]
    }
    config = (
        "from services.ingest.settings import load_settings\n\n"
        "settings = load_settings('deploy/ingest.yaml')\n...\n"
    )
    loader = {
        "matches": [
            {
                "path": "services/ingest/settings.py",
                "line": 9,
                "text": "def load_settings(path: str) -> dict:",
            }
        ]
    }
    found = (
        'services/ingest/config.py:48 reads settings["retry_budget"], but deploy/ingest.yaml:12 now sets '
        "`retry_limit: 5`. `load_settings()` in services/ingest/settings.py passes the YAML keys through "
        "unchanged, so the old key is missing."
    )
    pr = {
        "title": "Accept retry_limit as retry_budget in load_settings()",
        "body": "deploy/ingest.yaml renamed retry_budget to retry_limit; services/ingest/config.py:48 still "
        "reads retry_budget. Map the new key in load_settings() (services/ingest/settings.py).",
        "files": "services/ingest/settings.py",
    }
    opened = {"number": 4822, "url": "https://git.example.com/platform/ingest/pull/4822", "state": "open"}
    done = (
        "Opened PR #4822 (https://git.example.com/platform/ingest/pull/4822): load_settings() now maps "
        "retry_limit to retry_budget."
    )
    d = t.desk("devbot", "Dev Assistant", user, done, system="Route code questions to code_search.", tools={})
    d.transfer("code_search")
    cs = t.agent("code-search", d.root, "Code Search", user, found)
    t.react(
        "code-search",
        cs,
        [Msg("user", user)],
        [
            t.step("grep_repo", {"pattern": "retry_"}, grep),
            t.step("read_file", {"path": "services/ingest/config.py"}, config),
            t.step("grep_repo", {"pattern": "def load_settings"}, loader),
        ],
        found,
        tools={"grep_repo": ["pattern"], "read_file": ["path"]},
        system="Find root causes in the repository.",
        handoff="patch_writer",
    )
    t.end(cs)
    pw = t.agent("patch-writer", d.root, "Patch Writer", user + "\n\n" + found, done)
    t.react(
        "patch-writer",
        pw,
        [Msg("user", user), Msg("assistant", found)],
        [t.step("create_pull_request", pr, opened)],
        done,
        tools={"create_pull_request": ["title", "body", "files"]},
        system="Open a PR for the fix.",
    )
    t.end(pw, d.root)
    return []


@_fresh(
    "clean_user_named_entities",
    clean=True,
    note="booking ref, guest, hotel, dates and email given by the user",
)
def _c_user(t: _T) -> list[Expected]:
    user = (
        "Please confirm my reservation: booking ref HX-7Q2M9 under Sofia "
        "Brandt, check-in 2025-08-21, 4 nights "
        "at the Kastanienhof Berlin, and send the confirmation to sofia.brandt@example.de."
    )
    booking = {
        "ref": "HX-7Q2M9",
        "guest": "Sofia Brandt",
        "hotel": "Kastanienhof Berlin",
        "check_in": "2025-08-21",
        "check_out": "2025-08-25",
        "room": "Double, courtyard view",
        "status": "confirmed",
        "total_eur": 556.00,
    }
    found = (
        "HX-7Q2M9 is confirmed: Sofia Brandt, Kastanienhof Berlin, 2025-08-21 to 2025-08-25 (4 nights), "
        "Double, courtyard view, €556.00 total."
    )
    body = (
        "Dear Sofia Brandt,\n\nyour stay at the Kastanienhof Berlin from 21 August 2025 to 25 August 2025 "
        "(4 nights, Double, courtyard view) is confirmed. Total: EUR 556.00.\n\nBooking reference: HX-7Q2M9"
    )
    sent = "Confirmation for HX-7Q2M9 sent to sofia.brandt@example.de."
    tools = {"reservations": ["input"], "mailer": ["input"]}
    d = t.desk(
        "hotel-frontdesk",
        "Front Desk",
        user,
        sent,
        tools=tools,
        system="Use reservations to look bookings up and mailer to send confirmations.",
    )
    span, rs = d.ask("reservations", user, found, "reservations-agent", "Reservations")
    t.react(
        "reservations-agent",
        rs,
        [Msg("user", user)],
        [t.step("get_booking", {"ref": "HX-7Q2M9"}, booking)],
        found,
        tools={"get_booking": ["ref"]},
        system="Look up bookings.",
        tool_svc="pms-api",
    )
    t.end(rs, span)
    ask = "Send the confirmation to sofia.brandt@example.de: " + found
    span, ma = d.ask("mailer", ask, sent, "mailer-agent", "Mailer")
    mail = {"to": "sofia.brandt@example.de", "subject": "Your booking HX-7Q2M9 is confirmed", "body": body}
    t.react(
        "mailer-agent",
        ma,
        [Msg("user", ask)],
        [t.step("send_email", mail, {"status": "sent"})],
        sent,
        tools={"send_email": ["to", "subject", "body"]},
        system="Send confirmations.",
    )
    t.end(ma, span)
    d.finish(sent)
    return []


@_fresh("clean_account_manager_from_crm", clean=True, note="the CRM names the account manager")
def _c_person(t: _T) -> list[Expected]:
    account = {
        "account": "Kestrel Foods",
        "contract_id": "C-7741",
        "tier": "Enterprise",
        "renewal_date": "2026-01-31",
        "owner_queue": "enterprise-emea",
        "account_manager": {"name": "Daniel Whitcombe", "email": "daniel.whitcombe@example.com"},
    }
    found = (
        "Kestrel Foods (C-7741) renews on 2026-01-31. Account manager: Daniel Whitcombe "
        "(daniel.whitcombe@example.com)."
    )
    reply = (
        "Hi Tom,\n\nYour account manager is Daniel Whitcombe (daniel.whitcombe@example.com). I've asked him "
        "to contact you about renewing contract C-7741 before 2026-01-31; your reference is ENT-30119.\n\n"
        "Best regards,\nAccount support team"
    )
    _account(t, account, found, "Daniel Whitcombe", "ENT-30119", reply)
    return []


@_fresh("clean_currency_formats", clean=True, note="GBP 18,250.00 → £18.25k; USD 24,579.10 → about $24.6k")
def _c_fx(t: _T) -> list[Expected]:
    user = "Convert invoice INV-20417 to USD at the rate on its due date."
    found = "INV-20417 from Halden Marine Ltd: GBP 18,250.00, which is USD 24,579.10 at 1.3468 on 2025-05-30."
    final = (
        "Invoice INV-20417 (Halden Marine Ltd, due 30 May 2025): £18.25k, or about $24.6k at the 1.3468 rate."
    )
    d = t.desk(
        "ap-orchestrator",
        "AP Assistant",
        user,
        final,
        tools={"fx_agent": ["input"]},
        system="Use fx_agent for currency work, then summarise in one line.",
    )
    span, fx = d.ask("fx_agent", user, found, "fx-agent", "FX")
    t.react(
        "fx-agent",
        fx,
        [Msg("user", user)],
        [
            t.step("get_invoice", {"invoice_id": "INV-20417"}, _INVOICE),
            t.step("convert_currency", _CONVERT, _CONVERTED),
        ],
        found,
        tools=_FX_TOOLS,
        system="Convert invoice amounts with your tools.",
        tool_svc="treasury-api",
    )
    t.end(fx, span)
    d.finish(final)
    return []


@_fresh("clean_difference_verified", clean=True, note="4.8 - 3.9 = 0.9 GW; the fact-checker passes it")
def _c_verified(t: _T) -> list[Expected]:
    user = (
        "From the excerpt below, how much did Helios Solar's installed capacity grow in 2024? Have it "
        "fact-checked before it goes in the newsletter.\n\n" + _HELIOS
    )
    draft = "Helios Solar ended 2024 with 4.8 GW installed, up 0.9 GW from 3.9 GW at the end of 2023."
    verdict = "PASS: 4.8 GW, 3.9 GW and the 0.9 GW increase match p. 14."
    final = (
        "Helios Solar's installed capacity rose by 0.9 GW in 2024, from 3.9 GW "
        "to 4.8 GW (Annual Report 2024, p. 14)."
    )
    d = t.desk("newsletter-orchestrator", "Newsletter Desk", user, final, system=_NEWS_SYS, tools={})
    d.transfer("analyst")
    an = t.agent("analyst-agent", d.root, "Analyst", user, draft)
    t.react(
        "analyst-agent",
        an,
        [Msg("user", user)],
        [],
        draft,
        tools={},
        system="Draft newsletter items from the material you are given.",
        handoff="fact_checker",
    )
    t.end(an)
    checked = {"matched": ["4.8 GW", "3.9 GW", "0.9 GW"], "unmatched": [], "verdict": "consistent"}
    _fact_check(t, d, user, draft, draft, checked, verdict)
    d.finish(final)
    return []


@_fresh(
    "clean_multiturn_budget",
    clean=True,
    note="turn 3 adds two earlier totals and subtracts from turn 1's budget",
)
def _c_multiturn(t: _T) -> list[Expected]:
    turns = [
        (
            "I'm planning Lisbon from 2025-10-06 to 2025-10-11 for two people, total budget $3,500. What "
            "would flights from Boston cost?",
            [
                t.step(
                    "search_flights",
                    {
                        "origin_city": "Boston",
                        "destination_city": "Lisbon",
                        "depart": "2025-10-06",
                        "return": "2025-10-11",
                        "passengers": "2",
                    },
                    {
                        "results": [
                            {
                                "carrier": "TAP Air Portugal",
                                "flight": "TP 218",
                                "per_person_usd": 780,
                                "total_usd": 1560,
                            },
                            {
                                "carrier": "Delta",
                                "flight": "DL 1964",
                                "per_person_usd": 845,
                                "total_usd": 1690,
                            },
                        ]
                    },
                )
            ],
            "The cheapest round trip is TAP Air Portugal TP 218 at $780 per person, $1,560 for both of you.",
        ),
        (
            "And a hotel in Alfama for those nights?",
            [
                t.step(
                    "search_hotels",
                    {"area": "Alfama", "check_in": "2025-10-06", "check_out": "2025-10-11"},
                    {"results": [{"hotel": "Memmo Alfama", "nights": 5, "total_usd": 1240}]},
                )
            ],
            "Memmo Alfama comes to $1,240 for the 5 nights.",
        ),
        (
            "How much would I have left?",
            [],
            "Flights ($1,560) plus the hotel ($1,240) come to $2,800, which leaves "
            "$700 of your $3,500 budget.",
        ),
    ]
    tools = {
        "search_flights": ["origin_city", "destination_city", "depart", "return", "passengers"],
        "search_hotels": ["area", "check_in", "check_out"],
    }
    root = t.agent("chat-gateway", None, "Travel Chat", turns[0][0], turns[-1][2])
    history: list[Msg] = []
    for question, steps, answer in turns:
        pl = t.agent("planner-agent", root, "Trip Planner", question, answer)
        run = t.react(
            "planner-agent",
            pl,
            [*history, Msg("user", question)],
            steps,
            answer,
            tools=tools,
            system="Help plan trips. Use the travel tools for prices.",
            tool_svc="travel-apis",
        )
        history = run.history
        t.end(pl)
        t.now += 2500  # the user types
    t.end(root)
    return []


@_fresh("clean_kb_no_results_ticket", clean=True, note="a search with no hits is not a not-found entity")
def _c_kb(t: _T) -> list[Expected]:
    user = (
        "Our Zebra ZD421 label printer prints blank labels after the firmware update. Is there a known fix?"
    )
    found = "No knowledge-base article covers the Zebra ZD421 printing blank labels after a firmware update."
    final = (
        "There's no known fix in our knowledge base yet, so I've opened ticket HW-20931 with the hardware "
        "team about the Zebra ZD421 printing blank labels."
    )
    d = t.desk(
        "helpdesk-gateway", "IT Helpdesk", user, final, system="Route questions to kb_search.", tools={}
    )
    d.transfer("kb_search")
    kb = t.agent("kb-agent", d.root, "KB Search", user, found)
    t.react(
        "kb-agent",
        kb,
        [Msg("user", user)],
        [
            t.step(
                "search_kb",
                {"query": "Zebra ZD421 blank labels after firmware update"},
                {"articles": [], "total": 0},
            )
        ],
        found,
        tools={"search_kb": ["query"]},
        system="Answer from the knowledge base.",
        handoff="ticketing",
    )
    t.end(kb)
    tk = t.agent("ticket-agent", d.root, "Ticketing", user + "\n\n" + found, final)
    args = {"queue": "hardware", "subject": "Zebra ZD421 prints blank labels after firmware update"}
    t.react(
        "ticket-agent",
        tk,
        [Msg("user", user), Msg("assistant", found)],
        [t.step("create_ticket", args, {"ticket": "HW-20931", "queue": "hardware", "status": "open"})],
        final,
        tools={"create_ticket": ["queue", "subject"]},
        system="Open tickets in the hardware queue for printer problems the knowledge base does not cover.",
    )
    t.end(tk, d.root)
    return []


SCENARIOS: list[Scenario] = list(_ALL)
