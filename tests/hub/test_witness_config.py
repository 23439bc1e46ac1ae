"""``[witnessing]`` in config.toml and a witness's home: what is accepted, and each refusal with
its reason (the hub and the witness refuse to start on a bad list rather than witness nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from crypto.keys import SigningKey
from crypto.note import NoteVerifier
from crypto.witness import Cosigner, parse_cosigner_key
from hub.cli import main
from hub.errors import ConfigError
from hub.home import CONFIG_FILE, load_config, write_home
from hub.witness.home import init_home, load_cosigner
from hub.witness.home import load_config as load_witness

KEY = Cosigner("witness.gh.example", SigningKey.generate()).verifier.encode()
LOG = NoteVerifier.for_key("pgs-hub.test", SigningKey.generate().public).encode()


def home_with(tmp_path: Path, text: str) -> Path:
    home = tmp_path / "hub"
    write_home(home, port=8443)
    with (home / CONFIG_FILE).open("a", encoding="utf-8") as config:
        config.write(text)
    return home


def test_witnesses_are_read_in_order(tmp_path: Path) -> None:
    other = Cosigner("witness.ng.example", SigningKey.generate()).verifier.encode()
    home = home_with(
        tmp_path,
        '\n[witnessing]\nwait_seconds = 2.5\nca_bundle = "witness-ca.pem"\n'
        f'[[witnessing.witness]]\nurl = "http://w1.example/"\nkey = "{KEY}"\n'
        f'[[witnessing.witness]]\nurl = "https://w2.example"\nkey = "{other}"\n',
    )
    config = load_config(home)
    assert config.witnesses == (("http://w1.example", KEY), ("https://w2.example", other))
    assert config.witness_wait_seconds == 2.5
    assert config.witness_ca == home / "witness-ca.pem"
    assert load_config(home_with(tmp_path / "none", "")).witnesses == ()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f'[[witnessing.witness]]\nurl = "ftp://w"\nkey = "{KEY}"\n', "http"),
        ('[[witnessing.witness]]\nurl = "http://w"\nkey = "x+y+z"\n', "witness key"),
        (f'[[witnessing.witness]]\nurl = "http://w"\nkey = "{LOG}"\n', "0x04"),
        (f'[[witnessing.witness]]\nurl = "http://a"\nkey = "{KEY}"\n'
         f'[[witnessing.witness]]\nurl = "http://b"\nkey = "{KEY}"\n', "twice"),
        ("[witnessing]\nwait_seconds = 600\n", "wait_seconds"),
    ],
)  # fmt: skip
def test_bad_witness_lists_are_refused(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load_config(home_with(tmp_path, "\n" + text))


def test_a_witness_home(tmp_path: Path) -> None:
    home = tmp_path / "w"
    made = init_home(home, "witness.gh.example", [LOG], port=7001)
    assert oct((home / "witness.key.pem").stat().st_mode & 0o777) == "0o600"
    config = load_witness(home)
    assert (config.name, config.port, [k.encode() for k in config.logs]) == (
        "witness.gh.example", 7001, [LOG],
    )  # fmt: skip
    assert load_cosigner(config).verifier == made.verifier
    with pytest.raises(ConfigError, match="already holds a witness"):
        init_home(home, "witness.gh.example", [])
    with pytest.raises(ConfigError, match="not a verifier key"):
        init_home(tmp_path / "w2", "witness.gh.example", [KEY])
    with pytest.raises(ConfigError, match="name is not valid"):
        init_home(tmp_path / "w3", "a witness", [LOG])
    assert not (tmp_path / "w3").exists()


def test_the_witness_commands(tmp_path: Path) -> None:
    """`pgs witness init` then `key` print the same verifier key; errors are one line, in French
    when asked."""
    runner = CliRunner()
    home = tmp_path / "w"
    made = runner.invoke(
        main, ["witness", "init", "--home", str(home), "--name", "w.gh.example", "--log-key", LOG],
        env={"PGS_LANG": "fr"},
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "témoin créé dans" in made.output
    assert "[witnessing]" in made.output
    shown = runner.invoke(main, ["witness", "key", "--home", str(home)])
    assert shown.output.strip() == made.output.strip().splitlines()[-1]
    assert parse_cosigner_key(shown.output.strip()).name == "w.gh.example"
    again = runner.invoke(main, ["witness", "init", "--home", str(home), "--name", "w.gh.example"])
    assert again.exit_code == 1
    missing = runner.invoke(main, ["witness", "serve", "--home", str(tmp_path / "none")])
    assert missing.exit_code == 1
