"""The hub's home folder: configuration, keys and the embedded database in one place.

Layout (created by ``pgs init``)::

    config.toml            where to listen, which database, TLS files, the pinned authority key
    policy.toml            access-control policy (reloadable)
    hub.db                 embedded SQLite database (unless database_url points elsewhere)
    hub-key/               the hub's own Ed25519 key (signs acceptances)
    authority/             the registry authority key — demo only; keep it offline in production

The authority's *private* key is not read by the server: the server only pins its public key.
"""

from __future__ import annotations

import json
import os
import secrets
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from crypto.keys import (
    SigningKey,
    VerifyKey,
    load_private_pem,
    private_pem,
    verify_key_from_jwk,
)
from crypto.note import verifier_key
from hub.attachment_limits import AttachmentLimits, attachment_limits
from hub.errors import ConfigError
from hub.notification_config import NotificationConfig, notification_config

CONFIG_FILE = "config.toml"
POLICY_FILE = "policy.toml"
HUB_KEY_DIR = "hub-key"
AUTHORITY_DIR = "authority"
LOG_KEY_FILE = "log.key.pem"
AUTHORITY_KEY_FILE = "authority.key.pem"
AUTHORITY_PUBLIC_FILE = "authority.jwk.json"
AUTHORITY_PASSPHRASE_ENV = "PGS_AUTHORITY_PASSPHRASE"  # noqa: S105 - a variable name
HOME_ENV = "PGS_HOME"
DATABASE_ENV = "PGS_DATABASE_URL"


def default_home() -> Path:
    """``$PGS_HOME``, else ``./pgs-home``."""
    return Path(os.environ.get(HOME_ENV) or "pgs-home")


@dataclass(frozen=True)
class HubConfig:
    """The settings of one hub, read from ``config.toml`` (paths resolved against the home)."""

    home: Path
    host: str
    port: int
    database_url: str
    authority: VerifyKey
    policy_path: Path
    tls_cert: Path | None
    tls_key: Path | None
    public_url: str | None
    log_origin: str
    log_verifier_key: str
    # [stream]: a stream re-reads its mailbox after this long without a wake-up (wake-ups only
    # make delivery faster; this bounds the delay when one is lost) ...
    stream_recheck_seconds: float = 20.0
    # ... and is closed ("too slow", the client resumes later) when a frame is not taken in time;
    stream_send_timeout_seconds: float = 30.0
    # what one stream may have written and not yet sent: its socket's send buffer and the hub's
    # own write buffer are each held to this many bytes.
    stream_buffer_bytes: int = 65536
    # [hub] header_timeout_seconds: a connection that has not sent a complete request head this
    # long after it opened, or after its previous answer, is closed, so slow-header clients
    # (slowloris) hold a socket for a bounded time. It is also how long an idle keep-alive
    # connection stays open (aiohttp's keepalive_timeout, which covers both since 3.14.4).
    header_timeout_seconds: float = 20.0
    # [attachments]: caps on encrypted attachment uploads (hub/attachment_limits.py).
    attachments: AttachmentLimits = field(default_factory=AttachmentLimits)
    # [notifications]: content-free e-mail and signed webhooks (hub/services/notifications.py).
    notifications: NotificationConfig = field(default_factory=NotificationConfig)

    @property
    def hub_key_dir(self) -> Path:
        return self.home / HUB_KEY_DIR


def _table(doc: dict[str, Any], name: str) -> dict[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] in {CONFIG_FILE} must be a table")
    return value


def _seconds(
    table: dict[str, Any], name: str, default: float, low: float, high: float, *,
    section: str = "stream",
) -> float:  # fmt: skip
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"[{section}] {name} in {CONFIG_FILE} must be between {low} and {high}")
    return float(value)


def _stream_bytes(table: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"[stream] {name} in {CONFIG_FILE} must be between {low} and {high}")
    return value


