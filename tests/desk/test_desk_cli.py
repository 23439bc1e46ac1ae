"""``pgs desk`` as an officer starts it: it prints a one-time link to a server on 127.0.0.1 and
keeps running; mistakes end with one plain line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from pgs_hub.hub import keystore
from tests.e2e.harness import RunningHub


def _pgs(*args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "pgs_hub", *args], capture_output=True, text=True, timeout=60,
        check=False, env={**os.environ, "PGS_LANG": lang},
    )  # fmt: skip


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_pgs_desk_prints_a_working_one_time_link(hub: RunningHub, tmp_path: Path) -> None:
    keystore.create(tmp_path / "keys", "NG-NCP-LAGOS", None)
    authority = hub.home / "authority" / "authority.jwk.json"
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "pgs_hub", "desk", "--keys", str(tmp_path / "keys"),
         "--hub", hub.url, "--authority", str(authority), "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        link = process.stdout.readline().strip()
        assert link.startswith("http://127.0.0.1:")
        assert "?token=" in link
        async with aiohttp.ClientSession() as session:
            async with session.get(link, allow_redirects=False) as resp:
                assert resp.status == 303
                assert resp.headers["Location"] == "/unlock"
            async with session.get(link, allow_redirects=False) as resp:
                assert resp.status == 403
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=20)
    assert "Traceback" not in errors


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--keys", "{tmp}/none", "--hub", "http://127.0.0.1:9"], "none"),
        (["--keys", "{tmp}", "--hub", "127.0.0.1:9"], "http"),
        (["--keys", "{tmp}/keys", "--hub", "http://127.0.0.1:9", "--port", "99999"], "99999"),
        (
            [
                "--keys",
                "{tmp}/keys",
                "--hub",
                "http://127.0.0.1:9",
                "--authority",
                "{tmp}/keys/participant.json",
            ],
            "not a registry-authority key",
        ),
    ],
    ids=["missing-keys", "url-without-scheme", "bad-port", "garbage-authority"],
)
def test_mistakes_are_one_plain_line(tmp_path: Path, args: list[str], expected: str) -> None:
    keystore.create(tmp_path / "keys", "NG-NCP-LAGOS", None)
    authority = tmp_path / "authority.jwk.json"
    authority.write_text('{"kty": "OKP", "crv": "Ed25519", "x": "' + "A" * 43 + '"}')
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = _pgs("desk", "--authority", str(authority), *args, "--no-browser")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert expected in result.stderr.lower()


async def test_a_hub_out_of_reach_is_a_clear_page(tmp_path: Path) -> None:
    """The keys unlock, the hub does not answer: the unlock page says so, the keys are dropped."""
    from pgs_hub.hub.desk.app import Desk, start
    from tests.desk.conftest import OpenDesk
    from tests.e2e.harness import free_port

    keystore.create(tmp_path / "keys", "NG-NCP-LAGOS", None)
    desk = Desk(keys=tmp_path / "keys", hub_url=f"http://127.0.0.1:{free_port()}", authority=None)
    runner, url = await start(desk)
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            opened = OpenDesk(url, f"http://127.0.0.1:{desk.gate.port}", desk, session)
            async with session.get(url, allow_redirects=False) as resp:
                assert resp.status == 303
            csrf = await opened.csrf("/unlock")
            async with await opened.post("/unlock", {"csrf": csrf}) as resp:
                assert resp.status == 502
                page = await resp.text()
        assert "the hub refused or could not be reached" in page
        assert "hub.unreachable" in page
        assert "Traceback" not in page
        assert not desk.unlocked
    finally:
        await runner.cleanup()


def test_mistakes_in_french(tmp_path: Path) -> None:
    keystore.create(tmp_path / "keys", "NG-NCP-LAGOS", None)
    garbage = str(tmp_path / "keys" / "participant.json")
    result = _pgs("desk", "--keys", str(tmp_path / "keys"), "--hub", "http://127.0.0.1:9",
                  "--authority", garbage, "--no-browser", lang="fr")  # fmt: skip
    assert result.returncode != 0
    assert "n'est pas une clé d'autorité d'enregistrement" in result.stderr
    assert "Traceback" not in result.stderr
