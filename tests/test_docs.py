"""The docs stay honest: every CLI command has help and appears in the README."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from faultlens.cli import COMMANDS, main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_command_is_documented_in_the_readme() -> None:
    missing = [name for name in COMMANDS if f"faultlens {name}" not in README]
    assert not missing, f"commands not in README.md: {missing}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    command = main.get_command(click.Context(main), name)
    assert command is not None and command.name == name
    assert (command.help or "").strip(), f"{name} has no help text"


def test_readme_opens_with_the_two_commands() -> None:
    head = README[: README.find("## ", README.find("## ") + 1)]
    assert "make demo" in head and "make test" in head
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "make test" in ci