def sqlite_url(home: Path) -> str:
    return f"sqlite+aiosqlite:///{(home / 'hub.db').resolve()}"


def load_config(home: Path, *, database_url: str | None = None) -> HubConfig:
    """Read ``HOME/config.toml``.

    The database URL comes from ``database_url`` (a flag), else ``$PGS_DATABASE_URL``, else the
    file, else the home's SQLite database.
    """
    path = home / CONFIG_FILE
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist: run `pgs init {home}` first") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    hub = _table(doc, "hub")
    stream = _table(doc, "stream")
    authority = _table(doc, "authority")
    jwk = authority.get("public_jwk")
    if not isinstance(jwk, dict):
        raise ConfigError(f"{path} lacks [authority] public_jwk: the pinned registry authority key")
    try:
        pinned = verify_key_from_jwk(jwk)
    except Exception as exc:  # noqa: BLE001 - any defect of the pinned key is a config error
        raise ConfigError(
            f"[authority] public_jwk in {path} is not an Ed25519 key: {exc}"
        ) from None

    def optional_path(name: str) -> Path | None:
        value = hub.get(name)
        return (home / value) if isinstance(value, str) and value else None

    url = database_url or os.environ.get(DATABASE_ENV) or hub.get("database_url") or ""
    port = hub.get("port", 8443)
    if not isinstance(port, int) or not 0 <= port < 65536:
        raise ConfigError(f"[hub] port in {path} must be a port number")
    return HubConfig(
        home=home,
        host=str(hub.get("host", "127.0.0.1")),
        port=port,
        database_url=str(url) or sqlite_url(home),
        authority=pinned,
        policy_path=home / str(hub.get("policy", POLICY_FILE)),
        tls_cert=optional_path("tls_cert"),
        tls_key=optional_path("tls_key"),
        public_url=hub.get("public_url") if isinstance(hub.get("public_url"), str) else None,
        log_origin=str(_table(doc, "log").get("origin") or "pgs-hub"),
        log_verifier_key=str(_table(doc, "log").get("verifier_key") or ""),
        stream_recheck_seconds=_seconds(stream, "recheck_seconds", 20.0, 0.1, 86400.0),
        stream_send_timeout_seconds=_seconds(stream, "send_timeout_seconds", 30.0, 0.1, 3600.0),
        stream_buffer_bytes=_stream_bytes(stream, "buffer_bytes", 65536, 4096, 4 << 20),
        header_timeout_seconds=_seconds(
            hub, "header_timeout_seconds", 20.0, 0.1, 3600.0, section="hub"
        ),
        attachments=attachment_limits(_table(doc, "attachments")),
        notifications=notification_config(_table(doc, "notifications")),
    )


def load_authority(home: Path) -> SigningKey:
    """The registry authority's private key from a demo home (production keeps it offline)."""
    path = home / AUTHORITY_DIR / AUTHORITY_KEY_FILE
    secret = os.environ.get(AUTHORITY_PASSPHRASE_ENV)
    key = load_private_pem(path.read_bytes(), secret.encode() if secret else None)
    if not isinstance(key, SigningKey):
        raise ConfigError(f"{path} is not an Ed25519 key")
    return key


