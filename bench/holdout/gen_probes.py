"""Probes of less-travelled inputs: grounding that lives only in a retriever span's documents or in
the system instructions (clean), and a timeout cascade told only by status messages."""

from __future__ import annotations

import json

from opentelemetry.trace import SpanKind

from bench.holdout.conv import Call, Convention, Msg
from bench.holdout.labels import Expected, Scenario
from bench.holdout.otelkit import Err, Recorder


def rag_documents_only(r: Recorder, c: Convention) -> list[Expected]:
    """OpenInference RAG: the policy text is in the RETRIEVER span's ``retrieval.documents``; the
    LLM prompt refers to it without quoting it (a LlamaIndex-style template sent separately)."""
    svc = "policy-helpdesk"
    task = "How long do I have to return a opened laptop?"
    root = c.agent(
        r,
        svc,
        None,
        0,
        4000,
        "Policy Assistant",
        task,
        "Opened laptops can be returned within 14 days for a 15% restocking fee.",
    )
    r.span(
        svc,
        "retrieve",
        root,
        50,
        400,
        {
            "openinference.span.kind": "RETRIEVER",
            "input.value": "return policy opened laptop",
            "retrieval.documents.0.document.id": "policy-7",
            "retrieval.documents.0.document.content": (
                "Opened electronics may be returned within 14 days subject to a 15% restocking fee."
            ),
            "retrieval.documents.0.document.score": 0.91,
        },
    )
    c.llm(
        r,
        svc,
        root,
        450,
        3800,
        [Msg("user", task)],
        Msg("assistant", "Opened laptops can be returned within 14 days for a 15% restocking fee."),
        system="Answer from the retrieved policy documents only.",
    )
    return []


def system_grounded(r: Recorder, c: Convention) -> list[Expected]:
    """The figures come from the system instructions, not from the user or a tool."""
    svc = "bank-faq"
    task = "What is the daily ATM withdrawal limit?"
    root = c.agent(r, svc, None, 0, 3000, "Bank FAQ Bot", task, "The daily ATM limit is €1,500.")
    c.llm(
        r,
        svc,
        root,
        50,
        2900,
        [Msg("user", task)],
        Msg("assistant", "The daily ATM limit is €1,500."),
        system="Facts: daily ATM withdrawal limit 1500 EUR; card replacement fee 10 EUR.",
    )
    return []


def status_only_cascade(r: Recorder, c: Convention) -> list[Expected]:
    """No error.type, no exception event: only the span statuses say 'context deadline exceeded'.
    An OCR call in another service is the slow leaf."""
    root = c.agent(
        r,
        "intake-api",
        None,
        0,
        10300,
        "Invoice Intake",
        "Extract invoice INV-3341.",
        "",
        err=Err("", "context deadline exceeded", style="status"),
    )
    client = r.span(
        "intake-api",
        "POST /ocr",
        root,
        100,
        10100,
        {"http.request.method": "POST", "server.address": "ocr-svc"},
        kind=SpanKind.CLIENT,
        err=Err("", "context deadline exceeded", style="status"),
    )
    server = r.span(
        "ocr-svc",
        "POST /ocr",
        client,
        120,
        10080,
        {"http.route": "/ocr"},
        kind=SpanKind.SERVER,
        err=Err("", "request cancelled: deadline exceeded", style="status"),
    )
    c.tool(r, "ocr-svc", server, 130, 190, "load_pdf", {"doc": "INV-3341"}, "3 pages")
    slow = c.tool(
        r,
        "ocr-svc",
        server,
        200,
        10060,
        "ocr_extract",
        {"doc": "INV-3341", "pages": "3"},
        None,
        err=Err("", "deadline exceeded after 9.9s", style="status"),
    )
    return [Expected("timeout_cascade", "timeout_cascade", slow)]


def code_path_relay(r: Recorder, c: Convention) -> list[Expected]:
    """The triage agent names a file and function that its search never returned; the fixer opens
    that file."""
    svc = "bugfix-crew"
    task = "Ledger totals drift after nightly sync; find the culprit."
    root = c.agent(r, svc, None, 0, 8000, "Bug Lead", task, "Patched.")
    tri = c.agent(r, svc, root, 50, 3000, "Triage", task, "")
    hits = "src/billing/ledger.py:88 def sync_totals(batch):\nsrc/billing/export.py:12 import ledger"
    c.tool(r, svc, tri, 100, 600, "grep_repo", {"pattern": "totals"}, hits)
    claim = "The drift comes from reconcile_batches() in src/billing/ledger_sync.py."
    origin = c.llm(r, svc, tri, 650, 2900, [Msg("user", task), Msg("user", hits)], Msg("assistant", claim))
    fixer = c.agent(r, svc, root, 3100, 7900, "Fixer", "Triage says: " + claim, "Patched.")
    c.tool(
        r,
        svc,
        fixer,
        3200,
        3600,
        "read_file",
        {"path": "src/billing/ledger_sync.py"},
        "error: no such file: src/billing/ledger_sync.py",
    )
    return [Expected("hallucination_propagation", "ungrounded_claim", origin, also=(tri,))]


