"""The shared hub options become one CliContext, and --log-key is read by one function.

In-process (click's runner), no hub: what is checked is how the options are read, not what a hub
answers (tests/hub/test_cli_mistakes.py runs the real commands against a real hub).
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pgs_hub.crypto.keys import SigningKey
from pgs_hub.crypto.note import verifier_key
from pgs_hub.hub.cli.connection import hub_options
from pgs_hub.hub.cli.context import CliContext, parse_log_key, require_log_key

KEY = verifier_key("hub.example/log", SigningKey.generate().public)


@click.command()
@click.option("--extra", default="x")
@hub_options
def probe(extra: str, cli: CliContext) -> None:
    click.echo(repr((extra, cli)))


def test_the_shared_options_and_their_variables_make_one_context(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not read here")
    env = {"PGS_HUB_URL": "https://hub.example", "PGS_KEYS": str(tmp_path / "keys"),
           "PGS_LOG_KEY": KEY, "PGS_WITNESS_POLICY": "policy.txt"}  # fmt: skip
    ran = CliRunner().invoke(probe, ["--ca", str(ca), "--prompt-passphrase"], env=env)
    assert ran.exit_code == 0, ran.output
    expected = CliContext(
        hub_url="https://hub.example", key_folder=tmp_path / "keys", ca=ca, authority=None,
        log_key=KEY, witness_policy="policy.txt", prompt_passphrase=True,
    )  # fmt: skip
    assert ran.output.strip() == repr(("x", expected))


def test_the_context_cannot_be_changed_once_built(tmp_path: Path) -> None:
    cli = CliContext(hub_url="https://hub.example", key_folder=tmp_path)
    with pytest.raises(AttributeError):
        cli.hub_url = "https://elsewhere.example"  # type: ignore[misc]


def test_a_log_key_is_read_inline_or_from_a_file(tmp_path: Path) -> None:
    held = tmp_path / "log.key"
    held.write_text(KEY + "\n")
    inline, from_file = parse_log_key(KEY), parse_log_key(held)
    assert inline is not None
    assert from_file is not None
    assert (inline.name, inline.key_id) == (from_file.name, from_file.key_id)
    assert inline.name == "hub.example/log"
    assert parse_log_key(None) is None
    assert parse_log_key("") is None


@pytest.mark.parametrize(
    "value", ["nonsense", KEY.rsplit("+", 1)[0] + "+AAAA"], ids=["word", "cut"]
)
def test_a_bad_log_key_is_refused_with_the_one_line(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_log_key(value)
    assert stopped.value.code == 1
    line = capsys.readouterr().err.strip()
    assert len(line.splitlines()) == 1
    assert "--log-key is not a verifier key (name+hash+base64) nor a file holding one" in line


def test_a_command_that_needs_the_log_key_says_how_to_pin_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        require_log_key(None)
    assert "pin the log's verifier key with --log-key or $PGS_LOG_KEY" in capsys.readouterr().err


def test_the_way_to_pin_the_log_key_is_said_in_the_user_s_language(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGS_LANG", "ar")
    with pytest.raises(SystemExit):
        require_log_key(None)
    line = capsys.readouterr().err
    assert "ثبّت مفتاح التحقق من السجل باستخدام --log-key أو $PGS_LOG_KEY" in line
    assert "pin the log" not in line
