"""The settings object (hub/settings.py): read from config.toml's [limits], refused when unknown,
fixed by the protocol, or out of range; the module's table documents every field."""

from __future__ import annotations

import dataclasses

import pytest

from pgs_hub.hub import settings
from pgs_hub.hub.errors import ConfigError
from pgs_hub.hub.settings import DEFAULTS, Settings, from_toml


def test_an_empty_table_gives_the_defaults() -> None:
    assert from_toml({}) == DEFAULTS == Settings()


def test_a_table_overrides_what_it_names_and_keeps_the_rest() -> None:
    got = from_toml({"page_size": 50, "housekeeping_seconds": 2.5, "submissions_per_minute": 9},
                    ignore=frozenset({"submissions_per_minute"}))  # fmt: skip
    assert (got.page_size, got.housekeeping_seconds) == (50, 2.5)
    assert got.inbox_page_max == DEFAULTS.inbox_page_max


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"page_sise": 10}, "page_sise is not a setting"),
        ({"clock_skew_seconds": 60}, "clock_skew_seconds is not a setting"),
        ({"page_size": 0}, "page_size must be a number between 1 and"),
        ({"page_size": True}, "page_size must be"),
        ({"page_size": 2.5}, "page_size must be"),
        ({"inbox_page_max": "500"}, "inbox_page_max must be"),
    ],
    ids=["unknown", "fixed", "too-small", "bool", "not-integral", "text"],
)
def test_bad_limits_are_refused_by_name(table: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        from_toml(table)


def test_the_table_documents_every_field() -> None:
    doc = settings.__doc__ or ""
    for field in dataclasses.fields(Settings):
        assert f"``{field.name}``" in doc, field.name
