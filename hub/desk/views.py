"""The desk's pages: unlock, inbox, a message and its thread, compose, drafts, live events.

Thin handlers: they read the form, call the mailbox or the hub adapter, and render a template.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import mimetypes
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDictProxy

from pgs_hub.hub import keystore
from pgs_hub.hub.desk import compose, i18n, pickers, places
from pgs_hub.hub.desk.app import DESK, Desk, language, render
from pgs_hub.hub.desk.hubapi import HubApi, HubProblem
from pgs_hub.hub.desk.mailbox import OUTCOME_CODES, OUTCOME_PREFIX, Mailbox, Message
from pgs_hub.hub.desk.reading import Reader
from pgs_hub.hub.desk.security import LANG_COOKIE, SESSION, set_session_cookie
from pgs_hub.hub.desk.store import Folder, ReadState
from pgs_hub.hub.desk.words import (
    ACTIONS,
    CATEGORIES,
    DETECTIONS,
    KINDS,
    MODES,
    OUTCOME_SENTENCES,
    OUTCOMES,
    PRIORITIES,
    TLP_RULES,
    VALUES,
)  # fmt: skip
from pgs_hub.protocols.messages.handling import Tlp
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import parse_message

STATIC = Path(__file__).parent / "static"
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
KEEP_FILE_BYTES = 64 * 1024 * 1024  # decrypted attachments kept in memory for thumbnails


def _desk(request: web.Request) -> Desk:
    return request.app[DESK]


def _mailbox(request: web.Request) -> Mailbox:
    desk = _desk(request)
    if desk.mailbox is None:
        raise web.HTTPSeeOther("/unlock")
    return desk.mailbox


def _local(target: str) -> str:
    """``target`` when it is a path on this desk, else the inbox (no open redirects)."""
    return target if target.startswith("/") and not target.startswith("//") else "/inbox"


# --- entry, unlock, language -------------------------------------------------------------------


async def index(request: web.Request) -> web.StreamResponse:
    desk = _desk(request)
    token = request.query.get("token")
    if token is not None:
        session = desk.gate.exchange(token)
        if session is None:
            return render(request, "refused.html", 403, reason=_refused_link(request))
        response = web.Response(
            status=303, headers={"Location": "/inbox" if desk.unlocked else "/unlock"}
        )
        set_session_cookie(response, session)
        return response
    if request.get(SESSION) is None:
        return render(request, "refused.html", 403, reason=_refused_link(request))
    raise web.HTTPSeeOther("/inbox" if desk.unlocked else "/unlock")


def _refused_link(request: web.Request) -> str:
    return i18n.translations(language(request)).gettext(
        "This link was already used or is not valid. Start pgs desk again and open the new link."
    )


async def unlock_page(request: web.Request) -> web.StreamResponse:
    desk = _desk(request)
    if desk.unlocked:
        raise web.HTTPSeeOther("/inbox")
    return render(request, "unlock.html", encrypted=keystore.is_encrypted(desk.keys), error=None)


async def unlock(request: web.Request) -> web.StreamResponse:
    desk = _desk(request)
    if desk.unlocked:
        raise web.HTTPSeeOther("/inbox")
    form = await request.post()
    secret = str(form.get("passphrase", "")).encode("utf-8")
    encrypted = keystore.is_encrypted(desk.keys)
    try:
        me = await asyncio.to_thread(keystore.load, desk.keys, secret if encrypted else None)
    except Exception:  # noqa: BLE001 - a wrong passphrase and a broken key file read the same
        return render(request, "unlock.html", 400, encrypted=encrypted, error="passphrase")
    api = HubApi(desk.hub_url, me, authority=desk.authority, ssl_context=desk.ssl_context)
    await api.start()
    try:
        await api.check()
        people = await api.people()
        groups = await api.groups()
        mailbox = Mailbox(api, Folder(desk.keys, "sent"))
        await mailbox.refresh()
    except HubProblem as exc:
        await api.close()
        return render(request, "unlock.html", 502, encrypted=encrypted, error="hub", problem=exc)
    desk.me = me.id
    desk.role = next((p.role for p in people if p.id == me.id), "")
    desk.api, desk.mailbox, desk.people, desk.groups = api, mailbox, people, groups
    desk.read = ReadState(desk.keys, desk.hub_url)
    await _ask_places(desk)
    desk.follower = asyncio.create_task(mailbox.follow())
    raise web.HTTPSeeOther("/inbox")


async def lock(request: web.Request) -> web.StreamResponse:
    await _desk(request).lock()
    raise web.HTTPSeeOther("/unlock")


async def switch_language(request: web.Request) -> web.StreamResponse:
    code = request.match_info["code"]
    response = web.Response(
        status=303, headers={"Location": _local(request.query.get("next", "/inbox"))}
    )
    if code in i18n.LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, code, samesite="Strict", httponly=True, path="/", max_age=365 * 86400
        )
    return response


# --- inbox -------------------------------------------------------------------------------------


def _threads(messages: list[Message], mailbox: Mailbox) -> list[tuple[Message, int]]:
    """One row per thread: its latest received message, and how many messages it holds."""
    sizes = Counter(m.thread for m in mailbox.messages.values())
    seen: dict[str, tuple[Message, int]] = {}
    for message in messages:
        if message.thread not in seen:
            seen[message.thread] = (message, sizes[message.thread])
    return list(seen.values())


async def inbox(request: web.Request) -> web.StreamResponse:
    desk = _desk(request)
    mailbox = _mailbox(request)
    assert desk.read is not None  # noqa: S101 - set with the mailbox
    query = request.query
    kind, country = query.get("kind", ""), query.get("country", "").upper()
    commodity, unread = query.get("commodity", "").upper(), query.get("unread") == "1"
    chosen = [
        m for m in mailbox.received()
        if (not kind or m.kind == kind)
        and (not country or country in m.countries())
        and (not commodity or commodity in m.commodities)
        and (not unread or not desk.read.is_read(m.mid))
    ]  # fmt: skip
    lang = language(request)
    return render(
        request, "inbox.html", rows=_threads(chosen, mailbox), read=desk.read, kinds=KINDS,
        filters={"kind": kind, "country": country, "commodity": commodity, "unread": unread},
        countries=pickers.countries(lang), commodities=pickers.commodities(lang),
        sent=sorted((m for m in mailbox.messages.values() if m.mine), key=lambda m: -m.at)[:20],
        outcomes=mailbox.outcomes, outcome_words=OUTCOMES, receipts=mailbox.receipts,
    )  # fmt: skip


async def mark_read(request: web.Request) -> web.StreamResponse:
    desk = _desk(request)
    mailbox = _mailbox(request)
    form = await request.post()
    mids = [str(m) for m in form.getall("mid", []) if str(m) in mailbox.messages]
    if desk.read is not None:
        desk.read.mark(mids)
    raise web.HTTPSeeOther(_local(str(form.get("next", "/inbox"))))


# --- reading -----------------------------------------------------------------------------------


def _message(request: web.Request) -> Message:
    found = _mailbox(request).messages.get(request.match_info["mid"])
    if found is None:
        raise web.HTTPNotFound(text="no such message in this mailbox")
    return found


async def message_page(request: web.Request) -> web.StreamResponse:
    desk = _desk(request)
    mailbox = _mailbox(request)
    message = _message(request)
    await _with_places(desk)
    if desk.read is not None and not message.mine:
        desk.read.mark([message.mid])
    lang = language(request)
    reader = Reader(lang, i18n.translations(lang), desk.places)
    thread = mailbox.thread(message)
    return render(
        request, "message.html", m=message, rows=reader.rows(message.content), thread=thread,
        rows_of=lambda m: reader.rows(m.content), kinds=KINDS, tlp_rules=TLP_RULES,
        outcomes=mailbox.outcomes(message.mid), outcome_words=OUTCOMES,
        receipts=mailbox.receipts.get(message.mid, []), values=VALUES,
        images=IMAGE_TYPES, sent_receipt=request.query.get("receipt") == "sent",
    )  # fmt: skip


async def send_receipt(request: web.Request) -> web.StreamResponse:
    desk = _desk(request)
    message = _message(request)
    assert desk.api is not None  # noqa: S101 - _message checked the mailbox
    await desk.api.receipt(message.mid)
    raise web.HTTPSeeOther(f"/m/{message.mid}?receipt=sent")


async def send_outcome(request: web.Request) -> web.StreamResponse:
    """One click: a reply to the alert's sender saying what came of it (counted on the alert)."""
    desk = _desk(request)
    mailbox = _mailbox(request)
    message = _message(request)
    form = await request.post()
    code = str(form.get("outcome", ""))
    if code not in OUTCOME_CODES or message.kind != "alert" or message.mine:
        raise web.HTTPBadRequest(text="not an outcome of this alert")
    assert desk.api is not None  # noqa: S101
    sentence = i18n.translations(language(request)).gettext(OUTCOME_SENTENCES[code])
    content = parse_message(
        MessageKind.REPLY,
        {"in_reply_to": {"mid": message.mid, "kind": "alert"},
         "subject": f"{OUTCOME_PREFIX}{code}", "answer": sentence},
    )  # fmt: skip
    header = await desk.api.send(
        kind=MessageKind.REPLY, content=content, to=[message.sender], group=None,
        tlp=Tlp(message.tlp), thread=message.thread, in_reply_to=message.mid,
    )  # fmt: skip
    _remember(mailbox, header, content.model_dump(mode="json", exclude_none=True))
    raise web.HTTPSeeOther(f"/m/{message.mid}")


