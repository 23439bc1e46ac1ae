"""Options every command that talks to a hub shares, read into one :class:`CliContext`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from pgs_hub.hub.cli.context import LOG_KEY_ENV, CliContext

T = TypeVar("T")

WITNESS_POLICY_ENV = "PGS_WITNESS_POLICY"

#: The shared options, in the order ``--help`` lists them.
_HUB_OPTIONS = (
    click.option(
        "--hub",
        "hub_url",
        envvar="PGS_HUB_URL",
        required=True,
        help="Hub URL ($PGS_HUB_URL).",
    ),
    click.option(
        "--ca",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        envvar="PGS_CA_BUNDLE",
        help="CA bundle to verify the hub's TLS certificate ($PGS_CA_BUNDLE).",
    ),
    click.option(
        "--authority",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        envvar="PGS_AUTHORITY_KEY",
        help="Pinned registry-authority public key, a JWK file ($PGS_AUTHORITY_KEY).",
    ),
    click.option(
        "--log-key",
        envvar=LOG_KEY_ENV,
        help="Pinned log verifier key, or a file holding it (`pgs audit key`): encrypt"
        f" only to keys proven to be in the hub's log (${LOG_KEY_ENV}).",
    ),
    click.option(
        "--witness-policy",
        envvar=WITNESS_POLICY_ENV,
        help="Pinned witness policy file (c2sp.org/tlog-policy): refuse checkpoints that a quorum"
        f" of its witnesses has not cosigned (${WITNESS_POLICY_ENV}).",
    ),
    click.option(
        "--keys",
        "key_folder",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="PGS_KEYS",
        required=True,
        help="Your key folder ($PGS_KEYS).",
    ),
    click.option(
        "--prompt-passphrase",
        is_flag=True,
        help="Ask for the key passphrase (default: $PGS_KEY_PASSPHRASE).",
    ),
)


def hub_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--hub, --ca, --authority, --log-key, --witness-policy, --keys and --prompt-passphrase,
    with environment-variable defaults, handed to the command as one ``cli: CliContext``."""

    @wraps(func)
    def with_context(
        *args: Any,
        hub_url: str,
        ca: Path | None,
        authority: Path | None,
        log_key: str | None,
        witness_policy: str | None,
        key_folder: Path,
        prompt_passphrase: bool,
        **kwargs: Any,
    ) -> Any:
        cli = CliContext(
            hub_url=hub_url, key_folder=key_folder, ca=ca, authority=authority, log_key=log_key,
            witness_policy=witness_policy, prompt_passphrase=prompt_passphrase,
        )  # fmt: skip
        return func(*args, cli=cli, **kwargs)

    command: Callable[..., Any] = with_context
    for option in reversed(_HUB_OPTIONS):
        command = option(command)
    return command


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a client coroutine, turning refusals into one-line errors."""
    from pgs_hub.hub.cli.errors import report
    from pgs_hub.hub.client import HubClientError, TrustError

    try:
        return asyncio.run(coro)
    except (HubClientError, TrustError, OSError) as exc:
        report(exc)


def async_command(func: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return run(func(*args, **kwargs))  # type: ignore[arg-type]

    return wrapper
