"""English and French for the text people read (West and Central Africa is largely francophone).

A deliberately small catalogue: message keys to ``{"en": ..., "fr": ...}``. The language comes from
an explicit choice, else ``PGS_LANG``, else the ``LANG``/``LC_ALL`` locale, else English.
"""

from __future__ import annotations

import os
from typing import Literal

from hub.i18n_cli import CLI_CATALOGUE

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
    "hub.demo.step.verify": {
        "en": "9. The auditor verifies the log with `pgs audit verify`",
        "fr": "9. L'auditeur vérifie le journal avec `pgs audit verify`",
    },
    "hub.demo.step.evidence": {
        "en": "10. Ghana exports an evidence bundle for the alert; it is verified offline",
        "fr": "10. Le Ghana exporte un dossier de preuve de l'alerte ; il est vérifié hors ligne",
    },
    "hub.demo.step.console": {
        "en": "11. Web console sign-in links (one-time, valid 2 minutes)",
        "fr": "11. Liens de connexion à la console web (usage unique, valables 2 minutes)",
    },
    "hub.demo.serving": {
        "en": "The hub keeps running at {url}; press Ctrl-C to stop it.",
        "fr": "Le hub continue de fonctionner à {url} ; Ctrl-C pour l'arrêter.",
    },
    "hub.demo.links_expire": {
        "en": "The hub stops now, so these links will not open;"
        " run `pgs demo --serve` to use them.",
        "fr": "Le hub s'arrête maintenant : ces liens ne s'ouvriront pas ;"
        " lancez `pgs demo --serve` pour les utiliser.",
    },
    "hub.demo.step.stopped": {
        "en": "12. The hub has stopped cleanly",
        "fr": "12. Le hub s'est arrêté proprement",
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
    "hub.demo.security_events": {
        "en": "Refusals are security events, counted per actor, reason and minute (not log"
        " entries):",
        "fr": "Les refus sont des événements de sécurité, comptés par acteur, motif et minute"
        " (pas des entrées du journal) :",
    },
    "hub.demo.no_content": {
        "en": "The auditor sees who sent what kind of message to whom and when, never the content.",
        "fr": "L'auditeur voit qui a envoyé quel type de message à qui et quand,"
        " jamais le contenu.",
    },
    "hub.demo.done": {
        "en": "Done. The hub home (keys, database, configuration) is in {home}",
        "fr": "Terminé. Le dossier du hub (clés, base de données, configuration) est dans {home}",
    },
    # --- the web console (hub/console) ---------------------------------------------------------
    "console.title": {"en": "Global Shield Hub console", "fr": "Console du Global Shield Hub"},
    "console.skip": {"en": "Skip to content", "fr": "Aller au contenu"},
    "console.nav": {"en": "Console pages", "fr": "Pages de la console"},
    "console.nav.traffic": {"en": "Traffic", "fr": "Trafic"},
    "console.nav.log": {"en": "Message log", "fr": "Journal des messages"},
    "console.nav.audit": {"en": "Audit", "fr": "Audit"},
    "console.nav.directory": {"en": "Directory", "fr": "Annuaire"},
    "console.lang.switch": {"en": "Français", "fr": "English"},
    "console.lang.label": {"en": "Language", "fr": "Langue"},
    "console.signed_in": {
        "en": "Signed in as {who} ({role}, {country})",
        "fr": "Connecté en tant que {who} ({role}, {country})",
    },
    "console.sign_out": {"en": "Sign out", "fr": "Se déconnecter"},
    "console.signed_out": {"en": "You are signed out.", "fr": "Vous êtes déconnecté."},
    "console.sign_in_help": {
        "en": "Sign in with a one-time link: run `pgs console --open` with your participant keys.",
        "fr": "Connectez-vous avec un lien à usage unique : lancez `pgs console --open` avec les"
        " clés de votre participant.",
    },
    "console.error.unauthenticated": {"en": "Please sign in", "fr": "Veuillez vous connecter"},
    "console.error.link": {
        "en": "This sign-in link is unknown, expired or already used.",
        "fr": "Ce lien de connexion est inconnu, expiré ou déjà utilisé.",
    },
    "console.error.forbidden": {
        "en": "You may not see this page or these data.",
        "fr": "Vous ne pouvez pas voir cette page ni ces données.",
    },
    "console.error.country": {
        "en": "Your view is limited to {country}: the data of another country are not shown.",
        "fr": "Votre vue est limitée à {country} : les données d'un autre pays ne sont pas"
        " affichées.",
    },
    "console.error.csrf": {
        "en": "The form has expired or did not come from this console. Reload the page and retry.",
        "fr": "Le formulaire a expiré ou ne vient pas de cette console. Rechargez la page et"
        " réessayez.",
    },
    "console.error.bad_request": {
        "en": "The request is not valid: {reason}",
        "fr": "La requête n'est pas valide : {reason}",
    },
    "console.error.not_found": {"en": "There is no such page.", "fr": "Cette page n'existe pas."},
    "console.error.title": {"en": "Error", "fr": "Erreur"},
    "console.bad.date": {
        "en": "dates are written YYYY-MM-DD",
        "fr": "les dates s'écrivent AAAA-MM-JJ",
    },
    "console.bad.period": {
        "en": "the period must start before it ends and last at most 366 days",
        "fr": "la période doit commencer avant sa fin et durer au plus 366 jours",
    },
    "console.bad.value": {"en": "{name} is not valid", "fr": "{name} n'est pas valide"},
    "console.filter": {"en": "Filter", "fr": "Filtrer"},
    "console.filters": {"en": "Filters", "fr": "Filtres"},
    "console.from": {"en": "From", "fr": "Du"},
    "console.to": {"en": "To", "fr": "Au"},
    "console.any": {"en": "any", "fr": "tous"},
    "console.kind": {"en": "Kind", "fr": "Type"},
    "console.country": {"en": "Country", "fr": "Pays"},
    "console.participant": {"en": "Participant", "fr": "Participant"},
    "console.region": {"en": "WCO region", "fr": "Région OMD"},
    "console.messages": {"en": "Messages", "fr": "Messages"},
    "console.kind.alert": {"en": "alert", "fr": "alerte"},
    "console.kind.seizure": {"en": "seizure", "fr": "saisie"},
    "console.kind.notice": {"en": "notice", "fr": "avis"},
    "console.kind.rfi": {"en": "request for information", "fr": "demande d'information"},
    "console.kind.reply": {"en": "reply", "fr": "réponse"},
    "console.kind.receipt": {"en": "receipt", "fr": "accusé de réception"},
    "console.state.queued": {"en": "waiting", "fr": "en attente"},
    "console.state.delivered": {"en": "delivered", "fr": "remis"},
    "console.state.read": {"en": "read", "fr": "lu"},
    "console.state.expired": {"en": "expired", "fr": "expiré"},
    "console.role.ncp": {"en": "NCP", "fr": "PCN"},
    "console.role.wco": {"en": "WCO", "fr": "OMD"},
    "console.role.auditor": {"en": "auditor", "fr": "auditeur"},
    "console.role.admin": {"en": "administrator", "fr": "administrateur"},
    "console.traffic.title": {"en": "Traffic", "fr": "Trafic"},
    "console.traffic.scope_all": {"en": "All countries", "fr": "Tous les pays"},
    "console.traffic.scope_country": {
        "en": "Messages involving {country}",
        "fr": "Messages concernant {country}",
    },
    "console.traffic.total": {"en": "Messages", "fr": "Messages"},
    "console.traffic.undelivered": {"en": "Undelivered copies", "fr": "Copies non remises"},
    "console.traffic.expired": {"en": "Expired copies", "fr": "Copies expirées"},
    "console.traffic.median": {"en": "Median delivery time", "fr": "Délai médian de remise"},
    "console.traffic.none": {"en": "none delivered yet", "fr": "aucune remise encore"},
    "console.traffic.per_day": {
        "en": "Messages per day, by kind",
        "fr": "Messages par jour, par type",
    },
    "console.traffic.per_region": {
        "en": "Messages by the sender's WCO region",
        "fr": "Messages par région OMD de l'expéditeur",
    },
    "console.traffic.pairs": {"en": "Top country pairs", "fr": "Principales paires de pays"},
    "console.traffic.sender_country": {"en": "From country", "fr": "Pays expéditeur"},
    "console.traffic.recipient_country": {"en": "To country", "fr": "Pays destinataire"},
    "console.traffic.day": {"en": "Day", "fr": "Jour"},
    "console.traffic.data": {"en": "Chart data as a table", "fr": "Données du graphique"},
    "console.traffic.empty": {
        "en": "No messages in this period.",
        "fr": "Aucun message pendant cette période.",
    },
    "console.traffic.bar": {"en": "{label}: {n} {kind}", "fr": "{label} : {n} {kind}"},
    "console.log.title": {"en": "Message log", "fr": "Journal des messages"},
    "console.log.note": {
        "en": "Metadata only: the hub never sees the content of a message.",
        "fr": "Métadonnées seulement : le hub ne voit jamais le contenu d'un message.",
    },
    "console.log.search": {"en": "Message id", "fr": "Identifiant du message"},
    "console.log.time": {"en": "Accepted", "fr": "Accepté"},
    "console.log.sender": {"en": "Sender", "fr": "Expéditeur"},
    "console.log.recipients": {
        "en": "Recipients and delivery",
        "fr": "Destinataires et remise",
    },
    "console.log.tlp": {"en": "Handling (TLP)", "fr": "Diffusion (TLP)"},
    "console.log.size": {"en": "Size", "fr": "Taille"},
    "console.log.bytes": {"en": "{n} bytes", "fr": "{n} octets"},
    "console.log.count": {
        "en": "{total} messages; {first} to {last} shown",
        "fr": "{total} messages ; {first} à {last} affichés",
    },
    "console.log.empty": {
        "en": "No message matches these filters.",
        "fr": "Aucun message ne correspond à ces filtres.",
    },
    "console.log.previous": {"en": "Newer", "fr": "Plus récents"},
    "console.log.next": {"en": "Older", "fr": "Plus anciens"},
    "console.log.pages": {"en": "Pages", "fr": "Pages"},
    "console.log.csv": {"en": "Export as CSV", "fr": "Exporter en CSV"},
    "console.log.own": {
        "en": "Only messages you sent or received are shown.",
        "fr": "Seuls les messages que vous avez envoyés ou reçus sont affichés.",
    },
    "console.audit.title": {"en": "Audit log", "fr": "Journal d'audit"},
    "console.audit.latest": {
        "en": "Latest signed checkpoint",
        "fr": "Dernier point de contrôle signé",
    },
    "console.audit.key": {"en": "Log verifier key", "fr": "Clé de vérification du journal"},
    "console.audit.server": {"en": "Checked by the hub", "fr": "Vérifié par le hub"},
    "console.audit.browser": {
        "en": "Checked in your browser",
        "fr": "Vérifié dans votre navigateur",
    },
    "console.audit.server_ok": {
        "en": "signature valid (tree size {size})",
        "fr": "signature valide (taille de l'arbre {size})",
    },
    "console.audit.server_bad": {"en": "SIGNATURE INVALID", "fr": "SIGNATURE INVALIDE"},
    "console.audit.browser_pending": {
        "en": "checking… (needs JavaScript)",
        "fr": "vérification… (JavaScript requis)",
    },
    "console.audit.browser_ok": {
        "en": "signature verified in your browser (WebCrypto Ed25519)",
        "fr": "signature vérifiée dans votre navigateur (WebCrypto Ed25519)",
    },
    "console.audit.browser_bad": {
        "en": "SIGNATURE INVALID according to your browser",
        "fr": "SIGNATURE INVALIDE selon votre navigateur",
    },
    "console.audit.browser_unsupported": {
        "en": "your browser cannot check Ed25519 signatures",
        "fr": "votre navigateur ne sait pas vérifier les signatures Ed25519",
    },
    "console.audit.history": {
        "en": "Checkpoint history",
        "fr": "Historique des points de contrôle",
    },
    "console.audit.size": {"en": "Tree size", "fr": "Taille de l'arbre"},
    "console.audit.signed_at": {"en": "Signed", "fr": "Signé"},
    "console.audit.root": {"en": "Root hash", "fr": "Hachage racine"},
    "console.audit.consistency": {
        "en": "Consistent with the previous one",
        "fr": "Cohérent avec le précédent",
    },
    "console.audit.consistent": {"en": "yes, proof verified", "fr": "oui, preuve vérifiée"},
    "console.audit.inconsistent": {"en": "NO: PROOF FAILED", "fr": "NON : PREUVE ÉCHOUÉE"},
    "console.audit.first": {"en": "oldest shown", "fr": "le plus ancien affiché"},
    "console.audit.inclusion": {"en": "Inclusion proof", "fr": "Preuve d'inclusion"},
    "console.audit.index": {"en": "Log index", "fr": "Index dans le journal"},
    "console.audit.or_mid": {"en": "or message id", "fr": "ou identifiant du message"},
    "console.audit.prove": {"en": "Prove inclusion", "fr": "Prouver l'inclusion"},
    "console.audit.leaf": {"en": "Leaf hash", "fr": "Hachage de la feuille"},
    "console.audit.path": {"en": "Proof hashes", "fr": "Hachages de la preuve"},
    "console.audit.event": {"en": "Event", "fr": "Événement"},
    "console.audit.included": {
        "en": "entry {index} is included in the tree of size {size}: proof verified",
        "fr": "l'entrée {index} est incluse dans l'arbre de taille {size} : preuve vérifiée",
    },
    "console.audit.not_included": {
        "en": "the inclusion proof does NOT verify",
        "fr": "la preuve d'inclusion NE se vérifie PAS",
    },
    "console.audit.no_entry": {
        "en": "No entry you may see at this index or for this message.",
        "fr": "Aucune entrée visible pour vous à cet index ou pour ce message.",
    },
    "console.audit.empty": {"en": "The log is empty.", "fr": "Le journal est vide."},
    "console.directory.title": {"en": "Directory", "fr": "Annuaire"},
    "console.directory.participants": {"en": "Participants", "fr": "Participants"},
    "console.directory.id": {"en": "Participant", "fr": "Participant"},
    "console.directory.role": {"en": "Role", "fr": "Rôle"},
    "console.directory.scope": {"en": "Audit scope", "fr": "Périmètre d'audit"},
    "console.directory.status": {"en": "Status", "fr": "Statut"},
    "console.directory.keys": {"en": "Key ids", "fr": "Identifiants de clés"},
    "console.directory.events": {"en": "Key events", "fr": "Événements de clés"},
    "console.directory.count": {"en": "{n} participants", "fr": "{n} participants"},
    "console.status.active": {"en": "active", "fr": "actif"},
    "console.status.suspended": {"en": "suspended", "fr": "suspendu"},
    "console.status.revoked": {"en": "revoked", "fr": "révoqué"},
    "console.event.participant.enrolled": {"en": "enrolment", "fr": "inscription"},
    "console.event.keys.rotated": {"en": "key rotation", "fr": "renouvellement des clés"},
    "console.event.participant.suspended": {"en": "suspension", "fr": "suspension"},
    "console.event.participant.active": {"en": "reactivation", "fr": "réactivation"},
    "console.event.participant.revoked": {"en": "revocation", "fr": "révocation"},
    "console.region.none": {"en": "no WCO region", "fr": "sans région OMD"},
    "console.cli.link": {
        "en": "One-time console sign-in link (valid {seconds} s):",
        "fr": "Lien de connexion à usage unique à la console (valable {seconds} s) :",
    },
    "witness.created": {
        "en": "witness created in {home} (edit {config} to add logs)",
        "fr": "témoin créé dans {home} (modifiez {config} pour ajouter des journaux)",
    },
    "witness.key_is": {
        "en": "its verifier key, for the hub's [witnessing] list and for witness policies:",
        "fr": "sa clé de vérification, pour la liste [witnessing] du hub et les politiques :",
    },
    "witness.busy": {
        "en": "another witness process already serves {home}",
        "fr": "un autre processus témoin sert déjà {home}",
    },
    "witness.listening": {
        "en": "witness {name} listening on {url}",
        "fr": "témoin {name} à l'écoute sur {url}",
    },
    "witness.policy_unreadable": {
        "en": "cannot read the witness policy {path}: {reason}",
        "fr": "impossible de lire la politique de témoins {path} : {reason}",
    },
    "witness.no_quorum": {
        "en": "checkpoint refused: not enough witness cosignatures [{code}] {reason}",
        "fr": "point de contrôle refusé : cosignatures de témoins insuffisantes [{code}] {reason}",
    },
    "witness.quorum_ok": {
        "en": "witness policy satisfied: cosigned by {names}",
        "fr": "politique de témoins respectée : cosigné par {names}",
    },
    "witness.proof_written": {
        "en": "offline tlog proof of entry {index} written to {path}",
        "fr": "preuve tlog hors ligne de l'entrée {index} écrite dans {path}",
    },
    "witness.proof_ok": {
        "en": "tlog proof verified: entry {index} is in the checkpoint of {size} entries",
        "fr": (
            "preuve tlog vérifiée : l'entrée {index} est dans le point de contrôle de "
            "{size} entrées"
        ),
    },
    "console.login.title": {"en": "Sign in", "fr": "Connexion"},
    "console.login.confirm": {
        "en": "This one-time link signs this browser in as {who}.",
        "fr": "Ce lien à usage unique connecte ce navigateur en tant que {who}.",
    },
    "console.login.replaces": {
        "en": "This browser is signed in as {current}: signing in ends that session.",
        "fr": "Ce navigateur est connecté en tant que {current} : se connecter met fin à cette"
        " session.",
    },
    "console.login.same": {
        "en": "This browser is already signed in as {who}: signing in starts a new session.",
        "fr": "Ce navigateur est déjà connecté en tant que {who} : se connecter ouvre une"
        " nouvelle session.",
    },
    "console.login.button": {"en": "Sign in as {who}", "fr": "Se connecter en tant que {who}"},
    "console.nav.security": {"en": "Security events", "fr": "Événements de sécurité"},
    "console.security.intro": {
        "en": "Refused requests (failed authentication, denied access, rate limits, replays,"
        " malformed requests), counted per actor, reason and minute. An actor is a participant,"
        " or the network address of a request nobody could be authenticated for.",
        "fr": "Requêtes refusées (authentification échouée, accès refusé, limite de débit,"
        " rejeu, requête mal formée), comptées par acteur, motif et minute. Un acteur est un"
        " participant, ou l'adresse réseau d'une requête dont l'auteur n'a pu être authentifié.",
    },
    "console.security.hours": {"en": "Last hours", "fr": "Dernières heures"},
    "console.security.show": {"en": "Show", "fr": "Afficher"},
    "console.security.count": {
        "en": "{rows} rows, {total} refusals.",
        "fr": "{rows} lignes, {total} refus.",
    },
    "console.security.window": {"en": "Minute", "fr": "Minute"},
    "console.security.actor": {"en": "Actor", "fr": "Acteur"},
    "console.security.reason": {"en": "Reason", "fr": "Motif"},
    "console.security.action": {"en": "Request", "fr": "Requête"},
    "console.security.times": {"en": "Times", "fr": "Fois"},
    "console.security.last": {"en": "Last", "fr": "Dernier"},
    "attach.too_large": {
        "en": "{name} is too large for this hub: at most {cap} bytes encrypted; nothing was sent",
        "fr": (
            "{name} est trop gros pour ce hub : {cap} octets chiffrés au plus ; rien n'a été envoyé"
        ),
    },
    "attach.message_too_large": {
        "en": "the attachments total {total} bytes encrypted; this hub takes at most {cap} per "
        "message; nothing was sent",
        "fr": "les pièces jointes font {total} octets chiffrés ; ce hub en accepte {cap} au plus "
        "par message ; rien n'a été envoyé",
    },
    "attach.described_only": {
        "en": "{name}: only described in the message (its bytes were not sent)",
        "fr": "{name} : seulement décrit dans le message (son contenu n'a pas été envoyé)",
    },
    "attach.saved": {
        "en": "saved {name} to {path} (hash and signature verified)",
        "fr": "{name} enregistré dans {path} (empreinte et signature vérifiées)",
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


# The command line's texts (errors, read, inbox, watch, new) live in hub/i18n_cli.py.
CATALOGUE.update({k: v for k, v in CLI_CATALOGUE.items() if k not in CATALOGUE})

# Titles of the error catalogue (hub/error_codes.py): one per code, `t(code.title_key, lang)`.
CATALOGUE.update(
    {
        "error.request.malformed": {
            "en": "The request cannot be parsed",
            "fr": "La requête est illisible",
        },
        "error.request.invalid": {
            "en": "The request breaks a rule",
            "fr": "La requête enfreint une règle",
        },
        "error.request.incomplete": {
            "en": "The request was cut short",
            "fr": "La requête a été interrompue",
        },
        "error.request.too_large": {
            "en": "The request is too large",
            "fr": "La requête est trop volumineuse",
        },
        "error.request.timeout": {
            "en": "The request took too long to arrive",
            "fr": "La requête a mis trop de temps à arriver",
        },
        "error.request.unsupported_media_type": {
            "en": "Unsupported content type",
            "fr": "Type de contenu non pris en charge",
        },
        "error.request.bad_forwarded_header": {
            "en": "Bad forwarding header from the proxy",
            "fr": "En-tête de relais du mandataire invalide",
        },
        "error.http.malformed": {"en": "Not well-formed HTTP", "fr": "HTTP mal formé"},
        "error.http.error": {"en": "The request was refused", "fr": "La requête a été refusée"},
        "error.route.not_found": {"en": "No such route", "fr": "Route inconnue"},
        "error.method.not_allowed": {
            "en": "Method not allowed here",
            "fr": "Méthode non autorisée ici",
        },
        "error.internal": {"en": "Internal error", "fr": "Erreur interne"},
        "error.hub.error": {
            "en": "The hub refused the request",
            "fr": "Le hub a refusé la requête",
        },
        "error.auth.failed": {"en": "Not authenticated", "fr": "Non authentifié"},
        "error.auth.unknown_key": {"en": "Unknown signing key", "fr": "Clé de signature inconnue"},
        "error.auth.key_not_current": {
            "en": "Signing key no longer current",
            "fr": "Clé de signature plus en vigueur",
        },
        "error.auth.certificate_expired": {"en": "Certificate expired", "fr": "Certificat expiré"},
        "error.auth.revoked": {"en": "Participant revoked", "fr": "Participant révoqué"},
        "error.auth.replay": {
            "en": "Request already received (replay)",
            "fr": "Requête déjà reçue (rejeu)",
        },
        "error.access.denied": {"en": "Access denied", "fr": "Accès refusé"},
        "error.admin.forbidden": {"en": "Administrators only", "fr": "Réservé aux administrateurs"},
        "error.audit.forbidden": {"en": "Auditors only", "fr": "Réservé aux auditeurs"},
        "error.console.forbidden": {
            "en": "Not allowed in the console",
            "fr": "Non autorisé dans la console",
        },
        "error.console.other_country": {
            "en": "Another country's data",
            "fr": "Données d'un autre pays",
        },
        "error.metrics.forbidden": {
            "en": "Metrics token required",
            "fr": "Jeton des métriques requis",
        },
        "error.country.suspended": {"en": "Country suspended", "fr": "Pays suspendu"},
        "error.participant.suspended": {
            "en": "Participant suspended",
            "fr": "Participant suspendu",
        },
        "error.participant.revoked": {"en": "Participant revoked", "fr": "Participant révoqué"},
        "error.participant.not_found": {"en": "No such participant", "fr": "Participant inconnu"},
        "error.participant.exists": {
            "en": "Participant already enrolled",
            "fr": "Participant déjà inscrit",
        },
        "error.sender.impersonation": {
            "en": "Sender is someone else",
            "fr": "L'expéditeur est un autre participant",
        },
        "error.policy.kind_not_allowed": {
            "en": "Message kind not allowed",
            "fr": "Type de message non autorisé",
        },
        "error.policy.group_not_allowed": {"en": "Group not allowed", "fr": "Groupe non autorisé"},
        "error.policy.red_to_group": {
            "en": "TLP:RED cannot go to a group",
            "fr": "TLP:RED ne peut pas aller à un groupe",
        },
        "error.policy.seizure_needs_wco": {
            "en": "A seizure report must include the WCO",
            "fr": "Un rapport de saisie doit inclure l'OMD",
        },
        "error.policy.too_many_recipients": {
            "en": "Too many recipients",
            "fr": "Trop de destinataires",
        },
        "error.policy.unknown_action": {"en": "Unknown action", "fr": "Action inconnue"},
        "error.recipient.unknown": {"en": "Unknown recipient", "fr": "Destinataire inconnu"},
        "error.recipient.inactive": {"en": "Recipient not active", "fr": "Destinataire inactif"},
        "error.recipient.role": {
            "en": "Recipient cannot receive this",
            "fr": "Ce destinataire ne peut pas recevoir ceci",
        },
        "error.recipient.stale_key": {
            "en": "Encrypted to an old key",
            "fr": "Chiffré pour une ancienne clé",
        },
        "error.group.mismatch": {
            "en": "Recipients do not match the group",
            "fr": "Les destinataires ne correspondent pas au groupe",
        },
        "error.envelope.not_found": {"en": "No such message", "fr": "Message inconnu"},
        "error.envelope.purged": {
            "en": "Message body removed (retention)",
            "fr": "Corps du message supprimé (conservation)",
        },
        "error.envelope.duplicate": {
            "en": "Message already stored",
            "fr": "Message déjà enregistré",
        },
        "error.envelope.id_conflict": {
            "en": "Another message has this id",
            "fr": "Un autre message porte cet identifiant",
        },
        "error.envelope.expired": {"en": "Message expired", "fr": "Message expiré"},
        "error.envelope.not_yet_valid": {
            "en": "Message dated in the future",
            "fr": "Message daté dans le futur",
        },
        "error.envelope.ttl_too_long": {
            "en": "Lifetime too long",
            "fr": "Durée de vie trop longue",
        },
        "error.rate.limited": {"en": "Too many requests", "fr": "Trop de requêtes"},
        "error.rate.submissions": {
            "en": "Too many messages sent",
            "fr": "Trop de messages envoyés",
        },
        "error.receipt.impersonation": {
            "en": "Receipt signed by someone else",
            "fr": "Accusé signé par un autre participant",
        },
        "error.receipt.too_large": {"en": "Receipt too large", "fr": "Accusé trop volumineux"},
        "error.receipt.wrong_envelope": {
            "en": "Receipt for other bytes",
            "fr": "Accusé pour d'autres octets",
        },
        "error.receipt.wrong_message": {
            "en": "Receipt for another message",
            "fr": "Accusé pour un autre message",
        },
        "error.certificate.subject": {
            "en": "Certificate names someone else",
            "fr": "Le certificat désigne un autre participant",
        },
        "error.certificate.expired": {"en": "Certificate expired", "fr": "Certificat expiré"},
        "error.certificate.changes_identity": {
            "en": "Certificate changes the identity",
            "fr": "Le certificat change l'identité",
        },
        "error.key.exists": {"en": "Keys already enrolled", "fr": "Clés déjà inscrites"},
        "error.key.not_found": {"en": "No such key", "fr": "Clé inconnue"},
        "error.key.not_logged": {"en": "Key not in the log", "fr": "Clé absente du journal"},
        "error.log.not_found": {"en": "No such log entry", "fr": "Entrée du journal inconnue"},
        "error.log.index_out_of_range": {
            "en": "Index beyond the log",
            "fr": "Index au-delà du journal",
        },
        "error.log.integrity": {
            "en": "The log does not verify",
            "fr": "Le journal ne se vérifie pas",
        },
        "error.tiles.bad_path": {"en": "Bad tile path", "fr": "Chemin de tuile invalide"},
        "error.tiles.not_found": {"en": "No such tile", "fr": "Tuile inconnue"},
        "error.tiles.entries_forbidden": {
            "en": "Entry bundles: global auditors only",
            "fr": "Lots d'entrées : auditeurs globaux seulement",
        },
        "error.stream.not_websocket": {
            "en": "Not a WebSocket request",
            "fr": "Pas une requête WebSocket",
        },
        "error.not_found": {"en": "Not found", "fr": "Introuvable"},
        "error.conflict": {"en": "Conflict", "fr": "Conflit"},
        "error.gone": {"en": "Gone", "fr": "Supprimé"},
        "error.service.unavailable": {"en": "Service unavailable", "fr": "Service indisponible"},
        "error.database.unavailable": {
            "en": "Database unavailable",
            "fr": "Base de données indisponible",
        },
        "error.storage.full": {"en": "Storage full", "fr": "Stockage plein"},
        "error.hub.shutting_down": {"en": "The hub is shutting down", "fr": "Le hub s'arrête"},
        "error.tus.version_unsupported": {
            "en": "Unsupported tus version",
            "fr": "Version tus non prise en charge",
        },
        "error.range.not_satisfiable": {
            "en": "Range beyond the blob",
            "fr": "Plage au-delà du fichier",
        },
        "error.upload.not_found": {"en": "No such upload", "fr": "Téléversement inconnu"},
        "error.upload.forbidden": {
            "en": "Not allowed to upload",
            "fr": "Téléversement non autorisé",
        },
        "error.upload.bad_header": {
            "en": "Bad upload header",
            "fr": "En-tête de téléversement invalide",
        },
        "error.upload.body_on_creation": {
            "en": "No body on creation",
            "fr": "Pas de contenu à la création",
        },
        "error.upload.checksum_algorithm": {
            "en": "Unsupported checksum algorithm",
            "fr": "Algorithme de somme de contrôle non pris en charge",
        },
        "error.upload.checksum_mismatch": {
            "en": "Checksum mismatch",
            "fr": "Somme de contrôle incorrecte",
        },
        "error.upload.offset_mismatch": {
            "en": "Wrong upload offset",
            "fr": "Position de téléversement incorrecte",
        },
        "error.upload.beyond_length": {
            "en": "Beyond the upload's length",
            "fr": "Au-delà de la taille annoncée",
        },
        "error.upload.part_too_large": {"en": "Part too large", "fr": "Morceau trop volumineux"},
        "error.upload.too_large": {"en": "File too large", "fr": "Fichier trop volumineux"},
        "error.upload.quota_exceeded": {
            "en": "Upload quota exceeded",
            "fr": "Quota de téléversement dépassé",
        },
        "error.upload.bound": {
            "en": "Upload belongs to a sent message",
            "fr": "Téléversement lié à un message envoyé",
        },
        "error.attachment.unknown_upload": {
            "en": "Unknown attachment upload",
            "fr": "Pièce jointe inconnue",
        },
        "error.attachment.incomplete_upload": {
            "en": "Attachment upload incomplete",
            "fr": "Pièce jointe incomplète",
        },
        "error.attachment.upload_taken": {
            "en": "Attachment used by another message",
            "fr": "Pièce jointe utilisée par un autre message",
        },
        "error.attachment.message_too_large": {
            "en": "Attachments too large together",
            "fr": "Pièces jointes trop volumineuses ensemble",
        },
        "error.auth.missing_signature": {"en": "Request not signed", "fr": "Requête non signée"},
        "error.auth.malformed_signature": {
            "en": "Malformed request signature",
            "fr": "Signature de requête mal formée",
        },
        "error.auth.unsupported_algorithm": {
            "en": "Unsupported signature algorithm",
            "fr": "Algorithme de signature non pris en charge",
        },
        "error.auth.missing_component": {
            "en": "Signature does not cover enough",
            "fr": "La signature ne couvre pas assez",
        },
        "error.auth.expired": {"en": "Signature expired", "fr": "Signature expirée"},
        "error.auth.bad_signature": {
            "en": "Signature does not verify",
            "fr": "La signature ne se vérifie pas",
        },
        "error.auth.digest_mismatch": {
            "en": "Body does not match its digest",
            "fr": "Le contenu ne correspond pas à son condensé",
        },
        "error.request.invalid_target": {
            "en": "Invalid request URL or method",
            "fr": "URL ou méthode de requête invalide",
        },
        "error.request.digest_missing": {
            "en": "Content-Digest missing",
            "fr": "Content-Digest absent",
        },
        "error.request.digest_malformed": {
            "en": "Content-Digest malformed",
            "fr": "Content-Digest mal formé",
        },
        "error.request.digest_unsupported": {
            "en": "Unsupported digest algorithm",
            "fr": "Algorithme de condensé non pris en charge",
        },
        "error.group.unknown": {"en": "No such group", "fr": "Groupe inconnu"},
    }
)
