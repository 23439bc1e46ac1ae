"""Notifications that tell without telling: "a new Global Shield message awaits", by e-mail or by
a signed webhook, never with a subject, content, message id or secret.

Per-participant settings live in config.toml (the operator sets them for each participant)::

    [notifications]
    smtp_host = "smtp.example.org"
    smtp_port = 25
    from = "pgs-hub@example.org"

    [notifications.participants."GH-NCP-ACCRA"]
    email = "duty-officer@customs.example"
    webhook = "https://ncs.customs.example/pgs-hook"
    details = false   # true: also the sender's country and the message kind

Webhooks follow Standard Webhooks with an asymmetric signature: ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature: v1a,<base64 Ed25519 signature>`` over
``{id}.{timestamp}.{body}``, by the hub's own key (``hub-key/signing.key.pem``; its public JWK is
the ``kid`` the hub signs acceptances with). Each delivery is tried three times with growing
pauses, in the background: a slow mail server never delays an acceptance. Each outcome is logged
as metadata only (participant, channel, outcome), never an address or a payload.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import secrets
from collections.abc import Iterable
from email.message import EmailMessage
from typing import Any

import aiohttp
import aiosmtplib

from crypto.keys import SigningKey
from hub.notification_config import NotificationConfig

log = logging.getLogger("pgs.hub")

TEXT_EN = "A new Global Shield message awaits you. Open it with your own tools."
TEXT_FR = "Un nouveau message Global Shield vous attend. Ouvrez-le avec vos propres outils."
SUBJECT = "Global Shield: a message awaits / un message vous attend"
ATTEMPTS = 3
BACKOFF_SECONDS = (0.5, 2.0)


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


class NotificationDispatcher:
    """Sends the notifications of accepted envelopes in the background."""

    def __init__(self, config: NotificationConfig, key: SigningKey) -> None:
        self.config = config
        self.key = key
        self.sent = 0
        self.failed = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def message_waiting(
        self, recipients: Iterable[str], *, sender_country: str, kind: str, now: int
    ) -> None:
        """Schedule the notifications of one accepted envelope (never blocks)."""
        for pid in recipients:
            settings = self.config.participants.get(pid)
            if settings is None:
                continue
            details = {"sender_country": sender_country, "kind": kind} if settings.details else {}
            if settings.email:
                self._spawn(self._deliver(pid, "email", self._email(settings.email, details)))
            if settings.webhook:
                payload = {"type": "message.waiting", "timestamp": now, "data": details}
                self._spawn(self._deliver(pid, "webhook", self._post(settings.webhook, payload)))

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, pid: str, channel: str, attempt: Any) -> None:
        for n in range(ATTEMPTS):
            try:
                await attempt()
            except (OSError, TimeoutError, aiosmtplib.SMTPException, aiohttp.ClientError) as exc:
                log.warning(
                    "notification for %s by %s: attempt %d failed (%s)",
                    pid, channel, n + 1, type(exc).__name__,
                )  # fmt: skip
                if n < len(BACKOFF_SECONDS):
                    await asyncio.sleep(BACKOFF_SECONDS[n])
            else:
                self.sent += 1
                log.info("notification for %s by %s: sent", pid, channel)
                return
        self.failed += 1
        log.warning("notification for %s by %s: given up", pid, channel)

    def _email(self, address: str, details: dict[str, str]) -> Any:
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = address
        message["Subject"] = SUBJECT
        extra = ""
        if details:
            extra = (
                f"\n\nSender country / pays expéditeur: {details['sender_country']}"
                f"\nKind / type: {details['kind']}"
            )
        message.set_content(f"{TEXT_EN}\n\n{TEXT_FR}{extra}\n")

        async def send() -> None:
            await aiosmtplib.send(
                message, hostname=self.config.smtp_host, port=self.config.smtp_port, timeout=10,
                start_tls=False,
            )  # fmt: skip

        return send

    def _post(self, url: str, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload, separators=(",", ":")).encode()
        msg_id = "msg_" + secrets.token_urlsafe(16)

        async def post() -> None:
            headers = webhook_headers(self.key, msg_id, int(payload["timestamp"]), body)
            timeout = aiohttp.ClientTimeout(total=10)
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(url, data=body, headers=headers) as resp,
            ):
                if resp.status >= 300:
                    raise aiohttp.ClientResponseError(
                        resp.request_info, (), status=resp.status, message="refused"
                    )

        return post

    async def close(self) -> None:
        """Give pending deliveries a moment, then stop (shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)
        for task in set(self._tasks):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
