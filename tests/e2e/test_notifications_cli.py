"""``pgs notifications show/set`` for a participant's own settings and ``pgs notifications
deliveries`` for auditors, against a real hub: what is set is what the hub answers, a mistake
is one plain line (English or French) and a non-zero exit, and a participant who is not an
auditor cannot list deliveries."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pgs_hub.hub.i18n import t
from tests.e2e.harness import RunningHub, launched

GH, AUDITOR = "GH-NCP-ACCRA", "GH-AUDIT"
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def hub(database_url: str, tmp_path: Path) -> AsyncIterator[RunningHub]:
    async with launched(tmp_path / "home", database_url, ncps=(GH,)) as running:
        await running.enrol(AUDITOR, "auditor", "GH")
        yield running


async def pgs(hub: RunningHub, who: str, *args: str, lang: str = "en") -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pgs_hub", "notifications", *args, "--hub", hub.url,
        "--keys", str(hub.home / "people" / who),
        "--authority", str(hub.home / "authority" / "authority.jwk.json"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "300", "PGS_LANG": lang},
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_set_then_show_and_mistakes_in_one_plain_line(hub: RunningHub) -> None:
    code, out = await pgs(
        hub, GH, "set", "--email", "duty@customs.gh.example", "--language", "fr", "--details",
        "--digest-minutes", "30", "--quiet", "22:00-06:00", "--timezone", "Africa/Accra",
    )  # fmt: skip
    assert code == 0, out
    assert t("notify.settings.saved", "en", who=GH) in out
    code, out = await pgs(hub, GH, "show", "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert {k: doc[k] for k in ("email", "webhook", "language", "details", "digest_minutes")} == {
        "email": "duty@customs.gh.example", "webhook": None, "language": "fr", "details": True,
        "digest_minutes": 30,
    }  # fmt: skip
    assert (doc["quiet_hours"], doc["timezone"]) == (
        {"start": "22:00", "end": "06:00"},
        "Africa/Accra",
    )
    code, out = await pgs(hub, GH, "show", lang="fr")
    assert code == 0, out
    assert t("notify.settings.digest", "fr", n=30) in out
    assert t("notify.settings.quiet", "fr", start="22:00", end="06:00", tz="Africa/Accra") in out

    # Partial change: the rest stays.
    code, out = await pgs(hub, GH, "set", "--quiet", "off", "--email", "")
    assert code == 0, out
    code, out = await pgs(hub, GH, "show", "--json")
    doc = json.loads(out)
    assert (doc["email"], doc["quiet_hours"], doc["digest_minutes"]) == (None, None, 30)

    for args, lang, expected in [
        (("set", "--timezone", "Mars/Olympus"), "en", "notifications.invalid"),
        (("set", "--quiet", "late"), "en", t("notify.settings.bad_quiet", "en")),
        (("set",), "fr", t("notify.settings.nothing", "fr")),
        (("set", "--webhook", "ftp://x.example"), "fr", "notifications.invalid"),
    ]:
        code, out = await pgs(hub, GH, *args, lang=lang)
        assert code != 0, out
        assert expected in out, out
        assert len(out.strip().splitlines()) == 1, out  # one plain line, no traceback
        assert "Traceback" not in out


async def test_only_auditors_list_deliveries(hub: RunningHub) -> None:
    code, out = await pgs(hub, AUDITOR, "deliveries")
    assert code == 0, out
    assert t("notify.deliveries.none", "en", after=0) in out
    code, out = await pgs(hub, GH, "deliveries")
    assert code != 0
    assert "audit.forbidden" in out
    assert len(out.strip().splitlines()) == 1, out
    code, out = await pgs(hub, AUDITOR, "set", "--language", "fr")
    assert code != 0
    assert "notifications.forbidden" in out
