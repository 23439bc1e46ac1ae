"""The officer's command line on a real hub: ``pgs read`` for people, ``pgs inbox`` with subjects,
read state and short ids, ``pgs watch`` resuming from its saved cursor, ``pgs new`` templates,
and the same commands in French without English left in them."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pgs_hub.hub.cli.mailstate import STATE_FILE, match_prefix, short_ids
from pgs_hub.hub.cli.templates import PLACEHOLDER, TEMPLATE_KINDS, placeholders, template
from pgs_hub.hub.i18n import CATALOGUE, LANGS, t
from pgs_hub.protocols.errors import MessageValidationError
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import parse_message
from tests.e2e.harness import RunningHub, launch
from tests.hub.test_cli_mistakes import pgs

NG, GH = "NG-NCP-LAGOS", "GH-NCP-ACCRA"
ALERT = {
    "subject": "Ammonium nitrate, 24 t, Lagos to Tema",
    "lines": [
        {
            "commodity": "AN",
            "description": "Ammonium nitrate in 50 kg bags",
            "quantity": {"value": 24, "unit": "TNE"},
            "hs": "3102.30",
            "un_number": "1942",
        }
    ],
    "shipment": {
        "mode": "sea",
        "route": {
            "origin": {"country": "NG", "locode": "NGLOS"},
            "destination": {"country": "GH", "locode": "GHTEM"},
        },
    },
    "action_requested": "inspect",
    "evaluation": {"source": "B", "information": "2"},
}
RFI = {"subject": "Consignee of the Tema shipment", "question": "Who owns Goldcoast Farm?"}

# Words that give away an English line in a French output (user data such as subjects aside).
ENGLISH_MARKERS = re.compile(
    r"\b(error|from|the|and|sent|read receipt|inbox|subject|commodity|quantity|shipment|"
    r"handling|signature verified|verified:|expires|next cursor|resuming|wrote|replace|"
    r"nothing|cannot|refused|is not|must be|already exists|goods|origin)\b",
    re.IGNORECASE,
)


@dataclass
class Desk:
    root: Path
    hub: RunningHub
    alert: str
    rfi: str

    def args(self, who: str) -> list[str]:
        return [
            "--hub", self.hub.url, "--authority",
            str(self.hub.home / "authority" / "authority.jwk.json"),
            "--keys", str(self.hub.home / "people" / who),
        ]  # fmt: skip


async def _world(root: Path) -> tuple[RunningHub, str, str]:
    hub = await launch(root / "hub", f"sqlite+aiosqlite:///{root / 'hub' / 'hub.db'}")
    await hub.enrol(NG, "ncp")
    await hub.enrol(GH, "ncp")
    async with hub.client(NG) as client:
        alert, _ = await client.send(
            kind=MessageKind.ALERT, content=parse_message(MessageKind.ALERT, ALERT), to=[GH]
        )
        rfi, _ = await client.send(
            kind=MessageKind.RFI, content=parse_message(MessageKind.RFI, RFI), to=[GH],
            tlp=Tlp.RED,
        )  # fmt: skip
    return hub, alert.header.mid, rfi.header.mid


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    root = tmp_path_factory.mktemp("desk")
    hub, alert, rfi = asyncio.run(_world(root))
    try:
        yield Desk(root, hub, alert, rfi)
    finally:
        assert hub.stop() == 0


def _ids_in(text: str) -> list[str]:
    return re.findall(r"\b[0-9a-f]{8}[0-9a-f-]*\b", text)


def test_inbox_shows_subjects_unread_state_and_short_ids_that_read_accepts(desk: Desk) -> None:
    before = pgs("inbox", *desk.args(GH), cwd=desk.root)
    assert before.returncode == 0, before.stderr
    assert ALERT["subject"] in before.stdout  # decrypted here, not by the hub
    assert RFI["subject"] in before.stdout
    rows = [line for line in before.stdout.splitlines() if desk.alert[:8] in line]
    assert len(rows) == 1
    assert " new " in rows[0]
    short = next(i for i in _ids_in(rows[0]) if desk.alert.startswith(i))
    assert len(short) < len(desk.alert)

    read = pgs("read", short, "--no-ack", *desk.args(GH), cwd=desk.root)
    assert read.returncode == 0, read.stderr
    assert desk.alert in read.stdout

    after = pgs("inbox", *desk.args(GH), cwd=desk.root)
    row = next(line for line in after.stdout.splitlines() if desk.alert[:8] in line)
    assert " read " in row
    other = next(line for line in after.stdout.splitlines() if desk.rfi[:8] in line)
    assert " new " in other
    full = pgs("inbox", "--full-ids", *desk.args(GH), cwd=desk.root)
    assert desk.alert in full.stdout
    assert desk.rfi in full.stdout


def test_read_renders_the_message_for_people(desk: Desk) -> None:
    done = pgs("read", desk.alert, *desk.args(GH), cwd=desk.root)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "Commodity: AN - Ammonium nitrate" in text
    assert "Quantity: 24 TNE - tonne (metric ton)" in text
    assert "HS code: 3102.30 - Ammonium nitrate" in text
    assert "UN number: 1942 - Ammonium nitrate" in text
    assert "Country: NG - Nigeria" in text
    assert "UN/LOCODE: GHTEM - a place in GH - Ghana" in text
    assert "Action requested: inspect" in text
    assert "TLP:AMBER - share within your organisation" in text
    assert "B2 (B: source usually reliable; 2: known personally to the source)" in text
    assert f"verified: signed by {NG}" in text
    assert f"read receipt sent to {NG}" in text
    assert "{" not in text  # no raw JSON


def test_read_in_french(desk: Desk) -> None:
    done = pgs("read", desk.rfi, "--lang", "fr", "--no-ack", *desk.args(GH), cwd=desk.root)
    assert done.returncode == 0, done.stderr
    assert "demande d'information" in done.stdout
    assert "TLP:RED - pour les seuls destinataires nommés" in done.stdout
    assert "Priorité : normale" in done.stdout
    assert "Signature" in done.stdout
    assert "vérifiée : signée par" in done.stdout
    content = done.stdout.replace(RFI["subject"], "").replace(RFI["question"], "")
    assert not ENGLISH_MARKERS.findall(content), ENGLISH_MARKERS.findall(content)


def test_read_json_keeps_the_raw_form(desk: Desk) -> None:
    done = pgs("read", desk.alert, "--json", "--no-ack", *desk.args(GH), cwd=desk.root)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["header"]["mid"] == desk.alert
    assert doc["content"]["lines"][0]["commodity"] == "AN"


def test_watch_resumes_from_the_cursor_saved_in_the_keys_folder(desk: Desk) -> None:
    keys = desk.hub.home / "people" / GH
    (keys / STATE_FILE).unlink(missing_ok=True)
    first = pgs("watch", "--count", "1", *desk.args(GH), cwd=desk.root)
    assert first.returncode == 0, first.stderr
    assert desk.alert in first.stdout
    saved = json.loads((keys / STATE_FILE).read_text())
    cursor = saved[desk.hub.url]["cursor"]
    assert cursor > 0
    second = pgs("watch", "--count", "1", *desk.args(GH), cwd=desk.root)
    assert second.returncode == 0, second.stderr
    assert f"resuming after cursor {cursor}" in second.stderr
    assert desk.rfi in second.stdout
    assert desk.alert not in second.stdout
    assert json.loads((keys / STATE_FILE).read_text())[desk.hub.url]["cursor"] > cursor
    again = pgs("watch", "--count", "1", "--after", "0", "--json", *desk.args(GH), cwd=desk.root)
    assert json.loads(again.stdout)["mid"] == desk.alert  # --after still wins


@pytest.mark.parametrize("kind", TEMPLATE_KINDS)
def test_a_template_is_valid_but_for_its_placeholders(kind: str) -> None:
    doc = template(kind, today=dt.date(2026, 3, 1))
    marked = set(placeholders(doc))
    assert marked
    try:
        parse_message(kind, doc)
    except MessageValidationError as exc:
        wrong = {p.pointer for p in exc.problems}
        assert wrong <= marked, wrong - marked
    filled = json.loads(json.dumps(doc).replace(f"{PLACEHOLDER}: ", "Filled: "))
    if kind == "reply":
        filled["in_reply_to"]["mid"] = "0f0e0d0c-0b0a-4909-8807-060504030201"
    parse_message(kind, filled)


def test_new_writes_a_template_and_send_refuses_it_until_it_is_filled(tmp_path: Path) -> None:
    done = pgs("new", "seizure", "-o", "s.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "CHANGE-ME /subject" in done.stdout
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["lines"][0]["commodity"] == "AN"
    refused = pgs("validate", "--kind", "seizure", "s.json", cwd=tmp_path)
    assert refused.returncode == 1
    assert "/subject" in refused.stderr


def test_new_interactive_asks_field_by_field_and_asks_again_when_wrong(tmp_path: Path) -> None:
    answers = "\n".join([
        "Precursors at Tema", "XX", "Ammonium nitrate", "24", "TNE",  # XX is not a commodity
        "sea", "NG", "GH", "inspect",
        "Precursors at Tema", "AN", "Ammonium nitrate", "24", "TNE", "sea", "NG", "GH", "inspect",
    ]) + "\n"  # fmt: skip
    done = pgs("new", "alert", "--interactive", "-o", "a.json", cwd=tmp_path, stdin=answers)
    assert done.returncode == 0, done.stderr
    assert "/lines/0/commodity" in done.stderr
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["lines"][0]["commodity"] == "AN"
    parse_message("alert", doc)
    assert pgs("validate", "--kind", "alert", "a.json", cwd=tmp_path).returncode == 0


def test_short_ids_grow_until_unique() -> None:
    ids = ["abcdef01-1111", "abcdef01-2222", "12345678-0000"]
    found = short_ids(ids)
    assert found["12345678-0000"] == "12345678"
    assert found["abcdef01-1111"] == "abcdef01-1"
    assert found["abcdef01-2222"] == "abcdef01-2"


def test_a_prefix_names_one_message_or_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGS_LANG", "en")
    ids = ["abcdef01-1111", "abcdef01-2222", "12345678-0000"]
    assert match_prefix("1234", ids) == "12345678-0000"
    assert match_prefix("ABCDEF01-2", ids) == "abcdef01-2222"
    for prefix, says in (("abcd", "ambiguous: it starts 2 message ids"), ("9999", "no message")):
        with pytest.raises(SystemExit) as exited:
            match_prefix(prefix, ids)
        assert exited.value.code == 1
        err = capsys.readouterr().err
        assert says in err
        assert err.strip().count("\n") == 0


def test_every_cli_text_has_every_language() -> None:
    for key, entry in CATALOGUE.items():
        assert set(entry) == set(LANGS), key
        for text in entry.values():
            assert text.strip(), key
            assert sorted(re.findall(r"{(\w+)", entry["en"])) == sorted(re.findall(r"{(\w+)", text))


def test_the_main_commands_in_french_leave_no_english(desk: Desk) -> None:
    runs = [
        pgs("inbox", *desk.args(GH), cwd=desk.root, env={"PGS_LANG": "fr"}),
        pgs("watch", "--count", "1", "--after", "0", *desk.args(GH), cwd=desk.root,
            env={"PGS_LANG": "fr"}),
        pgs("new", "rfi", "-o", str(desk.root / f"rfi-{time.time_ns()}.json"), cwd=desk.root,
            env={"PGS_LANG": "fr"}),
        pgs("directory", *desk.args(GH), cwd=desk.root, env={"PGS_LANG": "fr"}),
        pgs("keygen", "SN-NCP-DAKAR", "--out", str(desk.root / f"k-{time.time_ns()}"),
            cwd=desk.root, env={"PGS_LANG": "fr"}),
        pgs("key", "show", str(desk.hub.home / "people" / GH), cwd=desk.root,
            env={"PGS_LANG": "fr"}),
    ]  # fmt: skip
    for done in runs:
        assert done.returncode == 0, done.stderr
        text = (done.stdout + done.stderr).replace(ALERT["subject"], "")
        text = text.replace(RFI["subject"], "").replace("--kind", "").replace("--to", "")
        text = re.sub(r"/[\w/.-]+", "", text)  # paths and JSON Pointers are not sentences
        assert not ENGLISH_MARKERS.findall(text), (ENGLISH_MARKERS.findall(text), text)


def _without_user_data(text: str) -> str:
    """``text`` without what the demo's officers wrote (their messages are in English) and
    without the JSON the offline demo shows (wire field names)."""
    from pgs_hub.hub.demo.content import demo_content

    written: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            written.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for kind in (MessageKind.ALERT, MessageKind.SEIZURE, MessageKind.NOTICE):
        walk(demo_content(kind).model_dump(mode="json"))
    for value in sorted(written, key=len, reverse=True):
        if len(value) > 3:
            text = text.replace(value, "")
    return "\n".join(line for line in text.splitlines() if '"' not in line)


@pytest.mark.parametrize("mode", [(), ("--offline",)], ids=["hub", "offline"])
def test_the_demo_in_french_leaves_no_english(tmp_path: Path, mode: tuple[str, ...]) -> None:
    done = pgs("demo", *mode, "--home", str(tmp_path / "demo"), cwd=tmp_path,
               env={"PGS_LANG": "fr"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = _without_user_data(done.stdout)
    assert "Terminé" in text
    left = [line for line in text.splitlines() if ENGLISH_MARKERS.search(line)]
    assert not left, "\n".join(left)


def test_open_renders_an_envelope_offline(tmp_path: Path) -> None:
    import shutil

    from pgs_hub.hub import keystore
    from pgs_hub.protocols.envelope import seal_message

    ng = keystore.create(tmp_path / "NG", NG, None)
    gh = keystore.create(tmp_path / "GH", GH, None)
    (tmp_path / "directory").mkdir()
    shutil.copy(tmp_path / "NG" / "public.jwks.json", tmp_path / "directory" / f"{NG}.jwks.json")
    sealed = seal_message(
        sender_id=NG, signer=ng.signing, recipients=[(GH, gh.decryption.public)],
        kind=MessageKind.ALERT, content=parse_message(MessageKind.ALERT, ALERT), tlp=Tlp.GREEN,
        now=int(time.time()),
    )  # fmt: skip
    (tmp_path / "env.json").write_bytes(sealed.raw)
    done = pgs("open", "env.json", "--keys", "GH", "--directory", "directory", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Commodity: AN - Ammonium nitrate" in done.stdout
    assert "TLP:GREEN - share within your community" in done.stdout
    assert f"verified against the directory key of {NG}" in done.stdout


@pytest.mark.parametrize("lang", ["es", "pt", "ar"])
def test_the_main_commands_in_spanish_portuguese_and_arabic(desk: Desk, lang: str) -> None:
    """The same commands as in French, in the WCO's other languages: no English sentence left,
    no traceback, and the catalog's own texts on screen."""
    env = {"PGS_LANG": lang}
    runs = {
        "inbox": pgs("inbox", *desk.args(GH), cwd=desk.root, env=env),
        "read": pgs("read", desk.alert, *desk.args(GH), cwd=desk.root, env=env),
        "new": pgs("new", "rfi", "-o", str(desk.root / f"rfi-{lang}-{time.time_ns()}.json"),
                   cwd=desk.root, env=env),
        "directory": pgs("directory", *desk.args(GH), cwd=desk.root, env=env),
        "key": pgs("key", "show", str(desk.hub.home / "people" / GH), cwd=desk.root, env=env),
    }  # fmt: skip
    for name, done in runs.items():
        assert done.returncode == 0, (name, done.stderr)
        assert "Traceback" not in done.stderr, name
        text = (done.stdout + done.stderr).replace(ALERT["subject"], "")
        text = text.replace(RFI["subject"], "").replace("--kind", "").replace("--to", "")
        text = re.sub(r"/[\w/.-]+", "", text)
        text = text.replace("Ammonium nitrate", "")  # code-list names exist in English and French
        assert not ENGLISH_MARKERS.findall(text), (name, ENGLISH_MARKERS.findall(text), text)
    assert t("cli.inbox.subject", lang) in runs["inbox"].stdout
    assert t("cli.read.source.B", lang) in runs["read"].stdout
    assert t("cli.dir.country", lang) in runs["directory"].stdout
    assert t("cli.keys.protected_no", lang) in runs["key"].stdout
    if lang == "ar":
        assert re.search("[\u0600-\u06ff]", runs["read"].stdout)


