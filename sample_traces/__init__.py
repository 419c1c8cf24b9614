"""Labelled multi-agent sample traffic: the scenario generator and corpus (``scenarios``), the OTLP
demo (``demo``), and real pydantic-ai / LangChain agent flows that run without an LLM
(``real_agents``, ``real_langchain``). See sample_traces/README.md."""
