"""``pgs admin metrics-token``: a bearer token for scraping /metrics from another machine."""

from __future__ import annotations

import hashlib
import secrets

import click

from pgs_hub.hub.cli.common import err, out


@click.command("metrics-token")
def metrics_token() -> None:
    """Make a random bearer token for /metrics. Prints the token (give it to the monitoring
    system, e.g. Prometheus' `authorization: credentials_file`) and the line for config.toml,
    which holds only its SHA-256."""
    token = secrets.token_urlsafe(32)
    digest = hashlib.sha256(token.encode()).hexdigest()
    out.print(token, markup=False)
    err.print("put in config.toml (then restart the hub):", markup=False)
    err.print(f'[metrics]\nbearer_token_sha256 = "{digest}"', markup=False)
