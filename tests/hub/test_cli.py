"""The ``pgs`` command as a user runs it: a real process, real files, exit codes and messages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.messages import ALERT


def pgs(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PGS_")}
    environment.update({"COLUMNS": "200", "PGS_LANG": "en"} | (env or {}))
    return subprocess.run(  # noqa: S603 - our own command with test arguments
        [sys.executable, "-m", "pgs_hub", *map(str, args)],
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keys for Nigeria (passphrase-protected), Ghana, Cameroon and a shared public directory."""
    root = tmp_path_factory.mktemp("world")
    secret = {"PGS_KEY_PASSPHRASE": "correct horse battery staple"}
    for pid, env in (("NG-NCP-LAGOS", secret), ("GH-NCP-ACCRA", {}), ("CM-NCP-DOUALA", {})):
        done = pgs("keygen", pid, "--out", root / "keys" / pid, cwd=root, env=env)
        assert done.returncode == 0, done.stderr
        exported = pgs("key", "export", root / "keys" / pid, cwd=root)
        (root / "directory").mkdir(exist_ok=True)
        (root / "directory" / f"{pid}.jwks.json").write_text(exported.stdout)
    (root / "alert.json").write_text(json.dumps(ALERT))
    return root


def seal(
    world: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return pgs(
        "seal", "alert.json", "--kind", "alert", "--to", "GH-NCP-ACCRA",
        "--keys", "keys/NG-NCP-LAGOS", "--directory", "directory", *extra,
        cwd=world, env={"PGS_KEY_PASSPHRASE": "correct horse battery staple"} | (env or {}),
    )  # fmt: skip


def test_keygen_writes_protected_pkcs8_and_a_public_jwks(world: Path) -> None:
    folder = world / "keys" / "NG-NCP-LAGOS"
    assert b"ENCRYPTED PRIVATE KEY" in (folder / "signing.key.pem").read_bytes()
    assert (folder / "signing.key.pem").stat().st_mode & 0o777 == 0o600
    jwks = json.loads((folder / "public.jwks.json").read_text())
    assert {k["crv"] for k in jwks["keys"]} == {"Ed25519", "X25519"}
    assert all("d" not in k for k in jwks["keys"])
    unprotected = world / "keys" / "GH-NCP-ACCRA" / "signing.key.pem"
    assert b"BEGIN PRIVATE KEY" in unprotected.read_bytes()


def test_keygen_warns_when_keys_are_not_encrypted(tmp_path: Path) -> None:
    done = pgs("keygen", "TG-NCP-LOME", "--out", tmp_path / "k", cwd=tmp_path)
    assert done.returncode == 0
    assert "NOT encrypted" in done.stderr


def test_keygen_refuses_to_overwrite_keys(world: Path) -> None:
    done = pgs("keygen", "GH-NCP-ACCRA", "--out", "keys/GH-NCP-ACCRA", cwd=world)
    assert done.returncode == 1
    assert "not overwriting" in done.stderr


def test_keygen_rejects_a_malformed_participant_id(tmp_path: Path) -> None:
    done = pgs("keygen", "../../etc", "--out", tmp_path / "k", cwd=tmp_path)
    assert done.returncode != 0
    assert "participant id" in done.stderr
    assert not (tmp_path / "k").exists()


def test_key_show_lists_thumbprints(world: Path) -> None:
    done = pgs("key", "show", "keys/NG-NCP-LAGOS", cwd=world)
    jwks = json.loads((world / "keys/NG-NCP-LAGOS/public.jwks.json").read_text())
    assert done.returncode == 0
    for jwk in jwks["keys"]:
        assert jwk["kid"] in done.stdout
    assert "passphrase-protected: yes" in done.stdout


def test_private_export_warns_needs_the_passphrase_and_round_trips(world: Path) -> None:
    folder = "keys/NG-NCP-LAGOS"
    refused = pgs("key", "export", folder, "--private", "--yes", cwd=world)
    assert refused.returncode == 1
    assert "encrypted" in refused.stderr
    env = {"PGS_KEY_PASSPHRASE": "correct horse battery staple"}
    done = pgs("key", "export", folder, "--private", "--yes", cwd=world, env=env)
    assert done.returncode == 0, done.stderr
    assert "WARNING" in done.stderr
    private = json.loads(done.stdout)
    public = json.loads((world / folder / "public.jwks.json").read_text())
    assert [k["kid"] for k in private["keys"]] == [k["kid"] for k in public["keys"]]
    assert all(len(k["d"]) == 43 for k in private["keys"])
    aborted = pgs("key", "export", folder, "--private", cwd=world, env=env, stdin="n\n")
    assert aborted.returncode == 1
    assert '"d"' not in aborted.stdout


def test_wrong_passphrase_is_a_one_line_error(world: Path) -> None:
    done = seal(world, env={"PGS_KEY_PASSPHRASE": "wrong"})
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "crypto.invalid_key" in done.stderr


def test_seal_then_open_by_the_recipient(world: Path) -> None:
    sealed = seal(world, "-o", "alert.env.json")
    assert sealed.returncode == 0, sealed.stderr
    opened = pgs(
        "open", "alert.env.json", "--keys", "keys/GH-NCP-ACCRA", "--directory", "directory",
        "--json", cwd=world,
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    doc = json.loads(opened.stdout)
    assert doc["header"]["from"]["id"] == "NG-NCP-LAGOS"
    assert doc["header"]["tlp"] == "AMBER"
    assert doc["content"]["subject"] == ALERT["subject"]


def test_a_non_recipient_cannot_open(world: Path) -> None:
    assert seal(world, "-o", "for-ghana.json").returncode == 0
    done = pgs(
        "open", "for-ghana.json", "--keys", "keys/CM-NCP-DOUALA", "--directory", "directory",
        cwd=world,
    )  # fmt: skip
    assert done.returncode == 1
    assert "crypto.not_a_recipient" in done.stderr
    assert ALERT["subject"] not in done.stdout + done.stderr


def test_a_tampered_envelope_is_refused(world: Path) -> None:
    assert seal(world, "-o", "tamper.json").returncode == 0
    raw = bytearray((world / "tamper.json").read_bytes())
    raw[-10] = ord("A") if raw[-10] != ord("A") else ord("B")  # inside the signature
    (world / "tamper.json").write_bytes(bytes(raw))
    done = pgs(
        "open", "tamper.json", "--keys", "keys/GH-NCP-ACCRA", "--directory", "directory",
        cwd=world,
    )  # fmt: skip
    assert done.returncode == 1
    assert "crypto." in done.stderr


def test_seal_refuses_invalid_content_naming_the_field(world: Path) -> None:
    bad = dict(ALERT, action_requested="shoot")
    (world / "bad.json").write_text(json.dumps(bad))
    done = pgs(
        "seal", "bad.json", "--kind", "alert", "--to", "GH-NCP-ACCRA",
        "--keys", "keys/GH-NCP-ACCRA", "--directory", "directory", cwd=world,
    )  # fmt: skip
    assert done.returncode == 1
    assert "/action_requested" in done.stderr
    assert "message.invalid" in done.stderr


def test_seal_to_an_unknown_participant_fails(world: Path) -> None:
    done = pgs(
        "seal", "alert.json", "--kind", "alert", "--to", "ZZ-NOBODY",
        "--keys", "keys/GH-NCP-ACCRA", "--directory", "directory", cwd=world,
    )  # fmt: skip
    assert done.returncode == 1
    assert "does not exist" in done.stderr


def test_validate_accepts_and_rejects(world: Path) -> None:
    ok = pgs("validate", "--kind", "alert", "alert.json", cwd=world)
    assert ok.returncode == 0
    assert "valid alert" in ok.stdout
    (world / "dup.json").write_text('{"subject":"a","subject":"b"}')
    dup = pgs("validate", "--kind", "alert", "dup.json", cwd=world)
    assert dup.returncode == 1
    assert "member" in dup.stderr


def test_schema_prints_and_writes_json_schema(tmp_path: Path) -> None:
    done = pgs("schema", "seizure", cwd=tmp_path)
    assert done.returncode == 0
    assert json.loads(done.stdout)["$schema"].endswith("2020-12/schema")
    written = pgs("schema", "--out", tmp_path / "schemas", cwd=tmp_path)
    assert written.returncode == 0
    names = {p.stem for p in (tmp_path / "schemas").iterdir()}
    assert {"alert", "seizure", "notice", "rfi", "reply", "receipt"} <= names


def test_help_explains_every_command(tmp_path: Path) -> None:
    for command in ("keygen", "key", "seal", "open", "validate", "schema", "demo"):
        done = pgs(command, "--help", cwd=tmp_path)
        assert done.returncode == 0
        assert "Usage: " in done.stdout


@pytest.mark.parametrize(("lang", "phrase"), [("en", "refused"), ("fr", "refusé")])
def test_offline_demo_runs_the_envelope_scenario(tmp_path: Path, lang: str, phrase: str) -> None:
    done = pgs("demo", "--offline", "--home", tmp_path / "demo", "--lang", lang, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("✔") == 2  # Ghana and WCO opened it
    assert "CM-NCP-DOUALA " + phrase in done.stdout
    assert "crypto.not_a_recipient" in done.stdout
    assert "crypto.bad_signature" in done.stdout
    assert (tmp_path / "demo" / "alert.envelope.json").exists()


def test_demo_runs_the_hub_scenario_over_real_sockets(tmp_path: Path) -> None:
    done = pgs("demo", "--home", tmp_path / "hub", "--lang", "en", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "hub listening on http://127.0.0.1:" in out
    assert "NG-NCP-LAGOS sent alert" in out
    assert "GH-NCP-ACCRA sent seizure" in out
    assert "WCO-PGS-BRUSSELS sent notice (WCA)" in out
    assert "CM-NCP-DOUALA refused: [envelope.not_found]" in out
    # The refusal is a security event the auditor reviews (not an entry of the log).
    assert re.search(r"CM-NCP-DOUALA\s.*envelope\.not_found\s.*envelope\.fetch\s.*1", out), out
    assert "The hub has stopped cleanly" in out
    assert out.count("/console/login/") == 2  # links for the auditor and WCO staff
    assert "root recomputed from all" in out  # the auditor's `pgs audit verify`
    assert "log verified" in out
    assert "disclosed by GH-NCP-ACCRA" in out  # the evidence bundle verified offline
    assert (tmp_path / "hub" / "alert.evidence.json").exists()
    assert (tmp_path / "hub" / "hub.db").exists()


def test_key_rotate_keeps_the_old_encryption_key(tmp_path: Path) -> None:
    assert pgs("keygen", "SN-NCP-DAKAR", "--out", "k", cwd=tmp_path).returncode == 0
    before = json.loads((tmp_path / "k" / "public.jwks.json").read_text())["keys"]
    done = pgs("key", "rotate", "k", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    after = json.loads((tmp_path / "k" / "public.jwks.json").read_text())["keys"]
    assert {k["kid"] for k in before}.isdisjoint(k["kid"] for k in after)
    old_enc = next(k["kid"] for k in before if k["crv"] == "X25519")
    assert (tmp_path / "k" / "retired" / old_enc / "encryption.key.pem").exists()
    assert "pgs admin rotate SN-NCP-DAKAR" in done.stdout


@pytest.mark.parametrize(
    ("lang", "lines"),
    [
        ("fr", [": valide", "groupes propres : aucun", "plus grande enveloppe : 6,3\u202fMo"]),
        ("ar", [": صالح", "البلدان الموقوفة: لا شيء", "أكبر مظروف: 6.3 م.ب"]),
    ],
)
def test_operator_output_is_in_the_language(tmp_path: Path, lang: str, lines: list[str]) -> None:
    """The admin commands too: no English label, sizes in the CLDR's units."""
    policy = Path(__file__).parents[2] / "hub" / "policy" / "default.toml"
    done = pgs("admin", "policy-check", policy, cwd=tmp_path, env={"PGS_LANG": lang})
    assert done.returncode == 0, done.stderr
    for line in lines:
        assert line in done.stdout, done.stdout
    assert "valid" not in done.stdout.replace(": valide", "")
    assert "bytes" not in done.stdout
