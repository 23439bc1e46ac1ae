"""``pgs send --attach`` and ``pgs read --save-attachments``: files that really travel.

Each file is encrypted under a fresh key (docs/protocol.md §7) into a temporary file, checked
against the hub's caps (``OPTIONS /v1/uploads``) before any byte is sent, and uploaded with a
progress bar; a dropped connection resumes from the hub's offset. An interrupted run (the link
gave up, the process was stopped) is resumed by the next run of the same command: the upload id
and the file key are remembered in the keys folder (:mod:`hub.cli.upload_state`). Reading saves
each attachment only once its ciphertext and plaintext hashes and every chunk's authentication
matched.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from pgs_hub.hub import i18n_measures as measures
from pgs_hub.hub.cli import upload_state
from pgs_hub.hub.cli.common import err, fail, out
from pgs_hub.hub.client import HubClient, HubClientError
from pgs_hub.hub.client.attachments import (
    AttachmentError,
    EncryptedFile,
    download_attachment,
    encrypt_file,
    part_size,
    upload_file,
)
from pgs_hub.hub.i18n import resolve, t
from pgs_hub.protocols.messages._base import ContentModel

T = TypeVar("T")


@dataclass(frozen=True)
class Uploaded:
    """The attachments of a message on its way: what the content says, and the upload ids the
    routing header names."""

    descriptions: list[dict[str, Any]]
    upload_ids: list[str]
    states: list[Path]  # what a later run would resume: removed once the message is settled

    def forget_states(self) -> None:
        for path in self.states:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        TimeRemainingColumn(), console=err, transient=False,
    )  # fmt: skip


def _advance(bar: Progress, task: TaskID) -> Callable[[int, int], None]:
    def update(done: int, _total: int) -> None:
        bar.update(task, completed=done)

    return update


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="pgs-attach-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _encrypt(
    path: Path, folder: Path, state: Path
) -> tuple[EncryptedFile, upload_state.PendingUpload | None]:
    """Encrypt ``path``, again as an earlier run did if it left an upload to resume."""
    pending = upload_state.load(state)
    if pending is not None:
        again = await asyncio.to_thread(
            encrypt_file, path, folder, key=pending.key, salt=pending.salt
        )
        if again.ciphertext_sha256 == pending.ciphertext_sha256:
            return again, pending
        pending.forget()  # not the same bytes any more: start afresh
        again.ciphertext.unlink(missing_ok=True)
    return await asyncio.to_thread(encrypt_file, path, folder), None


async def _upload_one(
    hub: HubClient,
    item: EncryptedFile,
    pending: upload_state.PendingUpload | None,
    state: Path,
    *,
    part: int,
    largest: int,
    in_flight: int,
    progress: Callable[[int, int], None],
) -> str:
    def remember(upload_id: str) -> None:
        upload_state.save(state, upload_id, item.key, item.salt, item.ciphertext_sha256)

    if pending is not None:
        try:
            return await upload_file(
                hub,
                item,
                part_size=part,
                max_part_size=largest,
                parts_in_flight=in_flight,
                upload_id=pending.upload_id,
                progress=progress,
            )
        except HubClientError as exc:
            if exc.status not in {404, 410}:  # gone (expired, deleted): upload it anew
                raise
            pending.forget()
    return await upload_file(
        hub, item, part_size=part, max_part_size=largest, parts_in_flight=in_flight,
        progress=progress, on_created=remember,
    )  # fmt: skip


async def upload_all(
    hub: HubClient, paths: Sequence[Path], folder: Path, key_folder: Path | None = None
) -> Uploaded:
    """Encrypt and upload ``paths``; refuses (exit 1) before sending anything over a cap. With
    ``key_folder``, an upload an earlier run left unfinished is resumed, and this run's are
    remembered until the message is settled."""
    lang = resolve()
    limits = await hub.upload_limits()
    encrypted: list[EncryptedFile] = []
    pendings: list[upload_state.PendingUpload | None] = []
    states: list[Path] = []
    for path in paths:
        state = folder / f"{len(states)}.state"  # without a keys folder: forgotten with the run
        if key_folder is not None:
            digest = await asyncio.to_thread(upload_state.file_sha256, path)
            state = upload_state.state_path(key_folder, hub.base_url, digest)
        item, pending = await _encrypt(path, folder, state)
        encrypted.append(item)
        pendings.append(pending)
        states.append(state)
    for item in encrypted:
        if item.ciphertext_size > limits.max_file_bytes:
            cap = measures.size(limits.max_file_bytes, lang)
            fail(t("attach.too_large", lang, name=item.source.name, cap=cap))
    total = sum(item.ciphertext_size for item in encrypted)
    if total > limits.max_message_bytes:
        said = measures.size(total, lang)
        cap = measures.size(limits.max_message_bytes, lang)
        fail(t("attach.message_too_large", lang, total=said, cap=cap))
    part = part_size(limits)
    ids: list[str] = []
    uploaded = Uploaded([], ids, states)
    try:
        with _bar() as bar:
            for item, pending, state in zip(encrypted, pendings, states, strict=True):
                task = bar.add_task(item.source.name, total=item.ciphertext_size)
                ids.append(
                    await _upload_one(
                        hub,
                        item,
                        pending,
                        state,
                        part=part,
                        largest=limits.max_part_bytes,
                        in_flight=limits.parts_in_flight,
                        progress=_advance(bar, task),
                    )
                )
    except (AttachmentError, HubClientError) as exc:
        if isinstance(exc, HubClientError):  # refused: nothing to resume
            await _forget(hub, ids)
            uploaded.forget_states()
        raise
    uploaded.descriptions.extend(e.description(i) for e, i in zip(encrypted, ids, strict=True))
    return uploaded


async def _forget(hub: HubClient, ids: Sequence[str]) -> None:
    """Delete uploads of a message that was not sent (they would expire anyway)."""
    for upload_id in ids:
        with contextlib.suppress(Exception):
            await hub.delete_upload(upload_id)


async def send_with_attachments(
    hub: HubClient,
    doc: dict[str, Any],
    paths: Sequence[Path],
    send: Callable[[dict[str, Any], list[str]], Awaitable[T]],
    key_folder: Path | None = None,
) -> T:
    """Upload ``paths``, add their descriptions to ``doc`` and call ``send(doc, upload_ids)``;
    the uploads are deleted again if the message is refused. An upload cut off is resumed by
    the next run (``key_folder`` remembers it)."""
    with _scratch() as folder:
        uploaded = await upload_all(hub, paths, folder, key_folder)
    doc["attachments"] = [*doc.get("attachments", []), *uploaded.descriptions]
    try:
        result = await send(doc, uploaded.upload_ids)
    except HubClientError:
        await _forget(hub, uploaded.upload_ids)
        uploaded.forget_states()
        raise
    uploaded.forget_states()
    return result


async def save_all(hub: HubClient, content: ContentModel, folder: Path) -> list[Path]:
    """Download, verify and decrypt every attachment of ``content`` into ``folder``."""
    lang = resolve()
    saved: list[Path] = []
    for attachment in getattr(content, "attachments", ()):
        if attachment.blob is None:
            err.print(t("attach.described_only", lang, name=attachment.name), markup=False)
            continue
        with _bar() as bar:
            task = bar.add_task(attachment.name, total=attachment.blob.size)
            try:
                path = await download_attachment(
                    hub, attachment, folder, progress=_advance(bar, task)
                )
            except AttachmentError as exc:
                fail(f"[{exc.code}] {exc}")
        saved.append(path)
        out.print(t("attach.saved", lang, name=attachment.name, path=str(path)), markup=False)
    return saved
