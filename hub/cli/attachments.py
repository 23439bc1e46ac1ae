"""``pgs send --attach`` and ``pgs read --save-attachments``: files that really travel.

Each file is encrypted under a fresh key (docs/protocol.md §7) into a temporary file, checked
against the hub's caps (``OPTIONS /v1/uploads``) before any byte is sent, and uploaded with a
progress bar; a dropped connection resumes from the hub's offset. Reading saves each attachment
only once its ciphertext and plaintext hashes and every chunk's authentication matched.
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

from hub.cli.common import err, fail, out
from hub.client import HubClient, HubClientError
from hub.client.attachments import (
    AttachmentError,
    EncryptedFile,
    download_attachment,
    encrypt_file,
    upload_file,
)
from hub.i18n import resolve, t
from protocols.messages._base import ContentModel

T = TypeVar("T")


@dataclass(frozen=True)
class Uploaded:
    """The attachments of a message on its way: what the content says, and the upload ids the
    routing header names."""

    descriptions: list[dict[str, Any]]
    upload_ids: list[str]


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


async def upload_all(hub: HubClient, paths: Sequence[Path], folder: Path) -> Uploaded:
    """Encrypt and upload ``paths``; refuses (exit 1) before sending anything over a cap."""
    lang = resolve()
    limits = await hub.upload_limits()
    encrypted: list[EncryptedFile] = []
    for path in paths:
        encrypted.append(await asyncio.to_thread(encrypt_file, path, folder))
    for item in encrypted:
        if item.ciphertext_size > limits.max_file_bytes:
            fail(t("attach.too_large", lang, name=item.source.name, cap=limits.max_file_bytes))
    total = sum(item.ciphertext_size for item in encrypted)
    if total > limits.max_message_bytes:
        fail(t("attach.message_too_large", lang, total=total, cap=limits.max_message_bytes))
    part = min(limits.max_part_bytes, 128 * 1024)
    ids: list[str] = []
    try:
        with _bar() as bar:
            for item in encrypted:
                task = bar.add_task(item.source.name, total=item.ciphertext_size)
                ids.append(
                    await upload_file(hub, item, part_size=part, progress=_advance(bar, task))
                )
    except (AttachmentError, HubClientError):
        await _forget(hub, ids)
        raise
    return Uploaded([e.description(i) for e, i in zip(encrypted, ids, strict=True)], ids)


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
) -> T:
    """Upload ``paths``, add their descriptions to ``doc`` and call ``send(doc, upload_ids)``;
    the uploads are deleted again if the message is refused."""
    with _scratch() as folder:
        uploaded = await upload_all(hub, paths, folder)
    doc["attachments"] = [*doc.get("attachments", []), *uploaded.descriptions]
    try:
        return await send(doc, uploaded.upload_ids)
    except BaseException:
        await _forget(hub, uploaded.upload_ids)
        raise


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
