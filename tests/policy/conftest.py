"""Fixtures of the policy tests: the default policy, a world of participants, policy variants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from policy_world import World, with_changes

from pgs_hub.hub.policy.model import Policy, default_policy


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def policy() -> Policy:
    return default_policy()


@pytest.fixture
def make_policy(policy: Policy) -> Callable[..., Policy]:
    """Variants of the default policy: ``make_policy(limits={"max_recipients": 2})``."""

    def make(**changes: Any) -> Policy:
        return with_changes(policy, **changes)

    return make
