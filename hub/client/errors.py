"""Errors the client raises: the hub's problem documents, and trust failures found locally."""

from __future__ import annotations

from typing import Any


class HubClientError(Exception):
    """The hub refused a request; carries its RFC 9457 problem document."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.code = str(problem.get("code", f"http.{status}"))
        super().__init__(f"[{self.code}] {problem.get('detail', 'request refused')} ({status})")


class TrustError(Exception):
    """A directory entry did not verify against the pinned registry authority key."""

    code = "trust.failed"
