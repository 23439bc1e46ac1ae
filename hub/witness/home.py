"""A witness's home folder: ``witness.toml`` (name, address, the logs it cosigns), its Ed25519
key (``witness.key.pem``, mode 0600) and its state (``witness.db``, SQLite)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pgs_hub.crypto.errors import CryptoError
from pgs_hub.crypto.keys import SigningKey, load_private_pem, private_pem
from pgs_hub.crypto.note import NoteVerifier, parse_verifier_key
from pgs_hub.crypto.witness import Cosigner
from pgs_hub.hub.errors import config_error

CONFIG_FILE = "witness.toml"
KEY_FILE = "witness.key.pem"
STATE_FILE = "witness.db"
DEFAULT_PORT = 7380


@dataclass(frozen=True)
class WitnessConfig:
    home: Path
    name: str
    host: str
    port: int
    logs: tuple[NoteVerifier, ...]

    @property
    def state_path(self) -> Path:
        return self.home / STATE_FILE


def init_home(home: Path, name: str, logs: list[str], *, port: int = DEFAULT_PORT) -> Cosigner:
    """Create the key and the config; refuse to overwrite an existing witness."""
    if (home / KEY_FILE).exists() or (home / CONFIG_FILE).exists():
        raise config_error("config.witness.exists", home=home)
    parsed = [_log_key(value, number) for number, value in enumerate(logs, 1)]
    key = SigningKey.generate()
    try:
        cosigner = Cosigner(name, key)  # checks the name
    except CryptoError:
        raise config_error("config.witness.bad_name", name=name) from None
    home.mkdir(parents=True, exist_ok=True)
    path = home / KEY_FILE
    path.write_bytes(private_pem(key, None))
    path.chmod(0o600)
    listed = "".join(f'    "{log.encode()}",\n' for log in parsed)
    (home / CONFIG_FILE).write_text(
        "# A PGS witness (c2sp.org/tlog-witness). `pgs witness key` prints its verifier key.\n"
        f'name = "{name}"\n'
        'host = "127.0.0.1"\n'
        f"port = {port}\n"
        "# The logs it cosigns: each hub's log verifier key (`pgs audit key` on the hub).\n"
        f"logs = [\n{listed}]\n",
        encoding="utf-8",
    )
    return cosigner


def _log_key(value: object, number: int) -> NoteVerifier:
    """The ``number``-th log key; a refusal names its place in the list, never its text (a
    private key pasted by mistake is not printed back)."""
    try:
        return parse_verifier_key(str(value))
    except CryptoError:
        raise config_error("config.witness.bad_log_key", number=number) from None


def load_config(home: Path) -> WitnessConfig:
    path = home / CONFIG_FILE
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise config_error("config.witness.no_config", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise config_error("config.witness.toml", path=path, reason=exc) from None
    name, host, port, logs = (
        doc.get("name"),
        doc.get("host", "127.0.0.1"),
        doc.get("port"),
        doc.get("logs", []),
    )
    if not isinstance(name, str) or not isinstance(host, str):
        raise config_error("config.witness.name_host", path=path)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < 65536:
        raise config_error("config.witness.port", path=path)
    if not isinstance(logs, list):
        raise config_error("config.witness.logs", path=path)
    return WitnessConfig(
        home, name, host, port, tuple(_log_key(v, n) for n, v in enumerate(logs, 1))
    )


def load_cosigner(config: WitnessConfig) -> Cosigner:
    path = config.home / KEY_FILE
    try:
        key = load_private_pem(path.read_bytes(), None)
    except OSError as exc:
        raise config_error(
            "config.witness.unreadable_key", path=path, reason=exc.strerror
        ) from None
    if not isinstance(key, SigningKey):
        raise config_error("config.not_ed25519", path=path)
    try:
        return Cosigner(config.name, key)
    except CryptoError:
        raise config_error("config.witness.bad_name", name=config.name) from None
