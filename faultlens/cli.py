"""The ``faultlens`` console script: a click group whose commands live in ``faultlens.commands``.

Commands are imported when used, so ``faultlens sql`` does not pay for the analysis, the receivers
and the dashboard (the group's own ``--help`` imports them all to list their help lines).
"""

from __future__ import annotations

import importlib

import click

#: command name → module under faultlens.commands; each module exposes ``command``
COMMANDS: dict[str, str] = {
    "serve": "serve",
    "up": "up",
    "ingest": "ingest",
    "sql": "sql",
    "analyze": "analyze",
    "report": "report",
    "demo": "demo",
    "eval": "eval",
    "export": "export",
    "journal": "journal",
    "generate-samples": "generate",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: click.Command = importlib.import_module(f"faultlens.commands.{module}").command
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="faultlens")
def main() -> None:
    """faultlens: find the failures of multi-agent LLM systems in their OpenTelemetry traces."""
