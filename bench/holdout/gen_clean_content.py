"""Clean controls about content: claims that are grounded but reworded (rounded, converted,
reformatted), declared tools used as declared, a user-named entity that honestly does not exist,
and paging through results (same tool, new arguments). None should raise a finding."""

from __future__ import annotations

from typing import Any

from bench.holdout.conv import Call, Convention, Msg
from bench.holdout.gen_hallucination import BadCall, Relay, bad_call, relay
from bench.holdout.labels import Build, Expected, Scenario
from bench.holdout.otelkit import Recorder


def _unlabelled(build: Build) -> Build:
    def clean(r: Recorder, c: Convention) -> list[Expected]:
        build(r, c)
        return []

    return clean


CLEAN_RELAYS = [
    (
        "freight_converted",
        "genai",
        Relay(
            "logistics-hub",
            "notify-svc",
            "Tracker",
            "Customer Liaison",
            "Dispatch Lead",
            "When will container TGHU8812034 reach Hamburg, and how heavy is it? "
            "Answer ops@northwind-traders.de.",
            "track_container",
            {"container": "TGHU8812034"},
            {
                "container": "TGHU8812034",
                "eta": "2026-04-02",
                "gross_weight_kg": 18423.6,
                "vessel": "CMA CGM Tage",
            },
            "TGHU8812034 is on the CMA CGM Tage, arriving 2 April 2026; it weighs about 18.4 t.",
            "Your container TGHU8812034 reaches Hamburg on April 2, 2026 (roughly 18,424 kg).",
            "email_customer",
            {"to": "ops@northwind-traders.de", "body": "TGHU8812034 arrives April 2, 2026."},
            remote=True,
        ),
    ),
    (
        "dose_converted",
        "openinference",
        Relay(
            "pharmacy-desk",
            "pharmacy-desk",
            "Formulary Checker",
            "Safety Reviewer",
            "Care Coordinator",
            "What is the adult paracetamol limit?",
            "lookup_formulary",
            {"drug": "paracetamol"},
            "Paracetamol 500 mg tablets. Adult: 1000 mg every 6 hours. Max 4000 mg per day.",
            "Adults: 1 g every 6 hours, never more than 4 g per day (500 mg tablets).",
            "Checked against the formulary: 1000 mg every 6 hours, at most 4000 mg per day.",
            None,
            None,
        ),
    ),
    (
        "listing_formatted",
        "genai",
        Relay(
            "estate-agents",
            "estate-agents",
            "Listing Analyst",
            "Broker",
            "Front Desk",
            "Summarise the listing at 3 Quarry Lane for a buyer email.",
            "get_listing",
            {"address": "3 Quarry Lane"},
            {"address": "3 Quarry Lane", "price_gbp": 689000, "floor_area_sqft": 1525, "bedrooms": 4},
            "3 Quarry Lane: 4 bedrooms, 1,525 sq ft, asking £689,000.",
            "Dear buyer, 3 Quarry Lane offers 4 bedrooms and 1,525 sq ft for £689,000.",
            "send_buyer_email",
            {"subject": "3 Quarry Lane", "body": "4 bedrooms, £689,000."},
            handoff=True,
        ),
    ),
    (
        "incident_grounded",
        "openinference",
        Relay(
            "sre-copilot",
            "statuspage-bot",
            "Log Analyst",
            "Comms Officer",
            "Incident Commander",
            "Why did checkout fail around 09:40 UTC?",
            "search_logs",
            {"service": "checkout-api", "since": "09:30"},
            "09:41:07 checkout-api upstream redis-3 timeout (x2107); ticket INC-31877 opened; "
            "09:52 recovered",
            "Checkout failed from 09:41 UTC because redis-3 timed out 2,107 times; see INC-31877.",
            "Status update for INC-31877: redis-3 timeouts between 09:41 and 09:52 UTC, recovered.",
            "post_status_update",
            {"incident": "INC-31877", "text": "redis-3 timeouts, recovered at 09:52 UTC."},
            remote=True,
        ),
    ),
    (
        "docs_url_exact",
        "genai",
        Relay(
            "devrel-bot",
            "devrel-bot",
            "Docs Scout",
            "Sample Coder",
            "Dev Advocate",
            "Where is the Quantra webhook signing documented?",
            "search_docs",
            {"q": "webhook signature"},
            {"hits": [{"title": "Verifying webhooks", "url": "https://docs.quantra.dev/v2/webhooks/verify"}]},
            "Webhook signing is documented at https://docs.quantra.dev/v2/webhooks/verify.",
            "Read https://docs.quantra.dev/v2/webhooks/verify and wrote the verification sample.",
            "fetch_url",
            {"url": "https://docs.quantra.dev/v2/webhooks/verify"},
        ),
    ),
    (
        "conversion_percent",
        "openinference",
        Relay(
            "growth-lab",
            "growth-lab",
            "Funnel Analyst",
            "Deck Builder",
            "Growth Lead",
            "How did the spring campaign (spring-26) convert?",
            "query_funnel",
            {"campaign": "spring-26"},
            {"campaign": "spring-26", "visitors": 48210, "orders": 1987, "conversion_rate": 0.0412},
            "spring-26 converted at 4.12% (1,987 orders from 48,210 visitors).",
            "Slide 3: spring-26 converted 4.12% of 48,210 visitors.",
            "update_slide",
            {"slide": "3", "text": "spring-26: 4.12% conversion"},
        ),
    ),
    (
        "revenue_abbreviated",
        "genai",
        Relay(
            "earnings-desk",
            "earnings-desk",
            "Researcher",
            "Writer",
            "Desk Editor",
            "Summarise HLX's Q2 2026 revenue.",
            "get_financials",
            {"ticker": "HLX", "quarter": "Q2 2026"},
            {"ticker": "HLX", "quarter": "Q2 2026", "revenue_usd": 3912400},
            "HLX made $3.9M in Q2 2026 (3,912,400 USD).",
            "HLX: Q2 2026 revenue of roughly $3.91 million.",
            None,
            None,
        ),
    ),
    (
        "duration_converted",
        "openinference",
        Relay(
            "ci-helper",
            "ci-helper",
            "Build Inspector",
            "Release Notes Writer",
            "CI Lead",
            "How long did nightly build 8812 take?",
            "get_build",
            {"build": "8812"},
            {"build": 8812, "duration_s": 5400, "status": "passed"},
            "Build 8812 passed after 90 minutes.",
            "Nightly 8812 passed; it ran for 1.5 hours.",
            None,
            None,
        ),
    ),
]


