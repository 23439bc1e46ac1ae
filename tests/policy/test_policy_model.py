"""The policy file: the default loads and documents every key; bad files are refused in plain
words that say where."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pgs_hub.hub.errors import ConfigError
from pgs_hub.hub.policy.model import (
    Policy,
    PolicyError,
    default_policy,
    default_policy_text,
    load_policy,
    load_policy_file,
)
from pgs_hub.protocols.messages.kinds import MessageKind

ROOT = Path(__file__).resolve().parents[2]

OP_GATEWAY = """
[groups.OP-GATEWAY]
description = "Operation Gateway: Gulf of Guinea ports"
countries = ["NG", "GH", "CM", "TG", "BJ"]
participants = ["WCO-PGS"]
"""


def test_default_policy_loads() -> None:
    policy = default_policy()
    assert policy.may_send("ncp", MessageKind.SEIZURE)
    assert not policy.may_send("ncp", MessageKind.NOTICE)
    assert policy.may_send("wco", MessageKind.NOTICE)
    assert policy.may_address_groups("wco")
    assert not policy.may_address_groups("ncp")
    for silent in ("auditor", "admin"):
        assert not any(policy.may_send(silent, kind) for kind in MessageKind)
        assert not policy.may_address_groups(silent)
    assert not policy.may_send("wco", MessageKind.RECEIPT)
    assert not policy.may_send("superuser", MessageKind.ALERT)
    assert policy.suspended_countries == frozenset()
    assert policy.groups == {}
    assert policy.rules.seizure_requires_wco
    assert policy.rules.red_only_to_named
    limits = policy.limits
    assert (limits.max_envelope_bytes, limits.max_recipients) == (6_291_456, 512)
    assert (limits.rate_per_minute, limits.rate_burst) == (600, 100)
    assert (limits.clock_skew_seconds, limits.max_ttl_days) == (300, 90)
    assert limits.max_ttl_seconds == 90 * 24 * 3600


def test_the_file_and_the_built_in_defaults_agree() -> None:
    """A key left out means the value default.toml documents."""
    assert default_policy() == Policy() == load_policy("")


def test_default_toml_sets_every_key() -> None:
    document = tomllib.loads(default_policy_text())

    def keys(model: type[Any], prefix: str = "") -> set[str]:
        found = set()
        for name, info in model.model_fields.items():
            annotation = info.annotation
            nested = getattr(annotation, "model_fields", None)
            if nested is not None and name != "groups":
                found |= keys(annotation, f"{prefix}{name}.")
            else:
                found.add(prefix + name)
        return found

    def written(table: dict[str, Any], prefix: str = "") -> set[str]:
        found = set()
        for name, value in table.items():
            if isinstance(value, dict):
                found |= written(value, f"{prefix}{name}.")
            else:
                found.add(prefix + name)
        return found

    assert keys(Policy) - {"groups"} == written(document)
    assert "[groups.OP-GATEWAY]" in default_policy_text()  # the commented example


def test_every_key_has_a_comment() -> None:
    """Each key, or the run of keys it belongs to, comes right after a comment."""
    lines = default_policy_text().splitlines()
    key = re.compile(r"[a-z_]+ = ")
    for number, line in enumerate(lines):
        if key.match(line):
            before = number - 1
            while key.match(lines[before]):
                before -= 1
            assert lines[before].startswith("#"), f"line {number + 1} is not explained: {line}"


def test_the_commented_example_group_loads() -> None:
    example = "\n".join(
        line.removeprefix("# ")
        for line in default_policy_text().splitlines()
        if line.startswith(("# [groups.", "# description", "# countries", "# participants"))
    )
    policy = load_policy(default_policy_text() + "\n" + example)
    group = policy.groups["OP-GATEWAY"]
    assert group.countries == ("NG", "GH", "CM", "TG", "BJ")
    assert group.participants == ("WCO-PGS",)


def test_the_default_policy_is_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "policy/*.toml" in pyproject["tool"]["setuptools"]["package-data"]["pgs_hub.hub"]
    assert default_policy_text() == (ROOT / "hub" / "policy" / "default.toml").read_text()


# --- refusals ------------------------------------------------------------------------------------


def test_bad_toml_names_the_line() -> None:
    text = "[limits]\nmax_recipients = 20\nrate_burst = = 3\n"
    with pytest.raises(PolicyError, match="line 3") as caught:
        load_policy(text)
    assert "not valid TOML" in str(caught.value)


def test_a_policy_error_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_policy("[limits]\nmax_recipients = 0\n")
    assert caught.value.code == "policy.invalid"


INVALID = [
    # limits, each within the protocol's own cap
    pytest.param("[limits]\nmax_recipients = 513", "limits.max_recipients must be at most 512"),
    pytest.param("[limits]\nmax_recipients = 0", "limits.max_recipients must be at least 1"),
    pytest.param(
        "[limits]\nmax_envelope_bytes = 6291457",
        "limits.max_envelope_bytes must be at most 6291456",
    ),
    pytest.param("[limits]\nmax_ttl_days = 367", "limits.max_ttl_days must be at most 366"),
    pytest.param("[limits]\nmax_ttl_days = 0", "limits.max_ttl_days must be at least 1"),
    pytest.param(
        "[limits]\nclock_skew_seconds = -1", "limits.clock_skew_seconds must be at least 0"
    ),
    pytest.param("[limits]\nrate_per_minute = 0", "limits.rate_per_minute must be at least 1"),
    pytest.param("[limits]\nrate_burst = 2.5", "limits.rate_burst must be a whole number"),
    pytest.param('[limits]\nmax_ttl_days = "30"', "limits.max_ttl_days must be a whole number"),
    pytest.param("[limits]\nmax_recipent = 3", "limits.max_recipent is not an allowed field"),
    pytest.param(
        "[limits]\nmax_attachments_bytes = 1000",
        "limits may not set max_attachments_bytes: attachments are inside the encrypted content",
    ),
    # roles
    pytest.param(
        '[roles.auditor]\nsend = ["alert"]', "roles.auditor must have send = [] and address_groups"
    ),
    pytest.param("[roles.admin]\naddress_groups = true", "roles.admin must have send = []"),
    pytest.param('[roles.ncp]\nsend = ["alert", "receipt"]', "roles.ncp.send may not list receipt"),
    pytest.param('[roles.ncp]\nsend = ["gossip"]', "roles.ncp.send[0] must be one of alert"),
    pytest.param('[roles.ncp]\naddress_groups = "yes"', "roles.ncp.address_groups must be true or"),
    pytest.param("[roles.superuser]\nsend = []", "roles.superuser is not an allowed field"),
    # rules
    pytest.param("[rules]\nred_only_to_named = false", "rules.red_only_to_named cannot be false"),
    pytest.param("[rules]\nseizure_requires_wco = 1", "rules.seizure_requires_wco must be true or"),
    # suspended countries
    pytest.param(
        'suspended_countries = ["ZZ"]',
        "suspended_countries[0] must be the ISO 3166-1 alpha-2 code of a WCO Member",
    ),
    pytest.param(
        'suspended_countries = ["TW"]', "suspended_countries[0] must be the ISO 3166-1 alpha-2 code"
    ),
    # groups
    pytest.param(
        '[groups.op-gateway]\ndescription = "x"\ncountries = ["NG"]',
        "groups.op-gateway (name) must be 2 to 40 characters",
    ),
    pytest.param(
        '[groups.X]\ndescription = "x"\ncountries = ["NG"]',
        "groups.X (name) must be 2 to 40 characters",
    ),
    pytest.param(
        f'[groups.{"A" * 41}]\ndescription = "x"\ncountries = ["NG"]',
        "(name) must be 2 to 40 characters",
    ),
    pytest.param(
        '[groups.WCA]\ndescription = "x"\ncountries = ["FR"]',
        "groups may not redefine a built-in group (ALL or a WCO region code): WCA",
    ),
    pytest.param(
        '[groups.ALL]\ndescription = "x"\ncountries = ["FR"]',
        "groups may not redefine a built-in group (ALL or a WCO region code): ALL",
    ),
    pytest.param(
        '[groups.EMPTY]\ndescription = "nobody"',
        "groups.EMPTY must list countries, participants or both",
    ),
    pytest.param('[groups.NONAME]\ncountries = ["NG"]', "groups.NONAME.description is required"),
    pytest.param(
        '[groups.TWICE]\ndescription = "x"\ncountries = ["NG", "NG"]',
        "groups.TWICE lists a country more than once",
    ),
    pytest.param(
        '[groups.BAD]\ndescription = "x"\ncountries = ["NGA"]',
        "groups.BAD.countries[0] must be the ISO 3166-1 alpha-2 code of a WCO Member",
    ),
    pytest.param(
        '[groups.BAD]\ndescription = "x"\nparticipants = ["ng-ncp"]',
        "groups.BAD.participants[0] must be a participant id",
    ),
    # the whole document
    pytest.param("version = 2", "version is not an allowed field"),
]


@pytest.mark.parametrize(("text", "expected"), INVALID)
def test_invalid_policy_names_the_key(text: str, expected: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(text)
    assert expected in str(caught.value)
    assert any(expected in problem for problem in caught.value.problems)


def test_every_problem_is_reported_at_once() -> None:
    text = "[limits]\nmax_recipients = 0\nmax_ttl_days = 0\n[rules]\nred_only_to_named = false\n"
    with pytest.raises(PolicyError) as caught:
        load_policy(text)
    assert len(caught.value.problems) == 3


# --- files ---------------------------------------------------------------------------------------


def test_load_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(default_policy_text() + OP_GATEWAY, encoding="utf-8")
    assert "OP-GATEWAY" in load_policy_file(path).groups


def test_a_bad_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[limits]\nmax_recipients = 9999\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)
    assert str(caught.value).startswith(f"{path} is invalid: limits.max_recipients")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="does not exist"):
        load_policy_file(tmp_path / "absent.toml")


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(b"suspended_countries = []\n# \xff\n")
    with pytest.raises(PolicyError, match="UTF-8"):
        load_policy_file(path)
