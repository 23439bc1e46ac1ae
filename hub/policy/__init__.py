"""The hub's access-control policy: pure decisions over a typed policy read from TOML.

* :mod:`hub.policy.model` — the policy values, :func:`load_policy`, :class:`PolicyError`;
  ``default.toml`` documents every key;
* :mod:`hub.policy.groups` — built-in and custom groups, :class:`Member`;
* :mod:`hub.policy.authorize` — the one function that decides who may do what;
* :mod:`hub.policy.decisions` — what a submission may carry and whom it may reach;
* :mod:`hub.policy.ratelimit` — per-participant token buckets.

Nothing here does I/O (except reading a policy file when asked) or reads a clock: callers pass
``now``.
"""

from pgs_hub.hub.policy.authorize import Action, Grant
from pgs_hub.hub.policy.decisions import check_can_send
from pgs_hub.hub.policy.groups import Member, UnknownGroup, members
from pgs_hub.hub.policy.model import (
    Policy,
    PolicyError,
    default_policy,
    load_policy,
    load_policy_file,
)
from pgs_hub.hub.policy.ratelimit import RateLimiter

__all__ = [
    "Action",
    "Grant",
    "Member",
    "Policy",
    "PolicyError",
    "RateLimiter",
    "UnknownGroup",
    "check_can_send",
    "default_policy",
    "load_policy",
    "load_policy_file",
    "members",
]
