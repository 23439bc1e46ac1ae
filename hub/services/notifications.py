"""Notifications that tell without telling: "a new Global Shield message awaits", by e-mail or by
a signed webhook, never with a subject, content, message id or secret.

Each participant sets its own (``GET``/``PUT /v1/me/notifications``, ``pgs notifications set``,
see :mod:`hub.notification_settings`): where to, in which language, whether to add the senders'
countries and the kinds, a digest period and quiet hours in its own timezone. The operator's
``[notifications]`` in config.toml holds the mail server and retry pacing, and starting settings
for participants that saved none.

Durable: an arrival writes a pending notification to the database (or folds into one that waits
for its digest period or for quiet hours to end); a worker in every hub process claims the due
ones, tries each, records every attempt as metadata (participant, channel, time, attempt,
outcome, HTTP status or SMTP code: never an address, a payload or an error text) and retries
after ``retry_base_seconds * 2**(attempt-1)``, up to ``max_attempts``. A restarted hub resumes
them. The arrivals are written in the background, so a slow database write for a
notification never delays an acceptance: those of :data:`GATHER_SECONDS` are written together
(one read of their recipients' settings, one transaction), and a hub killed in that moment may
miss their notifications, never the messages.

Webhooks follow Standard Webhooks with an asymmetric signature: ``webhook-id`` (the same on each
retry), ``webhook-timestamp`` and ``webhook-signature: v1a,<base64 Ed25519 signature>`` over
``{id}.{timestamp}.{body}``, by the hub's own key (``hub-key/signing.key.pem``); its public key is
given as ``whpk_...`` in ``GET /v1/me/notifications``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import json
import logging
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, Final

import aiohttp
import aiosmtplib
from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from yarl import URL

from pgs_hub.crypto.keys import SigningKey
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import InvalidRequest
from pgs_hub.hub.i18n import Lang, match, t
from pgs_hub.hub.notification_config import NotificationConfig
from pgs_hub.hub.notification_settings import (
    NotificationSettings,
    due_at,
    parse_settings,
    quiet_until,
)
from pgs_hub.hub.policy.authorize import Action
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.services.access import authorize
from pgs_hub.hub.services.context import HubContext
from pgs_hub.hub.storage import notifications as store
from pgs_hub.hub.storage.engine import read_only
from pgs_hub.protocols import api

log = logging.getLogger("pgs.hub")

LEASE_SECONDS: Final = 120  # a claimed notification is tried again after this if its process died
BATCH: Final = 20
BATCH_ARRIVALS: Final = 200
# How long an arrival waits for others before their notifications are written together. Written
# one by one, each arrival cost a read of its recipients' settings through the pool (a connection
# checked out, a statement, two hand-offs to the driver's thread): at 250 envelopes/s a tenth of
# the event loop's time (issue 17, bench/README.md). Notifications are sent by a worker that polls
# every few seconds, or after a digest period: 50 ms more is not seen.
GATHER_SECONDS: Final = 0.05
POLL_SECONDS: Final = 5.0
TIMEOUT_SECONDS: Final = 10
MAX_SETTINGS_BYTES: Final = 8192
MAX_PAGE: Final = 500
STOP_SECONDS: Final = 5.0


def webhook_headers(key: SigningKey, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers with an Ed25519 (``v1a``) signature."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    signature = base64.b64encode(key.sign(signed)).decode("ascii")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1a,{signature}",
        "Content-Type": "application/json",
    }


def webhook_public_key(key: SigningKey) -> str:
    """The hub's webhook verification key in the Standard Webhooks form (``whpk_`` + base64)."""
    return "whpk_" + base64.b64encode(key.public.raw()).decode("ascii")


