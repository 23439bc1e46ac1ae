"""The hub demo (``make demo``): a real hub on the embedded SQLite default, over real sockets.

A temporary home is initialised as ``pgs init`` does; the hub listens on a loopback port; WCO,
Nigeria, Ghana, Cameroon and a global auditor are enrolled; then Nigeria alerts Ghana and the WCO
about an ammonium nitrate shipment, Ghana answers with a seizure notice, the WCO broadcasts a
notice to West and Central Africa, Cameroon's attempt to read Ghana's message is refused, and the
auditor reviews the log's metadata. The hub is then stopped cleanly.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from pgs_hub.hub import keystore
from pgs_hub.hub.cli.common import out
from pgs_hub.hub.cli.errors import refusal
from pgs_hub.hub.cli.render import kind_name
from pgs_hub.hub.client import HubClient, HubClientError
from pgs_hub.hub.demo.content import demo_content
from pgs_hub.hub.enrolment import bootstrap_admin, certify
from pgs_hub.hub.home import load_config, sqlite_url, write_home
from pgs_hub.hub.i18n import Lang, t
from pgs_hub.hub.server.app import create_app
from pgs_hub.hub.services.database import upgrade
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.receipt import ReceiptStatus
from pgs_hub.protocols.messages.references import MessageRef

ADMIN = "WCO-HUB-ADMIN"
WCO, NG, GH, CM, AUDITOR = (
    "WCO-PGS-BRUSSELS",
    "NG-NCP-LAGOS",
    "GH-NCP-ACCRA",
    "CM-NCP-DOUALA",
    "WCO-AUDIT",
)
ROLES = {WCO: "wco", NG: "ncp", GH: "ncp", CM: "ncp", AUDITOR: "auditor"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _what(event: str, details: dict[str, Any], language: Lang = "en") -> str:
    """One line of an audit record's metadata for the demo's table."""
    if event == "envelope.accepted":
        kind = kind_name(str(details["kind"]), language)
        return f"{kind} TLP:{details['tlp']} → {', '.join(details['recipients'])}"
    if details.get("status"):
        return t(f"cli.value.{details['status']}", language)
    if details.get("role"):
        return t(f"console.role.{details['role']}", language)
    return str(details.get("reason") or "")


async def _pgs(*args: str) -> tuple[int, str]:
    """Run a ``pgs`` command as the user would (a separate process), without blocking the hub."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pgs_hub", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": os.environ.get("COLUMNS", "110")},
    )  # fmt: skip
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode("utf-8", "replace")


