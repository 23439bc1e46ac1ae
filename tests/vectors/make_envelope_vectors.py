"""Generate the worked-example envelope of docs/protocol.md §6 (tests/vectors/envelope/).

Every value that sealing normally draws at random (keys, content key, IV, ephemeral keys) is derived
here from a fixed label, so running this script again reproduces the same bytes; Ed25519 signatures
are deterministic. The keys are PUBLIC TEST KEYS: never use them for anything else.

Run: ``make vectors`` (or ``.venv/bin/python tests/vectors/make_envelope_vectors.py``).
``tests/protocols/test_envelope_vector.py`` re-seals from these inputs and compares byte for byte,
and recomputes every intermediate value with independent code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

from pgs_hub.crypto import jwe
from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.keys import DecryptionKey, SigningKey, private_jwk
from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import encode_message, parse_message

HERE = Path(__file__).parent / "envelope"
SENDER = "NG-NCP-LAGOS"
RECIPIENTS = ("GH-NCP-ACCRA", "WCO-PGS-BRUSSELS")
MESSAGE_ID = "6f1d2c3b-9a4e-4f5d-8c7b-1a2b3c4d5e6f"
IAT = 1767225600  # 2026-01-01T00:00:00Z
TTL = 30 * 24 * 3600

CONTENT = {
    "subject": "24 t ammonium nitrate declared as fertiliser, Lagos to Tema",
    "lines": [
        {
            "commodity": "AN",
            "description": "Ammonium nitrate, prilled, 480 bags of 50 kg",
            "quantity": {"value": 24, "unit": "TNE"},
            "hs": "3102.30",
            "cas": "6484-52-2",
            "un_number": "1942",
        }
    ],
    "shipment": {
        "mode": "sea",
        "route": {
            "origin": {"country": "NG", "locode": "NGLOS"},
            "destination": {"country": "GH", "locode": "GHTEM"},
        },
        "containers": ["CSQU3054383"],
    },
    "action_requested": "inspect",
}


def seed(label: str) -> bytes:
    return hashlib.sha256(f"pgs test vector / {label}".encode()).digest()


def signing_key(participant: str) -> SigningKey:
    return SigningKey.from_private(
        ed25519.Ed25519PrivateKey.from_private_bytes(seed(f"{participant} signing"))
    )


def decryption_key(participant: str) -> DecryptionKey:
    return DecryptionKey.from_private(
        x25519.X25519PrivateKey.from_private_bytes(seed(f"{participant} encryption"))
    )


def fixed_randomness() -> jwe.FixedRandomness:
    return jwe.FixedRandomness(
        cek=seed("content key"),
        iv=seed("iv")[: jwe.IV_BYTES],
        ephemeral_keys=tuple(
            x25519.X25519PrivateKey.from_private_bytes(seed(f"ephemeral {i}"))
            for i in range(len(RECIPIENTS))
        ),
    )


def build() -> dict[str, bytes]:
    """Return file name -> exact bytes of every vector file."""
    sender = signing_key(SENDER)
    recipients = [(pid, decryption_key(pid).public) for pid in RECIPIENTS]
    fixed = fixed_randomness()
    content = parse_message(MessageKind.ALERT, json.dumps(CONTENT).encode())
    sealed = seal_message(
        sender_id=SENDER,
        signer=sender,
        recipients=recipients,
        kind=MessageKind.ALERT,
        content=content,
        tlp=Tlp.AMBER,
        now=IAT,
        ttl_seconds=TTL,
        message_id=MESSAGE_ID,
        fixed=fixed,
    )
    outer = json.loads(sealed.raw)
    inner_bytes = b64u_decode(outer["payload"])
    inner = json.loads(inner_bytes)
    keys = {
        pid: {
            "signing": private_jwk(signing_key(pid)),
            "encryption": private_jwk(decryption_key(pid)),
        }
        for pid in (SENDER, *RECIPIENTS)
    }
    inputs = {
        "note": "PUBLIC TEST VALUES - never use these keys or this randomness for real messages",
        "sender": SENDER,
        "recipients": list(RECIPIENTS),
        "message_id": MESSAGE_ID,
        "iat": IAT,
        "ttl_seconds": TTL,
        "tlp": "AMBER",
        "kind": "alert",
        "content": CONTENT,
        "plaintext": encode_message(content).decode(),
        "cek": b64u_encode(fixed.cek),
        "iv": b64u_encode(fixed.iv),
        "ephemeral_private_keys": [
            b64u_encode(seed(f"ephemeral {i}")) for i in range(len(RECIPIENTS))
        ],
    }
    intermediate = {
        "jws_protected_header": b64u_decode(outer["protected"]).decode(),
        "jwe": inner_bytes.decode(),
        "jwe_protected_header": b64u_decode(inner["protected"]).decode(),
        "kcm": json.loads(b64u_decode(inner["protected"]))["kcm"],
        "recipients": [
            {
                "participant": pid,
                "kid": r["header"]["kid"],
                "epk_x": r["header"]["epk"]["x"],
                "shared_secret_z": b64u_encode(
                    fixed.ephemeral_keys[i].exchange(decryption_key(pid).public.key)
                ),
                "kek": b64u_encode(
                    jwe._kek(fixed.ephemeral_keys[i].exchange(decryption_key(pid).public.key))
                ),
                "encrypted_key": r["encrypted_key"],
            }
            for i, (pid, r) in enumerate(zip(RECIPIENTS, inner["recipients"], strict=True))
        ],
        "envelope_sha256": b64u_encode(hashlib.sha256(sealed.raw).digest()),
    }

    def pretty(obj: object) -> bytes:
        return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode()

    return {
        "envelope.json": sealed.raw,
        "keys.json": pretty(keys),
        "inputs.json": pretty(inputs),
        "intermediate.json": pretty(intermediate),
    }


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, data in build().items():
        (HERE / name).write_bytes(data)
        print(f"wrote {HERE / name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
