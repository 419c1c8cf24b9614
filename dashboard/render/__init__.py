"""Rendering helpers: safe HTML for untrusted content (``safe``), step HTML (``steps``), Plotly figures."""
