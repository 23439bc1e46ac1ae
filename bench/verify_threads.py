"""Would Ed25519 verification in a thread pool take load off the hub's event loop?

Two measurements, as ``hub/services/submission.py`` cites them:

1. *Does the library release the GIL?* The same number of verifications of a 6 kB message, one
   thread after the other, then in two threads at once. If the two threads finish in about half
   the time, the verification runs without the GIL.
2. *Does it help a busy loop?* An event loop (the hub's: uvloop when installed) runs ``--tasks``
   tasks, each doing ``--python-us`` of pure Python (the parse, the HTTP layer), one
   verification, and a little more Python, in a closed loop for ``--seconds``: once verifying
   inline, once on a pool of ``--threads`` threads. Printed: operations per second, the loop
   thread's CPU per operation, and the median time of one operation. The loop thread's CPU
   falls by what the verification cost it; whether the operations per second rise is the
   question (a thread returning from a verification has to take the GIL back from the busy
   loop thread).

Run: ``python -m bench.verify_threads`` (about 20 s).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import statistics
import sys
import threading
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pgs_hub.hub.server.loop import new_event_loop

MESSAGE = b"x" * 6000  # about one envelope's signing input
_KEY = Ed25519PrivateKey.generate()
_PUBLIC = _KEY.public_key()
_SIGNATURE = _KEY.sign(MESSAGE)


def _verify(count: int) -> None:
    for _ in range(count):
        _PUBLIC.verify(_SIGNATURE, MESSAGE)


def _python(iterations: int) -> int:
    total = 0
    for i in range(iterations):
        total += i
    return total


def gil_release(count: int) -> tuple[float, float]:
    """Seconds for ``2 * count`` verifications in one thread, then in two threads."""
    start = time.perf_counter()
    _verify(count)
    _verify(count)
    serial = time.perf_counter() - start
    threads = [threading.Thread(target=_verify, args=(count,)) for _ in range(2)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return serial, time.perf_counter() - start


def _iterations_for(microseconds: float) -> int:
    start = time.thread_time()
    _python(100_000)
    per_iteration = (time.thread_time() - start) / 100_000
    return max(1, int(microseconds / 1e6 / per_iteration))


async def busy_loop(
    *, pool: concurrent.futures.Executor | None, tasks: int, seconds: float, python_us: float
) -> tuple[float, float, float]:
    """Operations per second, loop-thread CPU ms per operation, median ms per operation."""
    before, after = _iterations_for(python_us * 0.8), _iterations_for(python_us * 0.2)
    loop = asyncio.get_running_loop()
    done = 0
    times: list[float] = []

    async def worker(deadline: float) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            _python(before)
            if pool is None:
                _PUBLIC.verify(_SIGNATURE, MESSAGE)
            else:
                await loop.run_in_executor(pool, _PUBLIC.verify, _SIGNATURE, MESSAGE)
            await asyncio.sleep(0)
            _python(after)
            times.append(time.perf_counter() - start)
            done += 1

    start, cpu = time.perf_counter(), time.thread_time()
    await asyncio.gather(*(worker(start + seconds) for _ in range(tasks)))
    elapsed, cpu = time.perf_counter() - start, time.thread_time() - cpu
    return done / elapsed, 1000 * cpu / done, 1000 * statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=4000, help="verifications per thread (1.)")
    parser.add_argument("--tasks", type=int, default=64, help="concurrent tasks (2.)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each run (2.)")
    parser.add_argument("--python-us", type=float, default=500.0, help="Python work per task")
    parser.add_argument("--threads", type=int, default=2, help="verification pool size (2.)")
    parser.add_argument("--switch-interval", type=float, default=None, help="sys.setswitchinterval")
    args = parser.parse_args(argv)
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    serial, parallel = gil_release(args.count)
    print(f"1. {2 * args.count} verifications: one thread {serial:.2f} s, two threads "
          f"{parallel:.2f} s (x{serial / parallel:.2f})")  # fmt: skip
    loop = new_event_loop()
    try:
        with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
            for name, used in (("inline", None), ("pool", pool), ("inline", None), ("pool", pool)):
                run = busy_loop(
                    pool=used, tasks=args.tasks, seconds=args.seconds, python_us=args.python_us
                )
                rate, cpu, median = loop.run_until_complete(run)
                print(f"2. {name:6} {rate:7,.0f} ops/s, loop thread {cpu:.3f} ms CPU/op, "
                      f"median {median:.1f} ms")  # fmt: skip
    finally:
        loop.close()


if __name__ == "__main__":
    main()