def webhook_body(item: store.Pending) -> bytes:
    """The webhook payload: the same bytes on every retry of one notification."""
    data: dict[str, Any] = {"messages": item.messages}
    if item.details is not None:
        data["senders"] = [{"country": c, "kind": k} for c, k in item.details]
    payload = {
        "type": "message.waiting",
        "timestamp": datetime.fromtimestamp(item.created_at, UTC)
        .isoformat()
        .replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def email_text(item: store.Pending, lang: Lang) -> str:
    """The e-mail's body: how many messages await, and the opted-in details only."""
    lines = [
        t("notify.one", lang) if item.messages == 1 else t("notify.many", lang, n=item.messages)
    ]
    for country, kind in item.details or ():
        lines.append(t("notify.detail", lang, country=country, kind=kind))
    lines += ["", t("notify.open", lang)]
    return "\n".join(lines) + "\n"


class PrivateAddressError(OSError):
    """A webhook URL that leads into a private network (loopback, RFC 1918, link-local...)."""


def _public(address: str) -> bool:
    return ipaddress.ip_address(address.split("%", maxsplit=1)[0]).is_global


class PublicResolver(ThreadedResolver):
    """Resolves webhook hosts to public addresses only: a participant's URL must not make the hub
    reach into its own network (the database, a metadata service...); checked on every
    connection, so a name that later resolves elsewhere (DNS rebinding) is caught too."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = [r for r in await super().resolve(host, port, family) if _public(r["host"])]
        if not found:
            raise PrivateAddressError("the webhook's host has no public address")
        return found


@dataclass(frozen=True)
class Arrival:
    """An accepted envelope as notifications see it: who to tell, and the details one may opt
    in to (never more)."""

    recipients: tuple[str, ...]
    sender_country: str
    kind: str
    now: int


@dataclass(frozen=True)
class Outcome:
    ok: bool
    http_status: int | None = None
    smtp_code: int | None = None
    error: str | None = None


class NotificationDispatcher:
    """Writes arrivals as pending notifications and sends the due ones (one per hub process)."""

    def __init__(
        self,
        engine: AsyncEngine,
        config: NotificationConfig,
        key: SigningKey,
        now: Callable[[], int],
        *,
        gather_seconds: float = GATHER_SECONDS,
    ) -> None:
        self.engine = engine
        self.gather_seconds = gather_seconds
        # Reads take no write lock (SQLite: a deferred BEGIN, hub.storage.engine.read_only). On
        # the engine itself each read was a BEGIN IMMEDIATE: after every burst of acceptances
        # three of them (settings, due, next due) queued for the write lock with the group
        # commit of the envelopes, which then waited in SQLite's busy handler (sleeps of up to
        # 100 ms): most of the submit latency's tail in bench/README.md's measurements.
        self.reader = read_only(engine)
        self.config = config
        self.key = key
        self.now = now
        self.sent = 0
        self.failed = 0
        self._wake = asyncio.Event()
        self._arrivals: list[Arrival] = []
        self._drainer: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False

    # --- arrivals ------------------------------------------------------------------------

    def message_waiting(
        self, recipients: Iterable[str], *, sender_country: str, kind: str, now: int
    ) -> None:
        """Write the notifications of one accepted envelope (in the background: never blocks).
        Arrivals are queued and written by one task at a time, in batches: those of
        :attr:`gather_seconds` together, so that submissions, in a burst or at a steady rate,
        cost the database one read and one transaction here per batch, not per submission."""
        self._arrivals.append(Arrival(tuple(recipients), sender_country, kind, now))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.ensure_future(self._drain())
            self._tasks.add(self._drainer)
            self._drainer.add_done_callback(self._tasks.discard)

    async def written(self) -> None:
        """Wait until the arrivals handed over so far are in the database."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def settings_for(self, pids: list[str]) -> dict[str, NotificationSettings]:
        async with self.reader.connect() as conn:
            saved = await store.settings_of(conn, pids)
        return {
            pid: saved.get(pid) or self.config.participants[pid]
            for pid in pids
            if pid in saved or pid in self.config.participants
        }

    async def _drain(self) -> None:
        written = False
        while self._arrivals:
            if len(self._arrivals) < BATCH_ARRIVALS:
                await asyncio.sleep(self.gather_seconds)
            batch, self._arrivals = self._arrivals[:BATCH_ARRIVALS], self._arrivals[BATCH_ARRIVALS:]
            try:
                written = await self._enqueue(batch) or written
            except (SQLAlchemyError, OSError) as exc:
                log.warning(
                    "notifications of %d arrivals not written (%s)", len(batch), type(exc).__name__
                )
        if written:  # arrivals nobody is notified of leave the worker asleep
            self._wake.set()

    async def _enqueue(self, batch: list[Arrival]) -> bool:
        """Write ``batch``'s notifications; whether there were any."""
        wanted = await self.settings_for(sorted({p for a in batch for p in a.recipients}))
        if not wanted:
            return False
        async with self.engine.begin() as conn:
            for arrival in batch:
                for pid in arrival.recipients:
                    settings = wanted.get(pid)
                    if settings is None:
                        continue
                    detail = (arrival.sender_country, arrival.kind) if settings.details else None
                    for channel in settings.channels:
                        await store.enqueue(
                            conn, pid, channel, detail=detail, now=arrival.now,
                            due_at=due_at(settings, arrival.now),
                        )  # fmt: skip
        return True

    # --- the worker ----------------------------------------------------------------------

    def start(self) -> None:
        self._worker = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self._stopping:
            wait = POLL_SECONDS
            try:
                await self.send_due()
                async with self.reader.connect() as conn:
                    upcoming = await store.next_due(conn)
                if upcoming is not None:
                    wait = min(POLL_SECONDS, max(0.2, upcoming - self.now() + 0.05))
            except (SQLAlchemyError, OSError) as exc:
                log.warning("notifications: database unavailable (%s)", type(exc).__name__)
            except Exception as exc:  # noqa: BLE001 - the worker must outlive any one fault
                log.error("notifications: round failed (%s)", type(exc).__name__)  # noqa: TRY400
            if self._stopping:
                break
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def send_due(self) -> int:
        """Claim and try every due notification once; returns how many were tried."""
        now = self.now()
        async with self.reader.connect() as conn:
            items = await store.due(conn, now, BATCH)
        claimed = []
        for item in items:
            async with self.engine.begin() as conn:
                taken = await store.claim(conn, item, now + LEASE_SECONDS)
            if taken is not None:
                claimed.append(taken)
        results = await asyncio.gather(
            *(self._attempt(item) for item in claimed), return_exceptions=True
        )
        for result in results:
            if isinstance(result, Exception):  # its lease ends, then it is tried again
                log.error("notifications: an attempt failed (%s)", type(result).__name__)
        return len(claimed)

    async def _attempt(self, item: store.Pending) -> None:
        attempt = item.attempts + 1
        settings = (await self.settings_for([item.participant_id])).get(item.participant_id)
        target = None
        if settings is not None:
            target = settings.email if item.channel == "email" else settings.webhook
        if settings is None or not target:  # the participant turned this channel off meanwhile
            await self._settle(item, attempt, Outcome(False), "cancelled", state="cancelled")
            return
        if item.channel == "email":
            outcome = await self._email(target, item, settings)
        else:
            outcome = await self._post(target, item)
        if outcome.ok:
            self.sent += 1
            await self._settle(item, attempt, outcome, "sent", state="sent")
        elif attempt >= self.config.max_attempts:
            self.failed += 1
            await self._settle(item, attempt, outcome, "given_up", state="failed")
        else:
            retry_at = self.now() + self.config.retry_base_seconds * 2 ** (attempt - 1)
            retry_at = quiet_until(settings, retry_at) or retry_at  # never in quiet hours
            await self._settle(item, attempt, outcome, "retry", state="pending", retry_at=retry_at)

    async def _settle(
        self,
        item: store.Pending,
        attempt: int,
        outcome: Outcome,
        result: str,
        *,
        state: str,
        retry_at: int | None = None,
    ) -> None:
        record = store.Attempt(
            notification_id=item.id, participant_id=item.participant_id, channel=item.channel,
            at=self.now(), attempt=attempt, outcome=result, http_status=outcome.http_status,
            smtp_code=outcome.smtp_code, error=outcome.error,
        )  # fmt: skip
        async with self.engine.begin() as conn:
            await store.settle(conn, record, state=state, retry_at=retry_at)
        # Metadata only: never the address, the URL, the payload or the error's text.
        log.info(
            "notification for %s by %s: attempt %d %s%s",
            item.participant_id, item.channel, attempt, result,
            f" ({outcome.error or outcome.http_status or outcome.smtp_code})"
            if not outcome.ok and result != "cancelled" else "",
        )  # fmt: skip

    async def _email(
        self, address: str, item: store.Pending, settings: NotificationSettings
    ) -> Outcome:
        lang: Lang = match(settings.language) or "en"
        if self.config.smtp_host is None:  # the operator has not set a mail server (yet)
            return Outcome(False, error="NoMailServer")
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = address
        message["Subject"] = t("notify.subject", lang)
        message["Content-Language"] = lang
        message.set_content(email_text(item, lang))
        try:
            _, response = await aiosmtplib.send(
                message,
                hostname=self.config.smtp_host,
                port=self.config.smtp_port,
                username=self.config.smtp_user,
                password=self.config.smtp_password,
                start_tls=self.config.smtp_starttls,
                timeout=TIMEOUT_SECONDS,
            )
        except aiosmtplib.SMTPException as exc:
            code = getattr(exc, "code", None)
            if code is None and isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
                code = exc.recipients[0].code if exc.recipients else None
            return Outcome(False, smtp_code=code, error=type(exc).__name__)
        except (OSError, TimeoutError) as exc:
            return Outcome(False, error=type(exc).__name__)
        code = response[:3]
        return Outcome(True, smtp_code=int(code) if code.isdigit() else 250)

    async def _post(self, url: str, item: store.Pending) -> Outcome:
        body = webhook_body(item)
        headers = webhook_headers(self.key, item.event_id, self.now(), body)
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        private_ok = self.config.webhook_private_networks
        try:
            host = URL(url).host or ""
            with contextlib.suppress(ValueError):  # a name, not an address: the resolver checks
                if not private_ok and not _public(host.strip("[]")):
                    raise PrivateAddressError("the webhook's address is not public")
            connector = aiohttp.TCPConnector(resolver=None if private_ok else PublicResolver())
            async with (
                aiohttp.ClientSession(timeout=timeout, connector=connector) as session,
                session.post(url, data=body, headers=headers, allow_redirects=False) as resp,
            ):
                # The answer's body is not read: a receiver has nothing to tell but its status.
                return Outcome(200 <= resp.status < 300, http_status=resp.status)
        except aiohttp.ClientConnectorError as exc:  # the resolver's refusal arrives wrapped
            cause = exc.os_error if isinstance(exc.os_error, PrivateAddressError) else exc
            return Outcome(False, error=type(cause).__name__)
        except (OSError, TimeoutError, aiohttp.ClientError, ValueError) as exc:
            return Outcome(False, error=type(exc).__name__)

    async def close(self) -> None:
        """Finish writing the arrivals, let a round in progress end, then stop (shutdown).
        What is still pending stays in the database for the next start."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)
        self._stopping = True
        self._wake.set()
        if self._worker is not None:
            # A round in progress ends (its attempts recorded) rather than leave notifications
            # claimed until their lease runs out; one that takes too long is cut off.
            await asyncio.wait({self._worker}, timeout=STOP_SECONDS)
            self._worker.cancel()
            with contextlib.suppress(BaseException):
                await self._worker


# --- the participant's own settings, and the auditors' record -----------------------------------


def _defaults(ctx: HubContext) -> NotificationConfig:
    return ctx.notifications.config if ctx.notifications is not None else NotificationConfig()


async def _current(ctx: HubContext, pid: str) -> tuple[NotificationSettings, bool]:
    async with ctx.engine.connect() as conn:
        saved = (await store.settings_of(conn, [pid])).get(pid)
    if saved is not None:
        return saved, True
    return _defaults(ctx).participants.get(pid, NotificationSettings()), False


def _document(
    ctx: HubContext, settings: NotificationSettings, saved: bool
) -> api.NotificationSettings:
    return api.NotificationSettings.model_validate(
        settings.to_json() | {"saved": saved, "webhook_public_key": webhook_public_key(ctx.hub_key)}
    )


async def my_settings(ctx: HubContext, actor: Member) -> api.NotificationSettings:
    """The caller's own notification settings (saved, else the operator's, else none)."""
    await authorize(ctx, actor, Action.NOTIFY_SETTINGS, subject=actor.id)
    settings, saved = await _current(ctx, actor.id)
    return _document(ctx, settings, saved)


async def set_my_settings(ctx: HubContext, actor: Member, body: bytes) -> api.NotificationSettings:
    """Change the caller's own settings (fields left out keep their value)."""
    await authorize(ctx, actor, Action.NOTIFY_SETTINGS, subject=actor.id)
    if len(body) > MAX_SETTINGS_BYTES:
        raise InvalidRequest("the settings document is too large", code=Code.NOTIFICATIONS_INVALID)
    try:
        doc = json.loads(body)
    except ValueError:
        raise InvalidRequest("the body is not JSON", code=Code.NOTIFICATIONS_INVALID) from None
    current, _ = await _current(ctx, actor.id)
    settings = parse_settings(doc, current)
    async with ctx.engine.begin() as conn:
        await store.save_settings(conn, actor.id, settings, ctx.now())
    return _document(ctx, settings, True)


async def deliveries(
    ctx: HubContext, actor: Member, *, after: int, limit: int, participant: str | None = None
) -> api.NotificationAttempts:
    """Every notification delivery attempt (metadata only) an auditor may see: its scope's
    participants, or everyone's for a global auditor."""
    grant = await authorize(ctx, actor, Action.NOTIFY_AUDIT)
    async with ctx.engine.connect() as conn:
        items = await store.attempts_page(
            conn, after=after, limit=max(1, min(limit, MAX_PAGE)), country=grant.country,
            participant=participant,
        )  # fmt: skip
    cursor = int(items[-1]["seq"]) if items else after  # type: ignore[call-overload]
    return api.NotificationAttempts.model_validate({"items": items, "next": cursor})
