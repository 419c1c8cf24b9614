"""The DuckDB store (SPEC §4): what the collector writes to and every reader reads from.

Where things are:
- ``api`` / ``schema`` / ``errors``: the contracts (Protocols, Arrow schemas, exceptions).
- ``database``: opening a file, schema version and migrations, duckdb error translation.
- ``writer``: ``DuckStoreWriter``, the one owner of the write connection (bounded queue, group
  commit, acknowledgement after COMMIT); ``ingest``: batch conforming and idempotent inserts,
  with ``stored_keys`` (the hashes of the keys stored, instead of DuckDB primary keys);
  ``journal``: the ingest journal (acknowledged batches before they are applied);
  ``maintenance`` + ``agents``: derived data after commits (agent resolution, GenAI log-event
  join, ``traces`` rows).
- ``reader`` (``open_reader``), ``readonly`` (the SQL guard), ``query_server`` + ``discovery``:
  the read path, in-process or from other processes while a server owns the file.
- ``export``: Parquet export of every table.

Typical use::

    with DuckStoreWriter("faultlens.duckdb") as writer, QueryServer(writer):
        writer.write(batch)                 # returns once committed (durable, visible)
    reader = open_reader("faultlens.duckdb")  # remote while a server runs, else the file
    table = reader.query("SELECT * FROM traces WHERE error_count > 0")

Nothing here imports ``collector``, ``analysis`` or ``dashboard``.
"""
