"""The witnessed log end to end, over real sockets: three `pgs witness serve` processes, a hub that
submits its checkpoints to them, readers that pin a 2-of-3 witness policy, and a forked hub (a
second database behind the same log key) that the witnesses refuse and the readers then refuse.

Also: the log as C2SP tlog-tiles, checked by Go's golang.org/x/mod/sumdb (tlog tiles and note
with cosignatures; tests/interop/gowitness/main.go), entry bundles only for global auditors,
offline tlog-proof files next to evidence bundles, and each of the witness's refusals (400, 403,
404, 409 with its size, 422) on hand-made requests signed with the log's own key.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from pgs_hub.crypto.keys import SigningKey, load_private_pem
from pgs_hub.crypto.merkle import leaf_hash
from pgs_hub.crypto.note import Checkpoint, parse_verifier_key, sign_checkpoint, verify_checkpoint
from pgs_hub.crypto.tiles import decode_bundle, decode_tile, tiles_of
from pgs_hub.crypto.tlog_proof import verify_tlog_proof
from pgs_hub.crypto.witness import encode_add_checkpoint, open_cosigned, parse_policy
from pgs_hub.hub import keystore
from pgs_hub.hub.cli import main
from pgs_hub.hub.client import HubClient, HubClientError, TrustError
from pgs_hub.hub.client.audit import StateFile
from pgs_hub.hub.client.audit import audit as run_audit
from pgs_hub.hub.enrolment import bootstrap_admin
from pgs_hub.hub.home import CONFIG_FILE, HUB_KEY_DIR, LOG_KEY_FILE, POLICY_FILE, write_home
from pgs_hub.hub.storage.migrate import upgrade
from pgs_hub.hub.witness.home import init_home
from pgs_hub.hub.witness.store import WitnessStore
from pgs_hub.protocols.envelope import seal_message
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from tests.e2e.harness import ADMIN, RunningHub, free_port, start_hub, wait_healthy
from tests.e2e.messages import example
from tests.e2e.test_audit_tools import connection, pgs
from tests.interop.golang import build_gowitness, run_gowitness, write_tlog

NAMES = ("witness.ng.example", "witness.gh.example", "witness.cm.example")
NG, GH, AUDITOR, GH_AUDITOR = "NG-NCP-LAGOS", "GH-NCP-ACCRA", "WCO-AUDIT", "GH-AUDIT"


async def wait_witness(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the witness exited:\n{log.read_text()}")
            try:
                async with session.get(f"{url}/health") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    pytest.fail(f"the witness did not start:\n{log.read_text()}")


def start_witness(home: Path, port: int) -> subprocess.Popen[bytes]:
    with (home / "witness.log").open("ab") as sink:
        return subprocess.Popen(  # noqa: S603 - our own server with test arguments
            [sys.executable, "-m", "pgs_hub", "witness", "serve", "--home", str(home),
             "--port", str(port)],
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()
    return process.returncode


async def hub_on(home: Path, database_url: str, authority: SigningKey) -> RunningHub:
    await upgrade(database_url)
    admin_folder = await bootstrap_admin(home, database_url, authority, ADMIN)
    port = free_port()
    process = await start_hub(home, database_url, port)
    hub = RunningHub(
        url=f"http://127.0.0.1:{port}", home=home, database_url=database_url,
        authority=authority, admin=keystore.load(admin_folder, None), process=process,
        log=home / "hub.log",
    )  # fmt: skip
    await wait_healthy(hub.url, process, hub.log)
    return hub


async def alerts(hub: RunningHub, count: int) -> None:
    """``count`` alerts NG → GH, sealed here and submitted concurrently (8 at a time)."""
    async with hub.client(NG) as ng:
        key = await ng.recipient_key(GH)
        limit = asyncio.Semaphore(8)

        async def one() -> None:
            sealed = seal_message(
                sender_id=NG, signer=hub.people[NG].signing, recipients=[(GH, key)],
                kind=MessageKind.ALERT, content=example(MessageKind.ALERT), tlp=Tlp.AMBER,
                now=int(time.time()),
            )  # fmt: skip
            async with limit:
                await ng.submit(sealed.raw)

        await asyncio.gather(*(one() for _ in range(count)))


async def tile(client: HubClient, path: str) -> bytes:
    return (await client.request("GET", f"/v1/audit/tlog/{path}"))[1]


async def test_witnessed_log(tmp_path: Path, pytestconfig: pytest.Config) -> None:  # noqa: PLR0915
    """One story, told in order."""
    assert pytestconfig.cache is not None
    go_build = asyncio.ensure_future(
        build_gowitness(tmp_path, pytestconfig.cache.mkdir("pgs-gocache"))
    )
    home = tmp_path / "hub"
    authority = write_home(home, port=free_port())
    logkey = str(tomllib.loads((home / CONFIG_FILE).read_text())["log"]["verifier_key"])
    # Three member administrations make their witnesses (`pgs witness init|key`, in-process:
    # tests/hub/test_witness_config.py).
    homes = [tmp_path / f"w{i}" for i in range(3)]
    keys = [init_home(h, n, [logkey]).verifier.encode() for h, n in zip(homes, NAMES, strict=True)]
    ports = [free_port() for _ in homes]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    witnesses = [start_witness(h, p) for h, p in zip(homes, ports, strict=True)]
    listed = "".join(
        f'[[witnessing.witness]]\nurl = "{u}"\nkey = "{k}"\n'
        for u, k in zip(urls, keys, strict=True)
    )
    with (home / CONFIG_FILE).open("a", encoding="utf-8") as config:
        config.write(f"\n[witnessing]\nwait_seconds = 10\n{listed}")
    policy_text = (home / POLICY_FILE).read_text().replace("rate_burst = 100", "rate_burst = 1000")
    (home / POLICY_FILE).write_text(policy_text)
    policy = tmp_path / "witnesses.policy"
    policy.write_text(
        f"# PGS: two of the three member witnesses\nlog {logkey}\n"
        + "".join(f"witness {c} {k}\n" for c, k in zip(("ng", "gh", "cm"), keys, strict=True))
        + "group members 2 ng gh cm\nquorum members\n"
    )
    hubs: list[RunningHub] = []
    try:
        started = zip(urls, witnesses, homes, strict=True)
        await asyncio.gather(*(wait_witness(u, p, h / "witness.log") for u, p, h in started))
        hub = await hub_on(home, f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", authority)
        hubs.append(hub)
        for pid, role, scope in ((AUDITOR, "auditor", None), (GH_AUDITOR, "auditor", "GH"),
                                 (NG, "ncp", None), (GH, "ncp", None)):  # fmt: skip
            await hub.enrol(pid, role, scope)

        # A client pinning the log key and the policy encrypts to GH: its key is proven in a
        # checkpoint that two of three witnesses cosigned.
        pinned = HubClient(
            hub.url, hub.people[NG], authority=authority.public,
            log_key=parse_verifier_key(logkey), witness_policy=parse_policy(policy.read_bytes()),
        )  # fmt: skip
        async with pinned:
            sealed, _ = await pinned.send(
                kind=MessageKind.ALERT, content=example(MessageKind.ALERT), to=[GH]
            )
        mid = sealed.header.mid

        state = tmp_path / "audit.json"
        audited = await pgs(
            "audit", "verify", *connection(hub, AUDITOR), "--state", state,
            "--witness-policy", policy,
        )  # fmt: skip
        assert audited.code == 0, audited.line()
        assert f"witness policy satisfied: cosigned by {', '.join(sorted(NAMES))}" in audited.out

        # --- the fork: a second database behind the same log key and the same witnesses ------
        fork_home = tmp_path / "fork"
        fork_home.mkdir()
        for name in (CONFIG_FILE, POLICY_FILE):
            shutil.copy(home / name, fork_home / name)
        for folder in ("authority", HUB_KEY_DIR):
            shutil.copytree(home / folder, fork_home / folder)
        fork = await hub_on(fork_home, f"sqlite+aiosqlite:///{tmp_path / 'b.db'}", authority)
        hubs.append(fork)
        await fork.enrol(AUDITOR, "auditor")
        for country in ("CI", "SN", "ML", "BF", "NE", "TG", "BJ", "GN", "GM", "LR"):
            await fork.enrol(f"{country}-NCP-FORK", "ncp")
        # Without a witness policy the forked view verifies: nothing tells the two apart ...
        async with fork.client(AUDITOR) as reader:
            blind = await run_audit(
                reader, parse_verifier_key(logkey), StateFile(tmp_path / "b"), scope=None
            )
        assert blind.checkpoint.size > 6
        # ... with it, the fork has no cosignature: the witnesses saw the other tree.
        refused = await pgs(
            "audit", "verify", *connection(fork, AUDITOR), "--state", tmp_path / "b2",
            "--witness-policy", policy,
        )  # fmt: skip
        assert refused.code == 3, refused.line()
        assert refused.line().count("\n") == 0, refused.line()
        assert "not enough witness cosignatures [log.no_quorum]" in refused.line()
        assert "cosigned by 0 of the policy's witnesses (none)" in refused.line()
        fork_log = fork.log.read_text()
        assert "not consistent with the log it saw" in fork_log, fork_log
        async with aiohttp.ClientSession() as session, session.get(f"{fork.url}/metrics") as got:
            metrics = await got.text()
        for name in NAMES:
            assert f'pgs_witness_answers_total{{outcome="refused",witness="{name}"}}' in metrics
        assert 'outcome="cosigned"' not in metrics
        # Each witness kept the forked checkpoint, signed by the log key: evidence of the fork.
        store = await WitnessStore.open(homes[0] / "witness.db")
        try:
            kept = await store.evidence()
        finally:
            await store.close()
        assert {reason for _, reason, _ in kept} == {"witness.inconsistent"}
        forked = verify_checkpoint(kept[-1][2], parse_verifier_key(logkey))
        assert forked.size > 6
        # A client pinning the policy refuses to encrypt to a key the fork claims is logged.
        async with HubClient(
            fork.url, fork.people[AUDITOR], authority=authority.public,
            log_key=parse_verifier_key(logkey), witness_policy=parse_policy(policy.read_bytes()),
        ) as fooled:  # fmt: skip
            with pytest.raises(TrustError, match="needs 2 of ng, gh, cm"):
                await fooled.recipient_key("CI-NCP-FORK")

        # --- tiles, read as generic tooling would (level-1 tiles: tests/hub/test_tiles_service.py)
        async with hub.client(AUDITOR) as auditor, hub.client(GH_AUDITOR) as scoped:
            note = await tile(auditor, "checkpoint")
            checkpoint = verify_checkpoint(note, parse_verifier_key(logkey))
            files = tmp_path / "tlog"
            entries: list[bytes] = []
            for t in tiles_of(checkpoint.size):
                data = await tile(auditor, t.path())
                (files / t.path()).parent.mkdir(parents=True, exist_ok=True)
                (files / t.path()).write_bytes(data)
                if t.level is None:
                    entries += decode_bundle(data)
            assert len(entries) == checkpoint.size
            level0 = [h for t in tiles_of(checkpoint.size) if t.level == 0
                      for h in decode_tile((files / t.path()).read_bytes(), t)]  # fmt: skip
            assert level0 == [leaf_hash(e) for e in entries]
            # A country's auditor reads hash tiles, never a bundle that mixes countries.
            level0 = f"tile/0/000.p/{checkpoint.size}"
            assert await tile(scoped, level0) == (files / level0).read_bytes()
            with pytest.raises(HubClientError) as denied:
                await tile(scoped, f"tile/entries/000.p/{checkpoint.size}")
            assert (denied.value.status, denied.value.code) == (403, "tiles.entries_forbidden")
            for path, status, code in (
                ("tile/0/0000", 422, "tiles.bad_path"),
                ("tile/0/x001/000", 404, "tiles.not_found"),
                (f"tile/0/000.p/{checkpoint.size + 1}", 404, "tiles.not_found"),
                ("tile/entries/000", 404, "tiles.not_found"),  # not full yet
            ):
                with pytest.raises(HubClientError) as bad:
                    await tile(auditor, path)
                assert (bad.value.status, bad.value.code) == (status, code), path
        write_tlog(files, note, logkey, keys)
        checker = await go_build
        code, out, err = await run_gowitness(checker, files)
        assert code == 0, err
        assert out.splitlines() == [*(f"cosigned {n}" for n in sorted(NAMES)),
                                    f"ok {checkpoint.size}"], out  # fmt: skip
        tampered = files / level0
        data = bytearray(tampered.read_bytes())
        data[5] ^= 1
        tampered.write_bytes(bytes(data))
        assert (await run_gowitness(checker, files))[0] == 1

        # --- evidence with an offline tlog proof ---------------------------------------------
        bundle, proof = tmp_path / "evidence.json", tmp_path / "alert.tlog-proof"
        got = await pgs("evidence", "get", mid, "-o", bundle, "--tlog-proof", proof,
                        *connection(hub, GH), "--witness-policy", policy)  # fmt: skip
        assert got.code == 0, got.line()
        checked = CliRunner().invoke(main, [  # offline: in-process, no event loop needed
            "evidence", "verify", str(bundle), "--authority",
            str(home / "authority" / "authority.jwk.json"), "--log-key", logkey,
            "--witness-policy", str(policy), "--tlog-proof", str(proof),
        ])  # fmt: skip
        assert checked.exit_code == 0, checked.output
        assert "tlog proof verified" in checked.output
        opened, parsed, entry = verify_tlog_proof(
            proof.read_bytes(), log=parse_verifier_key(logkey),
            policy=parse_policy(policy.read_bytes()),
        )  # fmt: skip
        assert mid.encode() in entry
        assert len(opened.cosigned) == 3
        assert parsed.index < opened.checkpoint.size

        # --- 2 of 3: one witness down, the next checkpoint is still accepted -----------------
        assert stop(witnesses[2]) == 0
        await alerts(hub, 3)
        async with hub.client(AUDITOR) as reader:
            again = await run_audit(
                reader, parse_verifier_key(logkey), StateFile(state), scope=None,
                policy=parse_policy(policy.read_bytes()),
            )  # fmt: skip
        cosigners = parse_policy(policy.read_bytes()).cosigners
        witnessed = open_cosigned(again.note.encode(), [parse_verifier_key(logkey)], cosigners)
        assert sorted(witnessed.cosigned) == sorted(NAMES[:2])
        async with aiohttp.ClientSession() as session, session.get(f"{hub.url}/metrics") as got:
            metrics = await got.text()
        assert f'pgs_witness_answers_total{{outcome="unreachable",witness="{NAMES[2]}"}}' in metrics

        # --- the witness's own refusals, on requests signed with the log's key ---------------
        await witness_refusals(home, urls[0], logkey)
    finally:
        go_build.cancel()  # a build still running when the story stopped early
        await asyncio.gather(go_build, return_exceptions=True)
        for running in hubs:
            assert running.stop() == 0, running.log.read_text()
        codes = [stop(w) for w in witnesses]
        assert codes == [0, 0, 0], [(h / "witness.log").read_text() for h in homes]


async def witness_refusals(home: Path, url: str, logkey: str) -> None:
    log_signer = load_private_pem((home / HUB_KEY_DIR / LOG_KEY_FILE).read_bytes(), None)
    assert isinstance(log_signer, SigningKey)
    origin = parse_verifier_key(logkey).name
    async with aiohttp.ClientSession() as session:

        async def post(body: bytes) -> tuple[int, str, str]:
            async with session.post(f"{url}/add-checkpoint", data=body) as resp:
                return resp.status, resp.content_type, await resp.text()

        # Learn the witness's size the way the spec suggests: old 0.
        signed = sign_checkpoint(Checkpoint(origin, 1, b"\x01" * 32), origin, log_signer)
        status, kind, text = await post(encode_add_checkpoint(0, [], signed))
        assert (status, kind) == (409, "text/x.tlog.size"), text
        size = int(text)
        assert text == f"{size}\n"
        assert size > 6
        other_root = sign_checkpoint(Checkpoint(origin, size, b"\x02" * 32), origin, log_signer)
        assert (await post(encode_add_checkpoint(size, [], other_root)))[0] == 409
        grown = sign_checkpoint(Checkpoint(origin, size + 5, b"\x03" * 32), origin, log_signer)
        junk = [b"\x04" * 32] * 3
        status, kind, text = await post(encode_add_checkpoint(size, junk, grown))
        assert (status, kind) == (422, "application/problem+json"), text
        assert "witness.inconsistent" in text
        stranger = SigningKey.generate()
        assert (await post(encode_add_checkpoint(size, junk, sign_checkpoint(
            Checkpoint(origin, size + 5, b"\x03" * 32), origin, stranger))))[0] == 403  # fmt: skip
        assert (await post(encode_add_checkpoint(0, [], sign_checkpoint(
            Checkpoint("other.example/log", 3, b"\x03" * 32), "other.example/log", stranger)
        )))[0] == 404  # fmt: skip
        assert (await post(encode_add_checkpoint(size + 9, [], grown)))[0] == 400
        assert (await post(b"old 1\nnot a proof\n\n" + grown))[0] == 400
        assert (await post(b"old 0\n\n" + b"x" * 400_000))[0] == 413
        # None of that moved the witness: it still holds the same size.
        assert (await post(encode_add_checkpoint(0, [], signed)))[2] == f"{size}\n"
