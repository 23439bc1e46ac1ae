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
    "hub.demo.title": {
        "en": "Global Shield Hub - demo on a real hub (embedded SQLite, loopback sockets)",
        "fr": "Global Shield Hub - démonstration sur un vrai hub (SQLite intégré, sockets locaux)",
    },
    "hub.demo.step.init": {
        "en": "1. Create a hub home in {home} and start the hub",
        "fr": "1. Créer le dossier du hub dans {home} et démarrer le hub",
    },
    "hub.demo.listening": {"en": "hub listening on {url}", "fr": "hub à l'écoute sur {url}"},
    "hub.demo.step.enrol": {
        "en": "2. The registry authority certifies WCO, Nigeria, Ghana, Cameroon and an auditor",
        "fr": "2. L'autorité d'enregistrement certifie l'OMD, le Nigeria, le Ghana, le Cameroun"
        " et un auditeur",
    },
    "hub.demo.step.alert": {
        "en": "3. Nigeria alerts Ghana and the WCO about an ammonium nitrate shipment",
        "fr": "3. Le Nigeria alerte le Ghana et l'OMD sur un envoi de nitrate d'ammonium",
    },
    "hub.demo.step.reply": {
        "en": "4. Ghana reads the alert and answers with a seizure notice",
        "fr": "4. Le Ghana lit l'alerte et répond par un avis de saisie",
    },
    "hub.demo.step.broadcast": {
        "en": "5. The WCO broadcasts a notice to West and Central Africa",
        "fr": "5. L'OMD diffuse un avis à l'Afrique occidentale et centrale",
    },
    "hub.demo.step.refused": {
        "en": "6. Cameroon tries to read Ghana's seizure notice",
        "fr": "6. Le Cameroun tente de lire l'avis de saisie du Ghana",
    },
    "hub.demo.step.received": {
        "en": "7. Who received what",
        "fr": "7. Qui a reçu quoi",
    },
    "hub.demo.step.audit": {
        "en": "8. The auditor reviews the log (metadata only)",
        "fr": "8. L'auditeur examine le journal (métadonnées seulement)",
    },
    "hub.demo.step.stopped": {
        "en": "9. The hub has stopped cleanly",
        "fr": "9. Le hub s'est arrêté proprement",
    },
    "hub.demo.sent": {
        "en": "{who} sent {kind} {mid} to {to}",
        "fr": "{who} a envoyé {kind} {mid} à {to}",
    },
    "hub.demo.read": {
        "en": "{who} verified, decrypted and acknowledged: {subject}",
        "fr": "{who} a vérifié, déchiffré et accusé réception : {subject}",
    },
    "hub.demo.refused": {"en": "{who} refused: {reason}", "fr": "{who} refusé : {reason}"},
    "hub.demo.no_content": {
        "en": "The auditor sees who sent what kind of message to whom and when, never the content.",
        "fr": "L'auditeur voit qui a envoyé quel type de message à qui et quand,"
        " jamais le contenu.",
    },
    "hub.demo.done": {
        "en": "Done. The hub home (keys, database, configuration) is in {home}",
        "fr": "Terminé. Le dossier du hub (clés, base de données, configuration) est dans {home}",
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
