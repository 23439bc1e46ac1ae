"""``pgs demo``: what ``make demo`` runs — the hub demo, or the offline envelope demo."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import click

from pgs_hub.hub.i18n import LANGS, Lang, resolve


@click.command()
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the demo's hub home or keys (default: a new temporary folder).",
)
@click.option(
    "--lang", type=click.Choice(LANGS), help="Language (default: $PGS_LANG, then the locale)."
)
@click.option("--offline", is_flag=True, help="Show the envelope flow alone, without a hub.")
@click.option(
    "--serve", is_flag=True, help="Keep the hub running afterwards (to open the console links)."
)
def demo(home: Path | None, lang: Lang | None, offline: bool, serve: bool) -> None:
    """Run the demo: a real hub on SQLite over loopback sockets; WCO, Nigeria, Ghana, Cameroon
    and an auditor exchange an alert, a seizure notice and a regional notice; Cameroon is refused
    what is not addressed to it; the auditor reviews the log. With --offline: the envelope flow
    alone (seal, open, refuse, tamper)."""
    language = resolve(lang)
    folder = home or Path(tempfile.mkdtemp(prefix="pgs-demo-"))
    if offline:
        from pgs_hub.hub.demo.offline import run_offline

        run_offline(folder, language)
        return
    from pgs_hub.hub.demo.online import run_online

    asyncio.run(run_online(folder / "hub" if home is None else folder, language, serve=serve))
