"""Click's own usage errors ("No such option", "Missing argument", "Usage:") in the user's
language, from the ``click`` domain catalogs (hub/locale/<lang>/LC_MESSAGES/click.po)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgs_hub.hub.i18n import CLICK_DOMAIN, LANGS
from pgs_hub.hub.i18n_build import load, texts_of
from tests.hub.test_cli_mistakes import pgs

PROG = "python -m pgs_hub"  # how tests run pgs


def _click(lang: str) -> dict[str, str]:
    return texts_of(load(lang, CLICK_DOMAIN))


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "en"])
@pytest.mark.parametrize("how", ["option", "env"])
def test_a_usage_error_is_in_the_chosen_language(tmp_path: Path, lang: str, how: str) -> None:
    if how == "option":
        done = pgs("--lang", lang, "send", "--bogus", cwd=tmp_path)
    else:
        done = pgs("send", "--bogus", cwd=tmp_path, env={"PGS_LANG": lang})
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    texts = _click(lang)
    error = texts["Error: {message}"].format(
        message=texts["No such option {name!r}."].format(name="--bogus")
    )
    usage, hint, blank, last = done.stderr.rstrip("\n").split("\n")
    assert last == error, done.stderr  # the error itself: one line, translated
    assert usage.startswith(f"{texts['Usage:']} {PROG} send"), done.stderr
    assert hint == texts["Try '{command} {option}' for help."].format(
        command=f"{PROG} send", option="--help"
    )
    assert "No such option" not in done.stderr
    assert not blank


def test_a_missing_argument_follows_the_locale(tmp_path: Path) -> None:
    done = pgs("read", cwd=tmp_path, env={"PGS_LANG": "", "LC_ALL": "", "LANG": "pt_BR.UTF-8"})
    assert done.returncode == 2
    texts = _click("pt")
    assert done.stderr.rstrip().endswith(
        texts["Error: {message}"].format(message=f"{texts['Missing argument']} 'MID'.")
    ), done.stderr


def test_english_stays_click_s_own(tmp_path: Path) -> None:
    done = pgs("--lang", "en", "send", "--bogus", cwd=tmp_path, env={"LANGUAGE": "fr"})
    assert done.returncode == 2
    assert done.stderr.rstrip().endswith("Error: No such option '--bogus'."), done.stderr
    assert done.stderr.startswith(f"Usage: {PROG} send")


def test_every_click_message_we_translate_is_one_click_still_has() -> None:
    """After a Click upgrade, a renamed message would silently fall back to English."""
    from pgs_hub.hub.i18n_build import click_messages

    assert set(_click("en")) <= set(click_messages())
    assert {"Usage:", "Error: {message}", "No such option {name!r}.", "Missing argument"} <= set(
        _click("en")
    )


def test_every_click_message_that_is_words_is_translated() -> None:
    """Programmer-facing ones too; what stays is listed in CLICK_NOT_WORDS with its reason."""
    from pgs_hub.hub.i18n_build import CLICK_NOT_WORDS, click_messages, click_report, main

    left = set(click_messages()) - set(_click("en"))
    assert left == set(CLICK_NOT_WORDS), sorted(left)
    assert main(["click"]) == 0
    assert click_report({}) == 1  # an empty catalog leaves words in English


@pytest.mark.parametrize(
    ("lang", "n", "said"),
    [
        ("fr", 1, "Attend 2 valeurs, mais 1 a été fournie."),
        ("fr", 3, "Attend 2 valeurs, mais 3 ont été fournies."),
        ("ar", 1, "عدد القيم المطلوب 2، ولكن أُعطيت قيمة واحدة."),
        ("ar", 3, "عدد القيم المطلوب 2، ولكن أُعطيت 3 قيم."),
        ("es", 3, "Se esperan 2 valores, pero se han dado 3."),
    ],
)
def test_a_plural_click_message_takes_the_language_s_form(lang: str, n: int, said: str) -> None:
    import gettext

    from pgs_hub.hub.i18n import compiled_dir

    found = gettext.translation(CLICK_DOMAIN, compiled_dir(lang, CLICK_DOMAIN), [lang])
    text = found.ngettext(
        "Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given.", n
    )
    assert text.format(nargs=2, len=n) == said
