"""The store's exceptions. Library errors (duckdb, OS) are wrapped into these with ``raise ... from``;
the CLI and the receivers map them to one-line messages / status codes in one place each."""

from __future__ import annotations


class StoreError(Exception):
    """A store operation failed; nothing of the failed operation is visible."""


class StoreBusy(StoreError):
    """The bounded write queue is full: retry later. ``retry_after`` is a hint in seconds."""

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreClosed(StoreError):
    """The store is shutting down or closed."""


class StoreLocked(StoreError):
    """Another process holds the DuckDB file and offers no read path."""


class QueryError(StoreError):
    """The SQL is invalid or failed."""


class ReadOnlyViolation(QueryError):
    """A statement that could write was sent to the read path."""


class SchemaError(StoreError):
    """The file's schema version is newer than this faultlens understands, or a migration failed."""


class StoreNotFound(StoreError):
    """There is no store file at the given path (and nothing serves one)."""


class JournalError(StoreError):
    """The ingest journal beside the file cannot be used (e.g. its directory cannot be written)."""
