"""The hub's own keys on disk: its acceptance key (``signing.key.pem``) and its log key, each
encrypted at rest when the operator gives ``$PGS_HUB_PASSPHRASE``.

Used by ``pgs serve`` (hub.server.app), by enrolment at ``pgs init`` and by the benchmarks; kept
out of the web layer so that none of those import the server to read a key file.
"""

from __future__ import annotations

from pathlib import Path

from pgs_hub.crypto.errors import InvalidKeyError
from pgs_hub.crypto.keys import SigningKey, load_private_pem, private_pem
from pgs_hub.hub import passphrases
from pgs_hub.hub.errors import config_error

HUB_KEY_FILE = "signing.key.pem"


def load_or_create_hub_key(
    folder: Path, name: str = HUB_KEY_FILE, passphrase: bytes | None = None
) -> SigningKey:
    """The hub's own Ed25519 key (acceptances) or, with ``name``, its log key; encrypted at rest
    when ``passphrase`` is given (``$PGS_HUB_PASSPHRASE``). A missing key is created."""
    path = folder / name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        key = SigningKey.generate()
        path.write_bytes(private_pem(key, passphrase))
        path.chmod(0o600)
        return key
    pem = path.read_bytes()
    if passphrases.is_encrypted(pem) and passphrase is None:
        raise config_error("config.key_encrypted", path=path, name=passphrases.HUB)
    try:
        loaded = load_private_pem(pem, passphrases.for_file(pem, passphrase))
    except InvalidKeyError:
        raise config_error("config.wrong_passphrase_of", path=path, name=passphrases.HUB) from None
    if not isinstance(loaded, SigningKey):
        raise config_error("config.not_ed25519", path=path)
    return loaded
