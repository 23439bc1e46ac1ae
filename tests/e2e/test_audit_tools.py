"""The auditor's and the participant's log tools as users run them: `pgs audit verify` (global
and country-scoped, resumable), `pgs audit log` / `export`, and `pgs evidence get` / `verify`,
each as a `python -m pgs_hub …` subprocess against a real hub on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import io
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from pgs_hub.crypto.merkle import InMemoryTree, leaf_hash
from pgs_hub.crypto.note import parse_verifier_key, verify_checkpoint
from pgs_hub.hub.client import HubClientError
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from tests.e2e.harness import RunningHub
from tests.e2e.messages import example

NG, GH, CM, WCO = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "CM-NCP-DOUALA", "WCO-PGS-BRUSSELS"
AUDITOR, GH_AUDITOR = "WCO-AUDIT", "GH-AUDIT"


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def line(self) -> str:
        return (self.out + self.err).strip()


async def pgs(*args: str | Path) -> Ran:
    """``python -m pgs_hub ARGS`` in a subprocess (the event loop stays free)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pgs_hub", *map(str, args),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


def log_key(hub: RunningHub) -> str:
    import tomllib

    return str(tomllib.loads((hub.home / "config.toml").read_text())["log"]["verifier_key"])


def connection(hub: RunningHub, who: str) -> list[str | Path]:
    """--hub, --keys, --authority and --log-key for participant ``who``."""
    return [
        "--hub", hub.url, "--keys", hub.home / "people" / who,
        "--authority", hub.home / "authority" / "authority.jwk.json", "--log-key", log_key(hub),
    ]  # fmt: skip


async def verify(hub: RunningHub, who: str, state: Path, *extra: str) -> Ran:
    return await pgs("audit", "verify", *connection(hub, who), "--state", state, *extra)


async def enrol_world(hub: RunningHub) -> None:
    for pid in (NG, GH, CM):
        await hub.enrol(pid, "ncp")
    await hub.enrol(WCO, "wco")
    await hub.enrol(AUDITOR, "auditor")
    await hub.enrol(GH_AUDITOR, "auditor", scope="GH")


async def exchange(hub: RunningHub, rounds: int) -> list[str]:
    """``rounds`` alerts NG → GH, WCO (and every other one CM → NG), acknowledged: four or five
    log entries each, plus a refused fetch every third round (a security event, not an entry)."""
    mids: list[str] = []
    async with hub.client(NG) as ng, hub.client(GH) as gh, hub.client(CM) as cm:
        for i in range(rounds):
            sealed, _ = await ng.send(
                kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH, WCO]
            )
            mids.append(sealed.header.mid)
            await gh.ack(sealed.header.mid, ReceiptStatus.DELIVERED)
            await gh.ack(sealed.header.mid, ReceiptStatus.READ)
            if i % 2:
                await cm.send(kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[NG])
            if i % 3 == 0:
                with contextlib.suppress(HubClientError):  # refused: a security event
                    await cm.fetch(sealed.header.mid)
    return mids


def numbers(pattern: str, text: str) -> tuple[int, ...]:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in:\n{text}"
    return tuple(int(g) for g in found.groups())


