"""The hub's access-control policy: pure decisions over a typed policy read from TOML.

* :mod:`hub.policy.model` — the policy values, :func:`load_policy`, :class:`PolicyError`;
  ``default.toml`` documents every key;
* :mod:`hub.policy.groups` — built-in and custom groups, :class:`Member`;
* :mod:`hub.policy.decisions` — who may send, read, audit and administer;
* :mod:`hub.policy.ratelimit` — per-participant token buckets.

Nothing here does I/O (except reading a policy file when asked) or reads a clock: callers pass
``now``.
"""

from hub.policy.decisions import (
    audit_scope,
    can_read_envelope,
    check_admin,
    check_can_send,
    check_read,
    in_audit_scope,
)
from hub.policy.groups import Member, UnknownGroup, members
from hub.policy.model import Policy, PolicyError, default_policy, load_policy, load_policy_file
from hub.policy.ratelimit import RateLimiter

__all__ = [
    "Member",
    "Policy",
    "PolicyError",
    "RateLimiter",
    "UnknownGroup",
    "audit_scope",
    "can_read_envelope",
    "check_admin",
    "check_can_send",
    "check_read",
    "default_policy",
    "in_audit_scope",
    "load_policy",
    "load_policy_file",
    "members",
]