async def _until_interrupted() -> None:
    """Wait for Ctrl-C or SIGTERM (the hub keeps serving meanwhile)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def run_online(  # noqa: PLR0912, PLR0915 - reads as a script
    home: Path, language: Lang, *, serve: bool = False
) -> None:
    def step(key: str, **values: object) -> None:
        out.print()
        out.rule(f"[bold]{t(key, language, **values)}[/]")

    os.environ["PGS_LANG"] = language  # the `pgs` commands the demo runs speak it too
    out.print(Panel.fit(t("hub.demo.title", language)))
    step("hub.demo.step.init", home=home)
    port = _free_port()
    authority = write_home(home, port=port)
    url = sqlite_url(home)
    await upgrade(url)
    admin = keystore.load(await bootstrap_admin(home, url, authority, ADMIN), None)
    runner = web.AppRunner(create_app(load_config(home)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    base = f"http://127.0.0.1:{port}"
    out.print(t("hub.demo.listening", language, url=base))
    people: dict[str, keystore.LocalParticipant] = {}

    def client(who: keystore.LocalParticipant) -> HubClient:
        return HubClient(base, who, authority=authority.public)

    try:
        step("hub.demo.step.enrol")
        async with client(admin) as hub:
            for pid, role in ROLES.items():
                local = keystore.create(home / "participants" / pid, pid, None)
                certificate = certify(
                    authority,
                    pid,
                    role=role,
                    verify=local.signing.public,
                    encrypt=local.decryption.public,
                    now=int(time.time()),
                )
                await hub.enrol(certificate)
                people[pid] = local
                out.print(f"  [green]✔[/] {pid:<18} {t(f'console.role.{role}', language)}")

        step("hub.demo.step.alert")
        async with client(people[NG]) as ng:
            alert, accepted = await ng.send(
                kind=MessageKind.ALERT, content=demo_content(MessageKind.ALERT), to=[GH, WCO],
                tlp=Tlp.AMBER,
            )  # fmt: skip
        out.print(t("hub.demo.sent", language, who=NG, kind=kind_name("alert", language),
                    mid=alert.header.mid,
                    to=", ".join(accepted.recipients)))  # fmt: skip

        step("hub.demo.step.reply")
        async with client(people[GH]) as gh:
            opened = await gh.read(alert.header.mid)
            await gh.ack(alert.header.mid, ReceiptStatus.READ)
            subject = getattr(opened.content, "subject", "")
            out.print(t("hub.demo.read", language, who=GH, subject=subject))
            answer = demo_content(MessageKind.SEIZURE).model_copy(
                update={"references": (MessageRef(mid=alert.header.mid, kind=MessageKind.ALERT),)}
            )
            seizure, accepted = await gh.send(
                kind=MessageKind.SEIZURE, content=answer, to=[NG, WCO],
                tlp=Tlp.AMBER, in_reply_to=None, thread=alert.header.mid,
            )  # fmt: skip
        out.print(t("hub.demo.sent", language, who=GH, kind=kind_name("seizure", language),
                    mid=seizure.header.mid,
                    to=", ".join(accepted.recipients)))  # fmt: skip

        step("hub.demo.step.broadcast")
        async with client(people[WCO]) as wco:
            notice, accepted = await wco.send(
                kind=MessageKind.NOTICE, content=demo_content(MessageKind.NOTICE), group="WCA",
                tlp=Tlp.GREEN,
            )  # fmt: skip
        out.print(t("hub.demo.sent", language, who=WCO, kind=kind_name("notice", language)
                    + " (WCA)", mid=notice.header.mid,
                    to=", ".join(accepted.recipients)))  # fmt: skip

        step("hub.demo.step.refused")
        async with client(people[CM]) as cm:
            try:
                await cm.read(seizure.header.mid)
            except HubClientError as exc:
                reason = escape(str(exc) if language == "en" else refusal(exc, language))
                out.print("[red]✘[/] " + t("hub.demo.refused", language, who=CM, reason=reason))
            else:  # pragma: no cover - a security defect; the tests make sure it is not
                raise RuntimeError("Cameroon could read Ghana's message")

        step("hub.demo.step.received")
        table = Table(*(t(f"hub.demo.col.{c}", language) for c in ("participant", "kind", "from",
                      "mid")), "TLP")  # fmt: skip
        for pid in (WCO, NG, GH, CM):
            async with client(people[pid]) as who:
                for item in (await who.inbox()).items:
                    if item.type == "envelope":
                        kind = kind_name(item.kind, language)
                        table.add_row(pid, kind, item.sender, item.mid, item.tlp)
                    else:
                        table.add_row(
                            pid,
                            t(
                                "hub.demo.receipt_row",
                                language,
                                status=t(f"cli.value.{item.status}", language),
                            ),
                            item.by,
                            item.mid,
                            "",
                        )
        out.print(table)

        step("hub.demo.step.audit")
        async with client(people[AUDITOR]) as auditor:
            records = (await auditor.audit_records(limit=100)).records
        audit = Table("#", *(t(f"hub.demo.col.{c}", language)
                             for c in ("event", "actor", "subject", "what")))  # fmt: skip
        for record in records:
            audit.add_row(
                str(record.seq),
                record.event,
                record.actor or "",
                record.subject or "",
                _what(record.event, record.details, language),
            )
        out.print(audit)
        out.print(t("hub.demo.no_content", language))
        async with client(people[AUDITOR]) as auditor:
            events = (await auditor.security_events()).events
        refusals = Table(*(t(f"hub.demo.col.{c}", language)
                           for c in ("actor", "reason", "action", "count")))  # fmt: skip
        for event in events:
            refusals.add_row(event.actor, event.code, event.action, str(event.count))
        out.print(t("hub.demo.security_events", language))
        out.print(refusals)

        step("hub.demo.step.verify")
        authority_file = home / "authority" / "authority.jwk.json"
        log_key = load_config(home).log_verifier_key
        hub_args = ["--hub", base, "--authority", str(authority_file), "--log-key", log_key]
        code, text = await _pgs(
            "audit", "verify", *hub_args, "--keys", str(home / "participants" / AUDITOR),
            "--state", str(home / "auditor-state.json"),
        )  # fmt: skip
        out.print(text.rstrip(), markup=False, highlight=False)
        if code != 0:
            raise RuntimeError("the auditor could not verify the log")

        step("hub.demo.step.evidence")
        bundle = home / "alert.evidence.json"
        code, text = await _pgs(
            "evidence", "get", alert.header.mid, "-o", str(bundle), "--disclose-key",
            *hub_args, "--keys", str(home / "participants" / GH),
        )  # fmt: skip
        out.print(text.rstrip(), markup=False, highlight=False)
        code2, text = await _pgs(
            "evidence",
            "verify",
            str(bundle),
            "--authority",
            str(authority_file),
            "--log-key",
            log_key,
        )
        out.print(text.rstrip(), markup=False, highlight=False)
        if code or code2:
            raise RuntimeError("the evidence bundle did not verify")

        step("hub.demo.step.console")
        for pid in (AUDITOR, WCO):
            async with client(people[pid]) as who:
                _, data = await who.request("POST", "/v1/console/login-links")
            in_language = "" if language == "en" else f"?lang={language}"  # the console's too
            out.print(f"  {pid:<18} {json.loads(data)['url']}{in_language}")
        if serve:
            out.print(t("hub.demo.serving", language, url=f"{base}/console"))
            await _until_interrupted()
        else:
            out.print(t("hub.demo.links_expire", language))
    finally:
        await runner.cleanup()
    step("hub.demo.step.stopped")
    out.print(t("hub.demo.done", language, home=home))
