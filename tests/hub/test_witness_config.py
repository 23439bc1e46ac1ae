"""``[witnessing]`` in config.toml and a witness's home: what is accepted, and each refusal with
its reason (the hub and the witness refuse to start on a bad list rather than witness nothing)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pgs_hub.crypto.keys import SigningKey
from pgs_hub.crypto.merkle import InMemoryTree, leaf_hash
from pgs_hub.crypto.note import Checkpoint, NoteVerifier, sign_checkpoint
from pgs_hub.crypto.tlog_proof import make_tlog_proof
from pgs_hub.crypto.witness import Cosigner, parse_cosigner_key
from pgs_hub.hub.cli import main
from pgs_hub.hub.errors import ConfigError
from pgs_hub.hub.home import CONFIG_FILE, load_config, write_home
from pgs_hub.hub.witness.home import init_home, load_cosigner
from pgs_hub.hub.witness.home import load_config as load_witness
from pgs_hub.hub.witness.store import WitnessStore

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


@pytest.mark.parametrize(
    ("text", "french"),
    [
        ('[[witnessing.witness]]\nurl = "ftp://w"\nkey = "k"\n', "doit avoir une url http(s)"),
        (f'[[witnessing.witness]]\nurl = "http://w"\nkey = "{LOG}"\n',
         "la clé du témoin http://w dans config.toml n'est pas une clé de vérification de témoin"),
        ("[witnessing]\nwait_seconds = 600\n", "wait_seconds dans config.toml doit être compris"),
        ("[attachments]\nmax_part_bytes = 1\n", "max_part_bytes dans config.toml doit être"),
        ("[attachments]\nsize = 1\n", "contient des réglages inconnus : size"),
        ('[notifications.participants.GH-NCP-ACCRA]\nwebhook = "ftp://x"\n',
         "webhook doit être une URL http(s)"),
        ("[notifications]\nsmtp_password = 'x'\n", "n'a pas sa place dans config.toml"),
    ],
)  # fmt: skip
def test_hub_configuration_mistakes_are_told_in_french(
    tmp_path: Path, text: str, french: str
) -> None:
    """The hub's own config.toml: each refusal carries its catalog text, so a French user reads
    what is wrong and where (English stays in str(), for logs)."""
    with pytest.raises(ConfigError) as raised:
        load_config(home_with(tmp_path, "\n" + text))
    assert french in (raised.value.text("fr") or "")
    assert raised.value.key is not None
    assert str(raised.value) == raised.value.text("en")


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
    with pytest.raises(ConfigError, match="log key 1 of the witness is not a log verifier key"):
        init_home(tmp_path / "w2", "witness.gh.example", [KEY])
    with pytest.raises(ConfigError, match="witness name a witness is not valid"):
        init_home(tmp_path / "w3", "a witness", [LOG])
    assert not (tmp_path / "w3").exists()


async def keep(path: Path, note: bytes) -> None:
    store = await WitnessStore.open(path)
    try:
        await store.keep_evidence("pgs-hub.test", "witness.fork", note, old_size=3, now=1)
    finally:
        await store.close()


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
    assert runner.invoke(main, ["witness", "evidence", "--home", str(home)]).output == ""
    asyncio.run(keep(home / "witness.db", b"n\n\n- sig\n"))
    kept = runner.invoke(main, ["witness", "evidence", "--home", str(home)])
    assert kept.output == "# pgs-hub.test witness.fork\nn\n\n- sig\n"
    again = runner.invoke(main, ["witness", "init", "--home", str(home), "--name", "w.gh.example"])
    assert again.exit_code == 1
    missing = runner.invoke(main, ["witness", "serve", "--home", str(tmp_path / "none")])
    assert missing.exit_code == 1


@pytest.mark.parametrize(
    ("args", "toml", "said"),
    [
        (["key"], None, "n'existe pas : lancez d'abord `pgs witness init`"),
        (["key"], "name = ", "n'est pas un fichier TOML valide"),
        (["key"], 'name = "w.example"\nport = 70000\n', "un numéro de port (de 0 à 65535)"),
        (["key"], 'name = "w"\nport = 1\nlogs = "x"\n', "une liste de clés de vérification"),
        (["key"], 'name = "w"\nport = 1\nlogs = ["PRIVATE+KEY+x"]\n', "la clé de journal n° 1"),
        (["key"], 'port = 7380\n', "doit indiquer un nom (name) et un hôte (host)"),
        (["key"], 'name = "w.example"\nport = 1\n', "impossible de lire la clé du témoin"),
        (["init", "--name", "a witness"], None, "le nom de témoin a witness n'est pas valide"),
        (["init", "--name", "w.example", "--log-key", "x"], None, "la clé de journal n° 1"),
    ],
)  # fmt: skip
def test_witness_mistakes_are_told_in_french(
    tmp_path: Path, args: list[str], toml: str | None, said: str
) -> None:
    """Each refusal names what is wrong and where, in the user's language: not the generic
    "configuration not valid" line, not English, and never a pasted key's text."""
    home = tmp_path / "w"
    if toml is not None:
        home.mkdir()
        (home / "witness.toml").write_text(toml, encoding="utf-8")
    command = ["witness", args[0], "--home", str(home), *args[1:]]
    done = CliRunner().invoke(main, command, env={"PGS_LANG": "fr"})
    assert done.exit_code == 1, done.output
    assert said in done.output
    assert "[config.invalid]" in done.output
    assert "configuration du hub" not in done.output
    assert "PRIVATE" not in done.output


def test_verify_proof_offline(tmp_path: Path) -> None:
    """`pgs evidence verify-proof`: a tlog-proof file checked with the log key and a 2-of-3
    witness policy only; one cosignature is not enough; an altered entry proves nothing."""
    log_key = SigningKey.generate()
    origin = "pgs-hub.test/log"
    verifier = NoteVerifier.for_key(origin, log_key.public).encode()
    witnesses = [Cosigner(f"w{i}.example", SigningKey.generate()) for i in range(3)]
    entries = [b'{"event":"envelope.accepted","subject":"m%d","actor":"NG-NCP-LAGOS"}' % i
               for i in range(5)]  # fmt: skip
    tree = InMemoryTree([leaf_hash(e) for e in entries])
    note = sign_checkpoint(Checkpoint(origin, 5, tree.root()), origin, log_key)
    text = note[: note.rfind(b"\n\n") + 1]
    policy = tmp_path / "policy"
    policy.write_text(
        "".join(f"witness {w.name} {w.verifier.encode()}\n" for w in witnesses)
        + "group all3 2 w0.example w1.example w2.example\nquorum all3\n"
    )
    runner = CliRunner()

    def check(name: str, cosigners: list[Cosigner], entry: bytes) -> Result:
        lines = "".join(w.cosign(text, 1_767_225_600) for w in cosigners).encode()
        path = tmp_path / name
        path.write_bytes(make_tlog_proof(3, tree.inclusion_proof(3), note + lines, entry))
        args = ["evidence", "verify-proof", str(path), "--log-key", verifier]
        return runner.invoke(main, [*args, "--witness-policy", str(policy)])

    good = check("good", witnesses[:2], entries[3])
    assert good.exit_code == 0, good.output
    assert "entry 3 is in the checkpoint of 5 entries" in good.output
    assert "envelope.accepted m3 by NG-NCP-LAGOS" in good.output
    one = check("one", witnesses[:1], entries[3])
    assert one.exit_code == 3
    assert "[witness_policy.no_quorum]" in one.output
    altered = check("altered", witnesses, entries[3].replace(b"m3", b"m4"))
    assert altered.exit_code == 3
    assert "[merkle.bad_proof]" in altered.output
