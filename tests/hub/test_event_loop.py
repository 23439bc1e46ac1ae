"""The serving loop (hub.server.loop): uvloop when installed, asyncio's when told so."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from pgs_hub.hub.server.loop import loop_name, new_event_loop


def test_asyncio_loop_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGS_ASYNCIO_LOOP", "asyncio")
    loop = new_event_loop()
    try:
        assert loop_name(loop) == "asyncio"
        assert isinstance(loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()


def test_uvloop_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGS_ASYNCIO_LOOP", raising=False)
    loop = new_event_loop()
    try:
        expected = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
        assert loop_name(loop) == expected
        assert loop.run_until_complete(asyncio.sleep(0, result=42)) == 42
    finally:
        loop.close()
