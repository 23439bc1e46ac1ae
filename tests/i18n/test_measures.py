"""Durations and sizes are said in the reader's language by the CLDR (hub/i18n_measures.py): no
unit word of our own ("s", "min", "MB") reaches a French or Arabic page or terminal."""

from __future__ import annotations

import pytest

from pgs_hub.hub.console.render import fmt_duration
from pgs_hub.hub.i18n import LANGS
from pgs_hub.hub.i18n_measures import duration, size


def plain(text: str) -> str:
    """The CLDR separates with no-break spaces (narrow ones in French): compared as spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.mark.parametrize(
    ("seconds", "lang", "said"),
    [
        (42, "fr", "42 s"),
        (185, "fr", "3 min 5 s"),
        (120, "fr", "2 min"),
        (7800, "fr", "2 h 10 min"),
        (42, "ar", "42 ث"),
        (185, "ar", "3 د و5 ث"),  # the CLDR's Arabic "and", said once (Babel's own join repeats)
        (7800, "ar", "2 س و10 د"),
        (185, "en", "3 min 5 sec"),
    ],
)
def test_durations_in_the_language(seconds: float, lang: str, said: str) -> None:
    assert plain(duration(seconds, lang)) == said


def test_a_precise_duration_keeps_a_tenth_with_the_locale_decimal_mark() -> None:
    assert plain(duration(0.43, "fr", precise=True)) == "0,4 s"
    assert plain(duration(2.34, "en", precise=True)) == "2.3 sec"


@pytest.mark.parametrize(
    ("n", "lang", "said"),
    [
        (512, "fr", "512 o"),
        (183_204, "fr", "183,2 ko"),
        (1_536_000, "fr", "1,5 Mo"),
        (3_000_000_000, "fr", "3 Go"),
        (183_204, "ar", "183.2 كيلوبايت"),
        (1_536_000, "ar", "1.5 م.ب"),
        (1_536_000, "es", "1,5 MB"),
    ],
)
def test_sizes_in_the_language(n: int, lang: str, said: str) -> None:
    assert plain(size(n, lang)) == said


@pytest.mark.parametrize("lang", LANGS)
def test_the_console_median_is_said_in_every_language(lang: str) -> None:
    said = fmt_duration(185, lang)
    assert said == duration(185, lang)
    if lang == "ar":
        assert not any(letter.isascii() and letter.isalpha() for letter in said), said


def test_an_unknown_language_reads_as_english() -> None:
    assert plain(size(2048, "de")) == plain(size(2048, "en")) == "2 kB"


def test_pgs_read_says_numbers_and_booleans_in_the_language() -> None:
    from pgs_hub.hub.cli.render import scalar

    assert scalar("concentration", 98.5, "fr") == "98,5"
    assert scalar("arrests", 1200, "en") == "1,200"
    assert scalar("size", 183_204, "fr").replace("\u202f", " ").replace("\xa0", " ") == "183,2 ko"
    assert scalar("consent", True, "ar") == "نعم"
    assert scalar("consent", False, "fr") == "non"
