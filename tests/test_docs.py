"""Every CLI command is documented in the README and has help text with an example."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from hygiene.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_the_readme(name: str) -> None:
    assert f"`hygiene {name}" in README


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_and_an_example(name: str) -> None:
    command = cli.commands[name]
    assert isinstance(command, click.Command)
    assert command.help and "Example:" in command.help


def test_readme_shows_the_two_commands_first() -> None:
    top = README.split("## ", 1)[0]
    assert "make demo" in top and "make test" in top
