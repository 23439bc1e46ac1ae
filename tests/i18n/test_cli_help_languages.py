"""``pgs --help`` and the help of every command in the user's language (``--lang``, ``PGS_LANG``),
run in-process with Click's CliRunner against the real command tree and catalogs; English stays
exactly what Click prints from the docstrings."""

from __future__ import annotations

import copy
import re

import click
import pytest
from click.testing import CliRunner

from pgs_hub.hub.cli import main
from pgs_hub.hub.cli.helptext import walk
from pgs_hub.hub.i18n import HELP_DOMAIN, texts

# A line of help output that carries help text: a paragraph line, or an option line with text in
# its help column. Lines made only of flags, metavars and choices are the same in every language.
_HELP_COLUMN = re.compile(r"^\s*-\S.*?\S {2,}\S")


def _help(args: list[str], monkeypatch: pytest.MonkeyPatch) -> str:
    # --lang sets PGS_LANG for the process: monkeypatch puts it back after the test.
    monkeypatch.setenv("PGS_LANG", "en")
    done = CliRunner().invoke(main, args, prog_name="pgs")
    assert done.exit_code == 0, done.output
    return done.output


def _carries_text(line: str) -> bool:
    stripped = line.strip()
    if not stripped or stripped.endswith(":"):  # blank, or a heading ("Options:")
        return False
    if stripped.startswith("-"):
        return bool(_HELP_COLUMN.match(line))
    if re.fullmatch(r"[a-z-]+", stripped):  # a command name alone on its line
        return False
    # Words, not only a $VARIABLE or `code` carried over to a line of its own.
    return bool(re.search(r"[^\W\d_]{2,}", re.sub(r"\$\w+|`[^`]*`", "", stripped)))


@pytest.mark.parametrize(
    ("lang", "command"),
    [("fr", []), ("ar", ["send"]), ("es", ["admin"]), ("pt", ["audit", "verify"])],
    ids=["fr-pgs", "ar-send", "es-admin", "pt-audit-verify"],
)
def test_help_is_in_the_chosen_language_with_no_english_help_line_left(
    lang: str, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    english = _help(["--lang", "en", *command, "--help"], monkeypatch)
    translated = _help(["--lang", lang, *command, "--help"], monkeypatch)

    key = ".".join(["help", "pgs", *command])
    first_words = texts(lang, HELP_DOMAIN)[key].split()[:3]
    assert " ".join(first_words) in " ".join(translated.split())  # the command's own help
    assert translated != english
    left = [
        line
        for line in english.splitlines()
        if _carries_text(line) and line in translated.splitlines()
    ]
    assert left == [], "\n".join(left)


def test_the_language_also_comes_from_pgs_lang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGS_LANG", "fr")
    done = CliRunner().invoke(main, ["admin", "suspend", "--help"], prog_name="pgs")
    assert done.exit_code == 0, done.output
    assert "Suspendre PARTICIPANT : tout lui est refusé" in done.output
    assert "Afficher ce message et quitter." in done.output  # Click's own, from its domain


def test_the_english_check_is_not_vacuous(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above finds English help lines when they are left."""
    english = _help(["--lang", "en", "send", "--help"], monkeypatch)
    assert [line for line in english.splitlines() if _carries_text(line)]
    assert _carries_text("  --to PARTICIPANT                Recipient; repeatable.")
    assert not _carries_text("  --tlp [CLEAR|GREEN|AMBER|AMBER+STRICT|RED]")
    assert _carries_text("  Encrypt MESSAGE (JSON content of a KIND message) to participants")
    assert not _carries_text("                           ($PGS_DEBUG=1).")


def _plain(command: click.Command) -> click.Command:
    """``command`` as bare Click formats it (no translation, no catalog); a group holds its
    commands, loaded through the original's ``get_command`` (a lazy group loads them)."""
    bare = copy.copy(command)
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        loaded = {name: command.get_command(ctx, name) for name in command.list_commands(ctx)}
        bare.__class__ = click.Group
        bare.commands = {name: sub for name, sub in loaded.items() if sub is not None}  # type: ignore[attr-defined]
    else:
        bare.__class__ = click.Command
    # As in a fresh process: Click keeps the -h/--help option it made, in the language of the
    # run that made it (an earlier test's French would otherwise be "what Click prints").
    bare._help_option = None
    return bare


def test_english_help_is_what_click_prints_from_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """For every command of the tree: the help in English, lists of commands included (made from
    the catalogs), equals Click's own rendering of the docstrings and help= texts."""
    monkeypatch.setenv("PGS_LANG", "en")
    settings = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
    count = 0
    for path, command in walk(main):
        ours = theirs = None
        for shown in (command, _plain(command)):
            ctx: click.Context | None = None
            for name in path[:-1]:
                ctx = click.Context(click.Group(name), info_name=name, parent=ctx, **settings)
            ctx = click.Context(shown, info_name=path[-1], parent=ctx, **settings)
            text = shown.get_help(ctx)
            ours, theirs = (text, theirs) if shown is command else (ours, text)
        assert ours == theirs, path
        count += 1
    assert count > 50


def test_a_language_used_before_does_not_stay_in_the_help_option(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Click keeps each command's -h/--help option once made: a French run first (as another
    test, or an embedding program, may do in the same process) must not leave French behind."""
    monkeypatch.setattr(main, "_help_option", None, raising=False)  # as in a fresh process
    monkeypatch.setenv("PGS_LANG", "fr")  # French from the start: the option is made in French
    french = CliRunner().invoke(main, ["--help"], prog_name="pgs")
    assert "Afficher ce message et quitter." in french.output
    english = _help(["--lang", "en", "--help"], monkeypatch)
    assert "Show this message and exit." in english
    assert "Afficher" not in english
