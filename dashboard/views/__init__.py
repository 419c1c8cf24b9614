"""The dashboard's pages, one module each, each with a ``render(ctx)`` function. (Named ``views``
rather than ``pages``: Streamlit treats a ``pages/`` folder next to the app as legacy page files.)"""
