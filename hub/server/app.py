"""The aiohttp application: routes, middleware, and resources built in ``cleanup_ctx``."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from crypto.keys import SigningKey, load_private_pem, private_pem
from hub.console import routes as console_routes
from hub.errors import ConfigError, HubError
from hub.home import LOG_KEY_FILE, HubConfig
from hub.policy.model import load_policy_file
from hub.server import audit_routes, handlers, uploads
from hub.server.keys import CTX
from hub.server.problems import problem_middleware
from hub.server.stream import STREAM_SETTINGS, StreamSettings, stream, track_streams
from hub.services import auditlog
from hub.services.context import HubContext, PolicyHolder
from hub.services.fanout import PgFanout
from hub.services.notifications import NotificationDispatcher
from hub.services.notifier import Notifier
from hub.storage import audit, blobs, envelopes, nonces
from hub.storage.engine import create_engine, redact
from hub.storage.migrate import check_schema

log = logging.getLogger("pgs.hub")
HUB_KEY_FILE = "signing.key.pem"
# Bodies above the largest envelope are refused while reading, before any parsing.
BODY_MARGIN = 64 * 1024


def load_or_create_hub_key(folder: Path, name: str = HUB_KEY_FILE) -> SigningKey:
    """The hub's own Ed25519 key (acceptances) or, with ``name``, its log key."""
    path = folder / name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        key = SigningKey.generate()
        path.write_bytes(private_pem(key, None))
        path.chmod(0o600)
        return key
    loaded = load_private_pem(path.read_bytes(), None)
    if not isinstance(loaded, SigningKey):
        raise ConfigError(f"{path} is not an Ed25519 key")
    return loaded


HOUSEKEEPING_SECONDS = 30.0


async def _housekeeping(ctx: HubContext) -> None:
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
                await blobs.expire(conn, ctx.now())
            if expired:
                log.info("expired %d undelivered deliveries", expired)
            if ctx.log_signer is not None:
                await auditlog.sign(ctx)
        except (SQLAlchemyError, OSError, HubError):  # the database may be briefly away
            log.warning("housekeeping failed; retrying in %.0f s", HOUSEKEEPING_SECONDS)
        await asyncio.sleep(HOUSEKEEPING_SECONDS)


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


def _on_sighup(handler: Callable[[], object] | None) -> None:
    """Install (or remove) the SIGHUP handler; only possible in the main thread's loop."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        if handler is None:
            loop.remove_signal_handler(signal.SIGHUP)
        else:
            loop.add_signal_handler(signal.SIGHUP, handler)


def _writer_gauges(ctx: HubContext) -> None:
    """Expose the group-commit writers' counters: batches vs items shows how much is shared."""
    for name, writer in (("envelope", ctx.envelope_writer), ("nonce", ctx.nonce_writer)):
        for metric, attribute in (
            ("batches", "batches"),
            ("items", "committed"),
            ("failed_batches", "failed_batches"),
        ):
            ctx.metrics.gauge(
                f"pgs_{name}_writer_{metric}",
                lambda w=writer, a=attribute: float(getattr(w, a)),  # type: ignore[misc]
            )


def routes(app: web.Application) -> None:
    h = handlers
    app.router.add_get("/v1/health", h.health)
    app.router.add_get("/v1/openapi.json", h.openapi)
    app.router.add_get("/metrics", h.metrics)
    app.router.add_post("/v1/envelopes", h.submit_envelope)
    app.router.add_get("/v1/envelopes/{mid}", h.get_envelope)
    app.router.add_get("/v1/envelopes/{mid}/status", h.envelope_status)
    app.router.add_post("/v1/envelopes/{mid}/receipts", h.post_receipt)
    app.router.add_get("/v1/inbox", h.inbox)
    app.router.add_get("/v1/stream", stream)
    track_streams(app)
    app.router.add_get("/v1/directory", h.directory_list)
    app.router.add_get("/v1/directory/{participant}", h.directory_entry)
    app.router.add_get("/v1/groups", h.groups_list)
    app.router.add_get("/v1/groups/{name}", h.group_members)
    app.router.add_post("/v1/admin/participants", h.enrol)
    app.router.add_post("/v1/admin/participants/{participant}/certificate", h.rotate)
    app.router.add_post("/v1/admin/participants/{participant}/status", h.change_status)
    app.router.add_get("/v1/audit/records", h.audit_records)
    audit_routes.add_routes(app)
    console_routes.add_routes(app)
    uploads.add_routes(app)


def create_app(config: HubConfig) -> web.Application:
    """The hub for ``config``; database, keys and policy are opened at start-up, closed at exit."""
    policy = load_policy_file(config.policy_path)
    app = web.Application(
        middlewares=[problem_middleware],
        client_max_size=policy.limits.max_envelope_bytes + BODY_MARGIN,
    )

    app[STREAM_SETTINGS] = StreamSettings(
        recheck_seconds=config.stream_recheck_seconds,
        send_timeout_seconds=config.stream_send_timeout_seconds,
        buffer_bytes=config.stream_buffer_bytes,
    )

    async def resources(app: web.Application) -> AsyncIterator[None]:
        engine = create_engine(config.database_url)
        # On PostgreSQL other hub processes may share the database: wake-ups go through it.
        fanout = PgFanout.for_url(engine.url) if engine.dialect.name == "postgresql" else None
        try:
            await check_schema(engine)
            if fanout is not None:
                await fanout.start()
            ctx = HubContext(
                engine=engine,
                policy=PolicyHolder(config.policy_path, load_policy_file(config.policy_path)),
                authority=config.authority,
                hub_key=load_or_create_hub_key(config.hub_key_dir),
                log_signer=load_or_create_hub_key(config.hub_key_dir, LOG_KEY_FILE),
                log_origin=config.log_origin,
                notifier=fanout if fanout is not None else Notifier(),
                attachments=config.attachments,
            )
            if config.notifications.participants:
                ctx.notifications = NotificationDispatcher(config.notifications, ctx.hub_key)
            ctx.metrics.gauge("pgs_websocket_connections", lambda: ctx.notifier.connections)
            _writer_gauges(ctx)
            app[CTX] = ctx
            housekeeping = asyncio.create_task(_housekeeping(ctx))
            _on_sighup(lambda: asyncio.ensure_future(reload_policy(ctx)))
            log.info("hub ready on database %s", redact(config.database_url))
            yield
            _on_sighup(None)
            # The server has stopped accepting and waited for its handlers: finish the writes
            # they submitted (group commit) before the engine goes.
            await ctx.close_writers()
            if ctx.notifications is not None:
                await ctx.notifications.close()
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping
            ctx.notifier.wake_all()
        finally:
            if fanout is not None:
                await fanout.stop()
            await engine.dispose()

    app.cleanup_ctx.append(resources)
    routes(app)
    return app


def create_app_for(ctx: HubContext) -> web.Application:
    """An app around an existing context (tests and benchmarks that own the engine).

    The context's group-committed writers need no start-up (their task runs only while there is
    work); the owner calls ``ctx.close_writers()`` before disposing of the engine.
    """
    app = web.Application(
        middlewares=[problem_middleware],
        client_max_size=ctx.policy.current.limits.max_envelope_bytes + BODY_MARGIN,
    )
    app[CTX] = ctx
    routes(app)
    return app
