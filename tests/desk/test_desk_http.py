"""The desk over HTTP against a real hub: unlock, inbox, compose and send, read the answer; and
every refusal (token, Host, Origin, CSRF, passphrase) as a plain page without a traceback."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from pgs_hub.hub.desk.store import ReadState
from tests.desk.conftest import GH, NG, PASSPHRASE, WCO, enrol_folder, open_desk
from tests.e2e.harness import RunningHub

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ALERT_FORM = {
    "to": GH, "tlp": "AMBER", "subject": "Ammonium nitrate, 24 t, Lagos to Tema",
    "narrative": "Consignee unknown; declared as fertiliser.", "commodity": "AN",
    "description": "Ammonium nitrate in 50 kg bags", "quantity": "24", "unit": "TNE",
    "hs": "3102.30", "mode": "sea", "origin_country": "NG", "origin_locode": "NGLOS",
    "destination_country": "GH", "destination_locode": "GHTEM", "containers": "CSQU3054383",
    "action_requested": "inspect", "eval_source": "B", "eval_information": "2",
}  # fmt: skip


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text
    assert 'File "' not in text


async def test_alert_sent_read_and_answered(  # noqa: PLR0915 - one story, one hub
    hub: RunningHub, tmp_path: Path
) -> None:
    await enrol_folder(hub, NG, "ncp", tmp_path / "ng", PASSPHRASE)
    await enrol_folder(hub, GH, "ncp", tmp_path / "gh")
    await hub.enrol(WCO, "wco")
    async with open_desk(hub, tmp_path / "ng") as ng, open_desk(hub, tmp_path / "gh") as gh:
        await ng.sign_in(PASSPHRASE)
        await gh.sign_in()
        # Nigeria: an invalid form comes back with an error summary and errors at the fields.
        form = aiohttp.FormData(
            [*ALERT_FORM.items(), ("to", WCO), ("csrf", await ng.csrf("/compose/alert")),
             ("action", "send")]
        )  # fmt: skip
        bad = {**ALERT_FORM, "hs": "31023", "quantity": "", "containers": "CSQU3054384",
               "csrf": await ng.csrf("/compose/alert"), "action": "send"}  # fmt: skip
        async with await ng.post("/compose/alert", bad) as resp:
            assert resp.status == 400
            page = await resp.text()
        assert 'class="error-summary"' in page
        for field in ("hs", "quantity", "containers"):
            assert f'href="#f-{field}"' in page
            assert f'id="e-{field}"' in page
        assert "HS code of six digits" in page
        _no_traceback(page)
        # Sent as it should be: a redirect to the message, kept locally as sent.
        async with await ng.post("/compose/alert", form) as resp:
            assert resp.status == 303, await resp.text()
            alert_page = resp.headers["Location"]
        alert = alert_page.split("/")[2].split("?")[0]
        # Ghana: the alert arrives (live, over the stream) and reads for people.
        mailbox = gh.desk.mailbox
        assert mailbox is not None
        for _ in range(100):
            if alert in mailbox.messages:
                break
            await asyncio.sleep(0.05)
        async with gh.session.get(gh.base + "/inbox") as resp:
            inbox = await resp.text()
        assert "Ammonium nitrate, 24 t, Lagos to Tema" in inbox
        assert f'data-mid="{alert}"' in inbox
        assert 'class="unread"' in inbox
        async with gh.session.get(f"{gh.base}/m/{alert}") as resp:
            page = await resp.text()
        for shown in ("Ammonium nitrate", "tonne", "Nigeria", "Ghana", "TLP:AMBER", "CSQU3054383",
                      "proved reliable in most cases", "Verified", "a place in Ghana"):  # fmt: skip
            assert shown in page, shown
        assert ReadState(tmp_path / "gh", hub.url).is_read(alert)
        # Filters: by commodity and country it is there; by another commodity it is not.
        async with gh.session.get(gh.base + "/inbox?commodity=AN&country=NG") as resp:
            assert f'data-mid="{alert}"' in await resp.text()
        async with gh.session.get(gh.base + "/inbox?commodity=TNT") as resp:
            assert f'data-mid="{alert}"' not in await resp.text()
        # Ghana answers with a seizure notice pre-filled from the alert, and an outcome.
        async with gh.session.get(f"{gh.base}/compose/seizure?reply_to={alert}") as resp:
            page = await resp.text()
        assert f'name="irt" value="{alert}"' in page
        assert 'value="AN"' in page
        assert f'value="{NG}" checked' in page
        assert f'value="{WCO}" checked' in page
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        # The hub's policy wants a seizure also addressed to WCO: refused, the form comes back
        # as typed with the hub's reason, and nothing is sent.
        alone = {
            "csrf": csrf[1], "action": "send", "to": NG, "tlp": "AMBER", "irt": alert,
            "subject": "Seized at Tema", "seized_on": "2026-01-15", "place_country": "GH",
            "commodity": "AN", "description": "Ammonium nitrate", "quantity": "24", "unit": "TNE",
            "quantity_seized": "24", "action_taken": "seize",
        }  # fmt: skip
        async with await gh.post("/compose/seizure", alone) as resp:
            assert resp.status == 502
            page = await resp.text()
        assert "The hub refused the message; nothing was sent." in page
        assert "policy.seizure_needs_wco" in page
        assert 'value="Seized at Tema"' in page
        _no_traceback(page)
        seizure_form = aiohttp.FormData()
        for name, value in {
            "csrf": csrf[1], "action": "send", "to": NG, "tlp": "AMBER", "thread": alert,
            "irt": alert, "irt_kind": "alert", "subject": "24 t ammonium nitrate seized at Tema",
            "seized_on": "2026-01-15", "place_country": "GH", "place_locode": "GHTEM",
            "commodity": "AN", "description": "Ammonium nitrate", "quantity": "24", "unit": "TNE",
            "quantity_seized": "24", "seized_unit": "TNE", "action_taken": "seize",
            "detection": "pgs_alert",
        }.items():  # fmt: skip
            seizure_form.add_field(name, value)
        seizure_form.add_field("to", WCO)
        seizure_form.add_field("files", b"\x89PNG\r\n\x1a\n" + b"x" * 2000, filename="photo.png",
                               content_type="image/png")  # fmt: skip
        async with await gh.post("/compose/seizure", seizure_form) as resp:
            assert resp.status == 303, await resp.text()
        # Nigeria sees the thread and the outcome counted on the alert, and the photo.
        ng_box = ng.desk.mailbox
        assert ng_box is not None
        for _ in range(100):
            if any(m.kind == "seizure" for m in ng_box.messages.values()):
                break
            await asyncio.sleep(0.05)
        async with ng.session.get(f"{ng.base}/m/{alert}") as resp:
            page = await resp.text()
        assert "Seizure notice" in page
        assert "24 t ammonium nitrate seized at Tema" in page
        assert re.search(r'class="outcome">Seized: <strong>1</strong>', page), page
        seizure = next(m for m in ng_box.messages.values() if m.kind == "seizure")
        async with ng.session.get(f"{ng.base}/m/{seizure.mid}") as resp:
            page = await resp.text()
        assert "photo.png" in page
        assert f"/m/{seizure.mid}/files/0?inline=1" in page
        async with ng.session.get(f"{ng.base}/m/{seizure.mid}/files/0") as resp:
            assert resp.status == 200
            assert await resp.read() == b"\x89PNG\r\n\x1a\n" + b"x" * 2000
        # The read receipt goes only when asked for.
        async with await ng.post(
            f"/m/{seizure.mid}/receipt", {"csrf": await ng.csrf("/inbox")}
        ) as resp:
            assert resp.status == 303
            assert resp.headers["Location"].endswith("?receipt=sent")


async def test_refusals_are_plain_pages(hub: RunningHub, tmp_path: Path) -> None:  # noqa: PLR0915
    await enrol_folder(hub, NG, "ncp", tmp_path / "ng", PASSPHRASE)
    async with open_desk(hub, tmp_path / "ng") as ng:
        base = ng.base
        # Nothing without the token, and a wrong token is refused without using the right one.
        async with ng.session.get(base + "/inbox", allow_redirects=False) as resp:
            assert resp.status == 403
            _no_traceback(await resp.text())
        async with ng.session.get(base + "/?token=wrong", allow_redirects=False) as resp:
            assert resp.status == 403
            assert "pgs desk" in await resp.text()
        # In the browser's language: Arabic right to left, French from the switch (remembered).
        arabic = {"Accept-Language": "ar,en;q=0.5"}
        async with ng.session.get(base + "/?token=wrong", headers=arabic) as resp:
            page = await resp.text()
        assert '<html lang="ar" dir="rtl">' in page
        assert "استُخدم هذا الرابط" in page
        # A wrong Host (DNS rebinding) is refused even with the right token.
        host = {"Host": f"evil.example:{ng.desk.gate.port}"}
        async with ng.session.get(ng.url, headers=host, allow_redirects=False) as resp:
            assert resp.status == 421
        async with ng.session.get(ng.url, allow_redirects=False) as resp:
            assert resp.status == 303
            assert "HttpOnly" in resp.headers["Set-Cookie"]
            assert "SameSite=Strict" in resp.headers["Set-Cookie"]
        # The token works once.
        async with aiohttp.ClientSession() as other, other.get(ng.url) as resp:
            assert resp.status == 403
        csrf = await ng.csrf("/unlock")
        # A POST from another origin, without an origin, or without the CSRF token: refused.
        async with ng.session.post(base + "/unlock", data={"csrf": csrf, "passphrase": PASSPHRASE},
                                   headers={"Origin": "http://evil.example"},
                                   allow_redirects=False) as resp:  # fmt: skip
            assert resp.status == 403
        async with ng.session.post(base + "/unlock", data={"csrf": csrf, "passphrase": PASSPHRASE},
                                   allow_redirects=False) as resp:  # fmt: skip
            assert resp.status == 403
        async with await ng.post("/unlock", {"passphrase": PASSPHRASE}) as resp:
            assert resp.status == 403
            assert "out of date" in await resp.text()
        assert not ng.desk.unlocked
        # A wrong passphrase: a clear page, at the field, nothing unlocked.
        async with await ng.post("/unlock", {"csrf": csrf, "passphrase": "wrong"}) as resp:
            assert resp.status == 400
            page = await resp.text()
        assert "passphrase is not right" in page
        assert 'href="#passphrase"' in page
        _no_traceback(page)
        assert not ng.desk.unlocked
        async with await ng.post("/unlock", {"csrf": csrf, "passphrase": PASSPHRASE}) as resp:
            assert resp.status == 303
        assert ng.desk.unlocked
        # The language switch is remembered in a cookie, and only redirects within the desk.
        async with ng.session.get(
            base + "/lang/fr?next=//evil.example/", allow_redirects=False
        ) as r:
            assert r.headers["Location"] == "/inbox"
        async with ng.session.get(base + "/inbox", headers=arabic) as resp:
            page = await resp.text()
        assert '<html lang="fr" dir="ltr">' in page
        assert "Boîte de réception" in page
        # The security headers, on every page.
        async with ng.session.get(base + "/inbox") as resp:
            assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
            assert resp.headers["Cache-Control"] == "no-store"
        # An unknown message and an unknown form are plain 404s.
        async with ng.session.get(base + "/m/nope") as resp:
            assert resp.status == 404
        async with ng.session.get(base + "/compose/notice") as resp:
            assert resp.status == 403  # only WCO staff send notices


async def _wait_for(predicate: Callable[[], bool]) -> None:
    """Wait for a message to arrive over the hub's stream (live, so within moments)."""
    for _ in range(200):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the message did not arrive")


