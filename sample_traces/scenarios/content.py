"""Realistic task content for the research → write → act pipeline (finance, travel, coding,
literature research, customer support).

Each ``Case`` is internally consistent: the worker's grounded ``brief`` only states facts of the
user request or the tool result (sometimes rounded, converted or summed: the near-misses a claim
detector must still accept), and each ``Fabrication`` is a claim that appears in no input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sample_traces.scenarios.model import Json, ToolDef


@dataclass(frozen=True)
class Fabrication:
    claim: str  # the ungrounded claim, verbatim as it travels downstream
    sentence: str  # the sentence that carries it, appended to the brief


@dataclass(frozen=True)
class Case:
    domain: str
    workflow: str
    request: str
    tool: ToolDef
    args: dict[str, Json]
    result: Json
    brief: str
    side_tool: ToolDef
    side_args: Callable[[str], dict[str, Json]]
    fabrications: tuple[Fabrication, ...]
    grounding: str  # what makes the brief's near-miss claims grounded (for the README / labels)


def _pick(options: tuple[str, ...], v: int) -> str:
    return options[v % len(options)]


def finance(v: int) -> Case:
    revenue = _pick(("$4.2B", "4,230 million dollars", "4.23 billion USD", "$4.23 billion"), v)
    return Case(
        domain="finance",
        workflow="earnings-brief",
        request=(
            "Prepare a short brief on Northwind Robotics' Q3 2025 results (ticker NWRB) and email it "
            "to our CFO at cfo@contoso-capital.com before the 10:00 investment committee."
        ),
        tool=ToolDef(
            "get_financials",
            "Fetch reported quarterly financials for a listed company.",
            {"ticker": "string", "period": "string"},
        ),
        args={"ticker": "NWRB", "period": "2025-Q3"},
        result={
            "company": "Northwind Robotics",
            "ticker": "NWRB",
            "period": "2025-Q3",
            "currency": "USD",
            "revenue": 4230000000,
            "net_income": 312000000,
            "revenue_growth_yoy_pct": 12.4,
            "segments": {"warehouse_automation": 2810000000, "service_contracts": 1420000000},
        },
        brief=(
            f"Northwind Robotics (NWRB) Q3 2025: revenue {revenue}, up 12.4% year over year; net income "
            "$312M. Warehouse automation brought in $2.81B and service contracts $1.42B."
        ),
        side_tool=ToolDef(
            "send_email",
            "Send an email on behalf of the investment team.",
            {"to": "string", "subject": "string", "body": "string"},
        ),
        side_args=lambda body: {
            "to": "cfo@contoso-capital.com",
            "subject": "NWRB Q3 2025 brief",
            "body": body,
        },
        fabrications=(
            Fabrication("$5.1B", "Management raised Q4 revenue guidance to $5.1B."),
            Fabrication("18.7%", "Operating margin expanded to 18.7%."),
            Fabrication("Dana Whitfield", "CFO Dana Whitfield called the quarter a turning point."),
            Fabrication("5,100 million dollars", "Q4 guidance was raised to 5,100 million dollars."),
        ),
        grounding="revenue 4230000000 in the get_financials result, stated rounded or in other units",
    )


def travel(v: int) -> Case:
    price = _pick(("£412", "412 GBP", "GBP 412.00"), v)
    return Case(
        domain="travel",
        workflow="trip-booking",
        request=(
            "Book the cheapest nonstop flight from London Heathrow (LHR) to New York JFK on 2025-11-14 "
            "for Priya Raman and send the itinerary to priya.raman@fabrikam.io."
        ),
        tool=ToolDef(
            "search_flights",
            "Search scheduled flights between two airports on a date.",
            {"origin": "string", "destination": "string", "date": "string", "nonstop": "boolean"},
        ),
        args={"origin": "LHR", "destination": "JFK", "date": "2025-11-14", "nonstop": True},
        result={
            "flights": [
                {
                    "flight": "VS3",
                    "carrier": "Virgin Atlantic",
                    "departs": "08:30",
                    "arrives": "11:35",
                    "price_gbp": 412,
                },
                {
                    "flight": "BA117",
                    "carrier": "British Airways",
                    "departs": "11:20",
                    "arrives": "14:05",
                    "price_gbp": 468,
                },
                {
                    "flight": "AA101",
                    "carrier": "American Airlines",
                    "departs": "12:55",
                    "arrives": "15:50",
                    "price_gbp": 455,
                },
            ]
        },
        brief=(
            f"Cheapest nonstop LHR to JFK on 2025-11-14 is Virgin Atlantic VS3, departing 08:30 and "
            f"arriving 11:35, at {price}; BA117 costs 56 GBP more."
        ),
        side_tool=ToolDef(
            "send_email",
            "Send an email to a traveller.",
            {"to": "string", "subject": "string", "body": "string"},
        ),
        side_args=lambda body: {
            "to": "priya.raman@fabrikam.io",
            "subject": "Your flight LHR-JFK on 2025-11-14",
            "body": body,
        },
        fabrications=(
            Fabrication("BA2291", "A cheaper option, BA2291 at 389 GBP, leaves at 07:05."),
            Fabrication("Terminal 5", "Check-in for VS3 is at Terminal 5 from 05:30."),
            Fabrication("2025-11-15", "The return leg is held for 2025-11-15."),
            Fabrication("HX7Q2L", "The booking reference is HX7Q2L."),
        ),
        grounding="price_gbp 412 in the search_flights result; '56 GBP more' is 468 - 412",
    )


def coding(v: int) -> Case:
    where = _pick(("billing/invoices.py:88", "billing/invoices.py line 88"), v)
    return Case(
        domain="coding",
        workflow="ci-triage",
        request=(
            "CI is red on main: test_invoice_rounding fails in tests/billing/test_invoices.py. Find the "
            "cause and open a ticket for the billing team with the details."
        ),
        tool=ToolDef(
            "run_tests",
            "Run a pytest selection in the repository sandbox and return failures.",
            {"path": "string", "keyword": "string"},
        ),
        args={"path": "tests/billing/test_invoices.py", "keyword": "test_invoice_rounding"},
        result={
            "passed": 41,
            "failed": ["test_invoice_rounding"],
            "error": "AssertionError: assert Decimal('10.05') == Decimal('10.04') at billing/invoices.py:88",
            "duration_s": 3.9,
        },
        brief=(
            f"test_invoice_rounding fails at {where}: the total comes out as 10.05 where the test expects "
            "10.04, a half-cent rounding difference; the other 41 tests pass."
        ),
        side_tool=ToolDef(
            "create_ticket",
            "Create an issue in the team tracker.",
            {"project": "string", "title": "string", "description": "string", "priority": "string"},
        ),
        side_args=lambda body: {
            "project": "BILLING",
            "title": "test_invoice_rounding fails on main",
            "description": body,
            "priority": "P2",
        },
        fabrications=(
            Fabrication("billing/rounding_utils.py", "The regression comes from billing/rounding_utils.py."),
            Fabrication(
                "round_half_even_cents()", "The helper round_half_even_cents() was changed last week."
            ),
            Fabrication("PR #4817", "It was introduced by PR #4817."),
            Fabrication("Marco Jensen", "Marco Jensen owns this module and should review the fix."),
        ),
        grounding="line and values quoted from the run_tests error",
    )


def research(v: int) -> Case:
    effect = _pick(("-0.3 percentage points", "a 0.3-point drop", "-0.30 points"), v)
    return Case(
        domain="research",
        workflow="literature-review",
        request=(
            "Find recent peer-reviewed evidence on time-restricted eating and HbA1c in adults with type 2 "
            "diabetes and save a three-sentence summary to notes/tre_hba1c.md for the clinic newsletter."
        ),
        tool=ToolDef(
            "web_search",
            "Search the web and return the top results with snippets.",
            {"query": "string", "max_results": "integer"},
        ),
        args={"query": "time-restricted eating HbA1c type 2 diabetes randomized trial", "max_results": 3},
        result={
            "results": [
                {
                    "title": (
                        "Time-Restricted Eating vs Calorie Restriction in Type 2 Diabetes: A Randomized Trial"
                    ),
                    "url": "https://jamanetwork.com/journals/jamanetworkopen/fullarticle/2810924",
                    "snippet": "75 adults; over 6 months HbA1c fell by 0.3 percentage points in both groups.",
                },
                {
                    "title": "Meta-analysis of time-restricted feeding and glycaemic control",
                    "url": "https://www.mdpi.com/2072-6643/15/4/812",
                    "snippet": "Pooled data from 12 trials showed modest HbA1c reductions.",
                },
            ]
        },
        brief=(
            "A randomized trial in 75 adults "
            "(https://jamanetwork.com/journals/jamanetworkopen/fullarticle/2810924) "
            f"found HbA1c changed by {effect} over 6 months with time-restricted eating; "
            "a meta-analysis of 12 "
            "trials reports modest reductions."
        ),
        side_tool=ToolDef(
            "write_file",
            "Write a text file in the shared notes workspace.",
            {"path": "string", "content": "string"},
        ),
        side_args=lambda body: {"path": "notes/tre_hba1c.md", "content": body},
        fabrications=(
            Fabrication(
                "https://www.nejm.org/doi/full/10.1056/NEJMoa2311482",
                "A larger trial (https://www.nejm.org/doi/full/10.1056/NEJMoa2311482) confirmed the effect.",
            ),
            Fabrication("Helena Voss", "Lead author Helena Voss recommends a 10-hour eating window."),
            Fabrication(
                "1.1 percentage points", "Patients on insulin saw HbA1c fall by 1.1 percentage points."
            ),
            Fabrication(
                "March 2024", "The American Diabetes Association endorsed the approach in March 2024."
            ),
        ),
        grounding="effect size restated from the snippet's '0.3 percentage points'",
    )


def support(v: int) -> Case:
    amount = _pick(("$129.99", "129.99 USD", "USD 129.99"), v)
    return Case(
        domain="support",
        workflow="refund-desk",
        request=(
            "Customer Lena Ortiz says order 4471-2290 arrived damaged (photo attached to ticket SUP-88213). "
            "Check the order and refund it if it is eligible, then reply to the customer."
        ),
        tool=ToolDef(
            "lookup_order",
            "Look up an order in the commerce backend.",
            {"order_id": "string"},
        ),
        args={"order_id": "4471-2290"},
        result={
            "order_id": "4471-2290",
            "customer": "Lena Ortiz",
            "status": "delivered",
            "delivered_on": "2025-10-02",
            "items": [{"sku": "KX-220", "name": "Ceramic pour-over set", "qty": 1, "price_usd": 129.99}],
            "total_usd": 129.99,
            "refund_window_days": 30,
        },
        brief=(
            f"Order 4471-2290 for Lena Ortiz (Ceramic pour-over set, {amount}) "
            "was delivered on 2025-10-02 and "
            "is inside the 30-day refund window, so a full refund is eligible."
        ),
        side_tool=ToolDef(
            "issue_refund",
            "Refund an order to the original payment method.",
            {"order_id": "string", "amount_usd": "number", "reason": "string"},
        ),
        side_args=lambda body: {"order_id": "4471-2290", "amount_usd": 129.99, "reason": body[:160]},
        fabrications=(
            Fabrication("$149.99", "The refund should include shipping, for a total of $149.99."),
            Fabrication("SUP-90417", "A replacement was already shipped under ticket SUP-90417."),
            Fabrication("45-day", "Damaged items fall under the 45-day breakage guarantee."),
            Fabrication("KX-220-B", "The item was the discontinued KX-220-B variant."),
        ),
        grounding="amount and dates copied from the lookup_order result",
    )


DOMAINS: tuple[Callable[[int], Case], ...] = (finance, travel, coding, research, support)


@dataclass(frozen=True)
class Cast:
    """The agent names of one variant: who plans, who researches, who writes, who checks."""

    lead: str
    worker: str
    writer: str
    checker: str
    fetcher: str


CASTS: tuple[Cast, ...] = (
    Cast("planner", "researcher", "writer", "verifier", "data-fetcher"),
    Cast("orchestrator", "analyst", "reporter", "reviewer", "retriever"),
    Cast("supervisor", "research_agent", "drafting_agent", "qa_agent", "lookup_agent"),
)

SERVICES = {
    "lead": "planner",
    "worker": "researcher",
    "writer": "writer",
    "checker": "verifier",
    "fetcher": "researcher",
}
MODELS = ("gpt-4o-2024-08-06", "claude-sonnet-4-5", "gpt-4.1-mini", "o4-mini")
