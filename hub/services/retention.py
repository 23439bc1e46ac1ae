"""Retention: the bodies of delivered envelopes are removed after a configurable period.

``[retention] delivered_body_days`` in config.toml (unset: bodies are kept). An envelope's body
(the encrypted envelope bytes, attachments included, since they travel inside it) is emptied once
every recipient has it — each delivery ``delivered`` or ``read``, or ``expired`` past the
envelope's ``exp`` — and the last of them is older than the period. Kept: the envelope's
metadata, size and SHA-256, its deliveries and receipts, and the audit log, so an evidence
bundle for the metadata still verifies (docs/operations.md). Fetching a purged envelope is
``410 envelope.purged``.

The attachment blobs an envelope references go with its body, in the same transaction: a file
key inside a purged body can no longer be read by anyone, so keeping its ciphertext would only
hold bytes nobody can open (and count them against the sender's quota).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.hub.storage import blobs, envelopes

DAY = 86400


async def purge_delivered_bodies(engine: AsyncEngine, days: float, now: int) -> int:
    """Purge what is due at ``now`` (bodies and their attachment blobs); returns how many bodies
    were removed. Idempotent: every hub process may run it."""
    async with engine.begin() as conn:
        mids = await envelopes.purge_delivered_bodies(conn, now - round(days * DAY), now)
        removed = await blobs.remove_for_envelopes(conn, mids)
    if removed:  # on SQLite their parts are files: gone with their rows, not at the next sweep
        await blobs.sweep_files(engine)
    return len(mids)
