"""UN/LOCODE end to end, against a real hub process: the operator imports UNECE's release
(synthetic rows in its layout, tests/vectors/unlocode) with `pgs admin codelists import-unlocode`,
the hub serves the whole list with an ETag (304 when unchanged), a participant that is not
enrolled is refused, and `pgs read` names the places from the copy kept in the keys folder."""

from __future__ import annotations

import asyncio
import os
import sys
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pgs_hub.hub import keystore
from pgs_hub.hub.client import HubClient, HubClientError
from pgs_hub.hub.client.codelists import cache_path, cached, refresh
from pgs_hub.hub.i18n import t
from pgs_hub.hub.services.codelists import unlocode_path
from pgs_hub.protocols import unlocode
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import RunningHub, launched
from tests.e2e.messages import example

NG, GH, STRANGER = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "NG-NCP-KANO"
VECTORS = Path(__file__).parents[1] / "vectors" / "unlocode"
pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
async def hub(database_url: str, tmp_path: Path) -> AsyncIterator[RunningHub]:
    async with launched(tmp_path / "home", database_url, ncps=(NG, GH)) as running:
        yield running


async def pgs(*args: str, lang: str = "en") -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pgs_hub", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "300", "PGS_LANG": lang},
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode()


def release(tmp_path: Path) -> Path:
    """The two synthetic parts in a zip named as UNECE names its release."""
    path = tmp_path / "loc242csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(VECTORS / "part1.csv", "2024-2 UNLOCODE CodeListPart1.csv")
        archive.write(VECTORS / "part2-latin1.csv", "2024-2 UNLOCODE CodeListPart2.csv")
        archive.writestr("2024-2 SubdivisionCodes.csv", "not, read\n")
    return path


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_bad_files_are_one_line_and_change_nothing(
    hub: RunningHub, tmp_path: Path, lang: str
) -> None:
    empty_zip = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty_zip, "w") as archive:
        archive.writestr("readme.txt", "nothing")
    for bad in (VECTORS / "not-unlocode.csv", VECTORS / "README.md", empty_zip):
        code, out = await pgs(
            "admin", "codelists", "import-unlocode", str(bad), "--home", str(hub.home), lang=lang
        )
        assert code != 0, out
        assert "Traceback" not in out
        assert len(out.strip().splitlines()) == 1, out
        assert bad.name in out
        assert not unlocode_path(hub.home).exists()
        assert not list(unlocode_path(hub.home).parent.glob(".unlocode-*"))
    code, out = await pgs(
        "admin", "codelists", "import-unlocode", str(VECTORS / "part1.csv"),
        "--home", str(tmp_path / "nowhere"), lang=lang,
    )  # fmt: skip
    assert code != 0
    assert len(out.strip().splitlines()) == 1, out


async def test_import_serve_304_and_refuse_a_stranger(hub: RunningHub, tmp_path: Path) -> None:
    async with hub.client(NG) as client:
        with pytest.raises(HubClientError) as missing:
            await client.unlocode()
        assert (missing.value.status, missing.value.code) == (404, "codelist.not_imported")

    code, out = await pgs(
        "admin", "codelists", "import-unlocode", str(release(tmp_path)), "--home", str(hub.home)
    )
    assert code == 0, out
    assert t("cli.codelists.imported", "en") in out
    assert t("cli.codelists.skip.removed", "en") in out
    assert "2024-2" in out
    stored = unlocode.loads(unlocode_path(hub.home).read_bytes())
    assert stored.version == "2024-2"
    assert stored.get("NGLOS") is not None

    async with hub.client(NG) as client:
        places = await client.unlocode()
        assert places is not None
        assert places == stored
        assert await client.unlocode(unlocode.sha256(places)) is None  # 304: unchanged
        assert await client.unlocode("0" * 64) == stored  # another ETag: the whole list again

    # The keys folder's copy: downloaded once, then kept (a 304 leaves it as it is).
    folder = hub.home / "people" / NG
    async with hub.client(NG) as client:
        assert await refresh(client, folder) == stored
        written = cache_path(folder).stat().st_mtime_ns
        assert await refresh(client, folder) == stored
    assert cache_path(folder).stat().st_mtime_ns == written
    assert cached(folder) == stored

    stranger = keystore.create(tmp_path / "stranger", STRANGER, None)
    async with HubClient(hub.url, stranger, authority=hub.authority.public) as client:
        with pytest.raises(HubClientError) as refused:
            await client.unlocode()
        assert refused.value.status in {401, 403}


async def test_pgs_read_names_the_places(hub: RunningHub, tmp_path: Path) -> None:
    async with hub.client(NG) as client:
        sealed, _ = await client.send(
            kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH]
        )
    keys = ("--hub", hub.url, "--keys", str(hub.home / "people" / GH),
            "--authority", str(hub.home / "authority" / "authority.jwk.json"))  # fmt: skip
    code, before = await pgs("read", sealed.header.mid, *keys)
    assert code == 0, before
    assert "NGLOS - Lagos" not in before
    assert "NGLOS - " + t("cli.read.locode_in", "en", country="NG - Nigeria") in before

    code, out = await pgs(
        "admin", "codelists", "import-unlocode", str(VECTORS / "part1.csv"),
        str(VECTORS / "part2-latin1.csv"), "--issue", "2024-2", "--home", str(hub.home),
    )  # fmt: skip
    assert code == 0, out
    code, after = await pgs("read", sealed.header.mid, *keys)
    assert code == 0, after
    assert "NGLOS - Lagos (Nigeria)" in after
    assert "GHTEM - Tema (Ghana)" in after
    assert "TGLFW - " + t("cli.read.locode_in", "en", country="TG - Togo") in after
    code, french = await pgs("read", sealed.header.mid, *keys, lang="fr")
    assert code == 0, french
    assert "NGLOS - Lagos (Nigéria)" in french
