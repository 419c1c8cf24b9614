"""A small multi-agent team around a shared memory store (blackboard), for the causal-consistency
and structural scenarios. Every agent runs in its own service; memory operations go to
``memory-service``. Times are taken from one ``Clock``; parallel branches reset it explicitly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sample_traces.scenarios.builder import Step, TraceBuilder
from sample_traces.scenarios.flows import Clock, provider_of, usage_for
from sample_traces.scenarios.model import Failure, Json, Message, ToolDef, assistant, user


@dataclass(frozen=True)
class Board:
    """A shared-state task: key ``x`` goes from ``x1`` to ``x2``; ``y`` is derived from ``x2``."""

    domain: str
    task: str
    store: str
    x: str
    x1: Json
    x2: Json
    y: str
    y_val: Json
    lead: str
    a: str  # writes x
    b: str  # reads x, writes y
    c: str  # reads y (and x)
    a_says: str  # why a changes x
    c_does: str  # what c does with what it read


BOARDS: tuple[Board, ...] = (
    Board(
        "travel",
        "Plan trip PRG-1203: a 3-night team offsite in Prague for 8 people from 2025-12-03.",
        "offsite-board",
        "trip/PRG-1203/budget",
        {"budget_eur": 2400, "approved_by": "finance"},
        {"budget_eur": 1850, "approved_by": "finance", "note": "cut after Q4 freeze"},
        "trip/PRG-1203/hotel_hold",
        {"hotel": "Hotel Josef", "nights": 3, "total_eur": 1790},
        "offsite_planner",
        "budget_agent",
        "hotel_agent",
        "booking_agent",
        "Finance cut the offsite budget from 2400 EUR to 1850 EUR.",
        "books against the budget it read",
    ),
    Board(
        "support",
        "Resolve ticket SUP-88213: damaged pour-over set on order 4471-2290.",
        "support-case-state",
        "case/SUP-88213/status",
        {"status": "refund_pending", "order_id": "4471-2290"},
        {"status": "refunded", "order_id": "4471-2290", "amount_usd": 129.99},
        "case/SUP-88213/customer_notice",
        {"notice": "refund of 129.99 USD issued", "channel": "email"},
        "case_router",
        "refund_agent",
        "notify_agent",
        "closure_agent",
        "The refund of 129.99 USD went through.",
        "closes the case based on the status it read",
    ),
    Board(
        "release",
        "Roll out the api-gateway patch release to production.",
        "release-board",
        "release/api-gateway/image",
        {"image": "api-gateway:2.14.0", "approved": True},
        {"image": "api-gateway:2.14.1", "approved": True, "reason": "CVE-2025-3310 fix"},
        "release/api-gateway/changelog",
        {"entry": "2.14.1: patched CVE-2025-3310", "published": True},
        "release_manager",
        "build_agent",
        "changelog_agent",
        "deploy_agent",
        "The 2.14.1 build with the CVE-2025-3310 fix passed CI.",
        "deploys the image it read",
    ),
)


class Team:
    def __init__(self, b: TraceBuilder, board: Board, model: str) -> None:
        self.b = b
        self.board = board
        self.model = model
        self.clock = Clock(b)
        b.workflow = f"{board.domain}-board"
        self.root = self.open(board.lead, parent=None)

    @staticmethod
    def service(agent: str) -> str:
        return agent.replace("_", "-")

    def open(
        self, agent: str, *, parent: Step | None, at: float | None = None, links: Sequence[Step] = ()
    ) -> Step:
        start = self.clock.now + 1 if at is None else at
        step = self.b.agent(
            agent, service=self.service(agent), start=start, parent=parent, input=self.board.task, links=links
        )
        self.clock.now = start + 1
        return step

    def close(
        self, agent: Step, output: str, failure: Failure | None = None, *, at: float | None = None
    ) -> None:
        self.clock.now = (self.clock.now + 2) if at is None else at
        self.b.close_agent(agent, self.clock.now, output=output, failure=failure)

    def think(
        self,
        agent: Step,
        prompt: str,
        answer: str,
        *,
        history: Sequence[Message] = (),
        tools: Sequence[ToolDef] = (),
        reasoning: str = "",
        lo: float = 400,
        hi: float = 1500,
    ) -> Step:
        s, e = self.clock.span(lo, hi)
        msgs = [*history, user(prompt)]
        return self.b.chat(
            agent,
            start=s,
            end=e,
            model=self.model,
            provider=provider_of(self.model),
            input=msgs,
            output=[assistant(answer, reasoning=reasoning)],
            tools=tools,
            usage=usage_for(self.b, len(msgs), answer, bool(reasoning)),
        )

    def write(
        self,
        agent: Step,
        key: str,
        value: Json,
        version: int | None,
        *,
        op: str = "update_memory",
        dur: tuple[float, float] = (4, 25),
    ) -> Step:
        s, e = self.clock.span(*dur)
        return self.b.memory(
            agent, op, store=self.board.store, key=key, records=[value], version=version, start=s, end=e
        )

    def read(
        self,
        agent: Step,
        key: str,
        value: Json | None,
        version: int | None,
        dur: tuple[float, float] = (3, 18),
    ) -> Step:
        s, e = self.clock.span(*dur)
        records: Json = [] if value is None else [value]
        return self.b.memory(
            agent,
            "search_memory",
            store=self.board.store,
            key=key,
            records=records,
            version=version,
            start=s,
            end=e,
        )

    def handoff(self, src: Step, dst: str) -> Step:
        s, e = self.clock.span(1, 4)
        return self.b.handoff(src, dst, start=s, end=e)
