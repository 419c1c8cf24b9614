"""Queries and data preparation for the dashboard, free of Streamlit.

Every function takes a ``store.api.StoreReader`` and sends parameterized SQL only: user input
(filters, free text, ids) always travels as parameters, sort columns come from a whitelist, and
the only SQL text built at run time is a count of ``?`` placeholders.
"""
