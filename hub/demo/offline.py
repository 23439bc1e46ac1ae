"""The offline demo (``pgs demo --offline``): the envelope flow without a hub, step by step.

Four participants make keys, Nigeria seals an alert to Ghana and the WCO, both open it, Cameroon
(not addressed) cannot, and a one-byte change is caught. Everything is written to a folder the
user can inspect afterwards.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from rich.panel import Panel
from rich.table import Table

from pgs_hub.crypto.b64 import b64u_decode, b64u_encode
from pgs_hub.crypto.errors import CryptoError
from pgs_hub.hub import i18n_measures as measures
from pgs_hub.hub import keystore
from pgs_hub.hub.cli.common import out
from pgs_hub.hub.demo.content import demo_content
from pgs_hub.hub.i18n import CATALOGUE, Lang, t
from pgs_hub.protocols.envelope import open_message, read_header, seal_message, verify_message
from pgs_hub.protocols.errors import ProtocolError
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind

PARTICIPANTS = {
    "WCO-PGS-BRUSSELS": "World Customs Organization / Organisation mondiale des douanes",
    "NG-NCP-LAGOS": "Nigeria Customs Service",
    "GH-NCP-ACCRA": "Ghana Revenue Authority, Customs Division",
    "CM-NCP-DOUALA": "Douanes camerounaises",
}
SENDER = "NG-NCP-LAGOS"
RECIPIENTS = ("GH-NCP-ACCRA", "WCO-PGS-BRUSSELS")
OUTSIDER = "CM-NCP-DOUALA"


def _load_or_create(folder: Path, participant: str) -> keystore.LocalParticipant:
    if (folder / keystore.SIGNING_FILE).exists():
        return keystore.load(folder, None)
    return keystore.create(folder, participant, None)


def _flip_one_ciphertext_byte(raw: bytes) -> bytes:
    """What a network attacker or a curious hub might try: change the ciphertext, keep the rest."""
    outer = json.loads(raw)
    inner = json.loads(b64u_decode(outer["payload"]))
    ciphertext = bytearray(b64u_decode(inner["ciphertext"]))
    ciphertext[len(ciphertext) // 2] ^= 0x01
    inner["ciphertext"] = b64u_encode(bytes(ciphertext))
    outer["payload"] = b64u_encode(json.dumps(inner, separators=(",", ":")).encode())
    return json.dumps(outer, separators=(",", ":")).encode()


def _reason(exc: CryptoError | ProtocolError, language: Lang) -> str:
    """``code: reason``, the reason in ``language`` when the catalogue has one for the code."""
    key = f"cli.code.{exc.code}"
    translated = language != "en" and key in CATALOGUE
    return f"{exc.code}: " + (t(key, language) if translated else str(exc))


def _short(kid: str) -> str:
    return kid[:12] + "…"


def _size(raw: bytes, language: Lang) -> str:
    return measures.size(len(raw), language)


def run_offline(home: Path, language: Lang) -> None:
    """Keys, an alert sealed by Nigeria to Ghana and the WCO, opened by both, refused for
    Cameroon, and a tampered copy rejected — no hub involved."""

    def step(key: str) -> None:
        out.print()
        out.rule(f"[bold]{t(key, language)}[/]")

    out.print(Panel.fit(t("demo.title", language)))

    step("demo.step.keys")
    local: dict[str, keystore.LocalParticipant] = {}
    table = Table(
        t("hub.demo.col.participant", language), "", t("demo.col.signing", language),
        t("demo.col.encryption", language),
    )  # fmt: skip
    for pid, name in PARTICIPANTS.items():
        local[pid] = _load_or_create(home / "keys" / pid, pid)
        table.add_row(pid, name, _short(local[pid].signing.kid), _short(local[pid].decryption.kid))
    out.print(table)

    step("demo.step.publish")
    directory = keystore.Directory(home / "directory")
    for pid, participant in local.items():
        path = directory.publish(pid, json.dumps(participant.keys.public_jwks(), indent=2))
        out.print(f"  {path}")

    step("demo.step.seal")
    sender = local[SENDER]
    sealed = seal_message(
        sender_id=SENDER,
        signer=sender.signing,
        recipients=[(pid, directory.get(pid).encrypt) for pid in RECIPIENTS],
        kind=MessageKind.ALERT,
        content=demo_content(MessageKind.ALERT),
        tlp=Tlp.AMBER,
        now=int(time.time()),
    )
    envelope_path = home / "alert.envelope.json"
    envelope_path.write_bytes(sealed.raw)
    out.print(
        t("demo.sealed", language, mid=sealed.header.mid, size=_size(sealed.raw, language), n=2)
    )
    out.print(f"  {envelope_path}")

    step("demo.step.hub")
    _, header = read_header(sealed.raw)
    out.print_json(json.dumps(header.to_wire()))

    step("demo.step.open")
    for pid in RECIPIENTS:
        me = local[pid]
        verified = verify_message(sealed.raw, directory.get(header.sender.id).verify)
        opened = open_message(verified, pid, me.decryption)
        summary = getattr(opened.content, "subject", "")
        out.print("[green]✔[/] " + t("demo.opened", language, who=pid, summary=summary))

    step("demo.step.refuse")
    outsider = local[OUTSIDER]
    try:
        verified = verify_message(sealed.raw, directory.get(header.sender.id).verify)
        open_message(verified, OUTSIDER, outsider.decryption)
    except CryptoError as exc:
        out.print(
            "[red]✘[/] " + t("demo.refused", language, who=OUTSIDER, reason=_reason(exc, language))
        )
    else:  # pragma: no cover - would be a security defect; the tests make sure it is not
        raise click.ClickException("the outsider could open the alert")

    step("demo.step.tamper")
    tampered = _flip_one_ciphertext_byte(sealed.raw)
    try:
        verify_message(tampered, directory.get(header.sender.id).verify)
    except (CryptoError, ProtocolError) as exc:
        out.print(
            "[red]✘[/] "
            + t("demo.refused", language, who="GH-NCP-ACCRA", reason=_reason(exc, language))
        )
    else:  # pragma: no cover
        raise click.ClickException("a tampered envelope verified")

    out.print()
    out.print(t("demo.done", language, home=home))
