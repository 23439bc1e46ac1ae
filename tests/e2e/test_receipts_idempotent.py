"""The same receipt posted twice (a retry after a lost answer, say) gives the first answer, and
is stored, forwarded to the sender and audited once (issue 12, item 7)."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
from sqlalchemy import func, select

from pgs_hub.hub.storage import tables
from pgs_hub.hub.storage.engine import create_engine
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from pgs_hub.protocols.receipts import make_receipt, sign_receipt
from tests.e2e.harness import RunningHub
from tests.e2e.messages import example
from tests.e2e.rawhttp import JOSE, call

NG, GH = "NG-NCP-LAGOS", "GH-NCP-ACCRA"


async def test_the_same_receipt_twice_is_one_receipt(hub: RunningHub) -> None:
    for pid in (NG, GH):
        await hub.enrol(pid, "ncp")
    async with hub.client(NG) as ng, hub.client(GH) as gh:
        sealed, _ = await ng.send(kind=MessageKind.ALERT, content=example(MessageKind.ALERT),
                                  to=[GH])  # fmt: skip
        mid = sealed.header.mid
        await gh.read(mid)
    me = hub.people[GH]
    receipt = make_receipt(
        envelope=sealed.raw, mid=mid, status=ReceiptStatus.READ, by=GH, at=datetime.now(UTC)
    )
    raw = sign_receipt(receipt, me.signing)
    url = f"{hub.url}/v1/envelopes/{mid}/receipts"
    async with aiohttp.ClientSession() as session:
        first = await call(session, "POST", url, key=me.signing, body=raw, content_type=JOSE)
        again = await call(session, "POST", url, key=me.signing, body=raw, content_type=JOSE)
        assert first.status == 201, first.body
        assert (again.status, again.json()) == (first.status, first.json())
        assert first.json()["state_changed"] is True
        inbox = await call(session, "GET", f"{hub.url}/v1/inbox", key=hub.people[NG].signing)
    forwarded = [i for i in inbox.json()["items"] if i["type"] == "receipt"]
    assert len(forwarded) == 1
    engine = create_engine(hub.database_url)
    try:
        async with engine.connect() as conn:
            stored = await conn.scalar(select(func.count()).select_from(tables.receipts))
            audited = await conn.scalar(
                select(func.count())
                .select_from(tables.audit_records)
                .where(tables.audit_records.c.event == "receipt.recorded")
            )
    finally:
        await engine.dispose()
    assert (stored, audited) == (1, 1)
