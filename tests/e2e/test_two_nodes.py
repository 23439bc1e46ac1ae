"""Two hub machines behind one nginx, on one PostgreSQL database: one dies under load.

Two independent ``pgs serve`` processes (no supervisor), each with its own copy of the hub home
(as two machines have: the same config and keys, their own high-water mark), on their own ports,
behind a real nginx terminating TLS (tests/e2e/nginx.py). A participant streams through nginx
while another submits envelopes through it, several at a time. The node that holds the stream is
killed (SIGKILL) in the middle: submissions that were in flight on it fail at the gateway and the
client retries them (idempotent by message id), nginx sends new connections to the survivor, the
stream reconnects there and resumes from its cursor. Every envelope is acknowledged, arrives on
the stream exactly once, and is in the inbox exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from pgs_hub.hub import keystore
from pgs_hub.hub.client import HubClient
from pgs_hub.hub.enrolment import bootstrap_admin
from pgs_hub.hub.home import write_home
from pgs_hub.hub.storage.migrate import upgrade
from pgs_hub.protocols.api import Acceptance
from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import ADMIN, RunningHub, Tls, free_port, start_hub, wait_healthy
from tests.e2e.messages import example
from tests.e2e.nginx import PROXY_ADDRESS, established_from_proxy, start_nginx
from tests.e2e.test_behind_proxy import set_hub_options
from tests.e2e.tls_ca import make_ca
from tests.faults.hubproc import inbox_mids

on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
NG, GH = "NG-NCP-LAGOS", "GH-NCP-ACCRA"
COUNT = 40
KILL_AFTER = 12  # acknowledgements before the node dies
SENDERS = 4  # submissions in flight at once
WAIT = 60.0  # failure detector, not a measurement


@on_postgresql
async def test_a_node_dies_under_load_and_nothing_is_lost_or_repeated(  # noqa: PLR0915
    database_url: str, tmp_path: Path
) -> None:
    tls = Tls(*make_ca(tmp_path))
    home_a, home_b = tmp_path / "node-a", tmp_path / "node-b"
    ports = [free_port(), free_port()]
    authority = write_home(home_a, port=ports[0])
    proxy = start_nginx(tmp_path / "nginx", ports, tls)
    set_hub_options(home_a, public_url=f'"{proxy.url}"', trusted_proxies=f'["{PROXY_ADDRESS}"]')
    await upgrade(database_url)
    admin_folder = await bootstrap_admin(home_a, database_url, authority, ADMIN)
    shutil.copytree(home_a, home_b)  # the second machine's copy of the home
    nodes = [
        await start_hub(home, database_url, port)
        for home, port in zip((home_a, home_b), ports, strict=True)
    ]
    hub = RunningHub(
        url=proxy.url, home=home_a, database_url=database_url, authority=authority,
        admin=keystore.load(admin_folder, None), process=nodes[0], log=home_a / "hub.log",
        ssl=tls.client_context(),
    )  # fmt: skip
    try:
        for home, port, process in zip((home_a, home_b), ports, nodes, strict=True):
            await wait_healthy(f"http://127.0.0.1:{port}", process, home / "hub.log")
        await hub.enrol(NG, "ncp")
        await hub.enrol(GH, "ncp")
        async with hub.client(NG) as ng:
            key = await ng.recipient_key(GH)
        now = int(time.time())
        sealed = [
            seal_message(
                sender_id=NG, signer=hub.people[NG].signing, recipients=[(GH, key)],
                kind=MessageKind.ALERT, content=example(MessageKind.ALERT), tlp=Tlp.AMBER, now=now,
            ).raw
            for _ in range(COUNT)
        ]  # fmt: skip

        received: list[str] = []
        async with hub.client(GH) as gh_client:

            async def stream() -> None:
                async for item in gh_client.stream():
                    if item.type == "envelope":
                        received.append(item.mid)

            streaming = asyncio.create_task(stream())
            # which node holds the stream: the one nginx keeps a connection open to
            deadline = time.monotonic() + WAIT
            while not any(established_from_proxy(p) for p in ports):
                assert time.monotonic() < deadline, "the stream did not connect"
                await asyncio.sleep(0.05)
            victim = 0 if established_from_proxy(ports[0]) else 1

            acknowledged: dict[str, Acceptance] = {}
            queue: asyncio.Queue[bytes] = asyncio.Queue()
            for raw in sealed:
                queue.put_nowait(raw)
            killed = asyncio.Event()

            async def sender(client: HubClient) -> None:
                while not queue.empty():
                    raw = queue.get_nowait()
                    answer = await client.submit(raw)  # retries what the gateway could not pass
                    acknowledged[answer.mid] = answer
                    if len(acknowledged) >= KILL_AFTER and not killed.is_set():
                        killed.set()
                        os.kill(nodes[victim].pid, signal.SIGKILL)

            async with contextlib.AsyncExitStack() as stack:
                clients = [await stack.enter_async_context(hub.client(NG)) for _ in range(SENDERS)]
                await asyncio.gather(*(sender(c) for c in clients))
            assert killed.is_set()
            assert nodes[victim].wait(timeout=10) == -signal.SIGKILL
            assert len(acknowledged) == COUNT

            deadline = time.monotonic() + WAIT
            while len(set(received)) < COUNT:
                assert time.monotonic() < deadline, f"{len(set(received))} of {COUNT} streamed"
                await asyncio.sleep(0.05)
            streaming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await streaming
            on_the_stream = Counter(received)
            in_the_inbox = Counter(await inbox_mids(gh_client))
        assert set(on_the_stream) == set(acknowledged)
        assert max(on_the_stream.values()) == 1, "an envelope was streamed twice"
        assert set(in_the_inbox) == set(acknowledged)
        assert max(in_the_inbox.values()) == 1, "an envelope is in the inbox twice"
    finally:
        proxy.stop()
        codes = []
        for process in nodes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            codes.append(process.wait(timeout=20))
    survivor = (home_a, home_b)[1 - victim]
    log = (survivor / "hub.log").read_text()
    assert codes[1 - victim] == 0, log
    assert "Traceback" not in log, log
