"""Serving a home and restoring its database exclude each other (hub.home_lock): any number of
hubs may serve one home, a restore waits for none of them, and a lock ends with its block."""

from __future__ import annotations

from pathlib import Path

from pgs_hub.hub import home_lock


def test_hubs_share_a_home_and_a_restore_is_refused_while_any_serves(tmp_path: Path) -> None:
    with home_lock.serving(tmp_path) as first:
        assert first
        with home_lock.serving(tmp_path) as second:
            assert second
            with home_lock.restoring(tmp_path) as alone:
                assert not alone
        with home_lock.restoring(tmp_path) as alone:
            assert not alone  # the first still serves
    with home_lock.restoring(tmp_path) as alone:
        assert alone


def test_a_hub_does_not_start_while_a_restore_runs(tmp_path: Path) -> None:
    with home_lock.restoring(tmp_path) as alone:
        assert alone
        with home_lock.serving(tmp_path) as served:
            assert not served
        with home_lock.restoring(tmp_path) as second:
            assert not second  # nor a second restore
    with home_lock.serving(tmp_path) as served:
        assert served
