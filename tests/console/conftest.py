"""Console tests use the end-to-end harness: a real ``pgs serve`` per test (tests/e2e).

``traffic`` enrols participants and exchanges real messages (alerts, a seizure, a WCA notice,
receipts); ``sign_in`` turns a participant into a browser-ready console session.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import aiohttp

from pgs_hub.hub.client import HubClient
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.conftest import hub
from tests.e2e.harness import ADMIN, RunningHub
from tests.e2e.messages import example

__all__ = ["Traffic", "hub", "login_link", "make_traffic", "sign_in"]

NG, GH, CM, WCO = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "CM-NCP-DOUALA", "WCO-PGS-BRUSSELS"
GLOBAL_AUDITOR, GH_AUDITOR = "WCO-AUDIT", "GH-AUDIT"


@dataclass
class Traffic:
    alert: str  # NG -> GH, WCO (read by GH)
    seizure: str  # GH -> NG, WCO
    notice: str  # WCO -> group WCA
    cm_alert: str  # CM -> NG: nothing to do with Ghana


async def make_traffic(hub: RunningHub) -> Traffic:
    for pid in (NG, GH, CM):
        await hub.enrol(pid, "ncp")
    await hub.enrol(WCO, "wco")
    await hub.enrol(GLOBAL_AUDITOR, "auditor")
    await hub.enrol(GH_AUDITOR, "auditor", scope="GH")
    async with hub.client(NG) as ng:
        alert, _ = await ng.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH, WCO]
        )
    async with hub.client(GH) as gh:
        await gh.read(alert.header.mid)
        await gh.ack(alert.header.mid)
        seizure, _ = await gh.send(
            kind=MessageKind.SEIZURE, content=example(MessageKind.SEIZURE), to=[NG, WCO]
        )
    async with hub.client(WCO) as wco:
        await wco.ack(alert.header.mid)
        notice, _ = await wco.send(
            kind=MessageKind.NOTICE, content=example(MessageKind.NOTICE), group="WCA"
        )
    async with hub.client(CM) as cm:
        cm_alert, _ = await cm.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[NG]
        )
    return Traffic(alert.header.mid, seizure.header.mid, notice.header.mid, cm_alert.header.mid)


async def login_link(hub: RunningHub, who: str) -> str:
    """A one-time console link, asked for with the participant's signed request."""
    client: HubClient
    async with hub.client(hub.admin if who == ADMIN else who) as client:
        _, data = await client.request("POST", "/v1/console/login-links")
    url = json.loads(data)["url"]
    assert isinstance(url, str)
    return url


async def sign_in(session: aiohttp.ClientSession, link: str) -> aiohttp.ClientResponse:
    """Follow a sign-in link as a browser does: open its confirmation page, then confirm (POST
    with the page's CSRF token). The confirming answer (not followed)."""
    async with session.get(link, allow_redirects=False) as page:
        assert page.status == 200, await page.text()
        found = re.search(r'name="csrf" value="([A-Za-z0-9_-]{43})"', await page.text())
    assert found is not None
    async with session.post(link, data={"csrf": found[1]}, allow_redirects=False) as resp:
        await resp.read()
        return resp


async def signed_in_session(hub: RunningHub, who: str) -> aiohttp.ClientSession:
    """An HTTP session holding the console cookie of ``who`` (the caller closes it)."""
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    session = aiohttp.ClientSession(cookie_jar=jar)
    resp = await sign_in(session, await login_link(hub, who))
    assert resp.status == 303
    return session
