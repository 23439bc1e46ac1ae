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

import ipaddress
import json
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pgs_hub.crypto.errors import CryptoError, InvalidKeyError
from pgs_hub.crypto.keys import (
    SigningKey,
    VerifyKey,
    load_private_pem,
    private_pem,
    verify_key_from_jwk,
)
from pgs_hub.crypto.note import verifier_key
from pgs_hub.crypto.witness import parse_cosigner_key
from pgs_hub.hub import passphrases
from pgs_hub.hub.attachment_limits import AttachmentLimits, attachment_limits
from pgs_hub.hub.errors import config_error
from pgs_hub.hub.notification_config import NotificationConfig, notification_config
from pgs_hub.hub.settings import DEFAULTS, Settings
from pgs_hub.hub.settings import from_toml as settings_from_toml

CONFIG_FILE = "config.toml"
POLICY_FILE = "policy.toml"
HUB_KEY_DIR = "hub-key"
AUTHORITY_DIR = "authority"
LOG_KEY_FILE = "log.key.pem"
HUB_SIGNING_KEY_FILE = "signing.key.pem"
AUTHORITY_KEY_FILE = "authority.key.pem"
AUTHORITY_PUBLIC_FILE = "authority.jwk.json"
AUTHORITY_PASSPHRASE_ENV = passphrases.AUTHORITY
HOME_ENV = "PGS_HOME"
DATABASE_ENV = "PGS_DATABASE_URL"


#: The longest [hub] body_timeout_seconds allowed (an attachment part's file is written while its
#: body arrives: hub.storage.part_files.STRAY_SECONDS waits longer than this before a sweep).
MAX_BODY_TIMEOUT_SECONDS = 3600.0


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
    # [witnessing]: the witnesses the hub asks to cosign each new checkpoint (url, verifier key),
    # and how long a checkpoint request waits for the round on a new checkpoint (docs/audit-log.md).
    witnesses: tuple[tuple[str, str], ...] = ()
    witness_wait_seconds: float = 5.0
    witness_ca: Path | None = None  # CA bundle for https witnesses (default: the system's)
    # [hub] body_timeout_seconds: the whole request body must have arrived this long after the
    # handler starts reading it, or the request is answered 408 and the connection closed (a body
    # sent one byte at a time cannot hold a handler and a connection for ever).
    body_timeout_seconds: float = 30.0
    # [limits] submissions_per_minute: envelopes one participant may submit in a minute (fixed
    # one-minute windows), counted in the database and so shared by every hub process on it;
    # beyond it, 429 with Retry-After until the window ends.
    submissions_per_minute: int = 600
    # [hub] trusted_proxies: peers whose Forwarded / X-Forwarded-* headers are believed
    # (hub.server.proxy); empty: none.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # [retention] delivered_body_days: purge delivered envelope bodies this long after the last
    # recipient got them (hub.services.retention); None: keep them.
    retention_days: float | None = None
    # [metrics] bearer_token_sha256: who may read /metrics besides the local machine
    # (hub.server.observe); the hash only, never the token.
    metrics_token_sha256: bytes | None = None
    # [attachments]: caps on encrypted attachment uploads (hub/attachment_limits.py).
    attachments: AttachmentLimits = field(default_factory=AttachmentLimits)
    # [notifications]: content-free e-mail and signed webhooks (hub/services/notifications.py).
    notifications: NotificationConfig = field(default_factory=NotificationConfig)
    # [limits]: page sizes, intervals and other defaults (hub/settings.py has the table).
    settings: Settings = DEFAULTS

    @property
    def hub_key_dir(self) -> Path:
        return self.home / HUB_KEY_DIR


