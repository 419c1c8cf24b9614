"""The ``faultlens`` console script: a click group; each command lives in ``faultlens.commands``."""

from __future__ import annotations

import importlib

import click

#: module names under faultlens.commands; each exposes ``command``
COMMANDS = ("serve", "up", "ingest", "sql", "analyze", "report", "demo", "eval", "export", "generate")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="faultlens")
def main() -> None:
    """faultlens: find the failures of multi-agent LLM systems in their OpenTelemetry traces."""


for _name in COMMANDS:
    try:
        _module = importlib.import_module(f"faultlens.commands.{_name}")
    except ModuleNotFoundError as e:
        if e.name != f"faultlens.commands.{_name}":
            raise
        continue
    main.add_command(_module.command)
