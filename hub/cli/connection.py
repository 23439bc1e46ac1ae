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

from hub.cli.common import fail, load_keys, say

if TYPE_CHECKING:
    from crypto.note import NoteVerifier
    from crypto.witness import WitnessPolicy
    from hub.client import HubClient

T = TypeVar("T")


LOG_KEY_META = "pgs.log_key"
WITNESS_POLICY_META = "pgs.witness_policy"
WITNESS_POLICY_ENV = "PGS_WITNESS_POLICY"


def _remember_log_key(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    ctx.meta[LOG_KEY_META] = value


def _remember_policy(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    ctx.meta[WITNESS_POLICY_META] = value


def load_witness_policy(value: str | Path | None) -> WitnessPolicy | None:
    """The pinned witness policy (a c2sp.org/tlog-policy file), or None when none is given; a
    file that cannot be read or is not a policy ends the command with a one-line reason."""
    from crypto.errors import CryptoError
    from crypto.witness import parse_policy
    from hub.i18n import resolve, t

    if not value:
        return None
    try:
        return parse_policy(Path(value).read_bytes())
    except OSError as exc:
        fail(t("witness.policy_unreadable", resolve(), path=value, reason=exc.strerror))
    except CryptoError as exc:
        fail(t("witness.policy_unreadable", resolve(), path=value, reason=f"[{exc.code}] {exc}"))


WITNESS_POLICY_OPTION = click.option(
    "--witness-policy",
    envvar=WITNESS_POLICY_ENV,
    expose_value=False,
    callback=_remember_policy,
    help="Pinned witness policy file (c2sp.org/tlog-policy): refuse checkpoints that a quorum of"
    f" its witnesses has not cosigned (${WITNESS_POLICY_ENV}).",
)


def pinned_witness_policy() -> WitnessPolicy | None:
    """The policy given with the shared ``--witness-policy`` option, if any."""
    click_ctx = click.get_current_context(silent=True)
    return load_witness_policy(click_ctx.meta.get(WITNESS_POLICY_META) if click_ctx else None)


def pinned_log_key(value: str | None) -> NoteVerifier | None:
    """A verifier key given inline (``name+hash+base64``) or as a file holding one."""
    from crypto.errors import CryptoError
    from crypto.note import parse_verifier_key

    if not value:
        return None
    path = Path(value)
    text = path.read_text().strip() if path.is_file() else value.strip()
    try:
        return parse_verifier_key(text)
    except CryptoError as exc:
        fail(say("cli.error.log_key", reason=exc))


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
                "--log-key",
                envvar="PGS_LOG_KEY",
                expose_value=False,
                callback=_remember_log_key,
                help="Pinned log verifier key, or a file holding it (`pgs audit key`): encrypt"
                " only to keys proven to be in the hub's log ($PGS_LOG_KEY).",
            ),
            WITNESS_POLICY_OPTION,
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
        ]
    ):
        func = option(func)
    return func


def make_client(
    hub_url: str, ca: Path | None, authority: Path | None, key_folder: Path, prompt_passphrase: bool
) -> HubClient:
    from crypto.keys import VerifyKey, verify_key_from_jwk
    from hub.cli.errors import check_hub_url
    from hub.client import HubClient

    check_hub_url(hub_url)
    me = load_keys(key_folder, prompt_passphrase)
    pinned: VerifyKey | None = None
    if authority is not None:
        pinned = verify_key_from_jwk(json.loads(authority.read_text()))
    context = ssl.create_default_context(cafile=str(ca)) if ca is not None else None
    click_ctx = click.get_current_context(silent=True)
    log_key = pinned_log_key(click_ctx.meta.get(LOG_KEY_META) if click_ctx else None)
    return HubClient(
        hub_url, me, authority=pinned, log_key=log_key, ssl_context=context,
        witness_policy=pinned_witness_policy(),
    )  # fmt: skip


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a client coroutine, turning refusals into one-line errors."""
    from hub.cli.errors import report
    from hub.client import HubClientError, TrustError

    try:
        return asyncio.run(coro)
    except (HubClientError, TrustError, OSError) as exc:
        report(exc)


def async_command(func: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return run(func(*args, **kwargs))  # type: ignore[arg-type]

    return wrapper
