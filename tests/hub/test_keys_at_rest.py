"""Keys at rest: ``pgs init`` encrypts every private key it writes, or refuses; the passphrases come
from the environment or a file (``NAME_FILE``); the commands that use the keys then open them, and
say in one line what is wrong when they cannot. Real processes on real files (tests/hub/test_cli.py
runs ``pgs`` the same way)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgs_hub.crypto.errors import InvalidKeyError
from pgs_hub.hub import keystore, passphrases
from pgs_hub.hub.cli import main
from pgs_hub.hub.errors import ConfigError
from pgs_hub.hub.home import load_authority
from pgs_hub.hub.hub_keys import load_or_create_hub_key
from tests.hub.test_cli import pgs as pgs_process

PASSPHRASE_VARIABLES = ("PGS_AUTHORITY_PASSPHRASE", "PGS_HUB_PASSPHRASE", "PGS_KEY_PASSPHRASE")


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def pgs(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> Done:
    """The ``pgs`` command in-process (click's runner), with only the passphrase variables
    given in ``env`` set (``pgs serve`` runs as a real process: pgs_process)."""
    del cwd  # every path given is absolute
    unset: dict[str, str | None] = {
        name + suffix: None for name in PASSPHRASE_VARIABLES for suffix in ("", "_FILE")
    }
    result = CliRunner().invoke(
        main, [str(a) for a in args], env=unset | (env or {}), catch_exceptions=False
    )
    return Done(result.exit_code, result.stdout, result.stderr)


ADMIN = "WCO-HUB-ADMIN"
SECRETS = {
    "PGS_AUTHORITY_PASSPHRASE": "authority passphrase",
    "PGS_KEY_PASSPHRASE": "admin passphrase",
}
HUB_SECRET = "hub passphrase"  # noqa: S105 - a test passphrase
PRIVATE_FILES = (
    "authority/authority.key.pem",
    "hub-key/log.key.pem",
    "hub-key/signing.key.pem",
    f"admin/{ADMIN}/signing.key.pem",
    f"admin/{ADMIN}/encryption.key.pem",
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def encrypted_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pgs init`` with two passphrases in the environment and the hub's in a file."""
    root = tmp_path_factory.mktemp("keys-at-rest")
    (root / "hub-passphrase").write_text(HUB_SECRET + "\n")
    env = SECRETS | {"PGS_HUB_PASSPHRASE_FILE": str(root / "hub-passphrase")}
    done = pgs("init", root / "home", "--port", str(_closed_port()), cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    return root / "home"


def _enrol(home: Path, keys: Path, env: dict[str, str]) -> tuple[int, str]:
    public = home / "admin" / ADMIN / "public.jwks.json"  # any valid public keys will do
    done = pgs(
        "admin", "enrol", "NG-NCP-LAGOS", "--role", "ncp", "--public-keys", public,
        "--home", home, "--keys", keys, "--hub", f"http://127.0.0.1:{_closed_port()}",
        cwd=home.parent, env=env,
    )  # fmt: skip
    return done.returncode, done.stderr


def test_init_encrypts_every_private_key_it_writes(encrypted_home: Path) -> None:
    for name in PRIVATE_FILES:
        pem = (encrypted_home / name).read_bytes()
        assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"), name
        assert (encrypted_home / name).stat().st_mode & 0o777 == 0o600, name
    # each opens with its own passphrase and with no other
    load_authority(encrypted_home, SECRETS["PGS_AUTHORITY_PASSPHRASE"].encode())
    with pytest.raises(ConfigError, match="wrong passphrase"):
        load_authority(encrypted_home, SECRETS["PGS_KEY_PASSPHRASE"].encode())
    keystore.load(encrypted_home / "admin" / ADMIN, SECRETS["PGS_KEY_PASSPHRASE"].encode())
    with pytest.raises(InvalidKeyError):
        keystore.load(encrypted_home / "admin" / ADMIN, HUB_SECRET.encode())
    load_or_create_hub_key(encrypted_home / "hub-key", passphrase=HUB_SECRET.encode())
    with pytest.raises(ConfigError, match="PGS_HUB_PASSPHRASE"):
        load_or_create_hub_key(encrypted_home / "hub-key")


def test_init_refuses_plain_keys_unless_told(tmp_path: Path) -> None:
    refused = pgs("init", tmp_path / "a", cwd=tmp_path, env=SECRETS)
    assert refused.returncode == 1
    assert "$PGS_HUB_PASSPHRASE" in refused.stderr
    assert "--insecure-plain-keys" in refused.stderr
    assert not (tmp_path / "a").exists()  # nothing written
    short = pgs("init", tmp_path / "a", cwd=tmp_path, env=SECRETS | {"PGS_HUB_PASSPHRASE": "short"})
    assert short.returncode == 1
    assert "too short" in short.stderr
    assert not (tmp_path / "a").exists()
    # The README's `export PGS_KEY_PASSPHRASE=...` with keys that have none (a plain home) used
    # to end `pgs admin enrol` in a traceback: plain keys open, the variable is not needed.
    plain = pgs("init", tmp_path / "b", "--insecure-plain-keys", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert "UNENCRYPTED" in plain.stderr
    for name in PRIVATE_FILES:
        assert (tmp_path / "b" / name).read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    code, stderr = _enrol(tmp_path / "b", tmp_path / "b" / "admin" / ADMIN, SECRETS)
    assert (code, "cannot reach the hub" in stderr) == (1, True), stderr


def test_serve_without_the_hub_passphrase_says_so(encrypted_home: Path) -> None:
    done = pgs_process("serve", "--home", encrypted_home, cwd=encrypted_home.parent)
    assert done.returncode == 1
    assert "hub-key" in done.stderr
    assert "$PGS_HUB_PASSPHRASE" in done.stderr
    assert "Traceback" not in done.stderr
    with pytest.raises(ConfigError, match=r"wrong \$PGS_HUB_PASSPHRASE"):
        load_or_create_hub_key(encrypted_home / "hub-key", passphrase=b"not the one")


def test_admin_enrol_opens_the_keys_or_says_why(
    encrypted_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No hub listens: getting as far as "cannot reach the hub" means both keys opened."""
    admin = encrypted_home / "admin" / ADMIN
    code, stderr = _enrol(encrypted_home, admin, SECRETS)
    assert (code, "cannot reach the hub" in stderr) == (1, True), stderr
    code, stderr = _enrol(encrypted_home, admin, SECRETS | {"PGS_AUTHORITY_PASSPHRASE": "wrong"})
    assert code == 1
    assert "authority.key.pem could not be opened: wrong passphrase?" in stderr
    assert "Traceback" not in stderr
    monkeypatch.delenv("PGS_AUTHORITY_PASSPHRASE", raising=False)
    monkeypatch.delenv("PGS_AUTHORITY_PASSPHRASE_FILE", raising=False)
    with pytest.raises(ConfigError, match=r"encrypted: set \$PGS_AUTHORITY_PASSPHRASE"):
        load_authority(encrypted_home)


@pytest.mark.parametrize(
    ("content", "french"),
    [(b"\n", "qui est vide"), (b"x" * 5000, "trop volumineux pour être une phrase secrète")],
)
def test_a_passphrase_file_that_cannot_serve_is_named_in_the_users_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, french: str
) -> None:
    """The refusal names the variable and the file, in English for logs and in French for a
    French user (not the generic "configuration not valid")."""
    path = tmp_path / "passphrase"
    path.write_bytes(content)
    monkeypatch.delenv(passphrases.KEYS, raising=False)
    monkeypatch.setenv(f"{passphrases.KEYS}_FILE", str(path))
    with pytest.raises(ConfigError) as raised:
        passphrases.from_environment(passphrases.KEYS)
    assert f"$PGS_KEY_PASSPHRASE_FILE names {path}" in str(raised.value)
    assert raised.value.text("fr") == f"$PGS_KEY_PASSPHRASE_FILE désigne {path}, {french}"
