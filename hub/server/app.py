"""The aiohttp application: routes, middleware, and resources built in ``cleanup_ctx``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from pathlib import Path

from aiohttp import web

from pgs_hub.hub.console import routes as console_routes
from pgs_hub.hub.home import LOG_KEY_FILE, HubConfig
from pgs_hub.hub.hub_keys import load_or_create_hub_key
from pgs_hub.hub.policy.model import load_policy_file
from pgs_hub.hub.server import (
    audit_routes,
    handlers,
    health,
    malformed,
    notification_routes,
    security_routes,
    uploads,
)
from pgs_hub.hub.server.bodies import body_middleware
from pgs_hub.hub.server.keys import CTX
from pgs_hub.hub.server.observe import METRICS_ACCESS, MetricsAccess, observe_middleware
from pgs_hub.hub.server.problems import problem_middleware
from pgs_hub.hub.server.proxy import FORWARDING, Forwarding, forwarded_middleware
from pgs_hub.hub.server.runtime import settled_heap
from pgs_hub.hub.server.stream import STREAM_SETTINGS, StreamSettings, stream, track_streams
from pgs_hub.hub.services import background, database, rollback
from pgs_hub.hub.services.context import HubContext, PolicyHolder
from pgs_hub.hub.services.fanout import PgFanout
from pgs_hub.hub.services.notifications import NotificationDispatcher
from pgs_hub.hub.services.notifier import Notifier
from pgs_hub.hub.services.witnessing import Witnessing
from pgs_hub.hub.settings import DEFAULTS

log = logging.getLogger("pgs.hub")
# Bodies above the largest envelope are refused while reading, before any parsing.
BODY_MARGIN = DEFAULTS.body_margin_bytes


def _on_sighup(handler: Callable[[], object] | None) -> None:
    """Install (or remove) the SIGHUP handler; only possible in the main thread's loop."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        if handler is None:
            loop.remove_signal_handler(signal.SIGHUP)
        else:
            loop.add_signal_handler(signal.SIGHUP, handler)


def _writer_gauges(ctx: HubContext, checkpointer: database.WalCheckpointer | None) -> None:
    """Expose the group-commit writers' counters (batches vs items shows how much is shared)
    and, on SQLite, the background WAL checkpoints'."""
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
    if checkpointer is None:
        return
    # How many ran, failed, found the database busy; the WAL's pages at the last one.
    for metric, attribute in (
        ("checkpoints", "checkpoints"),
        ("checkpoint_failures", "failures"),
        ("checkpoints_busy", "busy"),
        ("frames", "wal_frames"),
    ):
        ctx.metrics.gauge(
            f"pgs_sqlite_wal_{metric}",
            lambda c=checkpointer, a=attribute: float(getattr(c, a)),  # type: ignore[misc]
        )


def routes(app: web.Application) -> None:
    h = handlers
    app.router.add_get("/v1/health", health.ready)  # kept for existing probes: readiness
    app.router.add_get("/v1/health/live", health.live)
    app.router.add_get("/v1/health/ready", health.ready)
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
    app.router.add_get("/v1/codelists/unlocode", h.codelist_unlocode)
    app.router.add_post("/v1/admin/participants", h.enrol)
    app.router.add_post("/v1/admin/participants/{participant}/certificate", h.rotate)
    app.router.add_post("/v1/admin/participants/{participant}/status", h.change_status)
    app.router.add_get("/v1/audit/records", h.audit_records)
    audit_routes.add_routes(app)
    security_routes.add_routes(app)
    console_routes.add_routes(app)
    uploads.add_routes(app)
    notification_routes.add_routes(app)


