"""The high-water mark only rises: a smaller checkpoint never replaces a larger one, and what is
recorded is the signed note itself, which ``read_held`` accepts only under the log key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgs_hub.crypto.keys import SigningKey
from pgs_hub.crypto.note import Checkpoint, sign_checkpoint
from pgs_hub.hub.errors import ConfigError
from pgs_hub.hub.services.rollback import high_water_path, log_verifier, raise_high_water, read_held

ORIGIN = "pgs-hub.wcoomd.org/test"


def note(key: SigningKey, size: int) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, bytes([size]) * 32), ORIGIN, key).decode()


def test_the_mark_only_rises_and_verifies(tmp_path: Path) -> None:
    key = SigningKey.generate()
    verifier = log_verifier(ORIGIN, key)
    mark = high_water_path(tmp_path)
    raise_high_water(mark, note(key, 5), 5, verifier)
    raise_high_water(mark, note(key, 3), 3, verifier)  # an older signer, late: ignored
    assert [h.checkpoint.size for h in read_held(mark, verifier)] == [5]
    raise_high_water(mark, note(key, 9), 9, verifier)
    assert [h.checkpoint.size for h in read_held(mark, verifier)] == [9]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".log-high-water.note.lock", mark.name]


def test_a_mark_signed_by_another_key_is_refused(tmp_path: Path) -> None:
    mark = high_water_path(tmp_path)
    mark.write_text(note(SigningKey.generate(), 7))
    with pytest.raises(ConfigError, match="not a checkpoint signed by this hub's log key"):
        read_held(mark, log_verifier(ORIGIN, SigningKey.generate()))
