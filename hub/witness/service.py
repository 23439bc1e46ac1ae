"""The witness's one rule set: ``add-checkpoint`` (c2sp.org/tlog-witness), answered with a
tlog-cosignature/v1 Ed25519 cosignature or refused with the spec's status:

* 400: the body is not ``old N``, proof lines, a blank line and a checkpoint; the old size is
  larger than the checkpoint's; or a proof was sent from size 0;
* 404: the checkpoint's origin is not a log this witness cosigns;
* 403: no signature on it verifies under that log's keys;
* 409: the old size is not the size this witness last cosigned for the log (the answer's body is
  that size, ``text/x.tlog.size``), or it is but the root hash differs (a fork of the same size);
* 422: the consistency proof from the recorded tree to the new one does not verify (a fork, or a
  rewritten log).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from pgs_hub.crypto.errors import (
    CheckpointError,
    CryptoError,
    NoteMalformedError,
    NoteSignatureError,
    NoteUnverifiedError,
    ProofError,
)
from pgs_hub.crypto.merkle import verify_consistency
from pgs_hub.crypto.note import NoteVerifier, open_note, parse_checkpoint
from pgs_hub.crypto.witness import Cosigner, note_text, parse_add_checkpoint
from pgs_hub.hub.witness.store import Cosigned, WitnessStore

log = logging.getLogger("pgs.witness")


class WitnessRejection(Exception):
    """A refused request: ``status`` is the spec's HTTP status, ``size`` the recorded size (409)."""

    def __init__(self, status: int, code: str, message: str, *, size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.size = size


@dataclass
class Witness:
    cosigner: Cosigner
    logs: tuple[NoteVerifier, ...]
    store: WitnessStore
    clock: Callable[[], float] = time.time

    def _keys_for(self, origin: str) -> list[NoteVerifier]:
        return [key for key in self.logs if key.name == origin]

    async def add_checkpoint(self, body: bytes) -> str:
        """Check and record the submitted checkpoint; return the cosignature line(s)."""
        try:
            request = parse_add_checkpoint(body)
            checkpoint = parse_checkpoint(note_text(request.note).decode("utf-8"))
        except (CryptoError, UnicodeDecodeError) as exc:
            raise WitnessRejection(400, "witness.bad_request", str(exc)) from None
        keys = self._keys_for(checkpoint.origin)
        if not keys:
            raise WitnessRejection(
                404, "witness.unknown_log", "this witness does not cosign that log"
            )
        try:
            note = open_note(request.note, keys)
        except NoteMalformedError as exc:
            raise WitnessRejection(400, "witness.bad_request", str(exc)) from None
        except (NoteUnverifiedError, NoteSignatureError) as exc:
            raise WitnessRejection(403, "witness.bad_signature", str(exc)) from None
        try:
            checkpoint = parse_checkpoint(note.text)
        except CheckpointError as exc:  # pragma: no cover - the same text was parsed above
            raise WitnessRejection(400, "witness.bad_request", str(exc)) from None
        old, new = request.old_size, checkpoint.size
        if old > new:
            raise WitnessRejection(
                400, "witness.bad_request", "the old size is larger than the checkpoint's"
            )
        if old == 0 and request.proof:
            raise WitnessRejection(400, "witness.bad_request", "a proof from size 0 must be empty")

        async def check(recorded: Cosigned | None) -> None:
            size = 0 if recorded is None else recorded.size
            if old != size:
                raise WitnessRejection(
                    409, "witness.old_size", f"this witness last cosigned size {size}", size=size
                )
            if recorded is None or old == 0:
                return
            if old == new:
                if not hmac.compare_digest(recorded.root, checkpoint.root):
                    log.warning(
                        "a checkpoint of %s of size %d with another root: a fork",
                        checkpoint.origin,
                        new,
                    )
                    raise WitnessRejection(
                        409,
                        "witness.fork",
                        "another tree of the size this witness cosigned",
                        size=size,
                    )
                return
            try:
                verify_consistency(old, new, list(request.proof), recorded.root, checkpoint.root)
            except ProofError:
                log.warning(
                    "%s: checkpoint %d does not extend %d (consistency proof fails)",
                    checkpoint.origin,
                    new,
                    old,
                )
                raise WitnessRejection(
                    422,
                    "witness.inconsistent",
                    "the consistency proof from the cosigned tree does not verify",
                ) from None

        now = int(self.clock())
        try:
            await self.store.advance(
                checkpoint.origin, check, size=new, root=checkpoint.root, note=request.note,
                now=now,
            )  # fmt: skip
        except WitnessRejection as exc:
            if exc.code in ("witness.fork", "witness.inconsistent"):
                # A checkpoint the log signed that contradicts one this witness cosigned: keep
                # it, it is the log's own signed evidence of a split view (kept: the last 1000).
                await self.store.keep_evidence(
                    checkpoint.origin, exc.code, request.note, old_size=old, now=now
                )
            raise
        return self.cosigner.cosign(note.text.encode("utf-8"), now)
