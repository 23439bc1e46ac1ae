"""What a hub process does besides answering requests: housekeeping every
``settings.housekeeping_seconds``, keeping its metrics current for the other workers, and re-reading
the policy on SIGHUP. The app (hub.server.app) starts and stops these; the work is here, next to
the storage it touches."""

from __future__ import annotations

import asyncio
import hashlib
import logging

from pgs_hub.hub.errors import ConfigError, HubError
from pgs_hub.hub.services import auditlog, retention
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.storage import audit, blobs, counters, envelopes, nonces
from pgs_hub.hub.storage.faults import DATABASE_ERRORS

log = logging.getLogger("pgs.hub")

METRICS_REFRESH_SECONDS = 5.0


async def housekeeping(ctx: HubContext, retention_days: float | None = None) -> None:
    """Expire undelivered envelopes past their ``exp``, forget nonces past the replay window, and
    sign a checkpoint of the audit log when it has grown.

    Every hub process on a database runs it (``pgs serve --workers N``): expiring and purging are
    idempotent statements, and :func:`auditlog.sign` holds the stream lock while it reads the tree
    and the last checkpoint, so concurrent signers never produce two checkpoints of one size."""
    while True:
        try:
            async with ctx.engine.begin() as conn:
                expired = await envelopes.expire_deliveries(conn, ctx.now())
                await nonces.purge_expired(conn, ctx.now())
                await counters.purge_before(conn, ctx.now() - 2 * counters.WINDOW_SECONDS)
                await blobs.expire(conn, ctx.now())
            await ctx.security_events.purge(ctx.now())
            if expired:
                log.info("expired %d undelivered deliveries", expired)
            if retention_days is not None:
                purged = await retention.purge_delivered_bodies(
                    ctx.engine, retention_days, ctx.now()
                )
                if purged:
                    log.info("retention: purged the bodies of %d delivered envelopes", purged)
            # The files of the parts expired or purged above, and any a crash left behind.
            await blobs.sweep_files(ctx.engine)
            if ctx.log_signer is not None:
                signed = await auditlog.sign(ctx)
                if ctx.witnessing is not None:  # ask again the witnesses that have not cosigned
                    ctx.witnessing.kick(ctx, signed.size)
        except (*DATABASE_ERRORS, HubError):  # the database may be briefly away
            log.warning(
                "housekeeping failed; retrying in %.0f s", ctx.settings.housekeeping_seconds
            )
        await asyncio.sleep(ctx.settings.housekeeping_seconds)


async def refresh_metrics(ctx: HubContext) -> None:
    """Multiprocess metrics: keep this worker's gauge readings current for the other workers'
    scrapes (a scrape answered here refreshes them first anyway)."""
    while True:
        ctx.metrics.refresh()
        await asyncio.sleep(METRICS_REFRESH_SECONDS)


async def reload_policy(ctx: HubContext) -> None:
    """Re-read the policy file (SIGHUP). A bad file keeps the old policy and is logged."""
    try:
        policy_text = ctx.policy.path.read_bytes() if ctx.policy.path else b""
        ctx.policy.reload()
    except (ConfigError, OSError) as exc:
        log.error("policy reload refused, keeping the current policy: %s", exc)  # noqa: TRY400
        return
    # Open streams ask the policy again at once (suspended countries), in every hub process.
    ctx.notifier.wake_everyone()
    async with ctx.engine.begin() as conn:
        await audit.append_record(
            conn,
            at=ctx.now(),
            event="policy.reloaded",
            actor=None,
            subject=str(ctx.policy.path.name) if ctx.policy.path else None,
            country=None,
            details={"sha256": hashlib.sha256(policy_text).hexdigest()},
        )
    log.info("policy reloaded from %s", ctx.policy.path)
