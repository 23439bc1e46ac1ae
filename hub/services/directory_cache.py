"""The directory as the hub checks requests against it, cached per process and never stale.

Authenticating a request needs the signer's key, state and participant; routing a submission
needs every member (recipients, groups). Both used to be read from the database on every request.
:class:`DirectoryCache` keeps them in memory, together with the *directory version* they were read
at (:func:`hub.storage.participants.read_directory_version`).

Correctness does not rest on telling the cache anything. Every write to participants or keys moves
the version on in the same transaction (the storage functions do it themselves, so the admin API,
``pgs serve --workers N`` siblings and command-line tools writing to the database directly are
all seen alike). Each use of the cache first reads the version row on the caller's connection
(one primary-key SELECT) and reloads everything when it changed. (A submission reads it once per
group-committed batch instead, in the transaction that stores the envelopes: it is authorized on
the :attr:`DirectoryCache.held` copy, stored only if that copy's version is still the current one,
and authorized again on a fresh read otherwise; see :func:`hub.services.submission.submit`.) So:

* a change is seen by the first request whose version read starts after the change committed,
  in every hub process on the database;
* a lookup that fails (an unknown key id, an unknown participant) fails against the directory as
  it is at that read, never against an old copy;
* the reload is read *after* the version, by one statement (one snapshot): it can only be newer
  than the version it is filed under, and then the next read of the version differs and it is
  read again. A copy filed under a version is never older than that version.

A version is a number and 16 random bytes (the stamp), compared together: a transaction rolled
back after writing gives its number back to the next writer, but not its stamp; a snapshot read
inside that transaction (it sees its own writes) is therefore never taken for a committed one.

The reload reads every participant and key in one statement and rebuilds the maps. At the size
the hub is meant for (186 WCO members, two current keys each, plus retired ones) that is a few
hundred rows and a few milliseconds, and the directory changes a few times a day; a hit costs one
primary-key read, where the uncached path read the signer's key, participant and keys, then every
participant and current key, on each submission. A directory of many thousands would want a
per-participant version instead. Signing keys are turned into :class:`~crypto.keys.VerifyKey` on
first use, so a damaged stored key only affects its owner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sqlalchemy.ext.asyncio import AsyncConnection

from pgs_hub.crypto.errors import LowOrderKeyError
from pgs_hub.crypto.keys import VerifyKey, verify_key_from_jwk
from pgs_hub.crypto.strictjson import loads
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.errors import AuthenticationError, Forbidden
from pgs_hub.hub.policy.groups import Member
from pgs_hub.hub.storage import participants as store
from pgs_hub.hub.storage.tables import KeyState


@dataclass(frozen=True)
class _SigningKey:
    participant: str
    state: KeyState
    jwk: str
    expires_at: int | None = None


@dataclass(frozen=True)
class DirectorySnapshot:
    """The directory at one version; immutable but for a memo of parsed signing keys."""

    version: store.DirectoryVersion
    members: Mapping[str, Member]  # every participant, by id (in id order)
    signing: Mapping[str, _SigningKey]  # every signing key the hub ever held, by kid
    _parsed: dict[str, VerifyKey] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        version: store.DirectoryVersion,
        rows: list[store.ParticipantRow],
        keys: list[store.DirectoryKey],
    ) -> DirectorySnapshot:
        enc: dict[str, str] = {}
        for k in keys:  # oldest first; there is only ever one current encryption key
            if k.use == "enc" and k.state == "current":
                enc.setdefault(k.participant_id, k.kid)
        members = {
            row.id: Member(
                id=row.id,
                country=row.country,
                role=row.role,
                scope=row.scope,
                status=row.status,
                enc_kid=enc.get(row.id, ""),
            )
            for row in rows
        }
        signing = {
            k.kid: _SigningKey(
                participant=k.participant_id, state=k.state, jwk=k.jwk, expires_at=k.expires_at
            )
            for k in keys
            if k.use == "sig"
        }
        return cls(version, MappingProxyType(members), MappingProxyType(signing))

    def signer(self, kid: str, now: int | None = None) -> tuple[Member, VerifyKey]:
        """The participant whose *current* signing key is ``kid``; raises for anything else.

        A rotated-out or revoked key, a revoked participant, a key whose certificate expired
        (at ``now``, when given): 401. A suspended participant: 403.
        """
        key = self.signing.get(kid)
        if key is None:
            raise AuthenticationError(
                "no participant has this signing key", code=Code.AUTH_UNKNOWN_KEY
            )
        if key.state != "current":
            raise AuthenticationError(
                "this signing key was replaced or revoked and is no longer accepted",
                code=Code.AUTH_KEY_NOT_CURRENT,
            )
        if now is not None and key.expires_at is not None and now >= key.expires_at:
            raise AuthenticationError(
                "the certificate of this signing key has expired: ask the registry authority "
                "for a new one (pgs admin rotate)",
                code=Code.AUTH_CERTIFICATE_EXPIRED,
            )
        found = self.members.get(key.participant)
        if found is None or found.status == "revoked":
            raise AuthenticationError("this participant is revoked", code=Code.AUTH_REVOKED)
        if found.status == "suspended":
            raise Forbidden("this participant is suspended", code=Code.PARTICIPANT_SUSPENDED)
        parsed = self._parsed.get(kid)
        if parsed is None:
            try:
                parsed = verify_key_from_jwk(
                    loads(key.jwk.encode(), what="stored key", max_bytes=4096)
                )
            except LowOrderKeyError:
                # Enrolled before such keys were refused (crypto.keys.require_full_order): anyone
                # can sign as its holder, so it authenticates nobody.
                raise AuthenticationError(
                    "this signing key is of small order and proves nothing: ask the registry "
                    "authority for new keys (pgs admin rotate)",
                    code=Code.AUTH_FAILED,
                ) from None
            self._parsed[kid] = parsed
        return found, parsed


class DirectoryCache:
    """This process's copy of the directory (one per :class:`~hub.services.context.HubContext`).

    Use it on the connection the caller already holds; never keep what it returns across requests.
    """

    def __init__(self) -> None:
        self._snapshot: DirectorySnapshot | None = None
        self._reloading = asyncio.Lock()
        self.reloads = 0  # how many times the directory was read in full

    @property
    def held(self) -> DirectorySnapshot | None:
        """The copy read last, which may be out of date: only for a decision whose version is
        checked again before anything is acknowledged (a submission's, in the transaction that
        stores it: :mod:`hub.services.writers`)."""
        return self._snapshot

    async def snapshot(self, conn: AsyncConnection) -> DirectorySnapshot:
        """The directory as of now: the cached copy if the version still matches, else a reload."""
        version = await store.read_directory_version(conn)
        held = self._snapshot
        if held is not None and held.version == version:
            return held
        # One reload at a time: requests that found the same change wait for it, not reload too.
        async with self._reloading:
            held = self._snapshot
            if held is not None and held.version == version:
                return held
            rows, keys = await store.load_directory(conn)
            fresh = DirectorySnapshot.build(version, rows, keys)
            self._snapshot = fresh
            self.reloads += 1
            return fresh

    async def signer(
        self, conn: AsyncConnection, kid: str, now: int | None = None
    ) -> tuple[Member, VerifyKey]:
        """See :meth:`DirectorySnapshot.signer`."""
        return (await self.snapshot(conn)).signer(kid, now)

    async def members(self, conn: AsyncConnection) -> Mapping[str, Member]:
        """Every participant, by id."""
        return (await self.snapshot(conn)).members

    async def member(self, conn: AsyncConnection, participant: str) -> Member | None:
        return (await self.snapshot(conn)).members.get(participant)
