"""The console's message log shows a recipient its own delivery and read state only; the sender
(and the WCO and auditors, who see the traffic of their view) see every recipient's. Checked on
the HTML page and the CSV export, against a real hub."""

from __future__ import annotations

import csv
import io

from tests.console.conftest import GH, NG, WCO, make_traffic, signed_in_session
from tests.e2e.harness import RunningHub


async def recipients_column(hub: RunningHub, who: str, mid: str) -> tuple[str, str]:
    """The alert's row in ``who``'s CSV export (its recipients column) and ``who``'s log page."""
    session = await signed_in_session(hub, who)
    try:
        async with session.get(f"{hub.url}/console/log.csv") as resp:
            assert resp.status == 200
            rows = list(csv.DictReader(io.StringIO(await resp.text())))
        async with session.get(f"{hub.url}/console/log", params={"mid": mid}) as resp:
            assert resp.status == 200
            page = await resp.text()
    finally:
        await session.close()
    (row,) = [r for r in rows if r["mid"] == mid]
    return row["recipients"], page


async def test_a_recipient_sees_only_its_own_delivery_state(hub: RunningHub) -> None:
    traffic = await make_traffic(hub)  # the alert: NG -> GH (read) and WCO (read)
    as_sender, sender_page = await recipients_column(hub, NG, traffic.alert)
    assert set(as_sender.split(";")) == {f"{GH}:read", f"{WCO}:read"}
    assert f"<bdi>{WCO}</bdi> — " in sender_page
    assert f"<bdi>{GH}</bdi> — " in sender_page

    as_recipient, recipient_page = await recipients_column(hub, GH, traffic.alert)
    assert as_recipient == f"{GH}:read"
    assert f"<bdi>{GH}</bdi> — " in recipient_page
    assert f"<bdi>{WCO}</bdi> — " not in recipient_page  # the other recipient's state stays hidden

    as_wco, _ = await recipients_column(hub, WCO, traffic.alert)  # WCO sees every country
    assert set(as_wco.split(";")) == {f"{GH}:read", f"{WCO}:read"}