def write_home(home: Path, *, port: int) -> SigningKey:
    """Create config, policy, authority key and hub key; returns the authority key."""
    if (home / CONFIG_FILE).exists():
        raise ConfigError(f"{home} already holds a hub ({CONFIG_FILE} exists)")
    (home / AUTHORITY_DIR).mkdir(parents=True, exist_ok=True)
    (home / HUB_KEY_DIR).mkdir(parents=True, exist_ok=True)
    authority = SigningKey.generate()
    secret = os.environ.get(AUTHORITY_PASSPHRASE_ENV)
    key_path = home / AUTHORITY_DIR / AUTHORITY_KEY_FILE
    key_path.write_bytes(private_pem(authority, secret.encode() if secret else None))
    key_path.chmod(0o600)
    public = authority.public.to_jwk()
    (home / AUTHORITY_DIR / AUTHORITY_PUBLIC_FILE).write_text(json.dumps(public, indent=2) + "\n")
    log_key = SigningKey.generate()
    log_path = home / HUB_KEY_DIR / LOG_KEY_FILE
    log_path.write_bytes(private_pem(log_key, None))
    log_path.chmod(0o600)
    origin = f"pgs-hub.wcoomd.org/{secrets.token_hex(4)}"
    default_policy = resources.files("hub.policy").joinpath("default.toml").read_text("utf-8")
    (home / POLICY_FILE).write_text(default_policy, encoding="utf-8")
    jwk_inline = ", ".join(f'{k} = "{v}"' for k, v in public.items())
    (home / CONFIG_FILE).write_text(
        "# Global Shield Hub configuration. Paths are relative to this folder.\n"
        "[hub]\n"
        'host = "127.0.0.1"\n'
        f"port = {port}\n"
        '# database_url = "postgresql+asyncpg://pgs@db.example/pgs"  # default: hub.db here\n'
        '# tls_cert = "tls/hub.crt"\n'
        '# tls_key = "tls/hub.key"\n'
        f'policy = "{POLICY_FILE}"\n'
        "# Close a connection that has not sent a complete request head (or has been idle) this\n"
        "# many seconds: slow-header clients cannot hold connections open.\n"
        "# header_timeout_seconds = 20\n"
        "\n"
        "# The registry authority (WCO) key that certifies participants. Pinned: the hub and its\n"
        "# clients accept only certificates it signed.\n"
        "[authority]\n"
        f"public_jwk = {{ {jwk_inline} }}\n"
        "\n"
        "# The tamper-evident audit log: checkpoints name this origin and are signed with\n"
        "# hub-key/log.key.pem. Auditors pin the verifier key (`pgs audit key`).\n"
        "[log]\n"
        f'origin = "{origin}"\n'
        f'verifier_key = "{verifier_key(origin, log_key.public)}"\n'
        "\n"
        "# WebSocket streams (GET /v1/stream); the defaults are shown.\n"
        "# [stream]\n"
        "# Re-read a mailbox after this many seconds without a wake-up (wake-ups only speed\n"
        "# delivery up; this bounds the delay when one is lost).\n"
        "# recheck_seconds = 20\n"
        "# Close a stream whose client has not taken a frame for this many seconds; it resumes\n"
        "# from its cursor when it reconnects.\n"
        "# send_timeout_seconds = 30\n"
        "# Bytes one stream may have written but not yet sent, in the hub and in its socket.\n"
        "# buffer_bytes = 65536\n"
        "\n"
        "# Encrypted attachments (tus uploads); the defaults are shown. Checked before any byte\n"
        "# is stored.\n"
        "# [attachments]\n"
        "# max_file_bytes = 52428800      # one encrypted file\n"
        "# max_message_bytes = 104857600  # all the files of one message\n"
        "# quota_bytes = 1073741824       # all of one participant's uploads at a time\n"
        "# max_part_bytes = 1048576       # the body of one PATCH request\n"
        "# pending_seconds = 86400        # an upload no message references is deleted after\n"
        "\n"
        "# Notifications that say only that a message awaits (never its subject or content).\n"
        "# [notifications]\n"
        '# smtp_host = "smtp.example.org"\n'
        "# smtp_port = 25\n"
        '# from = "pgs-hub@example.org"\n'
        '# [notifications.participants."GH-NCP-ACCRA"]\n'
        '# email = "duty-officer@customs.example"\n'
        '# webhook = "https://ncs.customs.example/pgs-hook"  # Standard Webhooks, Ed25519 v1a\n'
        "# details = false  # true: add the sender's country and the message kind\n",
        encoding="utf-8",
    )
    return authority
