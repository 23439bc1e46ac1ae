"""The low-order check of a JWE recipient's ephemeral key (crypto/jwe.py) compares the key's
u-coordinate with a list instead of running an X25519 exchange per recipient. Both statements the
list rests on are checked here against cryptography's own X25519, independently of the list's
derivation: every listed value (with the ignored top bit clear or set) makes an exchange with
any clamped scalar fail with the all-zero output, and a key that is not listed does not."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from hypothesis import given, settings
from hypothesis import strategies as st

from pgs_hub.crypto.errors import LowOrderKeyError
from pgs_hub.crypto.keys import LOW_ORDER_U, require_full_order

SCALARS = [bytes(range(1, 33)), bytes(32), b"\xff" * 32, bytes(range(100, 132))]


def _exchange_fails(u: bytes) -> bool:
    failures = set()
    for scalar in SCALARS:
        private = x25519.X25519PrivateKey.from_private_bytes(scalar)
        try:
            private.exchange(x25519.X25519PublicKey.from_public_bytes(u))
            failures.add(False)
        except ValueError:
            failures.add(True)
    assert len(failures) == 1, "a point of small order fails with every clamped scalar"
    return failures.pop()


@pytest.mark.parametrize("index", range(7), ids=lambda i: f"listed-{i}")
@pytest.mark.parametrize("top", [0, 0x80], ids=["top-bit-clear", "top-bit-set"])
def test_every_listed_value_is_refused_by_the_exchange_and_by_the_check(
    index: int, top: int
) -> None:
    u = sorted(LOW_ORDER_U)[index]
    spelled = u[:31] + bytes((u[31] | top,))
    assert _exchange_fails(spelled)
    with pytest.raises(LowOrderKeyError, match="low-order X25519 point"):
        require_full_order("X25519", spelled, what="epk")


def test_the_list_has_the_seven_known_values() -> None:
    assert len(LOW_ORDER_U) == 7
    assert all(len(u) == 32 and u[31] < 0x80 for u in LOW_ORDER_U)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_any_other_key_passes_both(u: bytes) -> None:
    listed = u[:31] + bytes((u[31] & 0x7F,)) in LOW_ORDER_U
    assert _exchange_fails(u) == listed
    if not listed:
        require_full_order("X25519", u, what="epk")


def test_generated_keys_pass() -> None:
    for _ in range(50):
        raw = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
        require_full_order("X25519", raw, what="epk")