async def test_auditors_verify_the_log_and_resume(hub: RunningHub, tmp_path: Path) -> None:
    await enrol_world(hub)
    await exchange(hub, 6)
    key = await pgs("audit", "key", "--home", hub.home)
    assert key.code == 0, key.line()
    assert key.out.strip() == log_key(hub)
    state, ghana = tmp_path / "audit-state.json", tmp_path / "gh-state.json"

    first, scoped = await asyncio.gather(
        verify(hub, AUDITOR, state, "--page-size", "8"),
        verify(hub, GH_AUDITOR, ghana, "--page-size", "10"),
    )
    assert first.code == 0, first.line()
    assert "first verification of this log" in first.out
    (start, size) = numbers(r"read \d+ new entries \((\d+) → (\d+)\)", first.out)
    assert start == 0
    assert size >= 28
    assert "root recomputed from all" in first.out
    saved = json.loads(state.read_text())["logs"]
    (entry,) = saved.values()
    assert next(iter(saved)).startswith(hub.url)
    assert (entry["size"], entry["frontier"]["size"], entry["pending"]) == (size, size, None)
    # Ghana's auditor sees a subset and checks each entry's inclusion proof instead.
    assert scoped.code == 0, scoped.line()
    (read, start, scoped_size, visible) = numbers(
        r"read (\d+) new entries \((\d+) → (\d+)\): (\d+) involve GH", scoped.out
    )
    assert (start, read) == (0, scoped_size)
    assert 0 < visible < scoped_size  # Cameroon's messages to Nigeria are not Ghana's
    assert next(iter(json.loads(ghana.read_text())["logs"].values()))["frontier"] is None

    # The next runs read only the new entries; bounded with --max-entries, the global one stops
    # part way (as an interrupted run would) and the run after resumes from the saved frontier.
    await exchange(hub, 3)
    paused, scoped = await asyncio.gather(
        verify(hub, AUDITOR, state, "--page-size", "4", "--max-entries", "8"),
        verify(hub, GH_AUDITOR, ghana),
    )
    assert scoped.code == 0, scoped.line()
    (start, _) = numbers(r"read \d+ new entries \((\d+) → (\d+)\)", scoped.out)
    assert start == scoped_size
    assert paused.code == 0, paused.line()
    assert f"consistent with the checkpoint of {size} entries verified before" in paused.out
    (count, start, stopped) = numbers(r"read (\d+) new entries \((\d+) → (\d+)\)", paused.out)
    assert (start, count, stopped) == (size, 8, size + 8)  # only new entries were read
    assert f"paused at entry {stopped}" in paused.out
    pending = next(iter(json.loads(state.read_text())["logs"].values()))["pending"]
    assert pending["frontier"]["size"] == stopped
    resumed = await verify(hub, AUDITOR, state, "--page-size", "4")
    assert resumed.code == 0, resumed.line()
    assert f"resuming an unfinished run at entry {stopped}" in resumed.out
    (start, new_size) = numbers(r"read \d+ new entries \((\d+) → (\d+)\)", resumed.out)
    assert start == stopped
    assert new_size > stopped
    saved = next(iter(json.loads(state.read_text())["logs"].values()))
    assert (saved["size"], saved["frontier"]["size"], saved["pending"]) == (new_size,) * 2 + (None,)

    # A non-auditor cannot; another log's key fails the check; a malformed key is refused.
    from pgs_hub.crypto.keys import SigningKey
    from pgs_hub.crypto.note import verifier_key

    origin = log_key(hub).split("+")[0]
    pinned = connection(hub, AUDITOR)[:-1]
    refused, forged, malformed = await asyncio.gather(
        verify(hub, NG, tmp_path / "ng.json"),
        pgs("audit", "verify", *pinned, verifier_key(origin, SigningKey.generate().public),
            "--state", state),
        pgs("audit", "verify", *pinned, f"{origin}+00000000+{log_key(hub).split('+', 2)[2]}",
            "--state", state),
    )  # fmt: skip
    for ran, code, reason in (
        (refused, 3, "only an auditor"),
        (forged, 3, "does not verify under the pinned log key"),
        (malformed, 1, "not a verifier key"),
    ):
        assert ran.code == code, ran.line()
        assert reason in ran.err
        assert len(ran.err.strip().splitlines()) == 1