def create_app(
    config: HubConfig,
    *,
    hub_passphrase: bytes | None = None,
    checkpoints: Sequence[Path] = (),
    shares_port: bool = False,
) -> web.Application:
    """The hub for ``config``; database, keys and policy are opened at start-up, closed at exit.
    ``hub_passphrase`` opens the hub's keys when they are encrypted (``$PGS_HUB_PASSPHRASE``).
    The stored audit log must extend the hub's high-water mark and the signed ``checkpoints``
    (files that clients or witnesses hold), or the hub refuses to start (hub.services.rollback).
    ``shares_port``: one of several processes on the port (``pgs serve --workers``), so a
    client's second PATCH in flight might reach another one: the hub offers one at a time."""
    policy = load_policy_file(config.policy_path)
    app = web.Application(
        middlewares=[observe_middleware, problem_middleware, forwarded_middleware, body_middleware],
        client_max_size=policy.limits.max_envelope_bytes + BODY_MARGIN,
    )
    app[FORWARDING] = Forwarding(config.public_url, config.trusted_proxies)
    app[METRICS_ACCESS] = MetricsAccess(config.metrics_token_sha256)

    app[STREAM_SETTINGS] = StreamSettings(
        recheck_seconds=config.stream_recheck_seconds,
        send_timeout_seconds=config.stream_send_timeout_seconds,
        buffer_bytes=config.stream_buffer_bytes,
    )

    async def resources(app: web.Application) -> AsyncIterator[None]:
        engine, checkpointer = database.open_serving_engine(config.database_url)
        # On PostgreSQL other hub processes may share the database: wake-ups go through it.
        fanout = PgFanout.for_url(engine.url) if engine.dialect.name == "postgresql" else None
        try:
            await database.check_schema(engine)
            log_signer = load_or_create_hub_key(config.hub_key_dir, LOG_KEY_FILE, hub_passphrase)
            verifier = rollback.log_verifier(config.log_origin, log_signer)
            held = rollback.held_checkpoints(config.home, verifier, list(checkpoints))
            size = await rollback.check_not_rolled_back(engine, held)
            if held:
                log.info("audit log of %d entries extends %d held checkpoint(s)", size, len(held))
            if fanout is not None:
                await fanout.start()
            ctx = HubContext(
                engine=engine,
                policy=PolicyHolder(config.policy_path, load_policy_file(config.policy_path)),
                authority=config.authority,
                hub_key=load_or_create_hub_key(config.hub_key_dir, passphrase=hub_passphrase),
                log_signer=log_signer,
                high_water=rollback.high_water_path(config.home),
                log_origin=config.log_origin,
                notifier=fanout if fanout is not None else Notifier(),
                witnessing=(
                    Witnessing.from_config(
                        config.witnesses, config.witness_wait_seconds, config.witness_ca
                    )
                    if config.witnesses
                    else None
                ),
                submissions_per_minute=config.submissions_per_minute,
                body_timeout_seconds=config.body_timeout_seconds,
                # Workers share the port: a client's second PATCH might reach another one.
                attachments=(
                    replace(config.attachments, parts_in_flight=1)
                    if shares_port
                    else config.attachments
                ),
                settings=config.settings,
                home=config.home,
            )
            ctx.notifications = NotificationDispatcher(
                engine, config.notifications, ctx.hub_key, ctx.now
            )
            ctx.notifications.start()
            ctx.metrics.gauge("pgs_websocket_connections", lambda: ctx.notifier.connections)
            _writer_gauges(ctx, checkpointer)
            app[CTX] = ctx
            malformed.install(ctx.security_events)
            housekeeping = asyncio.create_task(background.housekeeping(ctx, config.retention_days))
            refresher = (
                asyncio.create_task(background.refresh_metrics(ctx))
                if ctx.metrics.multiprocess_dir
                else None
            )
            _on_sighup(lambda: asyncio.ensure_future(background.reload_policy(ctx)))
            log.info("hub ready on database %s", database.redact(config.database_url))
            yield
            _on_sighup(None)
            # The server has stopped accepting and waited for its handlers: finish the writes
            # they submitted (group commit) before the engine goes.
            await ctx.close_writers()
            malformed.uninstall(ctx.security_events)
            if ctx.notifications is not None:
                await ctx.notifications.close()
            for task in (housekeeping, refresher):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if ctx.witnessing is not None:
                await ctx.witnessing.close()
            ctx.notifier.wake_all()
        finally:
            if fanout is not None:
                await fanout.stop()
            # The engine's connections, then the checkpointer's last checkpoint.
            await database.close_serving_engine(engine, checkpointer)

    # The heap is settled (hub.server.runtime) after the resources: they are what it freezes.
    app.cleanup_ctx.extend((resources, settled_heap))
    routes(app)
    return app


def create_app_for(ctx: HubContext) -> web.Application:
    """An app around an existing context (tests and benchmarks that own the engine).

    The context's group-committed writers need no start-up (their task runs only while there is
    work); the owner calls ``ctx.close_writers()`` before disposing of the engine.
    """
    app = web.Application(
        middlewares=[observe_middleware, problem_middleware, body_middleware],
        client_max_size=ctx.policy.current.limits.max_envelope_bytes + BODY_MARGIN,
    )
    app[CTX] = ctx
    routes(app)
    return app
