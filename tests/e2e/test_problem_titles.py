"""Problem documents give their title in the client's language (``title``, the catalogs'
``error.<code>`` for a hub code, RFC 9457 one title per problem type); ``detail`` and the stable
``code`` stay as they are."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.i18n import t
from tests.e2e.harness import RunningHub


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the title is the edge's, not storage's."""
    return f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"


async def test_the_title_follows_accept_language(hub: RunningHub) -> None:
    url = hub.url + "/v1/envelopes/00000000-0000-4000-8000-000000000000"  # unsigned: 401
    answers = {}
    async with aiohttp.ClientSession() as session:
        for accept in ("", "ar", "fr-CA, en;q=0.5", "es;q=0.2, pt", "de"):
            headers = {"Accept-Language": accept} if accept else {}
            async with session.get(url, headers=headers) as resp:
                assert resp.status == 401
                assert resp.content_type == "application/problem+json"
                assert "Accept-Language" in resp.headers.getall("Vary", [])
                answers[accept] = (await resp.json(), resp.headers.get("Content-Language"))
    english, language = answers[""]
    code = Code(english["code"])
    assert english["title"] == t(code.title_key, "en")
    assert language is None
    for accept, lang in (("ar", "ar"), ("fr-CA, en;q=0.5", "fr"), ("es;q=0.2, pt", "pt")):
        body, language = answers[accept]
        assert body["title"] == t(code.title_key, lang) != english["title"], accept
        assert language == lang
        assert {k: v for k, v in body.items() if k != "title"} == {
            k: v for k, v in english.items() if k != "title"
        }
    assert answers["de"][0] == english  # a language not shipped: English
