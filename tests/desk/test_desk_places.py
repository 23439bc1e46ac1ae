"""The desk's place picker and reading with UN/LOCODE, against a real hub: before the operator
imports UNECE's release the picker says so (and offers the mailbox's places); after it, the
picker finds Lagos by name, by code and without diacritics, searched on the officer's computer
in the list kept in the keys folder, and a message reads "Lagos (Nigeria)" beside NGLOS."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from pgs_hub.hub.client.codelists import cache_path
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.desk.conftest import GH, NG, enrol_folder, open_desk
from tests.e2e.harness import RunningHub
from tests.e2e.messages import example

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
VECTORS = Path(__file__).parents[1] / "vectors" / "unlocode"
MISSING = "The hub has no UN/LOCODE list yet; ask your operator."


async def import_release(hub: RunningHub) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pgs_hub", "admin", "codelists", "import-unlocode",
        str(VECTORS / "part1.csv"), str(VECTORS / "part2-latin1.csv"), "--home", str(hub.home),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PGS_LANG": "en"},
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, out.decode()


async def test_picker_before_and_after_import_and_reading(hub: RunningHub, tmp_path: Path) -> None:
    await enrol_folder(hub, NG, "ncp", tmp_path / "ng")
    await enrol_folder(hub, GH, "ncp", tmp_path / "gh")
    async with open_desk(hub, tmp_path / "ng") as ng:
        await ng.sign_in()
        async with ng.session.get(ng.base + "/compose/alert") as resp:
            assert resp.status == 200
            page = await resp.text()
        assert MISSING in page
        async with ng.session.get(ng.base + "/places?q=lag&country=NG") as resp:
            assert await resp.json() == []

        await import_release(hub)

        async with ng.session.get(ng.base + "/compose/alert") as resp:
            page = await resp.text()
        assert MISSING not in page
        assert cache_path(tmp_path / "ng").is_file()  # the whole list, kept on this computer

        async def search(query: str, country: str = "") -> list[dict[str, str]]:
            url = f"{ng.base}/places?q={query}&country={country}"
            async with ng.session.get(url) as resp:
                assert resp.status == 200
                found: list[dict[str, str]] = await resp.json()
                return found

        found = await search("lag", "NG")
        assert found[0]["value"] == "NGLOS"
        assert found[0]["label"].startswith("Lagos (Nigeria)")
        assert [c["value"] for c in await search("NGLOS")][:1] == ["NGLOS"]
        assert [c["value"] for c in await search("los", "NG")][:1] == ["NGLOS"]
        assert [c["value"] for c in await search("etienne", "FR")] == ["FREBU"]
        assert await search("lag", "GH") == []  # filtered to the chosen country
        everything_in_ng = [c["value"] for c in await search("", "NG")]
        assert set(everything_in_ng) == {"NGABV", "NGAPP", "NGIKJ", "NGLOS"}
        # Seizure form pre-filled with the officer's country: its places are offered at once.
        async with ng.session.get(ng.base + "/compose/seizure") as resp:
            page = await resp.text()
        assert '<option value="NGLOS">Lagos (Nigeria)' in page
        async with ng.session.get(ng.base + "/lang/fr", allow_redirects=False) as resp:
            assert resp.status == 303
        assert [c["label"] for c in await search("anvers", "")] == []  # names as UNECE writes them
        assert (await search("antw", "BE"))[0]["label"].startswith("Antwerpen (Belgique)")

    async with hub.client(NG) as client:
        sealed, _ = await client.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH]
        )
    async with open_desk(hub, tmp_path / "gh") as gh:
        await gh.sign_in()
        mailbox = gh.desk.mailbox
        assert mailbox is not None
        for _ in range(100):
            if sealed.header.mid in mailbox.messages:
                break
            await asyncio.sleep(0.05)
        async with gh.session.get(f"{gh.base}/m/{sealed.header.mid}") as resp:
            page = await resp.text()
        assert "NGLOS</bdi></code> · Lagos (Nigeria)" in page
        assert "GHTEM</bdi></code> · Tema (Ghana)" in page
        assert "a place in Togo" in page  # TGLFW: not in the list