def _remember(mailbox: Mailbox, header: Any, content: dict[str, Any]) -> Message:
    sent = Message(
        mid=header.mid, kind=header.kind.value, sender=header.sender.id,
        to=[a.id for a in header.to], tlp=header.tlp.value, group=header.grp, at=header.iat,
        thread=header.thread or header.mid, irt=header.irt, content=content,
        signer_kid=header.sender.kid,
    )  # fmt: skip
    mailbox.remember_sent(sent)
    return sent


async def attachment(request: web.Request) -> web.StreamResponse:
    """An attachment decrypted here and served from memory (``?inline=1`` shows an image)."""
    desk = _desk(request)
    message = _message(request)
    index = int(request.match_info["n"]) if request.match_info["n"].isdigit() else -1
    files = message.content.get("attachments") or []
    if not 0 <= index < len(files):
        raise web.HTTPNotFound(text="no such attachment")
    described = files[index]
    key = (message.mid, index)
    data = desk.files.get(key)
    if data is None:
        assert desk.api is not None  # noqa: S101
        data = await desk.api.fetch_attachment(described, desk.keys)
        while desk.files and sum(map(len, desk.files.values())) + len(data) > KEEP_FILE_BYTES:
            desk.files.pop(next(iter(desk.files)))
        if len(data) <= KEEP_FILE_BYTES:
            desk.files[key] = data
    media = str(described.get("media_type", "application/octet-stream"))
    inline = request.query.get("inline") == "1" and media in IMAGE_TYPES
    name = quote(str(described.get("name", "attachment")))
    disposition = "inline" if inline else "attachment"
    return web.Response(
        body=data,
        content_type=media if inline else "application/octet-stream",
        headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{name}"},
    )


