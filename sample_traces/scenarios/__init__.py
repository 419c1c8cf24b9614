"""Labelled multi-agent scenarios built through the real OpenTelemetry SDK.

- ``registry``: ``@scenario`` generators (``Ctx`` in, ``Outcome`` with ground truth out), grouped in
  family modules ``hallucination``, ``controls``, ``causal``, ``timeouts``, ``structural``.
- ``builder.TraceBuilder``: convention-neutral span construction with explicit timestamps.
- ``conventions``: GenAI semconv / OpenInference / OpenLLMetry attribute emission.
- ``corpus``: the deterministic corpus (``python -m sample_traces.scenarios``).
"""
