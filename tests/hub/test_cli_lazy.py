"""``pgs --help`` lists the commands without importing them (hub/cli/__init__.py), and the list it
shows is the commands' own help (a command's docstring changed without the table fails here)."""

from __future__ import annotations

import subprocess
import sys

import click

from pgs_hub.hub.cli import ADMIN_EXTRAS, COMMANDS, load_command, main


def test_the_table_is_each_command_s_own_short_help() -> None:
    for name, (_, _, short) in COMMANDS.items():
        command = load_command(name)
        assert command.name == name
        assert command.get_short_help_str(10**6) == short, name


def test_admin_carries_the_commands_other_modules_add() -> None:
    admin = load_command("admin")
    assert isinstance(admin, click.Group)
    ctx = click.Context(admin)
    names = set(admin.list_commands(ctx))
    assert {"backup", "restore", "certs", "purge-bodies", "metrics-token", "codelists"} <= names
    assert len(ADMIN_EXTRAS) == 6


def test_help_imports_no_command_module() -> None:
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from pgs_hub.hub.cli import main, COMMANDS\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "loaded = sorted({m for m, _, _ in COMMANDS.values()} & set(sys.modules))\n"
        "print(','.join(loaded) or 'none')\n"
        "print(result.output)\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    first, _, shown = done.stdout.partition("\n")
    assert first == "none"
    for name in COMMANDS:
        assert f"  {name} " in shown, name


def test_an_unknown_command_is_refused_plainly() -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["nosuch"])
    assert result.exit_code == 2
    assert "No such command" in result.output
