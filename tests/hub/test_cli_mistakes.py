"""Realistic mistakes, each made with the real ``pgs`` command: every one must end with a plain
error that says what was wrong and a non-zero exit, never a Python traceback.

The processes run concurrently, once per module (a few workers: the machine is small); each case is
then one named test that checks its own result. One real hub (embedded SQLite, loopback socket)
serves the cases that need one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from pgs_hub.crypto.b64 import b64u_encode
from pgs_hub.crypto.keys import SigningKey
from pgs_hub.hub import keystore
from pgs_hub.hub.cli.errors import PgsGroup, debug_option
from pgs_hub.hub.cli.templates import template
from pgs_hub.hub.enrolment import certify
from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import parse_message
from tests.conftest import POSTGRES_ADMIN_DSN
from tests.e2e.harness import RunningHub, free_port, launch
from tests.e2e.messages import ALERT

PASSPHRASE = "correct horse battery staple"  # noqa: S105 - a test key's passphrase
WRONG = {"PGS_KEY_PASSPHRASE": "wrong"}
NG, GH, CM, WCO = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "CM-NCP-DOUALA", "WCO-PGS-BRUSSELS"
SN = "SN-NCP-DAKAR"  # published in the offline directory with an X25519 key of small order
UNKNOWN_MID = "0f0e0d0c-0b0a-4909-8807-060504030201"
WORKERS = 4
# Databases that cannot be used: a SQLite file in a folder that does not exist, and the real
# PostgreSQL asked for a role and a database it does not have.
NO_SQLITE = "sqlite+aiosqlite:///no-such-folder/hub.db"
_PG = make_url(POSTGRES_ADMIN_DSN).set(drivername="postgresql+asyncpg")
NO_ROLE = _PG.set(username="pgs_no_such_role").render_as_string(hide_password=False)
NO_DATABASE = _PG.set(database="pgs_no_such_database").render_as_string(hide_password=False)


@dataclass
class World:
    root: Path
    hub: RunningHub
    log_key: str
    mid: str  # Nigeria's alert to Ghana, on the hub
    busy: socket.socket
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Mistake:
    """``args`` run in the world's folder; ``{hub}``, ``{mid}``, ``{busy}``, ``{home}``,
    ``{logkey}`` are filled in. ``says`` must appear in the error output."""

    name: str
    args: tuple[str, ...]
    says: str
    env: tuple[tuple[str, str], ...] = ()
    stdin: str = ""


def m(
    name: str, says: str, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> Mistake:
    return Mistake(name, args, says, tuple((env or {}).items()), stdin)


HUB = ("--hub", "{hub}", "--authority", "{home}/authority/authority.jwk.json")
AS_GH = (*HUB, "--keys", "{home}/people/" + GH)
AS_CM = (*HUB, "--keys", "{home}/people/" + CM)
AS_NG = (*HUB, "--keys", "keys/" + NG)
AS_WCO = (*HUB, "--keys", "{home}/people/" + WCO)
SEAL = ("seal", "alert.json", "--kind", "alert", "--to", GH, "--directory", "directory")

MISTAKES: list[Mistake] = [
    # --- keys ------------------------------------------------------------------------------
    m("keygen-bad-participant-id", "participant id", "keygen", "../../etc", "--out", "k-bad"),
    m("wrong-passphrase", "crypto.invalid_key", *SEAL, "--keys", "keys/" + NG,
      env=WRONG),
    m("encrypted-keys-no-passphrase", "encrypted", *SEAL, "--keys", "keys/" + NG),
    m("missing-keys-folder", "does not exist", *SEAL, "--keys", "keys/NOBODY"),
    m("keys-folder-is-empty", "does not exist", *SEAL, "--keys", "empty"),
    m("garbage-key-file", "crypto.", *SEAL, "--keys", "garbage-keys"),
    m("key-show-missing-folder", "does not exist", "key", "show", "keys/NOBODY"),
    m("validate-invalid-json", "not valid JSON", "validate", "--kind", "alert", "broken.json"),
    m("validate-schema-error", "/action_requested", "validate", "--kind", "alert", "bad.json"),
    m("validate-missing-field", "/subject is required", "validate", "--kind", "alert",
      "nosubject.json"),
    m("validate-not-utf8", "message.invalid", "validate", "--kind", "alert", "garbage.bin"),
    m("validate-template-not-filled", "CHANGE-ME", "validate", "--kind", "alert", "tpl.json"),
    m("validate-wrong-kind", "seizure message is invalid", "validate", "--kind", "seizure",
      "alert.json"),
    m("validate-unknown-kind", "Invalid value for '--kind'", "validate", "--kind", "memo",
      "alert.json"),
    m("validate-missing-file", "does not exist", "validate", "--kind", "alert", "nope.json"),
    m("validate-a-folder", "is a directory", "validate", "--kind", "alert", "empty"),
    m("seal-to-unknown-participant", "does not exist", "seal", "alert.json", "--kind", "alert",
      "--to", "ZZ-NOBODY", "--keys", "keys/" + GH, "--directory", "directory"),
    m("seal-to-a-small-order-key", "crypto.low_order_key", "seal", "alert.json", "--kind",
      "alert", "--to", SN, "--keys", "keys/" + GH, "--directory", "directory"),
    m("open-garbage-envelope", "crypto.", "open", "garbage.bin", "--keys", "keys/" + GH,
      "--directory", "directory"),
    m("open-wrong-recipients-keys", "crypto.not_a_recipient", "open", "envelope.json", "--keys",
      "keys/" + CM, "--directory", "directory"),
    m("new-over-existing-file", "already exists", "new", "alert", "-o", "alert.json"),
    m("new-unknown-kind", "'memo' is not one of", "new", "memo"),
    m("schema-without-kind", "name a KIND", "schema"),
    # --- the hub's home --------------------------------------------------------------------
    m("init-on-existing-home", "already holds a hub", "init", "{home}"),
    m("serve-busy-port", "port is already in use", "serve", "--home", "{home}", "--port", "{busy}",
      "--database-url", "sqlite+aiosqlite:///{home}/hub.db"),
    m("serve-broken-policy-toml", "policy", "serve", "--home", "broken-policy", "--port", "0"),
    m("serve-broken-config-toml", "config", "serve", "--home", "broken-config", "--port", "0"),
    m("serve-no-home", "config.toml", "serve", "--home", "no-such-home", "--port", "0"),
    m("audit-key-no-home", "is this a hub home", "audit", "key", "--home", "no-such-home"),
    # --- the database: the deployment's to fix, never "a bug in pgs" ----------------------
    m("db-upgrade-cannot-open", "cannot be reached or opened: unable to open database file",
      "db", "upgrade", "--database-url", NO_SQLITE),
    m("db-current-unknown-role", 'role "pgs_no_such_role" does not exist', "db", "current",
      "--database-url", NO_ROLE),
    m("serve-database-cannot-open", "unable to open database file", "serve", "--home", "{home}",
      "--port", "0", "--database-url", NO_SQLITE),
    m("init-database-missing", 'database "pgs_no_such_database" does not exist', "init",
      "home-without-database", "--insecure-plain-keys", "--database-url", NO_DATABASE),
    # --- reaching the hub ------------------------------------------------------------------
    m("url-without-scheme", "with its scheme", "inbox", "--hub", "127.0.0.1:8443", "--keys",
      "keys/" + GH),
    m("url-wrong-scheme", "with its scheme", "inbox", "--hub", "ftp://127.0.0.1", "--keys",
      "keys/" + GH),
    m("nothing-listening", "nothing answers", "inbox", "--hub", "http://127.0.0.1:{closed}",
      "--keys", "keys/" + GH),
    m("unknown-host", "cannot reach the hub", "inbox", "--hub", "http://no-such-host.invalid",
      "--keys", "keys/" + GH),
    m("keys-not-enrolled", "auth.", "inbox", *HUB, "--keys", "keys/" + GH),
    m("bad-log-key", "verifier key", "inbox", *AS_GH, "--log-key", "not-a-key"),
    # --- reading and answering -------------------------------------------------------------
    m("read-unknown-message-id", "envelope.not_found", "read", UNKNOWN_MID, *AS_GH),
    m("read-unknown-short-id", "no message in your mailbox", "read", "ffff0", *AS_GH),
    m("read-not-an-id", "not a message id", "read", "hello", *AS_GH),
    m("read-too-short-id", "too short", "read", "ab", *AS_GH),
    m("read-someone-elses-message", "envelope.not_found", "read", "{mid}", *AS_CM),
    m("read-without-authority", "trust.failed", "read", "{mid}", "--hub", "{hub}", "--keys",
      "{home}/people/" + GH),
    m("ack-unknown-message-id", "envelope.not_found", "ack", UNKNOWN_MID, *AS_GH),
    m("evidence-get-unknown-short-id", "no message in your mailbox", "evidence", "get",
      "dead0", "-o", "ev.json", *AS_GH),
    m("evidence-verify-garbage", "evidence", "evidence", "verify", "garbage.bin", "--authority",
      "{home}/authority/authority.jwk.json", "--log-key", "{logkey}"),
    m("evidence-verify-bad-log-key", "verifier key", "evidence", "verify", "alert.json",
      "--authority", "{home}/authority/authority.jwk.json", "--log-key", "nonsense"),
    # --- sending ---------------------------------------------------------------------------
    m("send-invalid-json", "not valid JSON", "send", "broken.json", "--kind", "alert", "--to",
      GH, *AS_CM),
    m("send-schema-error", "/action_requested", "send", "bad.json", "--kind", "alert", "--to",
      GH, *AS_CM),
    m("send-template-not-filled", "CHANGE-ME", "send", "tpl.json", "--kind", "alert", "--to",
      GH, *AS_CM),
    m("send-no-recipient", "at least one --to", "send", "alert.json", "--kind", "alert", *AS_CM),
    m("send-to-unknown-participant", "participant.not_found", "send", "alert.json", "--kind",
      "alert", "--to", "ZZ-NCP-NOWHERE", *AS_CM),
    m("send-to-malformed-participant-id", "participant", "send", "alert.json", "--kind",
      "alert", "--to", "not an id", *AS_CM),
    m("send-ncp-to-a-group", "policy.group_not_allowed", "send", "alert.json", "--kind",
      "alert", "--group", "WCA", *AS_CM),
    m("send-red-to-a-group", "TLP:RED goes only to named participants", "send", "alert.json",
      "--kind", "alert", "--group", "WCA", "--tlp", "RED", *AS_WCO),
    m("send-wrong-passphrase", "crypto.invalid_key", "send", "alert.json", "--kind", "alert",
      "--to", GH, *AS_NG, env=WRONG),
    m("send-unknown-group", "NOGROUP", "send", "alert.json", "--kind", "alert", "--group",
      "NOGROUP", *AS_WCO),
]  # fmt: skip

# A sample in French: the line must be French and still say what was wrong.
FRENCH: list[Mistake] = [
    m("fr-missing-keys-folder", "n'existe pas", *SEAL, "--keys", "keys/NOBODY"),
    m("fr-wrong-passphrase", "phrase secrète", *SEAL, "--keys", "keys/" + NG,
      env=WRONG),
    m("fr-url-without-scheme", "avec son schéma", "--lang", "fr", "inbox", "--hub",
      "127.0.0.1:8443", "--keys", "keys/" + GH),
    m("fr-nothing-listening", "rien ne répond", "inbox", "--hub", "http://127.0.0.1:{closed}",
      "--keys", "keys/" + GH),
    m("fr-schema-error", "doit être l'une des valeurs", "validate", "--kind", "alert",
      "bad.json"),
    m("fr-unknown-short-id", "aucun message de votre boîte", "read", "ffff0", *AS_GH),
    m("fr-seal-to-a-small-order-key", "d'ordre faible", "seal", "alert.json", "--kind",
      "alert", "--to", SN, "--keys", "keys/" + GH, "--directory", "directory"),
    m("fr-init-on-existing-home", "contient déjà un hub", "init", "{home}"),
    m("fr-db-upgrade-cannot-open", "ne peut pas être ouverte : unable to open database file",
      "db", "upgrade", "--database-url", NO_SQLITE),
    m("fr-bad-participant-id", "n'est pas un identifiant de participant", "send", "alert.json",
      "--kind", "alert", "--to", "not an id", *AS_CM),
    m("fr-ncp-to-a-group", "la politique l'interdit", "send", "alert.json", "--kind", "alert",
      "--group", "WCA", *AS_CM),
]  # fmt: skip


def _write_files(root: Path, world_home: Path) -> None:
    (root / "alert.json").write_text(json.dumps(ALERT))
    (root / "broken.json").write_text('{"subject": "Ammonium nitrate",\n  "lines": [}\n')
    (root / "bad.json").write_text(json.dumps(ALERT | {"action_requested": "shoot"}))
    (root / "nosubject.json").write_text(
        json.dumps({k: v for k, v in ALERT.items() if k != "subject"})
    )
    (root / "garbage.bin").write_bytes(bytes(range(256)) * 4)
    tpl = template("alert", today=dt.date(2026, 1, 1))
    (root / "tpl.json").write_text(json.dumps(tpl))
    (root / "empty").mkdir()
    (root / "garbage-keys").mkdir()
    for name in ("signing.key.pem", "encryption.key.pem"):
        (root / "garbage-keys" / name).write_text("-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n")
    (root / "garbage-keys" / "participant.json").write_text(json.dumps({"id": GH}))
    weak_enc = {"kty": "OKP", "crv": "X25519", "x": b64u_encode(bytes(32)), "use": "enc"}
    (root / "directory" / f"{SN}.jwks.json").write_text(
        json.dumps({"keys": [SigningKey.generate().public.to_jwk(), weak_enc]})
    )
    for name in ("broken-policy", "broken-config"):
        shutil.copytree(world_home, root / name, ignore=shutil.ignore_patterns("*.db*", "*.log"))
    (root / "broken-policy" / "policy.toml").write_text("[roles.ncp\naddress_groups = maybe\n")
    (root / "broken-config" / "config.toml").write_text("[server]\nport = = 1\n")


def _seal_files(root: Path) -> None:
    ng = keystore.load(root / "keys" / NG, PASSPHRASE.encode())
    gh = keystore.load(root / "keys" / GH, None)
    sealed = seal_message(
        sender_id=NG, signer=ng.signing, recipients=[(GH, gh.decryption.public)],
        kind=MessageKind.ALERT, content=parse_message(MessageKind.ALERT, ALERT), tlp=Tlp.AMBER,
        now=int(time.time()),
    )  # fmt: skip
    (root / "envelope.json").write_bytes(sealed.raw)


async def _hub_world(root: Path) -> tuple[RunningHub, str]:
    hub = await launch(root / "hub", f"sqlite+aiosqlite:///{root / 'hub' / 'hub.db'}")
    for pid, role in ((GH, "ncp"), (CM, "ncp"), (WCO, "wco")):
        await hub.enrol(pid, role)
    ng = keystore.load(root / "keys" / NG, PASSPHRASE.encode())
    certificate = certify(
        hub.authority, NG, role="ncp", verify=ng.signing.public, encrypt=ng.decryption.public,
        now=int(time.time()),
    )  # fmt: skip
    async with hub.client(hub.admin) as admin:
        await admin.enrol(certificate)
    hub.people[NG] = ng
    async with hub.client(NG) as client:
        sealed, _ = await client.send(
            kind=MessageKind.ALERT, content=parse_message(MessageKind.ALERT, ALERT), to=[GH]
        )
    return hub, sealed.header.mid


def pgs(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PGS_")}
    environment.update({"COLUMNS": "200", "PGS_LANG": "en"} | (env or {}))
    return subprocess.run(  # noqa: S603 - our own command with test arguments
        [sys.executable, "-m", "pgs_hub", *args],
        cwd=cwd, env=environment, input=stdin, capture_output=True, text=True, timeout=90,
        check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("mistakes")
    keystore.create(root / "keys" / NG, NG, PASSPHRASE.encode())
    for pid in (GH, CM):
        keystore.create(root / "keys" / pid, pid, None)
    (root / "directory").mkdir()
    for pid in (NG, GH, CM):
        shutil.copy(
            root / "keys" / pid / "public.jwks.json", root / "directory" / f"{pid}.jwks.json"
        )
    hub, mid = asyncio.run(_hub_world(root))
    busy = socket.socket()
    try:
        busy.bind(("127.0.0.1", free_port()))
        busy.listen(1)  # taken, but never accepts: "nothing answers" is tested on another port
        log_key = pgs("audit", "key", "--home", str(hub.home), cwd=root).stdout.strip()
        _write_files(root, hub.home)
        _seal_files(root)
        yield World(root, hub, log_key.splitlines()[-1] if log_key else "", mid, busy)
    finally:
        busy.close()
        assert hub.stop() == 0


def _fill(value: str, world: World, closed_port: int) -> str:
    return (
        value.replace("{hub}", world.hub.url)
        .replace("{home}", str(world.hub.home))
        .replace("{mid}", world.mid)
        .replace("{busy}", str(world.busy.getsockname()[1]))
        .replace("{closed}", str(closed_port))
        .replace("{logkey}", world.log_key)
    )


@pytest.fixture(scope="module")
def results(world: World) -> dict[str, tuple[Mistake, subprocess.CompletedProcess[str]]]:
    """Every mistake run once, a few processes at a time."""
    closed = free_port()

    def run(case: Mistake) -> tuple[str, tuple[Mistake, subprocess.CompletedProcess[str]]]:
        args = [_fill(a, world, closed) for a in case.args]
        french = case.name.startswith("fr-") and "--lang" not in case.args  # else: pgs --lang fr
        env = dict(case.env) | ({"PGS_LANG": "fr"} if french else {})
        started = time.monotonic()
        done = pgs(*args, cwd=world.root, env=env, stdin=case.stdin)
        if os.environ.get("PGS_TEST_TIMES"):
            print(f"{time.monotonic() - started:6.1f}s {case.name}")
        return case.name, (case, done)

    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(pool.map(run, [*MISTAKES, *FRENCH]))


def test_at_least_forty_mistakes_are_tried() -> None:
    assert len(MISTAKES) >= 40
    assert len({c.name for c in MISTAKES + FRENCH}) == len(MISTAKES) + len(FRENCH)


def _check(result: tuple[Mistake, subprocess.CompletedProcess[str]], world: World) -> str:
    case, done = result
    output = done.stdout + done.stderr
    assert done.returncode != 0, f"{case.name} succeeded:\n{output}"
    assert "Traceback" not in output, output
    assert "internal error" not in output, output
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines, f"{case.name}: nothing on stderr"
    # One line that says it, or a short block: the field problems, or click's usage block.
    assert len(lines) <= 8, done.stderr
    said = _fill(case.says, world, 0)
    assert said in done.stderr, f"{case.name}: {said!r} not in\n{done.stderr}"
    return done.stderr


@pytest.mark.parametrize("name", [c.name for c in MISTAKES])
def test_a_mistake_is_one_plain_line(
    name: str, results: dict[str, tuple[Mistake, subprocess.CompletedProcess[str]]], world: World
) -> None:
    stderr = _check(results[name], world)
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(("error: ", "Error: ")), stderr


@pytest.mark.parametrize("name", [c.name for c in FRENCH])
def test_a_mistake_is_one_plain_line_in_french(
    name: str, results: dict[str, tuple[Mistake, subprocess.CompletedProcess[str]]], world: World
) -> None:
    stderr = _check(results[name], world)
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("erreur : "), stderr
    assert "error:" not in stderr


def test_init_leaves_no_half_made_home_when_its_database_cannot_be_used(
    results: dict[str, tuple[Mistake, subprocess.CompletedProcess[str]]], world: World
) -> None:
    _check(results["init-database-missing"], world)
    assert not (world.root / "home-without-database").exists()


@click.group(cls=PgsGroup)
@click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=debug_option)
def _group() -> None:
    """A group with the pgs error handler, and a command that fails as nobody foresaw."""


@_group.command("boom")
def _boom() -> None:
    raise RuntimeError("something nobody foresaw")


def test_an_unforeseen_failure_is_one_line_and_the_traceback_only_with_debug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PGS_LANG", "en")
    monkeypatch.setenv("PGS_DEBUG", "")  # restored afterwards: --debug sets it
    plain = CliRunner().invoke(_group, ["boom"])
    assert plain.exit_code == 1
    assert "Traceback" not in plain.output
    assert plain.output.strip().count("\n") == 0, plain.output
    assert "internal error (RuntimeError: something nobody foresaw)" in plain.output
    assert "--debug" in plain.output
    debug = CliRunner().invoke(_group, ["--debug", "boom"])
    assert debug.exit_code == 1
    assert "Traceback" in debug.output
    assert "internal error" in debug.output
