"""English and French for the text people read (West and Central Africa is largely francophone).

A deliberately small catalogue: message keys to ``{"en": ..., "fr": ...}``. The language comes from
an explicit choice, else ``PGS_LANG``, else the ``LANG``/``LC_ALL`` locale, else English.
"""

from __future__ import annotations

import os
from typing import Literal

Lang = Literal["en", "fr"]
LANGS: tuple[Lang, ...] = ("en", "fr")

CATALOGUE: dict[str, dict[Lang, str]] = {
    "demo.title": {
        "en": "Global Shield Hub - offline demo",
        "fr": "Global Shield Hub - démonstration hors ligne",
    },
    "demo.step.keys": {
        "en": "1. Each participant creates its signing (Ed25519) and encryption (X25519) keys",
        "fr": (
            "1. Chaque participant crée ses clés de signature (Ed25519) et de chiffrement (X25519)"
        ),
    },
    "demo.step.publish": {
        "en": "2. Public keys are published in the directory",
        "fr": "2. Les clés publiques sont publiées dans l'annuaire",
    },
    "demo.step.seal": {
        "en": "3. Nigeria seals an alert to Ghana and the WCO (encrypt, then sign)",
        "fr": "3. Le Nigeria scelle une alerte pour le Ghana et l'OMD (chiffrer, puis signer)",
    },
    "demo.step.hub": {
        "en": "4. What the hub sees: the routing header, never the content",
        "fr": "4. Ce que voit le hub : l'en-tête de routage, jamais le contenu",
    },
    "demo.step.open": {
        "en": "5. Each recipient verifies the signature and decrypts",
        "fr": "5. Chaque destinataire vérifie la signature et déchiffre",
    },
    "demo.step.refuse": {
        "en": "6. Cameroon is not a recipient: it cannot read the alert",
        "fr": "6. Le Cameroun n'est pas destinataire : il ne peut pas lire l'alerte",
    },
    "demo.step.tamper": {
        "en": "7. A single altered byte is detected",
        "fr": "7. Un seul octet modifié est détecté",
    },
    "demo.opened": {
        "en": "{who} opened the alert: {summary}",
        "fr": "{who} a ouvert l'alerte : {summary}",
    },
    "demo.refused": {"en": "{who} refused: {reason}", "fr": "{who} refusé : {reason}"},
    "demo.done": {
        "en": "Done. Keys and envelope are in {home}",
        "fr": "Terminé. Les clés et l'enveloppe sont dans {home}",
    },
    "demo.sealed": {
        "en": "envelope {mid}: {size} bytes, {n} recipients",
        "fr": "enveloppe {mid} : {size} octets, {n} destinataires",
    },
}


def resolve(choice: str | None = None) -> Lang:
    """Pick the language: explicit choice, ``PGS_LANG``, the locale, then English."""
    for candidate in (
        choice,
        os.environ.get("PGS_LANG"),
        os.environ.get("LC_ALL"),
        os.environ.get("LANG"),
    ):
        if candidate:
            prefix = candidate[:2].lower()
            if prefix == "fr":
                return "fr"
            if prefix == "en":
                return "en"
    return "en"


def t(key: str, lang: Lang, **values: object) -> str:
    """The text for ``key`` in ``lang``, with ``values`` filled in."""
    return CATALOGUE[key][lang].format(**values)
