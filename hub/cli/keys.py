"""``pgs keygen`` and ``pgs key …``: create, show and export a participant's keys."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from pgs_hub.crypto.keys import private_jwk
from pgs_hub.hub import keystore
from pgs_hub.hub.cli.common import (
    err,
    load_keys,
    out,
    passphrase,
    passphrase_option,
    reported_errors,
    say,
)


@click.command()
@click.argument("participant")
@click.option(
    "--out",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Key folder to create (default: ./keys/PARTICIPANT).",
)
@passphrase_option
def keygen(participant: str, folder: Path | None, prompt_passphrase: bool) -> None:
    """Create the Ed25519 signing key and X25519 encryption key of PARTICIPANT (e.g. NG-NCP-LAGOS).

    Private keys are written as PKCS#8 PEM files (mode 0600), encrypted with a passphrase taken
    from $PGS_KEY_PASSPHRASE or asked for with --prompt-passphrase. The public keys go to
    public.jwks.json, the file to share with the hub and correspondents.
    """
    folder = folder or Path("keys") / participant
    secret = passphrase(prompt_passphrase, confirm=True)
    with reported_errors():
        created = keystore.create(folder, participant, secret)
    if secret is None:
        err.print(say("cli.keys.unencrypted"))
    out.print(say("cli.keys.created", who=created.id, folder=folder), markup=False)
    out.print(say("cli.keys.signing", kid=created.signing.kid), markup=False)
    out.print(say("cli.keys.encryption", kid=created.decryption.kid), markup=False)
    out.print(say("cli.keys.share", path=folder / keystore.PUBLIC_FILE), markup=False)


@click.group()
def key() -> None:
    """Show or export a participant's keys."""


@key.command("show")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def key_show(folder: Path) -> None:
    """Show the participant id and key ids (RFC 7638 thumbprints) of a key folder."""
    with reported_errors():
        public = keystore.load_public(
            folder / keystore.PUBLIC_FILE, keystore.participant_id(folder)
        )
        encrypted = keystore.is_encrypted(folder)
    table = Table(title=say("cli.keys.title", who=public.id))
    table.add_column(say("cli.keys.use"))
    table.add_column(say("cli.keys.algorithm"))
    table.add_column(say("cli.keys.kid"))
    table.add_row(say("cli.keys.use_signing"), "Ed25519 (EdDSA)", public.verify.kid)
    table.add_row(say("cli.keys.use_encryption"), "X25519 (ECDH-ES+A256KW)", public.encrypt.kid)
    out.print(table)
    out.print(say("cli.keys.protected_yes") if encrypted else say("cli.keys.protected_no"))


@key.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--private",
    "include_private",
    is_flag=True,
    help="Export the PRIVATE keys as a JWK Set (unencrypted!) for use in other JOSE tools.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation before --private.")
@passphrase_option
def key_export(folder: Path, include_private: bool, yes: bool, prompt_passphrase: bool) -> None:
    """Print the public JWK Set of a key folder (or, with --private, the private one)."""
    if not include_private:
        with reported_errors():
            public = (folder / keystore.PUBLIC_FILE).read_text()
        out.print(public, end="", markup=False)
        return
    err.print(say("cli.keys.export_warning"), markup=False)
    if not yes:
        click.confirm(say("cli.keys.export_confirm"), abort=True, err=True)
    with reported_errors():
        local = load_keys(folder, prompt_passphrase)
    jwks = {"keys": [private_jwk(local.signing), private_jwk(local.decryption)]}
    out.print(json.dumps(jwks, indent=2), markup=False)


@key.command("rotate")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@passphrase_option
def key_rotate(folder: Path, prompt_passphrase: bool) -> None:
    """Make new keys in FOLDER, keeping the old ones under FOLDER/retired/ so that messages sent
    before the rotation still open. Then have an admin run `pgs admin rotate` with the new
    public.jwks.json."""
    with reported_errors():
        rotated = keystore.rotate(folder, passphrase(prompt_passphrase))
    out.print(say("cli.keys.rotated", id=rotated.id, folder=folder), markup=False)
    rows = [
        (say("cli.col.sig_kid"), rotated.signing.kid),
        (say("cli.col.enc_kid"), rotated.decryption.kid),
        (say("cli.keys.retired"), str(len(rotated.retired))),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        out.print(f"  {label:<{width}} {value}", markup=False)
    command = f"pgs admin rotate {rotated.id} --public-keys {folder / keystore.PUBLIC_FILE}"
    out.print("  " + say("cli.keys.next", command=command), markup=False)
