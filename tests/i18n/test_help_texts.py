"""The ``help`` catalogs (``pgs ... --help`` in every language): one entry per help text of the
command tree, English equal to the code's, every language complete; the generator that keeps
them so (``python -m pgs_hub.hub.i18n_build help``); the key scheme of hub/cli/helptext.py."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import ClassVar

import click
import pytest

from pgs_hub.hub import i18n_build
from pgs_hub.hub.cli.helptext import SHORT, command_key, tree_texts, walk
from pgs_hub.hub.i18n import HELP_DOMAIN, LANGS


@pytest.fixture(scope="module")
def tree() -> dict[str, str]:
    return i18n_build.help_tree()


def test_every_help_text_is_in_every_language_and_english_is_the_code_s(
    tree: dict[str, str],
) -> None:
    """What `make i18n-check` fails on for help (the list is printed on failure)."""
    found = list(i18n_build.help_problems(tree))
    assert found == [], "\n".join(found)


def test_the_tree_walk_reaches_every_kind_of_help_text(tree: dict[str, str]) -> None:
    """Not vacuous: the walk reaches the root, groups, sub-commands of sub-groups (also those
    another module adds to admin), options by their long flag and arguments."""
    assert tree["help.pgs"].startswith("Global Shield Hub:")
    assert "help.pgs.admin" in tree
    assert "help.pgs.admin.backup" in tree  # added to admin by hub/cli/backup.py
    assert "help.pgs.audit.verify.--state" in tree
    assert tree["help.pgs.send.--to"] == "Recipient; repeatable."
    assert "help.pgs.--lang" in tree
    assert not any(".--worker-index" in key for key in tree)  # hidden options are not shown
    assert len(tree) > 300


def test_a_changed_docstring_makes_the_catalogs_stale(tree: dict[str, str]) -> None:
    changed = dict(tree)
    changed["help.pgs.send.--to"] = "A recipient; repeat the option for each one."
    found = list(i18n_build.help_problems(changed))
    assert found == [
        "en: help.pgs.send.--to: the catalog's English differs from the code's"
        " (run python -m pgs_hub.hub.i18n_build help)"
    ]


def test_a_new_or_removed_help_text_is_reported_in_every_language(tree: dict[str, str]) -> None:
    changed = {k: v for k, v in tree.items() if k != "help.pgs.send.--json"}
    changed["help.pgs.send.--urgent"] = "Mark the message urgent."
    found = set(i18n_build.help_problems(changed))
    assert (
        "en: help.pgs.send.--urgent: no entry (run python -m pgs_hub.hub.i18n_build help)" in found
    )
    for lang in LANGS:
        removed = f"{lang}: help.pgs.send.--json: no command shows it any more"
        assert any(line.startswith(removed) for line in found), lang
        if lang != "en":
            assert f"{lang}: help.pgs.send.--urgent: no text" in found


def test_a_translation_must_keep_options_code_and_variables() -> None:
    english = "Your key folder (made by `pgs keygen`), see --keys and $PGS_KEYS; end-to-end."
    assert i18n_build.kept(english) == ["$PGS_KEYS", "--keys", "`pgs keygen`"]
    assert i18n_build.kept("Votre dossier (créé par pgs keygen), voir --keys et $PGS_KEYS.") == [
        "$PGS_KEYS",
        "--keys",
    ]


@pytest.fixture
def catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the help catalogs that the generator writes instead of hub/locale."""
    for lang in LANGS:
        source = i18n_build.catalog_path(lang, HELP_DOMAIN)
        target = tmp_path / lang / "LC_MESSAGES" / f"{HELP_DOMAIN}.po"
        target.parent.mkdir(parents=True)
        shutil.copy(source, target)

    def path(lang: str, domain: str = "messages", suffix: str = ".po") -> Path:
        return tmp_path / lang / "LC_MESSAGES" / f"{domain}{suffix}"

    monkeypatch.setattr(i18n_build, "catalog_path", path)
    return tmp_path


def test_the_generator_writes_english_and_lists_what_each_language_lacks(
    tree: dict[str, str], catalogs: Path
) -> None:
    changed = {k: v for k, v in tree.items() if k != "help.pgs.send.--json"}
    changed["help.pgs.send.--to"] = "A recipient; repeat the option for each one."
    changed["help.pgs.send.--urgent"] = "Mark the message urgent."

    lacking = i18n_build.update_help(changed)

    assert set(lacking) == set(LANGS) - {"en"}
    for lang in lacking:
        assert lacking[lang] == [
            ("help.pgs.send.--to", "A recipient; repeat the option for each one."),
            ("help.pgs.send.--urgent", "Mark the message urgent."),
        ]
    english = {str(m.id): m.string for m in i18n_build.load("en", HELP_DOMAIN) if m.id}
    assert english == changed  # the English catalog is the tree, in its order
    french = {str(m.id): m for m in i18n_build.load("fr", HELP_DOMAIN) if m.id}
    assert french["help.pgs.send.--to"].fuzzy  # kept for the translator, not shown
    assert french["help.pgs.send.--to"].string == "Destinataire ; répétable."
    assert french["help.pgs.send.--urgent"].string == ""
    assert "help.pgs.send.--json" not in french
    found = set(i18n_build.help_problems(changed))
    assert "fr: help.pgs.send.--urgent: no text" in found
    assert (
        "fr: help.pgs.send.--to: to review, the English changed (then remove '#, fuzzy')" in found
    )
    assert not any(line.startswith("en:") for line in found)

    # Run again on the same tree: nothing new, the fuzzy entry stays listed until reviewed.
    assert i18n_build.update_help(changed) == lacking


def test_the_generator_changes_nothing_on_an_up_to_date_tree(
    tree: dict[str, str], catalogs: Path
) -> None:
    before = {lang: i18n_build.catalog_path(lang, HELP_DOMAIN).read_bytes() for lang in LANGS}
    assert i18n_build.update_help(tree) == {}
    after = {lang: i18n_build.catalog_path(lang, HELP_DOMAIN).read_bytes() for lang in LANGS}
    assert after == before


class _Lazy(click.Group):
    """A group that makes its commands only when asked, as a lazily importing group does."""

    made: ClassVar[list[str]] = []

    def list_commands(self, ctx: click.Context) -> list[str]:
        return ["late"]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self.made.append(cmd_name)

        @click.command(cmd_name, short_help="Late, briefly.")
        @click.argument("thing", help="The thing.")
        @click.option("-q", "--quiet", is_flag=True, help="Say less.")
        @click.option("-v", is_flag=True, help="Say more.")
        @click.option("--secret", hidden=True, help="Not shown.")
        def late(thing: str, quiet: bool, v: bool, secret: str | None) -> None:
            """Arrive late.

            \f
            Not shown either."""

        return late if cmd_name == "late" else None


def test_the_walk_loads_lazy_groups_and_keys_follow_the_scheme() -> None:
    @click.group(cls=_Lazy)
    def root() -> None:
        """Root."""

    assert [path for path, _ in walk(root)] == [("pgs",), ("pgs", "late")]
    assert _Lazy.made
    assert tree_texts(root) == {
        "help.pgs": "Root.",
        "help.pgs.late": "Arrive late.",
        f"help.pgs.late.{SHORT}": "Late, briefly.",
        "help.pgs.late.THING": "The thing.",
        "help.pgs.late.--quiet": "Say less.",
        "help.pgs.late.-v": "Say more.",
    }
    assert command_key(("pgs", "admin", "suspend")) == "help.pgs.admin.suspend"