async def test_notice_drafts_outcome_and_bulk_read(  # noqa: PLR0915 - one hub, one story
    hub: RunningHub, tmp_path: Path
) -> None:
    await enrol_folder(hub, NG, "ncp", tmp_path / "ng")
    await enrol_folder(hub, GH, "ncp", tmp_path / "gh")
    await enrol_folder(hub, WCO, "wco", tmp_path / "wco")
    async with (
        open_desk(hub, tmp_path / "ng") as ng,
        open_desk(hub, tmp_path / "gh") as gh,
        open_desk(hub, tmp_path / "wco") as wco,
    ):
        for desk in (ng, gh, wco):
            await desk.sign_in()
        # A draft and a template are saved in the keys folder and come back in the form.
        csrf = await ng.csrf("/compose/alert")
        draft = {**ALERT_FORM, "csrf": csrf, "action": "draft", "name": "tema/../x"}
        async with await ng.post("/compose/alert", draft) as resp:
            assert resp.status == 200
        assert (tmp_path / "ng" / "desk" / "drafts" / "tema..x.json").exists()
        template = {**ALERT_FORM, "csrf": csrf, "action": "template", "name": "AN by sea"}
        async with await ng.post("/compose/alert", template) as resp:
            assert resp.status == 200
        async with ng.session.get(ng.base + "/drafts") as resp:
            page = await resp.text()
        assert "tema..x" in page
        assert "AN by sea" in page
        async with ng.session.get(ng.base + "/compose/alert?draft=tema..x") as resp:
            assert 'name="draft_name" value="tema..x"' in await resp.text()
        async with ng.session.get(ng.base + "/compose/alert?template=AN%20by%20sea") as resp:
            assert 'value="Ammonium nitrate, 24 t, Lagos to Tema"' in await resp.text()
        # Check shows the routing header beside the form without sending.
        check = {**ALERT_FORM, "csrf": csrf, "action": "check"}
        async with await ng.post("/compose/alert", check) as resp:
            page = await resp.text()
        assert "The message is valid" in page
        assert 'id="routing-tlp">AMBER<' in page
        ng_box = ng.desk.mailbox
        assert ng_box is not None
        assert not [m for m in ng_box.messages.values() if m.mine]
        # Notices are WCO staff's: a notice to the WCA region reaches Ghana.
        notice = {
            "csrf": await wco.csrf("/compose/notice"), "action": "send", "group": "WCA",
            "tlp": "GREEN", "category": "advisory", "title_en": "Fertiliser diversion via Tema",
            "body_en": "Watch for ammonium nitrate declared as urea.", "scope": "regions",
            "regions": "WCA",
        }  # fmt: skip
        async with await wco.post("/compose/notice", notice) as resp:
            assert resp.status == 303, await resp.text()
        gh_box = gh.desk.mailbox
        assert gh_box is not None
        await _wait_for(lambda: any(m.kind == "notice" for m in gh_box.messages.values()))
        # One-click outcome: Ghana says "nothing found"; Nigeria sees it counted.
        form = aiohttp.FormData(
            [*ALERT_FORM.items(), ("to", WCO), ("csrf", csrf), ("action", "send")]
        )
        async with await ng.post("/compose/alert", form) as resp:
            alert = resp.headers["Location"].split("/")[2].split("?")[0]
        await _wait_for(lambda: alert in gh_box.messages)
        async with gh.session.get(gh.base + "/inbox?unread=1") as resp:
            page = await resp.text()
        assert page.count('class="unread"') == 2
        mids = re.findall(r'name="mid" value="([0-9a-f-]{36})"', page)
        gh_csrf = await gh.csrf("/inbox")
        async with await gh.post("/inbox/read", {"csrf": gh_csrf, "mid": mids[-1]}) as resp:
            assert resp.status == 303
        async with gh.session.get(gh.base + "/inbox?unread=1") as resp:
            assert (await resp.text()).count('class="unread"') == 1
        answer = {"csrf": gh_csrf, "outcome": "nothing_found"}
        async with await gh.post(f"/m/{alert}/outcome", answer) as resp:
            assert resp.status == 303
        await _wait_for(lambda: ng_box.outcomes(alert)["nothing_found"] == 1)
        async with ng.session.get(f"{ng.base}/m/{alert}") as resp:
            assert "Nothing found: <strong>1</strong>" in await resp.text()
        async with ng.session.get(f"{ng.base}/inbox") as resp:
            page = await resp.text()
        assert "outcome:nothing_found" not in page  # the coded subject is shown by its name
        assert "<bdi>Nothing found</bdi></a>" in page
