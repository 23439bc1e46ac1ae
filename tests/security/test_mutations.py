"""≥ 10,000 seeded random single-byte mutations of one real PGS envelope, each refused by the
receiving side (parse, read the routing header, verify the sender's signature, open). Crypto only,
no HTTP. tests/crypto/test_properties.py already covers every position with one bit flipped and
300 hypothesis-chosen byte changes on a test profile; this is the bulk run on the PGS profile."""

from __future__ import annotations

import random
import time

from pgs_hub.crypto.errors import CryptoError
from pgs_hub.crypto.keys import KeySet
from pgs_hub.protocols.envelope import open_message, read_header, seal_message, verify_message
from pgs_hub.protocols.errors import ProtocolError
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.messages import example
from tests.security import figures

MUTATIONS = figures.repeat(10_000, 100_000)


def test_random_single_byte_mutations_of_a_real_envelope_are_refused() -> None:
    sender, reader = KeySet.generate(), KeySet.generate()
    sealed = seal_message(
        sender_id="NG-NCP-LAGOS", signer=sender.signing,
        recipients=[("GH-NCP-ACCRA", reader.decryption.public)], kind=MessageKind.ALERT,
        content=example(MessageKind.ALERT), tlp=Tlp.AMBER, now=int(time.time()),
    )  # fmt: skip
    raw = sealed.raw
    # The untouched envelope opens: the refusals below are due to the mutation.
    open_message(verify_message(raw, sender.signing.public), "GH-NCP-ACCRA", reader.decryption)
    rng = random.Random(20240607)
    accepted = []
    for _ in range(MUTATIONS):
        index = rng.randrange(len(raw))
        byte = rng.choice([b for b in range(256) if b != raw[index]])
        changed = raw[:index] + bytes([byte]) + raw[index + 1 :]
        try:
            read_header(changed)
            opened = verify_message(changed, sender.signing.public)
            open_message(opened, "GH-NCP-ACCRA", reader.decryption)
        except (CryptoError, ProtocolError):
            continue
        accepted.append((index, byte))
    figures.record("random single-byte envelope mutations", tried=MUTATIONS, accepted=len(accepted))
    assert accepted == []