def history_grounded(r: Recorder, c: Convention) -> list[Expected]:
    """Three turns of one conversation: the figures of the last answer come from the user's first turn."""
    svc = "mortgage-chat"
    turns = [
        Msg("user", "I earn 64,000 EUR a year and want a 25-year mortgage on a 310,000 EUR flat."),
        Msg("assistant", "Thanks. Do you have savings for a deposit?"),
        Msg("user", "Yes, 62,000 EUR."),
    ]
    answer = "With 62,000 EUR down on 310,000 EUR you would borrow 248,000 EUR over 25 years."
    root = c.agent(r, svc, None, 0, 3000, "Mortgage Advisor", turns[-1].text, answer)
    c.llm(r, svc, root, 50, 2900, turns, Msg("assistant", answer))
    return []


def chatty_markdown(r: Recorder, c: Convention) -> list[Expected]:
    """A friendly, title-cased Markdown answer: every figure is from the tool, the capitalised words
    are headings and sentence starts, not entities."""
    svc = "sales-digest"
    task = "Give me this week's sales digest."
    result = {"week": "2026-W14", "units": 1342, "revenue_eur": 88410.5, "top_region": "Nordics"}
    answer = (
        "## Weekly Sales Digest\n**Great News!** Overall, Week 2026-W14 went well.\n"
        "- Units Sold: 1342\n- Revenue: 88,410.50 EUR\n- Top Region: Nordics\n"
        "Let Me Know if You Need More Detail."
    )
    root = c.agent(r, svc, None, 0, 3000, "Digest Bot", task, answer)
    c.tool(r, svc, root, 50, 400, "weekly_sales", {"week": "current"}, result)
    c.llm(
        r,
        svc,
        root,
        450,
        2900,
        [Msg("user", task), Msg("tool", str(result), call_id="w1")],
        Msg("assistant", answer),
    )
    return []


def name_case_and_spacing(r: Recorder, c: Convention) -> list[Expected]:
    """The user writes 'ACME Corp' and '12 %'; the answer writes 'Acme Corp' and '12%'."""
    svc = "deal-desk"
    task = "Draft a note: ACME Corp asked for a 12 % discount on order 5518."
    answer = "Note: Acme Corp requests a 12% discount on order 5518."
    root = c.agent(r, svc, None, 0, 2000, "Deal Desk", task, answer)
    c.llm(r, svc, root, 50, 1900, [Msg("user", task)], Msg("assistant", answer))
    return []


def agent_level_tools(r: Recorder, c: Convention) -> list[Expected]:
    """Tools are declared once on the agent span (``gen_ai.tool.definitions``), not on each chat
    span; the call uses a declared tool."""
    svc = "weather-bot"
    defs = [
        {"type": "function", "name": "get_forecast", "parameters": {"type": "object"}},
        {"type": "function", "name": "get_alerts", "parameters": {"type": "object"}},
    ]
    root = r.span(
        svc,
        "invoke_agent Weather Bot",
        None,
        0,
        3000,
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "Weather Bot",
            "gen_ai.tool.definitions": json.dumps(defs),
        },
    )
    call = Call("w1", "get_alerts", {"region": "Tromsø"})
    c.llm(
        r,
        svc,
        root,
        50,
        900,
        [Msg("user", "Any weather alerts for Tromsø?")],
        Msg("assistant", calls=(call,)),
    )
    c.tool(r, svc, root, 950, 1400, "get_alerts", call.args, {"alerts": []}, call_id="w1")
    c.llm(
        r,
        svc,
        root,
        1450,
        2900,
        [Msg("user", "Any weather alerts for Tromsø?"), Msg("tool", '{"alerts": []}', call_id="w1")],
        Msg("assistant", "No weather alerts for Tromsø right now."),
    )
    return []


SCENARIOS = [
    Scenario(
        "rag_documents_only",
        "openinference",
        rag_documents_only,
        True,
        note="grounding only in retrieval.documents",
    ),
    Scenario("system_grounded", "genai", system_grounded, True, note="grounding only in system instructions"),
    Scenario("status_only_cascade", "genai", status_only_cascade, False),
    Scenario("code_path_relay", "genai", code_path_relay, False),
    Scenario("history_grounded", "openinference", history_grounded, True),
    Scenario("chatty_markdown", "genai", chatty_markdown, True),
    Scenario("name_case_and_spacing", "genai", name_case_and_spacing, True),
    Scenario("agent_level_tools", "genai", agent_level_tools, True),
]