def _table(doc: dict[str, Any], name: str) -> dict[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise config_error("config.table", section=name, file=CONFIG_FILE)
    return value


def _seconds(
    table: dict[str, Any], name: str, default: float, low: float, high: float, *,
    section: str = "stream",
) -> float:  # fmt: skip
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise config_error(
            "config.range", section=section, name=name, file=CONFIG_FILE, low=low, high=high
        )
    return float(value)


def _stream_bytes(table: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise config_error(
            "config.range", section="stream", name=name, file=CONFIG_FILE, low=low, high=high
        )
    return value


def parse_public_url(value: object, path: Path) -> str | None:
    """``[hub] public_url`` of ``path`` as an origin without a trailing slash; a path, query or
    fragment is refused (the hub's routes and the console's links start at the root)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise config_error("config.hub.public_url_text", path=path)
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise config_error("config.hub.public_url_origin", path=path)
    return f"{parts.scheme}://{parts.netloc}".lower()


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(value: object, path: Path) -> tuple[Network, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise config_error("config.hub.proxies_list", path=path)
    try:
        return tuple(ipaddress.ip_network(v, strict=False) for v in value)
    except ValueError as exc:
        raise config_error("config.hub.proxies_bad", path=path, reason=exc) from None


def _retention_days(table: dict[str, Any]) -> float | None:
    if table.get("delivered_body_days") is None:
        return None
    return _seconds(table, "delivered_body_days", 0.0, 0.0, 36500.0, section="retention")


def _token_hash(table: dict[str, Any], path: Path) -> bytes | None:
    value = table.get("bearer_token_sha256")
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        raise config_error("config.hub.metrics_token", path=path)
    return bytes.fromhex(value)


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
        raise config_error("cli.message.run_init", path=path, home=home) from None
    except tomllib.TOMLDecodeError as exc:
        raise config_error("cli.message.toml", path=path, reason=exc) from None
    hub = _table(doc, "hub")
    stream = _table(doc, "stream")
    authority = _table(doc, "authority")
    jwk = authority.get("public_jwk")
    if not isinstance(jwk, dict):
        raise config_error("config.hub.no_authority", path=path)
    try:
        pinned = verify_key_from_jwk(jwk)
    except Exception as exc:  # noqa: BLE001 - any defect of the pinned key is a config error
        raise config_error("config.hub.authority_jwk", path=path, reason=exc) from None

    def optional_path(name: str) -> Path | None:
        value = hub.get(name)
        return (home / value) if isinstance(value, str) and value else None

    url = database_url or os.environ.get(DATABASE_ENV) or hub.get("database_url") or ""
    port = hub.get("port", 8443)
    if not isinstance(port, int) or not 0 <= port < 65536:
        raise config_error("config.hub.port", path=path)
    return HubConfig(
        home=home,
        host=str(hub.get("host", "127.0.0.1")),
        port=port,
        database_url=str(url) or sqlite_url(home),
        authority=pinned,
        policy_path=home / str(hub.get("policy", POLICY_FILE)),
        tls_cert=optional_path("tls_cert"),
        tls_key=optional_path("tls_key"),
        public_url=parse_public_url(hub.get("public_url"), path),
        log_origin=str(_table(doc, "log").get("origin") or "pgs-hub"),
        log_verifier_key=str(_table(doc, "log").get("verifier_key") or ""),
        stream_recheck_seconds=_seconds(stream, "recheck_seconds", 20.0, 0.1, 86400.0),
        stream_send_timeout_seconds=_seconds(stream, "send_timeout_seconds", 30.0, 0.1, 3600.0),
        stream_buffer_bytes=_stream_bytes(stream, "buffer_bytes", 65536, 4096, 4 << 20),
        header_timeout_seconds=_seconds(
            hub, "header_timeout_seconds", 20.0, 0.1, 3600.0, section="hub"
        ),
        witnesses=_witnesses(_table(doc, "witnessing")),
        witness_wait_seconds=_seconds(
            _table(doc, "witnessing"), "wait_seconds", 5.0, 0.0, 60.0, section="witnessing"
        ),
        witness_ca=(
            home / str(_table(doc, "witnessing")["ca_bundle"])
            if _table(doc, "witnessing").get("ca_bundle")
            else None
        ),
        body_timeout_seconds=_seconds(
            hub, "body_timeout_seconds", 30.0, 0.5, MAX_BODY_TIMEOUT_SECONDS, section="hub"
        ),
        submissions_per_minute=_count(
            _table(doc, "limits"), "submissions_per_minute", 600, 1, 1_000_000, section="limits"
        ),
        trusted_proxies=parse_trusted_proxies(hub.get("trusted_proxies"), path),
        retention_days=_retention_days(_table(doc, "retention")),
        metrics_token_sha256=_token_hash(_table(doc, "metrics"), path),
        attachments=attachment_limits(_table(doc, "attachments")),
        notifications=notification_config(_table(doc, "notifications")),
        settings=settings_from_toml(
            _table(doc, "limits"), ignore=frozenset({"submissions_per_minute"})
        ),
    )


def _witnesses(table: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """``[[witnessing.witness]]`` entries: ``url`` (the witness's submission prefix) and ``key``
    (its verifier key, name+hash+base64 of type 0x04, as `pgs witness key` prints it)."""
    items = table.get("witness", [])
    if not isinstance(items, list):
        raise config_error("config.hub.witness_table", file=CONFIG_FILE)
    found: list[tuple[str, str]] = []
    for item in items:
        url, key = (item.get("url"), item.get("key")) if isinstance(item, dict) else (None, None)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise config_error("config.hub.witness_url", file=CONFIG_FILE)
        try:
            parse_cosigner_key(str(key))
        except CryptoError:
            raise config_error("config.hub.witness_key", url=url, file=CONFIG_FILE) from None
        found.append((url.rstrip("/"), str(key)))
    if len({key for _, key in found}) != len(found):
        raise config_error("config.hub.witness_twice", file=CONFIG_FILE)
    return tuple(found)


def _count(
    table: dict[str, Any], name: str, default: int, low: int, high: int, *, section: str
) -> int:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise config_error(
            "config.range", section=section, name=name, file=CONFIG_FILE, low=low, high=high
        )
    return value


def load_authority(home: Path, passphrase: bytes | None = None) -> SigningKey:
    """The registry authority's private key from a hub home (production keeps it offline).

    ``passphrase`` defaults to ``$PGS_AUTHORITY_PASSPHRASE`` (or the file
    ``$PGS_AUTHORITY_PASSPHRASE_FILE`` names); an encrypted key without one is a ConfigError
    that says so."""
    path = home / AUTHORITY_DIR / AUTHORITY_KEY_FILE
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise config_error("config.hub.authority_missing", path=path) from None
    secret = (
        passphrase
        if passphrase is not None
        else passphrases.from_environment(AUTHORITY_PASSPHRASE_ENV)
    )
    if passphrases.is_encrypted(pem) and secret is None:
        raise config_error("config.key_encrypted", path=path, name=AUTHORITY_PASSPHRASE_ENV)
    try:
        key = load_private_pem(pem, passphrases.for_file(pem, secret))
    except InvalidKeyError:
        raise config_error("config.wrong_passphrase", path=path) from None
    if not isinstance(key, SigningKey):
        raise config_error("config.not_ed25519", path=path)
    return key


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def refuse_existing(home: Path) -> None:
    """Raise if ``home`` already holds a hub: ``pgs init`` never overwrites one."""
    if (home / CONFIG_FILE).exists():
        raise config_error("cli.message.holds_hub", path=home, file=CONFIG_FILE)


def write_home(
    home: Path,
    *,
    port: int,
    authority_passphrase: bytes | None = None,
    hub_passphrase: bytes | None = None,
) -> SigningKey:
    """Create config, policy, authority key and hub keys; returns the authority key.

    The private keys are encrypted with the passphrases given (``pgs init`` insists on them
    unless told ``--insecure-plain-keys``); without one a key is written plain (mode 0600)."""
    refuse_existing(home)
    (home / AUTHORITY_DIR).mkdir(parents=True, exist_ok=True)
    (home / HUB_KEY_DIR).mkdir(parents=True, exist_ok=True)
    authority = SigningKey.generate()
    _write_private(
        home / AUTHORITY_DIR / AUTHORITY_KEY_FILE, private_pem(authority, authority_passphrase)
    )
    public = authority.public.to_jwk()
    (home / AUTHORITY_DIR / AUTHORITY_PUBLIC_FILE).write_text(json.dumps(public, indent=2) + "\n")
    log_key = SigningKey.generate()
    _write_private(home / HUB_KEY_DIR / LOG_KEY_FILE, private_pem(log_key, hub_passphrase))
    _write_private(
        home / HUB_KEY_DIR / HUB_SIGNING_KEY_FILE,
        private_pem(SigningKey.generate(), hub_passphrase),
    )
    origin = f"pgs-hub.wcoomd.org/{secrets.token_hex(4)}"
    default_policy = (
        resources.files("pgs_hub.hub.policy").joinpath("default.toml").read_text("utf-8")
    )
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
        "# Answer 408 and close when a request body takes longer than this to arrive.\n"
        "# body_timeout_seconds = 30\n"
        "# Behind a reverse proxy: the URL clients use (signatures cover it, console links use\n"
        "# it), and the proxies whose Forwarded / X-Forwarded-* headers are believed (none by\n"
        "# default).\n"
        '# public_url = "https://hub.example.org"\n'
        '# trusted_proxies = ["127.0.0.1"]\n'
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
        "# Witnesses (c2sp.org/tlog-witness) that cosign each new checkpoint: member\n"
        "# administrations running `pgs witness serve`; their keys come from `pgs witness key`.\n"
        "# [witnessing]\n"
        "# wait_seconds = 5          # how long a checkpoint reader waits for their cosignatures\n"
        '# ca_bundle = "witness-ca.pem"\n'
        "# [[witnessing.witness]]\n"
        '# url = "https://witness.gh.example"\n'
        '# key = "witness.gh.example+1a2b3c4d+BA..."\n'
        "# Limits on what one participant may do; the defaults are shown.\n"
        "# [limits]\n"
        "# Envelopes one participant may submit a minute, counted in the database (shared by\n"
        "# every hub process); beyond it the hub answers 429 with Retry-After.\n"
        "# submissions_per_minute = 600\n"
        "# Remove the bodies of delivered envelopes this many days after every recipient had\n"
        "# them (metadata and the audit log are kept). Unset: bodies are kept.\n"
        "# [retention]\n"
        "# delivered_body_days = 90\n"
        "# Encrypted attachments (tus uploads); the defaults are shown. Checked before any byte\n"
        "# is stored.\n"
        "# [attachments]\n"
        "# max_file_bytes = 52428800      # one encrypted file\n"
        "# max_message_bytes = 104857600  # all the files of one message\n"
        "# quota_bytes = 1073741824       # all of one participant's uploads at a time\n"
        "# max_part_bytes = 8388608       # the body of one PATCH request\n"
        "# pending_seconds = 86400        # an upload no message references is deleted after\n"
        "# parts_in_flight = 2            # PATCHes of one upload at once; 1 behind a balancer\n"
        "\n"
        "# Notifications that say only that a message awaits (never its subject or content).\n"
        "# Each participant sets its own with `pgs notifications set`; the password of the mail\n"
        "# server comes from $PGS_SMTP_PASSWORD (or $PGS_SMTP_PASSWORD_FILE), never from here.\n"
        "# [notifications]\n"
        '# smtp_host = "smtp.example.org"\n'
        "# smtp_port = 25\n"
        '# smtp_user = "pgs-hub"\n'
        "# smtp_starttls = false\n"
        '# from = "pgs-hub@example.org"\n'
        "# retry_base_seconds = 30  # a failed delivery is tried again after 30 s, 60 s, 120 s...\n"
        "# max_attempts = 8\n"
        "# webhook_private_networks = false  # true: webhooks may go to loopback/private hosts\n"
        "# Starting settings for a participant that saved none of its own:\n"
        '# [notifications.participants."GH-NCP-ACCRA"]\n'
        '# email = "duty-officer@customs.example"\n'
        '# webhook = "https://ncs.customs.example/pgs-hook"  # Standard Webhooks, Ed25519 v1a\n'
        "# details = false  # true: add the sender's country and the message kind\n",
        encoding="utf-8",
    )
    return authority
