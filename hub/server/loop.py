"""The event loop a serving process runs on: uvloop (a dependency everywhere but Windows, where
it has no build), else asyncio's own.

uvloop (libuv) runs the same asyncio code with less CPU per callback, socket read and write and
thread wake-up, which is most of what a submission costs outside its own parsing, signatures and
SQL. Everything also works on asyncio's loop, and ``PGS_ASYNCIO_LOOP=asyncio`` forces
it (to compare, or if uvloop misbehaves on a platform). bench/baseline.py runs on the same loop as
the hub, so that the benchmark's ratios compare like with like.
"""

from __future__ import annotations

import asyncio
import os


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new loop: uvloop's if installed and not turned off, else asyncio's."""
    if os.environ.get("PGS_ASYNCIO_LOOP", "").strip().lower() != "asyncio":
        try:
            import uvloop  # noqa: PLC0415 - optional: imported only where a loop is made
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """``uvloop`` or ``asyncio``: what the process runs on (logged at start, in bench JSON)."""
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"
