"""The catalogs of hub/locale: complete in every shipped language, placeholders as in English, no
key used in code missing, and the compiled form equal to the source (what `make i18n-check` and
the build rely on)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo

from pgs_hub.hub import i18n, i18n_build
from pgs_hub.hub.i18n import LANGS, t


def test_the_catalogs_have_no_problem() -> None:
    """Every key used in code is in English; every language has every English key, non-empty,
    with the same placeholders, and no key English lacks (the list is printed on failure)."""
    found = list(i18n_build.problems())
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("lang", LANGS)
def test_every_text_is_non_empty_with_the_english_placeholders(lang: str) -> None:
    english = i18n_build.texts_of(i18n_build.load("en"))
    theirs = i18n_build.texts_of(i18n_build.load(lang))
    assert theirs.keys() == english.keys()
    for key, text in english.items():
        assert theirs[key].strip(), key
        assert i18n_build.placeholders(theirs[key]) == i18n_build.placeholders(text), key


def test_the_extractor_sees_the_keys_the_code_uses() -> None:
    """Not vacuous: Babel's extractor finds literal keys through every keyword, and counts the
    keys built at run time."""
    used, dynamic = i18n_build.used_keys()
    assert {"cli.error.prefix", "console.sign_out", "demo.title", "cli.inbox.seen"} <= set(used)
    assert "console.error.forbidden" in used  # through signin's _refused(request, lang, key)
    assert dynamic > 0
    english = i18n_build.texts_of(i18n_build.load("en"))
    assert len(used) < len(english)  # dynamic keys (cli.value.*, cli.code.*) exist beside them


def test_a_missing_key_is_reported(tmp_path: Path) -> None:
    (tmp_path / "uses.py").write_text('t("no.such.key", lang)\nsay("demo.title")\n')
    used, _ = i18n_build.used_keys(tmp_path)
    assert set(used) == {"no.such.key", "demo.title"}
    assert not i18n.known("no.such.key")
    with pytest.raises(KeyError):
        t("no.such.key", "en")


def test_placeholders_are_the_format_fields() -> None:
    assert i18n_build.placeholders("{b} et {a} {{not}}") == ["a", "b"]
    assert i18n_build.placeholders("{0}") == ["0"]


def test_the_compiled_catalogs_say_what_the_sources_say(tmp_path: Path) -> None:
    written = i18n_build.compile_all(tmp_path)
    assert {p.parts[-3] for p in written} >= set(LANGS)
    for lang in LANGS:
        mo = tmp_path / lang / "LC_MESSAGES" / "messages.mo"
        compiled = read_mo(io.BytesIO(mo.read_bytes()))
        assert {m.id: m.string for m in compiled if m.id} == i18n_build.texts_of(
            i18n_build.load(lang)
        )


def test_texts_are_kept_exactly() -> None:
    assert t("demo.refused", "en", who="GH", reason="x") == "GH refused: x"
    assert t("demo.refused", "fr", who="GH", reason="x") == "GH refusé : x"
    assert t("cli.error.prefix", "fr") == "erreur :"


def test_the_catalogue_view_is_read_only() -> None:
    assert "demo.title" in i18n.CATALOGUE
    assert i18n.CATALOGUE["demo.title"]["en"] == "Global Shield Hub - offline demo"
    assert not hasattr(i18n.CATALOGUE, "update")
    assert not hasattr(i18n.CATALOGUE, "__setitem__")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PGS_LANG": "fr"}, "fr"),
        ({"LC_ALL": "fr_FR.UTF-8"}, "fr"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({}, "en"),
    ],
    ids=["pgs-lang", "lc-all", "lang", "unshipped", "none"],
)
def test_resolve_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name in ("PGS_LANG", "LC_ALL", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert i18n.resolve(None) == expected
    assert i18n.resolve("fr") == "fr"


@pytest.fixture
def scratch_locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of hub/locale the build tools write to instead of the real one."""
    copy = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, copy, ignore=shutil.ignore_patterns("*.mo", "*.pot"))
    monkeypatch.setattr(i18n, "LOCALE_DIR", copy)
    monkeypatch.setattr(i18n_build, "LOCALE_DIR", copy)
    return copy


OLD_CLI = """
CLI_CATALOGUE = {
    "cli.brand_new": {"en": "{n} new things", "fr": "{n} nouveautés"},
    "cli.error.prefix": {"en": "error:", "fr": "erreur :"},
}
"""
OLD_MAIN = """
from pgs_hub.hub.i18n_cli import CLI_CATALOGUE

CATALOGUE = {
    "demo.title": {"en": "{BASE}", "fr": "Démo"},
    "console.lang.switch": {"en": "Français", "fr": "English"},
}
CATALOGUE.update(CLI_CATALOGUE)
"""


def test_fold_takes_what_a_branch_added_to_the_old_dicts(scratch_locale: Path) -> None:
    base, branch = scratch_locale / "base", scratch_locale / "branch"
    for folder, title in ((base, "Global Shield Hub - offline demo"), (branch, "A new title")):
        folder.mkdir()
        (folder / "i18n_cli.py").write_text(OLD_CLI if folder == branch else "CLI_CATALOGUE = {}")
        (folder / "i18n.py").write_text(OLD_MAIN.replace("{BASE}", title))
    changed = i18n_build.fold(
        [branch / "i18n.py", branch / "i18n_cli.py"], [base / "i18n.py", base / "i18n_cli.py"]
    )
    # the new key and the changed English; neither the unchanged prefix nor the dropped switch
    assert sorted(changed) == ["cli.brand_new", "demo.title"]
    english = i18n_build.texts_of(i18n_build.load("en"))
    assert english["cli.brand_new"] == "{n} new things"
    assert i18n_build.texts_of(i18n_build.load("fr"))["demo.title"] == "Démo"
    assert "console.lang.switch" not in english
    left = list(i18n_build.problems())
    for lang in ("es", "pt", "ar"):  # what remains to translate is listed
        assert f"{lang}: cli.brand_new: no text" in left
        assert f"{lang}: demo.title: no text" in left
    assert not any(line.startswith(("en:", "fr:")) for line in left)


def test_a_new_language_starts_with_every_key_to_translate(scratch_locale: Path) -> None:
    i18n_build.add_language("de")
    left = list(i18n_build.problems(langs=["de"]))
    assert "de: demo.title: no text" in left
    assert len(left) == len(i18n_build.texts_of(i18n_build.load("en")))
    click_left = list(i18n_build.problems(langs=["de"], domain=i18n.CLICK_DOMAIN))
    assert "de: Usage:: no text" in click_left