# --- compose -----------------------------------------------------------------------------------


def _form_dict(form: MultiDictProxy[Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in set(form.keys()):
        if key in {"csrf", "files", "action", "name", "draft_name"}:
            continue
        found = [v for v in form.getall(key) if isinstance(v, str)]
        values[key] = found if key in {"to", "regions"} else (found[0] if found else "")
    return values


def _source(mailbox: Mailbox, mid: str | None) -> dict[str, Any] | None:
    message = mailbox.messages.get(mid or "")
    if message is None:
        return None
    return {
        "mid": message.mid, "kind": message.kind, "sender": message.sender,
        "thread": message.thread, "subject": message.subject, "content": message.content,
        "tlp": message.tlp, "to": message.to,
    }  # fmt: skip


def _compose_page(
    request: web.Request, kind: str, form: dict[str, Any], status: int = 200, **extra: Any
) -> web.Response:
    desk = _desk(request)
    lang = language(request)
    recipients = compose.recipients(form)
    group = str(form.get("group") or "") or None
    routing = {
        "from": desk.me, "to": recipients, "group": group, "kind": kind,
        "tlp": form.get("tlp") or "AMBER", "thread": form.get("thread") or None,
        "irt": form.get("irt") or None,
    }  # fmt: skip
    return render(
        request, "compose.html", status, kind=kind, form=form, kinds=KINDS,
        people=pickers.participants(desk.people, desk.me, lang), groups=desk.groups,
        wco=desk.role == "wco", countries=pickers.countries(lang),
        commodities=pickers.commodities(lang), numbers=pickers.numbers(lang),
        units=pickers.units(lang), regions=pickers.regions(lang), actions=ACTIONS, modes=MODES,
        detections=DETECTIONS, priorities=PRIORITIES, categories=CATEGORIES, values=VALUES,
        tlps=[t.value for t in Tlp], tlp_rules=TLP_RULES, routing=routing,
        errors=extra.pop("errors", {}), hints=compose.HINTS,
        templates=Folder(desk.keys, "templates").names(),
        places=places.initial(
            desk.places, pickers.places(_mailbox(request).messages.values(), lang),
            (str(form.get(f) or "") for f in PLACE_COUNTRIES), lang,
        ),
        no_places=desk.places is None, **extra,
    )  # fmt: skip


PLACES_RETRY_SECONDS = 60.0
#: The country fields the place fields are in (the picker offers their places first).
PLACE_COUNTRIES = ("origin_country", "destination_country", "place_country")


async def _with_places(desk: Desk) -> None:
    """Ask the hub for its UN/LOCODE list when the desk has none yet (a 404 costs little, and
    an operator may import one while the desk runs); a hub out of reach is asked again only a
    minute later, so pages do not wait on it."""
    if desk.places is None and time.monotonic() >= desk.places_again:
        await _ask_places(desk)


async def _ask_places(desk: Desk) -> None:
    """The hub's list now (a conditional GET: nothing comes when it has not changed)."""
    if desk.api is not None:
        desk.places, answered = await desk.api.places(desk.keys)
        desk.places_again = 0.0 if answered else time.monotonic() + PLACES_RETRY_SECONDS


async def place_search(request: web.Request) -> web.StreamResponse:
    """The place picker's search as the officer types (JSON for desk.js), run on the list kept
    on this computer: the hub never sees what is searched."""
    desk = _desk(request)
    _mailbox(request)
    if desk.places is None:
        return web.json_response([])
    found = await asyncio.to_thread(
        places.search, desk.places, request.query.get("q", "")[:60],
        request.query.get("country", ""),
    )  # fmt: skip
    lang = language(request)
    return web.json_response([{"value": c.value, "label": c.label}
                              for c in places.choices(found, lang)])  # fmt: skip


async def compose_page(request: web.Request) -> web.StreamResponse:
    desk = _desk(request)
    mailbox = _mailbox(request)
    await _with_places(desk)
    kind = request.match_info["kind"]
    if kind not in compose.FORM_KINDS:
        raise web.HTTPNotFound(text="no such form")
    if kind == "notice" and desk.role != "wco":
        raise web.HTTPForbidden(text="only WCO staff send notices")
    saved = None
    draft_name = ""
    if name := request.query.get("draft"):
        saved = Folder(desk.keys, "drafts").load(name)
        draft_name = name if saved is not None else ""
    elif name := request.query.get("template"):
        saved = Folder(desk.keys, "templates").load(name)
    if saved is not None and isinstance(saved.get("form"), dict):
        form = saved["form"]
    else:
        source = _source(mailbox, request.query.get("reply_to"))
        form = compose.prefill(kind, source, me=desk.me, today=dt.datetime.now(dt.UTC).date())
    return _compose_page(request, kind, form, draft_name=draft_name)


async def compose_post(request: web.Request) -> web.StreamResponse:
    desk = _desk(request)
    mailbox = _mailbox(request)
    kind = request.match_info["kind"]
    if kind not in compose.FORM_KINDS or (kind == "notice" and desk.role != "wco"):
        raise web.HTTPNotFound(text="no such form")
    posted = await request.post()
    form = _form_dict(posted)
    await _with_places(desk)
    action = str(posted.get("action", "check"))
    if action in {"draft", "template"}:
        name = str(posted.get("name", "")).strip() or dt.datetime.now(dt.UTC).strftime(
            "%Y-%m-%d %H%M%S"
        )
        folder = Folder(desk.keys, "drafts" if action == "draft" else "templates")
        kept = dict(form) if action == "draft" else {
            k: v for k, v in form.items() if k not in {"thread", "irt", "irt_kind"}
        }  # fmt: skip
        saved = folder.save(name, {"kind": kind, "form": kept})
        return _compose_page(request, kind, form, saved=saved, saved_as=action)
    checked = compose.check(kind, form)
    if not checked.ok or action != "send":
        status = 400 if not checked.ok else 200
        return _compose_page(
            request, kind, form, status, errors=checked.errors, detail=checked.detail,
            checked=checked.ok, draft_name=str(posted.get("draft_name", "")),
        )  # fmt: skip
    files = [f for f in posted.getall("files", []) if isinstance(f, web.FileField) and f.filename]
    try:
        header, model = await _send(desk, kind, form, files)
    except HubProblem as exc:
        # The form comes back as typed, with the hub's reason at the top: nothing was sent.
        return _compose_page(
            request, kind, form, 502, refused=exc, draft_name=str(posted.get("draft_name", ""))
        )
    _remember(mailbox, header, model.model_dump(mode="json", exclude_none=True))
    if name := str(posted.get("draft_name", "")):
        Folder(desk.keys, "drafts").delete(name)
    raise web.HTTPSeeOther(f"/m/{header.mid}?sent=1")


async def _send(
    desk: Desk, kind: str, form: dict[str, Any], files: list[web.FileField]
) -> tuple[Any, Any]:
    """Encrypt and upload the attachments, then seal and send the message: its header and
    content model."""
    api = desk.api
    assert api is not None  # noqa: S101 - the mailbox is set with it
    described: list[dict[str, Any]] = []
    uploads: list[str] = []
    for file in files:
        data = file.file.read()
        name = Path(file.filename).name or "attachment"
        entry, upload = await api.attach(name, data, desk.keys)
        described.append(entry)
        uploads.append(upload)
    content = compose.check(kind, form, attachments=described).content
    model = parse_message(MessageKind(kind), json.dumps(content).encode("utf-8"))
    group = str(form.get("group") or "") or None
    header = await api.send(
        kind=MessageKind(kind), content=model, to=compose.recipients(form), group=group,
        tlp=Tlp(str(form.get("tlp") or "AMBER")), thread=str(form.get("thread") or "") or None,
        in_reply_to=str(form.get("irt") or "") or None, uploads=uploads,
    )  # fmt: skip
    return header, model


# --- drafts and templates ----------------------------------------------------------------------


async def drafts_page(request: web.Request) -> web.StreamResponse:
    desk = _desk(request)
    _mailbox(request)

    def listing(kind: str) -> list[tuple[str, str]]:
        folder = Folder(desk.keys, kind)
        return [(n, str((folder.load(n) or {}).get("kind", ""))) for n in folder.names()]

    return render(
        request, "drafts.html", drafts=listing("drafts"), templates=listing("templates"),
        kinds=KINDS,
    )  # fmt: skip


async def delete_saved(request: web.Request) -> web.StreamResponse:
    desk = _desk(request)
    form = await request.post()
    which = "templates" if form.get("which") == "templates" else "drafts"
    Folder(desk.keys, which).delete(str(form.get("name", "")))
    raise web.HTTPSeeOther("/drafts")


# --- live arrivals -----------------------------------------------------------------------------


async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: one ``message`` event per arrival (id, sender, kind, subject)."""
    mailbox = _mailbox(request)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    queue: asyncio.Queue[str] = asyncio.Queue(maxsize=100)
    mailbox.listeners.add(queue)
    lang = language(request)
    try:
        await response.write(b": ready\n\n")
        while True:
            try:
                mid = await asyncio.wait_for(queue.get(), timeout=15)
            except TimeoutError:
                await response.write(b": ping\n\n")
                continue
            if not mid:  # the desk is locking or stopping
                break
            found = mailbox.messages.get(mid)
            doc = {"mid": mid}
            if found is not None:
                kind = i18n.translations(lang).gettext(KINDS.get(found.kind, found.kind))
                doc |= {"sender": found.sender, "kind": kind, "subject": found.subject,
                        "thread": found.thread}  # fmt: skip
            data = json.dumps(doc, ensure_ascii=False)
            await response.write(f"event: message\ndata: {data}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        mailbox.listeners.discard(queue)
    return response


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in {"desk.css", "desk.js"}:
        raise web.HTTPNotFound(text="no such file")
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return web.Response(
        body=(STATIC / name).read_bytes(), content_type=media,
        headers={"Cache-Control": "private, max-age=3600"},
    )  # fmt: skip


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/unlock", unlock_page)
    app.router.add_post("/unlock", unlock)
    app.router.add_post("/lock", lock)
    app.router.add_get("/lang/{code}", switch_language)
    app.router.add_get("/inbox", inbox)
    app.router.add_post("/inbox/read", mark_read)
    app.router.add_get("/m/{mid}", message_page)
    app.router.add_post("/m/{mid}/receipt", send_receipt)
    app.router.add_post("/m/{mid}/outcome", send_outcome)
    app.router.add_get("/m/{mid}/files/{n}", attachment)
    app.router.add_get("/compose/{kind}", compose_page)
    app.router.add_get("/places", place_search)
    app.router.add_post("/compose/{kind}", compose_post)
    app.router.add_get("/drafts", drafts_page)
    app.router.add_post("/drafts/delete", delete_saved)
    app.router.add_get("/events", events)
    app.router.add_get("/static/{name}", static)