@pytest.mark.parametrize("lang", ["es", "pt", "ar"])
def test_mistakes_in_the_other_languages_are_one_plain_line(desk: Desk, lang: str) -> None:
    """A few common mistakes (nothing listening, unknown message, a file that is not JSON, a bad
    participant id): one line with the language's error prefix, exit 1, no traceback (a
    message's field problems are listed above that line, indented)."""
    (desk.root / "broken.json").write_text("{not json")
    args = desk.args(GH)
    nowhere = [*args[:0], "--hub", "http://127.0.0.1:9", *args[2:]]
    runs = [
        pgs("inbox", *nowhere, cwd=desk.root, env={"PGS_LANG": lang}),
        pgs("read", "ffffffff", *args, cwd=desk.root, env={"PGS_LANG": lang}),
        pgs("validate", "--kind", "alert", "broken.json", cwd=desk.root, env={"PGS_LANG": lang}),
        pgs("send", "broken.json", "--kind", "alert", "--to", "not-an-id", *args, cwd=desk.root,
            env={"PGS_LANG": lang}),
    ]  # fmt: skip
    for done in runs:
        assert done.returncode == 1, (done.args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        *details, last = done.stderr.rstrip().splitlines()
        assert last.startswith(t("cli.error.prefix", lang)), done.stderr
        assert all(line.startswith("  ") for line in details), done.stderr


@pytest.mark.parametrize("lang", ["es", "pt", "ar"])
def test_the_offline_demo_in_the_other_languages(tmp_path: Path, lang: str) -> None:
    done = pgs("demo", "--offline", "--lang", lang, "--home", str(tmp_path / "demo"),
               cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = _without_user_data(done.stdout)
    assert t("demo.title", lang) in text
    left = [line for line in text.splitlines() if ENGLISH_MARKERS.search(line)]
    assert not left, "\n".join(left)


def test_pgs_console_links_open_the_console_in_the_officer_s_language(desk: Desk) -> None:
    done = pgs("console", *desk.args(GH), cwd=desk.root, env={"PGS_LANG": "ar"})
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip().splitlines()[-1]
    assert url.startswith(desk.hub.url + "/console/login/")
    assert url.endswith("?lang=ar")

    async def confirmation_page() -> str:
        import aiohttp

        async with aiohttp.ClientSession() as browser, browser.get(url) as page:
            assert page.status == 200
            return await page.text()

    html = asyncio.run(confirmation_page())
    assert '<html lang="ar" dir="rtl">' in html
    assert t("console.login.title", "ar") in html
    english = pgs("console", *desk.args(GH), cwd=desk.root)
    assert english.stdout.strip().splitlines()[-1].rsplit("/", 1)[1].isascii()
    assert "?lang=" not in english.stdout