async def test_evidence_round_trip(hub: RunningHub, tmp_path: Path) -> None:
    await enrol_world(hub)
    (mid,) = await exchange(hub, 1)
    async with hub.client(WCO) as wco:
        await wco.ack(mid, ReceiptStatus.DELIVERED)
    await exchange(hub, 1)  # later entries: the receipts are not the log's last ones
    pinned: list[str | Path] = [
        "--authority", hub.home / "authority" / "authority.jwk.json", "--log-key", log_key(hub),
    ]  # fmt: skip

    sender_bundle = tmp_path / "sender.json"
    got = await pgs("evidence", "get", mid, "-o", sender_bundle, *connection(hub, NG))
    assert got.code == 0, got.line()
    assert "3 receipt(s)" in got.out
    checked = await pgs("evidence", "verify", sender_bundle, *pinned, "--json")
    assert checked.code == 0, checked.line()
    report = json.loads(checked.out)
    assert (report["mid"], report["sender"], report["recipients"]) == (mid, NG, [GH, WCO])
    assert sorted((r["by"], r["status"]) for r in report["receipts"]) == [
        (GH, "delivered"), (GH, "read"), (WCO, "delivered"),
    ]  # fmt: skip
    assert report["content"] is None
    assert report["sender_key_index"] is not None
    assert report["sender_key_index"] < report["log_index"]

    recipient_bundle = tmp_path / "ghana.json"
    got = await pgs(
        "evidence", "get", mid, "-o", recipient_bundle, "--disclose-key", *connection(hub, GH)
    )
    assert got.code == 0, got.line()
    assert "content key disclosed" in got.out
    shown = await pgs("evidence", "verify", recipient_bundle, *pinned)
    assert shown.code == 0, shown.line()
    assert "evidence verified" in shown.out
    assert "disclosed by GH-NCP-ACCRA" in shown.out
    subject = example(MessageKind.ALERT).model_dump(mode="json")["subject"]
    assert subject in shown.out
    disclosed = json.loads(recipient_bundle.read_text())
    assert [json.loads(base64.urlsafe_b64decode(r["log"]["entry"] + "==="))["actor"]
            for r in disclosed["receipts"]] == [GH, GH]  # fmt: skip

    # Tampered (the disclosed key, a receipt): each fails with a one-line reason; a participant
    # who is neither sender nor recipient gets nothing.
    runs = []
    for name in ("key", "receipt"):
        doc = json.loads(recipient_bundle.read_text())
        if name == "key":
            doc["disclosure"]["key"]["cek"] = "A" * 43
        else:
            doc["receipts"][0]["receipt"] = doc["receipts"][1]["receipt"]
        (tmp_path / f"{name}.json").write_text(json.dumps(doc))
        runs.append(pgs("evidence", "verify", tmp_path / f"{name}.json", *pinned))
    runs.append(pgs("evidence", "get", mid, "-o", tmp_path / "cm.json", *connection(hub, CM)))
    key, receipt, stranger = await asyncio.gather(*runs)
    for ran, code in ((key, "evidence.disclosure"), (receipt, "evidence.entry_mismatch")):
        assert ran.code == 3, ran.line()
        assert code in ran.err
        assert len(ran.err.strip().splitlines()) == 1
    assert stranger.code != 0
    assert "envelope.not_found" in stranger.line()


async def test_log_and_export(hub: RunningHub, tmp_path: Path) -> None:
    await enrol_world(hub)
    await exchange(hub, 3)
    who = connection(hub, AUDITOR)
    listed, cameroon, future, table, exported = await asyncio.gather(
        pgs("audit", "log", "--json", "--event", "envelope.accepted", "--participant", NG, *who),
        pgs("audit", "log", "--json", "--country", "CM", *who),
        pgs("audit", "log", "--json", "--since", "2999-01-01", *who),
        pgs("audit", "log", "--kind", "alert", "--until", "2999-12-31", *who),
        pgs("audit", "export", "--format", "csv", *who),
    )
    assert listed.code == 0, listed.line()
    entries = json.loads(listed.out)
    assert len(entries) == 4  # three sent by Nigeria, one Cameroon sent to it
    assert all(e["event"] == "envelope.accepted" for e in entries)
    assert all(NG in (e["actor"], *e["details"]["recipients"]) for e in entries)
    assert json.loads(cameroon.out)
    assert all("CM" in e["countries"] for e in json.loads(cameroon.out))
    assert json.loads(future.out) == []
    assert table.code == 0, table.line()
    assert "envelope.accepted" in table.out
    assert "4 entries" in table.out

    assert exported.code == 0, exported.line()
    rows = list(csv.DictReader(io.StringIO(exported.out)))
    assert [int(r["index"]) for r in rows] == list(range(len(rows)))
    assert {"participant.enrolled", "envelope.accepted", "receipt.recorded"} <= {
        r["event"] for r in rows
    }
    # JSON Lines holds the exact entries: they rebuild the signed tree.
    lines = tmp_path / "log.jsonl"
    written = await pgs("audit", "export", "-o", lines, *who)
    assert written.code == 0, written.line()
    async with hub.client(AUDITOR) as auditor:
        _, data = await auditor.request("POST", "/v1/audit/checkpoint")
    signed = verify_checkpoint(
        json.loads(data)["checkpoint"].encode(), parse_verifier_key(log_key(hub))
    )
    raw = lines.read_bytes().splitlines()
    assert len(raw) == len(rows) == signed.size
    assert InMemoryTree(leaf_hash(line) for line in raw).root() == signed.root
