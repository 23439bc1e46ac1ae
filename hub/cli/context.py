"""The connection one ``pgs`` invocation works with, read once from the shared options.

Every command that talks to a hub takes one :class:`CliContext` (the ``cli`` argument that
:func:`hub.cli.connection.hub_options` passes) instead of the hub URL, CA, authority key, key
folder and passphrase source one by one, and builds its client with :meth:`CliContext.client`
only. ``--log-key`` is read by :func:`parse_log_key` alone, wherever it is given, so a bad key
is refused with the same line by every command.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pgs_hub.hub.cli.common import fail, load_keys, say

if TYPE_CHECKING:
    from pgs_hub.crypto.note import NoteVerifier
    from pgs_hub.crypto.witness import WitnessPolicy
    from pgs_hub.hub.client import HubClient

LOG_KEY_ENV = "PGS_LOG_KEY"


def parse_log_key(value: str | Path | None) -> NoteVerifier | None:
    """The pinned log verifier key, given inline (``name+hash+base64``) or as a file holding
    one; None when none is given. Anything else ends the command with one line."""
    from pgs_hub.crypto.errors import CryptoError
    from pgs_hub.crypto.note import parse_verifier_key

    if not value:
        return None
    path = Path(value)
    try:
        text = path.read_text("utf-8").strip() if path.is_file() else str(value).strip()
    except (OSError, UnicodeDecodeError) as exc:
        fail(say("cli.error.log_key", reason=getattr(exc, "strerror", None) or exc))
    try:
        return parse_verifier_key(text)
    except CryptoError as exc:
        fail(say("cli.error.log_key", reason=exc))


def require_log_key(value: str | Path | None) -> NoteVerifier:
    """:func:`parse_log_key` for the commands that cannot work without the log key."""
    verifier = parse_log_key(value)
    if verifier is None:
        fail(say("cli.error.pin_log_key", env=LOG_KEY_ENV))
    return verifier


def load_witness_policy(value: str | Path | None) -> WitnessPolicy | None:
    """The pinned witness policy (a c2sp.org/tlog-policy file), or None when none is given; a
    file that cannot be read or is not a policy ends the command with a one-line reason."""
    from pgs_hub.crypto.errors import CryptoError
    from pgs_hub.crypto.witness import parse_policy
    from pgs_hub.hub.i18n import resolve, t

    if not value:
        return None
    try:
        return parse_policy(Path(value).read_bytes())
    except OSError as exc:
        fail(t("witness.policy_unreadable", resolve(), path=value, reason=exc.strerror))
    except CryptoError as exc:
        fail(t("witness.policy_unreadable", resolve(), path=value, reason=f"[{exc.code}] {exc}"))


@dataclass(frozen=True)
class CliContext:
    """What the shared options say about the hub and who talks to it, as given (paths, not yet
    read): reading keys may ask for a passphrase, so it happens in :meth:`client`, once."""

    hub_url: str
    key_folder: Path
    ca: Path | None = None
    authority: Path | None = None
    log_key: str | None = None
    witness_policy: str | None = None
    prompt_passphrase: bool = False

    def pinned_log_key(self) -> NoteVerifier | None:
        """The ``--log-key`` verifier, or None when none was given."""
        return parse_log_key(self.log_key)

    def client(self) -> HubClient:
        """The one way a command connects: the URL checked, the keys loaded (asking for the
        passphrase if told to), the pinned keys and policy read, TLS trusting ``--ca``."""
        from pgs_hub.crypto.keys import VerifyKey, verify_key_from_jwk
        from pgs_hub.hub.cli.errors import check_hub_url
        from pgs_hub.hub.client import HubClient

        check_hub_url(self.hub_url)
        me = load_keys(self.key_folder, self.prompt_passphrase)
        pinned: VerifyKey | None = None
        if self.authority is not None:
            pinned = verify_key_from_jwk(json.loads(self.authority.read_text()))
        context = ssl.create_default_context(cafile=str(self.ca)) if self.ca is not None else None
        return HubClient(
            self.hub_url, me, authority=pinned, log_key=self.pinned_log_key(),
            ssl_context=context, witness_policy=load_witness_policy(self.witness_policy),
        )  # fmt: skip
