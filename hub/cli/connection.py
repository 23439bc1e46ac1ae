"""Options every command that talks to a hub shares, and the client they build."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hub.cli.common import fail, load_keys

if TYPE_CHECKING:
    from hub.client import HubClient

T = TypeVar("T")


def hub_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--hub, --ca, --authority and --keys, with environment-variable defaults."""
    for option in reversed(
        [
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
                "--keys",
                "key_folder",
                type=click.Path(file_okay=False, exists=True, path_type=Path),
                envvar="PGS_KEYS",
                required=True,
                help="Your key folder ($PGS_KEYS).",
            ),
            click.option(
                "--prompt-passphrase",
                is_flag=True,
                help="Ask for the key passphrase (default: $PGS_KEY_PASSPHRASE).",
            ),
        ]
    ):
        func = option(func)
    return func


def make_client(
    hub_url: str, ca: Path | None, authority: Path | None, key_folder: Path, prompt_passphrase: bool
) -> HubClient:
    from crypto.keys import VerifyKey, verify_key_from_jwk
    from hub.client import HubClient

    me = load_keys(key_folder, prompt_passphrase)
    pinned: VerifyKey | None = None
    if authority is not None:
        pinned = verify_key_from_jwk(json.loads(authority.read_text()))
    context = ssl.create_default_context(cafile=str(ca)) if ca is not None else None
    return HubClient(hub_url, me, authority=pinned, ssl_context=context)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a client coroutine, turning refusals into one-line errors."""
    from hub.client import HubClientError, TrustError

    try:
        return asyncio.run(coro)
    except HubClientError as exc:
        fail(str(exc))
    except TrustError as exc:
        fail(f"[{exc.code}] {exc}")
    except OSError as exc:
        fail(f"cannot reach the hub: {exc}")


def async_command(func: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return run(func(*args, **kwargs))  # type: ignore[arg-type]

    return wrapper
