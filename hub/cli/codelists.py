"""``pgs admin codelists import-unlocode``: put UNECE's UN/LOCODE release into the hub's home.

The operator downloads the release from UNECE (a zip of ``... UNLOCODE CodeListPart1.csv`` to
``Part3``) and imports it here; the hub then serves the whole list to participants
(``GET /v1/codelists/unlocode``), who search it on their own computers. Nothing is written
unless the files read as a release: the list is replaced atomically or left as it was.
"""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn
from rich.table import Table

from pgs_hub.hub.cli.common import err, fail, out, say
from pgs_hub.hub.cli.server import HOME_OPTION
from pgs_hub.hub.home import CONFIG_FILE, default_home

_PART = re.compile(r"codelistpart\d+\.csv$", re.IGNORECASE)
_ISSUE = re.compile(r"(?<!\d)(\d{4}-\d)(?!\d)")


def _inputs(files: tuple[Path, ...]) -> list[tuple[str, bytes]]:
    """(name, bytes) of each CSV file: given as such, or the CodeListPart files of a zip."""
    found: list[tuple[str, bytes]] = []
    for path in files:
        if zipfile.is_zipfile(path):
            try:
                with zipfile.ZipFile(path) as archive:
                    names = [n for n in archive.namelist() if _PART.search(n)]
                    if not names:
                        fail(say("cli.codelists.no_csv", file=path.name))
                    found += [(f"{path.name}:{n}", archive.read(n)) for n in sorted(names)]
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
                fail(say("cli.codelists.bad_file", file=path.name, reason=exc))
        else:
            found.append((path.name, path.read_bytes()))
    return found


@click.group("codelists")
def codelists() -> None:
    """Code lists the hub serves whole to participants (UN/LOCODE, from UNECE's release)."""


@codelists.command("import-unlocode")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--issue", help="The UNECE issue, e.g. 2024-2 (default: read from the file names).")
@HOME_OPTION
def import_unlocode(files: tuple[Path, ...], issue: str | None, home: Path | None) -> None:
    """Import UNECE's UN/LOCODE release (its zip, or its CodeListPart CSV files) into the hub's
    home; the hub serves it to participants at once (no restart). Rows left out are counted by
    reason; a file that is not a release changes nothing."""
    from pgs_hub.hub.services.codelists import store_unlocode, unlocode_path
    from pgs_hub.protocols import unlocode

    home = home or default_home()
    if not (home / CONFIG_FILE).is_file():
        fail(say("cli.codelists.not_home", home=home))
    try:
        inputs = _inputs(files)
    except OSError as exc:
        fail(say("cli.codelists.bad_file", file=exc.filename or "", reason=exc.strerror or exc))
    total = sum(len(data) for _, data in inputs)
    with Progress(
        TextColumn(say("cli.codelists.reading")), BarColumn(), DownloadColumn(),
        console=err, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("", total=max(total, 1))
        try:
            parsed = unlocode.parse_release(inputs, lambda _, size: bar.advance(task, size))
        except unlocode.UnlocodeError as exc:
            fail(say("cli.codelists.bad_file", file=", ".join(f.name for f in files), reason=exc))
    names = " ".join([f.name for f in files] + [name for name, _ in inputs])
    version = issue or next(iter(_ISSUE.findall(names)), "unknown")
    places = unlocode.PlaceList(version, datetime.now(UTC).date().isoformat(), parsed.places)
    stored = store_unlocode(home, places)
    table = Table(say("cli.codelists.col_what"), say("cli.codelists.col_rows"))
    table.add_row(say("cli.codelists.imported"), f"{len(parsed.places):,}")
    for reason, count in parsed.skipped_by_reason().items():
        table.add_row(say(f"cli.codelists.skip.{reason}"), f"{count:,}")
    out.print(table)
    out.print(
        escape(
            say(
                "cli.codelists.saved",
                version=version,
                count=f"{stored.count:,}",
                path=unlocode_path(home),
                etag=stored.etag[:16],
            )
        )
    )
