"""Everything a service function needs, built once at start-up and passed explicitly."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from pgs_hub.crypto.keys import SigningKey, VerifyKey
from pgs_hub.hub.attachment_limits import AttachmentLimits
from pgs_hub.hub.errors import config_error
from pgs_hub.hub.policy.model import Policy, load_policy_file
from pgs_hub.hub.policy.ratelimit import RateLimiter
from pgs_hub.hub.services import writers
from pgs_hub.hub.services.coalesce import Coalescer
from pgs_hub.hub.services.directory_cache import DirectoryCache
from pgs_hub.hub.services.metrics import Metrics
from pgs_hub.hub.services.notifier import Notifier
from pgs_hub.hub.services.security_events import SecurityEvents
from pgs_hub.hub.services.upload_window import UploadWindow
from pgs_hub.hub.settings import DEFAULTS, Settings
from pgs_hub.hub.storage.engine import read_only

if TYPE_CHECKING:
    from pgs_hub.hub.services.notifications import NotificationDispatcher
    from pgs_hub.hub.services.witnessing import Witnessing


class PolicyHolder:
    """The current policy; :meth:`reload` swaps it atomically or keeps the old one on error."""

    def __init__(self, path: Path | None, policy: Policy) -> None:
        self.path = path
        self.current = policy

    def reload(self) -> Policy:
        if self.path is not None:
            self.current = load_policy_file(self.path)
        return self.current


@dataclass
class HubContext:
    engine: AsyncEngine
    policy: PolicyHolder
    authority: VerifyKey
    hub_key: SigningKey
    log_signer: SigningKey | None = None  # the transparency log's key (HOME/hub-key/log.key.pem)
    log_origin: str = "pgs-hub"
    notifier: Notifier = field(default_factory=Notifier)
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], float] = time.time
    limiter: RateLimiter | None = None
    directory: DirectoryCache = field(default_factory=DirectoryCache)  # participants and keys
    witnessing: Witnessing | None = None  # the witnesses that cosign checkpoints (hub.services)
    # config.toml [limits]: submissions a participant may make a minute, counted in the database
    # so that every hub process on it shares the count (hub.services.writers; None: no limit,
    # for contexts built by tests and benchmarks; `pgs serve` always has one) ...
    submissions_per_minute: int | None = None
    # ... and how long a request body may take to arrive, all of it (slow-body clients).
    body_timeout_seconds: float = 30.0
    # Where the latest signed checkpoint is recorded outside the database (hub.services.rollback)
    high_water: Path | None = None
    attachments: AttachmentLimits = field(default_factory=AttachmentLimits)  # upload caps
    upload_window: UploadWindow = field(default_factory=UploadWindow, init=False, repr=False)
    home: Path | None = None  # the hub's home: code lists imported there (hub.services.codelists)
    notifications: NotificationDispatcher | None = None  # content-free e-mail and webhooks
    # The mailbox pages of streams woken together, read with one query (hub.services.mailbox).
    stream_pages: Coalescer[tuple[str, int, int], Any] = field(
        default_factory=Coalescer, init=False, repr=False
    )
    settings: Settings = DEFAULTS  # page sizes, intervals, defaults (hub/settings.py)
    # Built on ``engine`` by __post_init__: the read-only view of it (hub.storage.engine.read_only,
    # for connections that never write) and the group-committed writers (hub.services.writers).
    reader: AsyncEngine = field(init=False, repr=False)
    envelope_writer: writers.EnvelopeWriter = field(init=False, repr=False)
    nonce_writer: writers.NonceWriter = field(init=False, repr=False)
    security_events: SecurityEvents = field(init=False, repr=False)  # refusals, tallied
    # When (time.monotonic) a request last failed because the database could not be reached or
    # written: /v1/health/ready reports not ready for a while after (hub.server.health).
    storage_failed_at: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.reader = read_only(self.engine)
        self.envelope_writer = writers.envelope_writer(self.engine)
        self.nonce_writer = writers.nonce_writer(self.engine)
        self.security_events = SecurityEvents(self.engine, lambda: self.clock())  # noqa: PLW0108 - read late

    async def close_writers(self) -> None:
        """Refuse new writes (503) and finish those already submitted (shutdown); store the
        security events still tallied in memory."""
        await self.envelope_writer.close()
        await self.nonce_writer.close()
        await self.security_events.close()

    @property
    def log_key(self) -> SigningKey:
        if self.log_signer is None:
            raise config_error("config.no_log_key")
        return self.log_signer

    def now(self) -> int:
        return int(self.clock())

    def rate_limiter(self) -> RateLimiter:
        """The per-participant limiter; rebuilt when a policy reload changed the limits."""
        limits = self.policy.current.limits
        wanted = (limits.rate_per_minute, limits.rate_burst)
        if self.limiter is None or self._limits != wanted:
            self.limiter = RateLimiter(*wanted)
            self._limits = wanted
        return self.limiter

    _limits: tuple[int, int] = (0, 0)
