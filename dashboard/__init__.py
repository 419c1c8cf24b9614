"""The faultlens dashboard (SPEC §6): Streamlit pages over the store's read path.

- ``dashboard.launcher``: start the app headless (``start_dashboard``) and wait for it (``wait_ready``).
- ``dashboard.data``: every query and data preparation, Streamlit-free (tested and benchmarked alone).
- ``dashboard.render``: safe HTML (untrusted LLM content is always escaped) and Plotly figures.
- ``dashboard.views``: one module per page (overview, traces, trace, findings), run by
  ``dashboard/app.py``, the Streamlit entry point, which also hands each page its ``Context``.
- ``dashboard.context``: the per-run context and the cached queries.
"""
