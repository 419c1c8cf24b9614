"""Vocabulary shared by the benchmarks that make realistic GenAI spans (bench/ingest.py,
bench/store_insert.py), so both measure the same kind of content."""

WORDS = (
    "revenue",
    "quarter",
    "forecast",
    "agent",
    "memory",
    "customer",
    "invoice",
    "growth",
    "ticket",
    "market",
    "analysis",
    "report",
    "summary",
    "risk",
    "latency",
    "supplier",
    "contract",
    "budget",
)
AGENTS = ("planner", "researcher", "writer", "verifier")
