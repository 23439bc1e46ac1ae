"""``pgs console``: a one-time sign-in link to the hub's web console, from a signed request."""

from __future__ import annotations

import click

from pgs_hub.hub.cli.common import out
from pgs_hub.hub.cli.connection import async_command, hub_options
from pgs_hub.hub.cli.context import CliContext
from pgs_hub.hub.i18n import LANGS


@click.command("console")
@hub_options
@click.option("--open", "open_browser", is_flag=True, help="Open the link in a web browser.")
@click.option(
    "--lang",
    type=click.Choice(LANGS),
    help="Language of this message and of the console (default: $PGS_LANG, then the locale).",
)
@async_command
async def console(
    cli: CliContext,
    open_browser: bool,
    lang: str | None,
) -> None:
    """Print a one-time link (valid 2 minutes) that signs you in to the web console.

    The request is signed with your participant key; what the console shows depends on your
    role and country. In a language other than English, the link opens the console in it.
    """
    import json
    import webbrowser
    from urllib.parse import urlencode

    from pgs_hub.hub.i18n import resolve, t
    from pgs_hub.hub.i18n_measures import duration

    async with cli.client() as client:
        _, data = await client.request("POST", "/v1/console/login-links")
    link = json.loads(data)
    chosen = resolve(lang)
    url = str(link["url"]) + ("" if chosen == "en" else f"?{urlencode({'lang': chosen})}")
    out.print(
        t("console.cli.link", chosen, duration=duration(link["expires_in"], chosen)), markup=False
    )
    out.print(url, markup=False, soft_wrap=True)
    if open_browser:
        webbrowser.open(url)
