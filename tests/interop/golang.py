"""Build and run tests/interop/gowitness/main.go, the Go checker of what the hub publishes (tiles,
entry bundles, cosigned checkpoints), from Debian's golang-go and golang-golang-x-mod-dev: no
module download (GO111MODULE=off, GOPATH=/usr/share/gocode). The build cache lives in pytest's
cache folder, so a second build in a session takes well under a second."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent / "gowitness" / "main.go"
X_MOD = Path("/usr/share/gocode/src/golang.org/x/mod/sumdb")


async def build_gowitness(out: Path, cache: Path) -> Path:
    go = shutil.which("go")
    if go is None or not (X_MOD / "note").is_dir() or not (X_MOD / "tlog").is_dir():
        pytest.fail("needs Go and x/mod: apt-get install golang-go golang-golang-x-mod-dev")
    binary = out / "gowitness"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": "/usr/share/gocode",
           "GOCACHE": str(cache), "GOFLAGS": ""}  # fmt: skip
    build = await asyncio.create_subprocess_exec(
        go, "build", "-o", str(binary), str(SOURCE), env=env, cwd=out,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await build.communicate()
    assert build.returncode == 0, output.decode()
    return binary


def write_tlog(folder: Path, note: bytes, log_key: str, witnesses: list[str]) -> None:
    """The files gowitness reads next to the tiles: checkpoint, logkey, witnesses."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "checkpoint").write_bytes(note)
    (folder / "logkey").write_text(log_key + "\n")
    (folder / "witnesses").write_text("".join(f"{key}\n" for key in witnesses))


async def run_gowitness(binary: Path, folder: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(binary), str(folder), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
