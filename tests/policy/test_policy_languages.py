"""An invalid policy file, as the operator reads it: every problem on its own line, said in
their language (the head line, pydantic's phrases and the policy's own rules alike)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from pgs_hub.hub.cli.errors import PgsGroup
from pgs_hub.hub.i18n import LANGS, Lang, t
from pgs_hub.hub.policy.model import PolicyError, load_policy

ROLES_RULES_LIMITS_GROUPS = """
[roles.ncp]
send = ["alert", "receipt"]
[roles.auditor]
send = ["alert"]
[rules]
red_only_to_named = false
[limits]
max_recipients = 0
rate_per_minute = 2000000
rate_burst = 0.5
[groups.x]
description = "a name that is not one"
countries = ["NG"]
[groups.EMPTY]
description = "nobody"
[groups.TWICE]
description = "a country twice"
countries = ["NG", "NG"]
"""

ATTACHMENTS_AND_PARTICIPANTS = """
[limits]
max_attachments_bytes = 5
[groups.DUP]
description = "a participant twice"
participants = ["WCO-PGS", "WCO-PGS"]
"""

BUILTIN = """
[groups.WCA]
description = "a region's name taken"
countries = ["NG"]
"""

# (policy, [(where, catalog key of what is wrong)]) in the order the problems are listed
CASES = [
    (
        ROLES_RULES_LIMITS_GROUPS,
        [
            ("roles.ncp.send", "cli.problem.policy_receipt"),
            ("roles.auditor", "cli.problem.policy_role"),
            ("rules.red_only_to_named", "cli.problem.policy_red"),
            ("limits.max_recipients", "cli.problem.at_least"),
            ("limits.rate_per_minute", "cli.problem.at_most"),
            ("limits.rate_burst", "cli.problem.whole_number"),
            ("groups.x (name)", "cli.problem.group_name"),
            ("groups.EMPTY", "cli.problem.group_empty"),
            ("groups.TWICE", "cli.problem.group_duplicate_country"),
        ],
    ),
    (
        ATTACHMENTS_AND_PARTICIPANTS,
        [
            ("limits", "cli.problem.policy_attachments"),
            ("groups.DUP", "cli.problem.group_duplicate_participant"),
        ],
    ),
    (BUILTIN, [("groups", "cli.problem.group_builtin")]),
]


@click.group(cls=PgsGroup)
def _pgs() -> None:
    """The pgs error handler around one command that reads a policy."""


@_pgs.command("check")
@click.argument("text")
def _check(text: str) -> None:
    load_policy(text, source="policy.toml")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("policy", "expected"), CASES, ids=["rules", "attachments", "builtin"])
def test_each_problem_of_a_policy_is_one_line_in_the_operators_language(
    policy: str, expected: list[tuple[str, str]], lang: Lang, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(policy, source="policy.toml")
    assert [where for where, _ in caught.value.fields] == [where for where, _ in expected]
    monkeypatch.setenv("PGS_LANG", lang)
    result = CliRunner().invoke(_pgs, ["check", policy])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    *details, last = result.output.rstrip().splitlines()
    assert last.endswith(t("config.policy.invalid", lang, source="policy.toml")), last
    assert len(details) == len(expected), result.output
    for line, (where, key) in zip(details, expected, strict=True):
        assert line.startswith(f"  {where} {t(key, lang)}"), line
        if lang != "en":
            assert t(key, "en").strip() not in line, line


def test_the_english_message_still_lists_every_problem_for_logs() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(BUILTIN, source="policy.toml")
    assert str(caught.value) == (
        "policy.toml is invalid: groups may not redefine a built-in group "
        "(ALL or a WCO region code): WCA"
    )
    assert caught.value.problems == (str(caught.value).split(": ", 1)[1],)