CLEAN_CALLS = [
    (
        "flight_declared",
        "genai",
        BadCall(
            "travel-desk",
            "Trip Planner",
            "Find a Madrid to Oslo flight on 3 June.",
            {"search_flights": ["origin", "destination", "date"], "hold_seat": ["flight"]},
            "search_flights",
            {"origin": "MAD", "destination": "OSL", "date": "2026-06-03"},
            {"flights": [{"flight": "DY1853", "depart": "10:05", "price_eur": 142}]},
            "DY1853 departs 10:05 for 142 EUR.",
            True,
        ),
    ),
    (
        "schema_declared",
        "openinference",
        BadCall(
            "warehouse-agent",
            "Data Steward",
            "How many columns does the orders table have?",
            {"run_sql": ["query"], "describe_table": ["table"]},
            "describe_table",
            {"table": "orders"},
            "orders: 14 columns (id, customer_id, total, ...)",
            "The orders table has 14 columns.",
            True,
        ),
    ),
    (
        "user_entity_missing",
        "genai",
        BadCall(
            "crm-assistant",
            "Account Manager",
            "Pull up account ACC-10442 please.",
            {"get_account": ["account_id"], "search_accounts": ["name"]},
            "get_account",
            {"account_id": "ACC-10442"},
            {"error": "not_found", "message": "No account with id ACC-10442"},
            "There is no account ACC-10442; could you check the id?",
            False,
        ),
    ),
    (
        "user_repo_missing",
        "openinference",
        BadCall(
            "code-scout",
            "Dependency Auditor",
            "Check the licence of github repo acme/streamkit.",
            {"get_repo": ["name"], "list_dependencies": ["manifest"]},
            "get_repo",
            {"name": "acme/streamkit"},
            "404: repository acme/streamkit not found",
            "acme/streamkit does not exist or is private; please confirm the name.",
            False,
        ),
    ),
]


def paging(d: dict[str, Any]) -> Build:
    """One tool called page after page: same tool, new arguments, new results."""

    def build(r: Recorder, c: Convention) -> list[Expected]:
        svc, tool = d["svc"], d["tool"]
        root = c.agent(r, svc, None, 0, 9000, d["agent"], d["task"], d["answer"])
        history: list[Msg] = [Msg("user", d["task"])]
        t = 50.0
        for i, result in enumerate(d["pages"]):
            call = Call(f"pg{i}", tool, {**d["args"], "page": str(i + 1)})
            c.llm(
                r,
                svc,
                root,
                t,
                t + 700,
                history,
                Msg("assistant", calls=(call,)),
                tools={tool: [*d["args"], "page"]},
            )
            c.tool(r, svc, root, t + 720, t + 1300, tool, call.args, result, call_id=call.id)
            history = [*history, Msg("assistant", calls=(call,)), Msg("tool", str(result), call_id=call.id)]
            t += 1400
        c.llm(r, svc, root, t, t + 900, history, Msg("assistant", d["answer"]))
        return []

    return build


SCENARIOS = (
    [Scenario(n, conv, _unlabelled(relay(d)), True) for n, conv, d in CLEAN_RELAYS]
    + [Scenario(n, conv, _unlabelled(bad_call(d)), True) for n, conv, d in CLEAN_CALLS]
    + [
        Scenario(
            "tickets_paged",
            "genai",
            paging(
                {
                    "svc": "helpdesk-ai",
                    "tool": "list_tickets",
                    "agent": "Queue Triage",
                    "task": "How many open P1 tickets are there?",
                    "args": {"priority": "P1", "state": "open"},
                    "pages": [{"tickets": ["T-101", "T-107"]}, {"tickets": ["T-122"]}, {"tickets": []}],
                    "answer": "There are 3 open P1 tickets: T-101, T-107 and T-122.",
                }
            ),
            True,
        ),
        Scenario(
            "orders_paged",
            "openinference",
            paging(
                {
                    "svc": "ops-ledger",
                    "tool": "fetch_orders",
                    "agent": "Refund Auditor",
                    "task": "List refunded orders from last week.",
                    "args": {"status": "refunded"},
                    "pages": ["ORD-881, ORD-889", "ORD-902", "(no more results)"],
                    "answer": "Refunded last week: ORD-881, ORD-889 and ORD-902.",
                }
            ),
            True,
        ),
    ]
)
