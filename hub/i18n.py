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
    "notify.subject": {
        "en": "Global Shield: a message awaits you",
        "fr": "Global Shield : un message vous attend",
    },
    "notify.one": {
        "en": "A new Global Shield message awaits.",
        "fr": "Un nouveau message Global Shield vous attend.",
    },
    "notify.many": {
        "en": "{n} new Global Shield messages await.",
        "fr": "{n} nouveaux messages Global Shield vous attendent.",
    },
    "notify.open": {
        "en": "Open them with your own tools (pgs inbox).",
        "fr": "Ouvrez-les avec vos propres outils (pgs inbox).",
    },
    "notify.detail": {
        "en": "From {country}: {kind}",
        "fr": "De {country} : {kind}",
    },
    "notify.settings.saved": {
        "en": "notification settings saved for {who}",
        "fr": "réglages de notification enregistrés pour {who}",
    },
    "notify.settings.none": {"en": "none", "fr": "aucun"},
    "notify.settings.every": {
        "en": "one notification per arrival",
        "fr": "une notification par arrivée",
    },
    "notify.settings.digest": {
        "en": "at most one notification every {n} minutes",
        "fr": "au plus une notification toutes les {n} minutes",
    },
    "notify.settings.quiet": {
        "en": "quiet hours {start}-{end} ({tz})",
        "fr": "heures calmes {start}-{end} ({tz})",
    },
    "notify.settings.show": {
        "en": "{who}: e-mail {email}; webhook {webhook}; language {language}; details {details};"
        " {pace}; {quiet}",
        "fr": "{who} : courriel {email} ; webhook {webhook} ; langue {language} ; détails"
        " {details} ; {pace} ; {quiet}",
    },
    "notify.settings.key": {
        "en": "webhooks are signed (Standard Webhooks, v1a) with {public}",
        "fr": "les webhooks sont signés (Standard Webhooks, v1a) avec {public}",
    },
    "notify.settings.no_quiet": {"en": "no quiet hours", "fr": "pas d'heures calmes"},
    "notify.settings.yes": {"en": "yes", "fr": "oui"},
    "notify.settings.no": {"en": "no", "fr": "non"},
    "notify.settings.bad_quiet": {
        "en": "--quiet takes HH:MM-HH:MM (for example 22:00-07:00) or 'off'",
        "fr": "--quiet attend HH:MM-HH:MM (par exemple 22:00-07:00) ou « off »",
    },
    "notify.settings.nothing": {
        "en": "nothing to change: give at least one option (see pgs notifications set --help)",
        "fr": "rien à changer : donnez au moins une option (voir pgs notifications set --help)",
    },
    "notify.deliveries.none": {
        "en": "no notification deliveries after {after}",
        "fr": "aucune remise de notification après {after}",
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
