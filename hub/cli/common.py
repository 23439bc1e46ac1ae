"""What every ``pgs`` command shares: passphrases, error reporting, the console."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape

from pgs_hub.crypto.errors import CryptoError
from pgs_hub.hub import keystore, passphrases
from pgs_hub.hub.errors import ConfigError
from pgs_hub.protocols.errors import MessageValidationError, ProtocolError

if TYPE_CHECKING:
    import ssl

PASSPHRASE_ENV = passphrases.KEYS

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a one-line reason on stderr and exit non-zero."""
    from pgs_hub.hub.i18n import resolve, t

    prefix = t("cli.error.prefix", resolve(None))
    err.print(f"[bold red]{prefix}[/] {escape(message)}", markup=True, highlight=False)
    sys.exit(code)


def say(key: str, **values: object) -> str:
    """The catalogue text ``key`` in the user's language (``--lang``, ``PGS_LANG``, locale)."""
    from pgs_hub.hub.i18n import resolve, t

    return t(key, resolve(None), **values)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn the domain errors into one-line reasons with their stable code; exit 1."""
    from pgs_hub.hub.cli.errors import report

    try:
        yield
    except (
        MessageValidationError,
        CryptoError,
        ProtocolError,
        keystore.KeyStoreError,
        ConfigError,
    ) as exc:
        report(exc)


def server_tls(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """The TLS context of a server (the hub's, a witness's) from its certificate and key files;
    ``None`` for plain HTTP. One without the other stops the command."""
    if (cert is None) != (key is None):
        fail(say("cli.serve.tls_pair"))
    if cert is None or key is None:
        return None
    import ssl  # only a server with TLS needs it: the other commands start without it

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def passphrase_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--prompt-passphrase``: ask on the terminal; otherwise read ``PGS_KEY_PASSPHRASE``.

    Never a command-line argument: those end up in shell history and process listings.
    """
    return click.option(
        "--prompt-passphrase",
        is_flag=True,
        help=(
            f"Ask for the key passphrase on the terminal (default: read ${PASSPHRASE_ENV}, "
            f"or the file ${PASSPHRASE_ENV}_FILE names)."
        ),
    )(func)


def passphrase(prompt: bool, *, confirm: bool = False) -> bytes | None:
    if prompt:
        value: str = click.prompt(
            say("cli.prompt.key_passphrase"), hide_input=True, confirmation_prompt=confirm, err=True
        )
        return value.encode("utf-8")
    with reported_errors():
        return passphrases.from_environment(PASSPHRASE_ENV)


def load_keys(folder: Path, prompt: bool) -> keystore.LocalParticipant:
    if not folder.is_dir():
        fail(say("cli.keys.missing", folder=folder))
    with reported_errors():
        encrypted = keystore.is_encrypted(folder)
    secret = passphrase(prompt) if encrypted or prompt else None
    if secret is None and encrypted:
        fail(say("cli.keys.encrypted", folder=folder, env=PASSPHRASE_ENV))
    with reported_errors():
        return keystore.load(folder, secret if encrypted else None)


def secret_from(name: str, what: str, *, new: bool, ask: bool = True) -> bytes | None:
    """A passphrase from ``$NAME`` / ``$NAME_FILE``, else (with ``ask``) asked on the terminal
    when there is one (twice for a ``new`` key); None when neither is possible. ``what`` names
    the keys in the user's language (``say("cli.prompt.hub_keys")``)."""
    with reported_errors():
        secret = passphrases.from_environment(name)
        if secret is None and ask and sys.stdin.isatty():
            typed: str = click.prompt(
                say("cli.prompt.passphrase_for", what=what),
                hide_input=True,
                confirmation_prompt=new,
                err=True,
            )
            secret = typed.encode("utf-8")
        if secret is not None and new:
            passphrases.check_new(secret, name)
    return secret


KEYS_OPTION = click.option(
    "--keys",
    "key_folder",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Your key folder (made by `pgs keygen`).",
)
DIRECTORY_OPTION = click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder of other participants' public keys, one <PARTICIPANT>.jwks.json each.",
)
