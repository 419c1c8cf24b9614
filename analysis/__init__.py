"""Analysis: traces in, findings out (SPEC §5).

- ``load``: a trace from a ``store.api.StoreReader`` into ``model.Trace`` (polars, columnar);
- ``happens_before`` (+ ``hb_edges``): the causal order every detector uses;
- ``detectors/``: the detectors; ``registry`` lists them;
- ``engine``: runs them, classifies (``mast``), attributes (``attribution``), stores the findings;
- ``scheduler``: incremental analysis inside ``faultlens serve``; ``remote``: ``POST /analyze``;
- ``report/``: the SPEC §5.5 report (JSON / Markdown / HTML); ``evaluation``: precision/recall on
  labelled scenarios; ``judge``: the optional OpenAI-compatible judge.
"""
