"""Every failure a CLI command can meet, turned into one clear line and an exit code — here only.

Exit codes: 0 ok; 1 findings at or above ``--fail-on``; 2 usage or input error (bad option, missing
or unreadable file, invalid SQL, a write statement on the read path); 3 operational error (the store
is locked by a process without a read path, a port is taken, the server is unreachable).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from collector.config import ConfigError
from collector.errors import CollectorError
from store.errors import QueryError, SchemaError, StoreError, StoreNotFound

EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_OPERATIONAL = 3


class CliError(click.ClickException):
    """A one-line error with its exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_OPERATIONAL) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads the instance attribute


@contextmanager
def cli_errors() -> Iterator[None]:
    """Map the project's exceptions (and the OS's) to one-line CLI errors."""
    try:
        yield
    except click.ClickException:
        raise
    except (QueryError, ConfigError, CollectorError, SchemaError, StoreNotFound) as e:
        raise CliError(_one_line(e), EXIT_USAGE) from e
    except FileNotFoundError as e:
        raise CliError(f"no such file: {e.filename}", EXIT_USAGE) from e
    except StoreError as e:
        raise CliError(_one_line(e), EXIT_OPERATIONAL) from e
    except OSError as e:
        raise CliError(_one_line(e), EXIT_OPERATIONAL) from e


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text or type(e).__name__
