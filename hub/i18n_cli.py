"""English and French for the ``pgs`` command line: errors, ``read``, ``inbox``, ``watch``, ``new``.

Entries of :data:`hub.i18n.CATALOGUE`, kept in their own module so the command line's texts can
grow without reordering the catalogue other parts of the hub share. Keys: ``cli.error.*`` (one-line
errors), ``cli.code.*`` (a French sentence for a stable error code), ``cli.read.*``,
``cli.field.*`` (the label of a message field), ``cli.value.*`` (an enumerated value),
``cli.inbox.*``, ``cli.watch.*``, ``cli.new.*``.
"""

from __future__ import annotations

from typing import Literal

_Lang = Literal["en", "fr"]
_Entry = dict[_Lang, str]


def _pairs(prefix: str, rows: dict[str, tuple[str, str]]) -> dict[str, _Entry]:
    return {f"{prefix}.{name}": {"en": en, "fr": fr} for name, (en, fr) in rows.items()}


ERRORS: dict[str, _Entry] = _pairs(
    "cli.error",
    {
        "prefix": ("error:", "erreur :"),
        "internal": (
            "internal error ({kind}: {reason}); this is a bug in pgs: run it again with"
            " --debug (or PGS_DEBUG=1) and report the traceback",
            "erreur interne ({kind} : {reason}) ; c'est un défaut de pgs : relancez avec --debug"
            " (ou PGS_DEBUG=1) et signalez la trace",
        ),
        "toml": (
            "the TOML file is not valid: {reason}",
            "le fichier TOML n'est pas valide : {reason}",
        ),
        "json": (
            "the file is not valid JSON (line {line}, column {column}: {reason})",
            "le fichier n'est pas du JSON valide (ligne {line}, colonne {column} : {reason})",
        ),
        "invalid": ("{what} is invalid (the problems are listed above)", "{what} : non valide"),
        "unicode": ("the file is not UTF-8 text", "le fichier n'est pas du texte UTF-8"),
        "not_found": ("{path} does not exist", "{path} n'existe pas"),
        "is_directory": ("{path} is a folder, not a file", "{path} est un dossier, pas un fichier"),
        "not_directory": ("{path} is not a folder", "{path} n'est pas un dossier"),
        "permission": ("permission denied: {path}", "accès refusé : {path}"),
        "exists": ("{path} already exists", "{path} existe déjà"),
        "os": ("the system refused: {reason}", "le système a refusé : {reason}"),
        "port_busy": (
            "the port is already in use (another program listens on it): choose another"
            " --port ({reason})",
            "le port est déjà utilisé (un autre programme l'écoute) : choisissez un autre"
            " --port ({reason})",
        ),
        "log_key": (
            "--log-key is not a verifier key (name+hash+base64) nor a file holding one: {reason}",
            "--log-key n'est ni une clé de vérification (nom+hachage+base64) ni un fichier qui"
            " en contient une : {reason}",
        ),
        "no_home": (
            "{path} does not exist: is this a hub home? (make one with `pgs init`)",
            "{path} n'existe pas : est-ce bien le dossier d'un hub ? (créez-le avec `pgs init`)",
        ),
        "schema_kind": (
            "name a KIND or use --out FOLDER",
            "indiquez un KIND ou utilisez --out DOSSIER",
        ),
        "url": (
            "{url} is not a hub URL: write it with its scheme, like https://hub.example.org",
            "{url} n'est pas une URL de hub : écrivez-la avec son schéma,"
            " comme https://hub.example.org",
        ),
        "tls": (
            "the hub's TLS certificate cannot be trusted ({reason}); give its CA with --ca",
            "le certificat TLS du hub n'est pas reconnu ({reason}) ; indiquez son AC avec --ca",
        ),
        "unreachable": (
            "cannot reach the hub at {host}:{port}: nothing answers there (is it running, is the"
            " URL right?)",
            "impossible de joindre le hub à {host}:{port} : rien ne répond (est-il démarré,"
            " l'URL est-elle juste ?)",
        ),
        "disconnected": (
            "the hub closed the connection before answering; try again",
            "le hub a fermé la connexion avant de répondre ; réessayez",
        ),
        "http": ("the hub answered {status}: {reason}", "le hub a répondu {status} : {reason}"),
        "client": (
            "cannot talk to the hub: {reason}",
            "dialogue impossible avec le hub : {reason}",
        ),
        "timeout": (
            "the hub did not answer in time; try again",
            "le hub n'a pas répondu à temps ; réessayez",
        ),
        "hub": (
            "the hub refused [{code}]: {detail} ({status})",
            "le hub a refusé [{code}] : {detail} ({status})",
        ),
        "mid_unknown": (
            "no message in your mailbox has an id starting with {prefix}",
            "aucun message de votre boîte n'a un identifiant commençant par {prefix}",
        ),
        "mid_ambiguous": (
            "{prefix} is ambiguous: it starts {n} message ids ({examples}); give more characters",
            "{prefix} est ambigu : {n} identifiants commencent ainsi ({examples}) ;"
            " donnez plus de caractères",
        ),
        "mid_short": (
            "{prefix} is too short to name a message: give at least {n} characters of its id",
            "{prefix} est trop court pour désigner un message : donnez au moins {n} caractères",
        ),
        "mid_bad": (
            "{prefix} is not a message id (letters a-f, digits and dashes)",
            "{prefix} n'est pas un identifiant de message (lettres a-f, chiffres et tirets)",
        ),
        "recipients": (
            "name at least one --to, --country or --group",
            "indiquez au moins un --to, --country ou --group",
        ),
        "state": (
            "the state file {path} is damaged; delete it to start again",
            "le fichier d'état {path} est endommagé ; supprimez-le pour repartir de zéro",
        ),
    },
)

CODES: dict[str, _Entry] = _pairs(
    "cli.code",
    {
        "crypto.invalid_key": (
            "the key cannot be read: wrong passphrase, or not a key file",
            "la clé est illisible : phrase secrète erronée, ou ce n'est pas un fichier de clé",
        ),
        "crypto.malformed": ("the data are malformed", "les données sont mal formées"),
        "crypto.bad_signature": (
            "the signature does not verify: the message was altered or signed by another key",
            "la signature ne se vérifie pas : le message a été modifié ou signé par une autre clé",
        ),
        "crypto.not_a_recipient": (
            "this message is not addressed to these keys",
            "ce message n'est pas adressé à ces clés",
        ),
        "crypto.decryption_failed": (
            "the message cannot be decrypted with these keys",
            "le message ne peut pas être déchiffré avec ces clés",
        ),
        "crypto.duplicate_member": (
            "the JSON has a member twice",
            "le JSON contient deux fois le même membre",
        ),
        "message.invalid": ("the message is not valid", "le message n'est pas valide"),
        "routing.invalid": (
            "the routing header is not valid",
            "l'en-tête de routage n'est pas valide",
        ),
        "certificate.invalid": ("the certificate is not valid", "le certificat n'est pas valide"),
        "keystore.error": (
            "the key folder is incomplete or damaged",
            "le dossier de clés est incomplet ou endommagé",
        ),
        "trust.failed": (
            "the key cannot be trusted (check the pinned authority key, --authority)",
            "la clé n'est pas digne de confiance (vérifiez la clé d'autorité épinglée,"
            " --authority)",
        ),
        "group.unknown": ("no such group", "groupe inconnu"),
        "config.invalid": (
            "the hub configuration is not valid",
            "la configuration du hub n'est pas valide",
        ),
        "envelope.not_found": (
            "no such message, or you may not see it",
            "message introuvable, ou vous n'avez pas le droit de le voir",
        ),
        "auth.failed": (
            "the hub does not know these keys",
            "le hub ne connaît pas ces clés",
        ),
        "auth.unknown_key": (
            "the hub does not know these keys",
            "le hub ne connaît pas ces clés",
        ),
        "access.denied": ("the policy forbids it", "la politique l'interdit"),
        "policy.group_not_allowed": (
            "your role may not address a group",
            "la politique l'interdit : votre rôle ne peut pas écrire à un groupe",
        ),
        "policy.red_to_group": (
            "TLP:RED goes only to named participants, never to a group",
            "la politique l'interdit : TLP:RED va seulement à des participants nommés,"
            " jamais à un groupe",
        ),
        "participant.not_found": ("no such participant", "participant inconnu"),
        "request.invalid": ("the request is not valid", "la requête n'est pas valide"),
    },
)

FIELDS: dict[str, _Entry] = _pairs(
    "cli.field",
    {
        "about": ("About", "Au sujet de"),
        "action_requested": ("Action requested", "Action demandée"),
        "action_taken": ("Action taken", "Action menée"),
        "address": ("Address", "Adresse"),
        "answer": ("Answer", "Réponse"),
        "arrests": ("Arrests", "Arrestations"),
        "arrival": ("Arrival", "Arrivée"),
        "at": ("At", "Le"),
        "attachments": ("Attachments", "Pièces jointes"),
        "audience": ("Audience", "Destinataires"),
        "body": ("Text", "Texte"),
        "by": ("By", "Par"),
        "cas": ("CAS number", "Numéro CAS"),
        "case_reference": ("Case reference", "Référence du dossier"),
        "category": ("Category", "Catégorie"),
        "code": ("Code", "Code"),
        "commodity": ("Commodity", "Marchandise"),
        "concealment": ("Concealment", "Dissimulation"),
        "concentration": ("Concentration (%)", "Concentration (%)"),
        "containers": ("Containers", "Conteneurs"),
        "conveyance": ("Conveyance", "Moyen de transport"),
        "country": ("Country", "Pays"),
        "departure": ("Departure", "Départ"),
        "description": ("Description", "Description"),
        "destination": ("Destination", "Destination"),
        "details": ("Details", "Détails"),
        "detection": ("Detection", "Détection"),
        "due": ("Answer by", "Réponse attendue le"),
        "en": ("English", "Anglais"),
        "envelope_sha256": ("Envelope SHA-256", "SHA-256 de l'enveloppe"),
        "evaluation": ("Evaluation", "Évaluation"),
        "follow_up": ("Follow-up", "Suites"),
        "fr": ("French", "Français"),
        "hs": ("HS code", "Code SH"),
        "identifier": ("Identifier", "Identifiant"),
        "in_reply_to": ("In reply to", "En réponse à"),
        "information": ("Information", "Information"),
        "kind": ("Kind", "Type"),
        "lines": ("Goods", "Marchandises"),
        "locode": ("UN/LOCODE", "UN/LOCODE"),
        "media_type": ("Media type", "Type de média"),
        "method": ("Method", "Méthode"),
        "mid": ("Message id", "Identifiant du message"),
        "mode": ("Transport mode", "Mode de transport"),
        "name": ("Name", "Nom"),
        "narrative": ("Narrative", "Récit"),
        "origin": ("Origin", "Origine"),
        "parties": ("Parties", "Parties"),
        "place": ("Place", "Lieu"),
        "priority": ("Priority", "Priorité"),
        "quantity": ("Quantity", "Quantité"),
        "quantity_seized": ("Quantity seized", "Quantité saisie"),
        "question": ("Question", "Question"),
        "references": ("References", "Références"),
        "regions": ("WCO regions", "Régions OMD"),
        "risk_indicators": ("Risk indicators", "Indicateurs de risque"),
        "role": ("Role", "Rôle"),
        "route": ("Route", "Itinéraire"),
        "scope": ("Scope", "Portée"),
        "seized_on": ("Seized on", "Saisi le"),
        "sha256": ("SHA-256", "SHA-256"),
        "shipment": ("Shipment", "Envoi"),
        "size": ("Size (bytes)", "Taille (octets)"),
        "source": ("Source", "Source"),
        "status": ("Status", "Statut"),
        "subject": ("Subject", "Objet"),
        "text": ("Text", "Texte"),
        "title": ("Title", "Titre"),
        "transit": ("Transit", "Transit"),
        "transport_document": ("Transport document", "Document de transport"),
        "un_number": ("UN number", "Numéro ONU"),
        "unit": ("Unit", "Unité"),
        "v": ("Version", "Version"),
        "valid_until": ("Valid until", "Valable jusqu'au"),
        "value": ("Value", "Valeur"),
        "voyage": ("Voyage", "Voyage"),
    },
)

VALUES: dict[str, _Entry] = _pairs(
    "cli.value",
    {
        # actions
        "monitor": ("monitor", "surveiller"),
        "inspect": ("inspect", "contrôler"),
        "hold": ("hold", "retenir"),
        "controlled_delivery": ("controlled delivery", "livraison surveillée"),
        "seize": ("seize", "saisir"),
        # concealment
        "not_concealed": ("not concealed", "non dissimulé"),
        "misdeclaration": ("misdeclaration", "fausse déclaration"),
        "among_other_goods": ("among other goods", "parmi d'autres marchandises"),
        "repacked": ("repacked", "reconditionné"),
        "false_compartment": ("false compartment", "double fond"),
        "on_person": ("on a person", "sur une personne"),
        "other": ("other", "autre"),
        # detection
        "risk_profiling": ("risk profiling", "profilage des risques"),
        "intelligence": ("intelligence", "renseignement"),
        "pgs_alert": ("PGS alert", "alerte PGS"),
        "documentary_check": ("documentary check", "contrôle documentaire"),
        "non_intrusive_inspection": ("non-intrusive inspection", "contrôle non intrusif"),
        "physical_examination": ("physical examination", "examen physique"),
        "detection_dog": ("detection dog", "chien détecteur"),
        "field_test": ("field test", "test sur le terrain"),
        "laboratory_analysis": ("laboratory analysis", "analyse en laboratoire"),
        "random_selection": ("random selection", "sélection aléatoire"),
        # parties
        "consignor": ("consignor", "expéditeur"),
        "consignee": ("consignee", "destinataire"),
        "declarant": ("declarant", "déclarant"),
        "end_user": ("end user", "utilisateur final"),
        "carrier": ("carrier", "transporteur"),
        "freight_forwarder": ("freight forwarder", "transitaire"),
        "notify_party": ("notify party", "partie à notifier"),
        # transport
        "sea": ("sea", "maritime"),
        "air": ("air", "aérien"),
        "road": ("road", "routier"),
        "rail": ("rail", "ferroviaire"),
        "post": ("post", "postal"),
        "courier": ("courier", "messagerie express"),
        "multimodal": ("multimodal", "multimodal"),
        # notices
        "all_members": ("all WCO members", "tous les membres de l'OMD"),
        "regions": ("some WCO regions", "certaines régions de l'OMD"),
        "advisory": ("advisory", "avis"),
        "operation": ("operation", "opération"),
        "training": ("training", "formation"),
        "trend": ("trend", "tendance"),
        # priority
        "low": ("low", "basse"),
        "normal": ("normal", "normale"),
        "high": ("high", "haute"),
        "urgent": ("urgent", "urgente"),
        # receipts
        "delivered": ("delivered", "remis"),
        "read": ("read", "lu"),
    },
)

READ: dict[str, _Entry] = _pairs(
    "cli.read",
    {
        "from": ("From", "De"),
        "to": ("To", "À"),
        "group": ("group {group}", "groupe {group}"),
        "kind": ("Kind", "Type"),
        "handling": ("Handling", "Diffusion"),
        "created": ("Sent (UTC)", "Envoyé (UTC)"),
        "expires": ("Expires (UTC)", "Expire (UTC)"),
        "thread": ("Thread", "Fil"),
        "in_reply_to": ("In reply to", "En réponse à"),
        "signature": ("Signature", "Signature"),
        "verified": (
            "verified: signed by {who} with key {kid}, certified by the registry authority",
            "vérifiée : signée par {who} avec la clé {kid}, certifiée par l'autorité"
            " d'enregistrement",
        ),
        "verified_local": (
            "verified against the directory key of {who} ({kid})",
            "vérifiée avec la clé de {who} dans l'annuaire ({kid})",
        ),
        "content": ("Content", "Contenu"),
        "unknown_code": ("not in the PGS list", "absent de la liste PGS"),
        "locode_in": ("a place in {country}", "un lieu en {country}"),
        "tlp.CLEAR": (
            "TLP:CLEAR - disclosure is not limited",
            "TLP:CLEAR - diffusion non limitée",
        ),
        "tlp.GREEN": (
            "TLP:GREEN - share within your community, not on public channels",
            "TLP:GREEN - à partager dans votre communauté, pas sur des canaux publics",
        ),
        "tlp.AMBER": (
            "TLP:AMBER - share within your organisation and its clients who need to know",
            "TLP:AMBER - à partager dans votre organisation et avec ses clients qui doivent savoir",
        ),
        "tlp.AMBER+STRICT": (
            "TLP:AMBER+STRICT - share within your organisation only",
            "TLP:AMBER+STRICT - à partager dans votre organisation seulement",
        ),
        "tlp.RED": (
            "TLP:RED - for the named recipients only, no further disclosure",
            "TLP:RED - pour les seuls destinataires nommés, aucune autre diffusion",
        ),
        "source.A": (
            "A: source completely reliable",
            "A : source entièrement fiable",
        ),
        "source.B": ("B: source usually reliable", "B : source généralement fiable"),
        "source.C": ("C: source usually unreliable", "C : source généralement peu fiable"),
        "source.X": (
            "X: reliability cannot be assessed",
            "X : fiabilité impossible à évaluer",
        ),
        "information.1": ("1: accuracy not in doubt", "1 : exactitude certaine"),
        "information.2": (
            "2: known personally to the source",
            "2 : connue personnellement de la source",
        ),
        "information.3": (
            "3: corroborated by information already recorded",
            "3 : corroborée par des informations déjà enregistrées",
        ),
        "information.4": (
            "4: cannot be corroborated",
            "4 : ne peut pas être corroborée",
        ),
        "kind.alert": ("alert", "alerte"),
        "kind.seizure": ("seizure notice", "avis de saisie"),
        "kind.notice": ("notice", "avis"),
        "kind.rfi": ("request for information", "demande d'information"),
        "kind.reply": ("reply", "réponse"),
        "kind.receipt": ("receipt", "accusé de réception"),
        "acked": ("read receipt sent to {who}", "accusé de lecture envoyé à {who}"),
    },
)

INBOX: dict[str, _Entry] = _pairs(
    "cli.inbox",
    {
        "id": ("id", "id"),
        "state": ("state", "état"),
        "new": ("new", "nouveau"),
        "seen": ("read", "lu"),
        "from": ("from / by", "de / par"),
        "kind": ("kind / status", "type / statut"),
        "subject": ("subject", "objet"),
        "when": ("when (UTC)", "date (UTC)"),
        "receipt": ("receipt", "accusé"),
        "unreadable": ("(cannot be opened: {reason})", "(illisible : {reason})"),
        "title": ("Inbox of {who}: {n} item(s)", "Boîte de {who} : {n} élément(s)"),
        "empty": (
            "Nothing in your inbox after cursor {after}.",
            "Rien dans votre boîte après le curseur {after}.",
        ),
        "next": (
            "next cursor: {next}; read a message with `pgs read ID`",
            "curseur suivant : {next} ; lisez un message avec `pgs read ID`",
        ),
        "receipt_subject": ("{status} by {by}", "{status} par {by}"),
    },
)

WATCH: dict[str, _Entry] = _pairs(
    "cli.watch",
    {
        "resume": (
            "resuming after cursor {cursor} (saved in {path})",
            "reprise après le curseur {cursor} (enregistré dans {path})",
        ),
        "envelope": (
            "{cursor:>6}  {kind:<8} {mid}  from {sender}  TLP:{tlp}",
            "{cursor:>6}  {kind:<8} {mid}  de {sender}  TLP:{tlp}",
        ),
        "receipt": (
            "{cursor:>6}  receipt  {mid}  {status} by {by}",
            "{cursor:>6}  accusé   {mid}  {status} par {by}",
        ),
    },
)

NEW: dict[str, _Entry] = _pairs(
    "cli.new",
    {
        "written": (
            "wrote the {kind} template to {path}: replace every value marked CHANGE-ME, then run"
            " `pgs validate --kind {kind} {path}` and `pgs send {path} --kind {kind} --to ...`",
            "modèle {kind} écrit dans {path} : remplacez chaque valeur marquée CHANGE-ME, puis"
            " lancez `pgs validate --kind {kind} {path}` et"
            " `pgs send {path} --kind {kind} --to ...`",
        ),
        "unfilled": (
            "the message still holds {n} CHANGE-ME value(s) from its template: {where}",
            "le message contient encore {n} valeur(s) CHANGE-ME de son modèle : {where}",
        ),
        "exists": (
            "{path} already exists; choose another name or add --force",
            "{path} existe déjà ; choisissez un autre nom ou ajoutez --force",
        ),
        "ask.intro": (
            "Answer each question; press Enter to keep the value in brackets.",
            "Répondez à chaque question ; Entrée garde la valeur entre crochets.",
        ),
        "ask.retry": ("{problem}; try again", "{problem} ; recommencez"),
        "ask.subject": ("Subject (one line)", "Objet (une ligne)"),
        "ask.commodity": ("Commodity code ({choices})", "Code de la marchandise ({choices})"),
        "ask.description": ("Description of the goods", "Description des marchandises"),
        "ask.quantity": ("Quantity (number)", "Quantité (nombre)"),
        "ask.unit": ("Unit ({choices})", "Unité ({choices})"),
        "ask.mode": ("Transport mode ({choices})", "Mode de transport ({choices})"),
        "ask.origin": ("Origin country (ISO code, like NG)", "Pays d'origine (code ISO, comme NG)"),
        "ask.destination": (
            "Destination country (ISO code, like GH)",
            "Pays de destination (code ISO, comme GH)",
        ),
        "ask.action": ("Action ({choices})", "Action ({choices})"),
        "ask.seized_on": ("Seized on (YYYY-MM-DD)", "Saisi le (AAAA-MM-JJ)"),
        "ask.place": ("Country of the seizure (ISO code)", "Pays de la saisie (code ISO)"),
        "ask.question": ("Question", "Question"),
        "ask.in_reply_to": (
            "Id of the message you answer",
            "Identifiant du message auquel vous répondez",
        ),
        "ask.answer": ("Answer", "Réponse"),
        "ask.category": ("Category ({choices})", "Catégorie ({choices})"),
        "ask.title": ("Title", "Titre"),
        "ask.body": ("Text", "Texte"),
        "ask.regions": (
            "WCO regions, separated by commas, or ALL ({choices})",
            "Régions OMD séparées par des virgules, ou ALL ({choices})",
        ),
    },
)

MISC: dict[str, _Entry] = _pairs(
    "cli",
    {
        "keys.unencrypted": (
            "warning: private keys are NOT encrypted (no passphrase given)",
            "attention : les clés privées ne sont PAS chiffrées (aucune phrase secrète donnée)",
        ),
        "keys.created": (
            "created keys for {who} in {folder}",
            "clés de {who} créées dans {folder}",
        ),
        "keys.signing": ("  signing key id    {kid}", "  clé de signature      {kid}"),
        "keys.encryption": ("  encryption key id {kid}", "  clé de chiffrement    {kid}"),
        "keys.share": ("  share             {path}", "  à partager            {path}"),
        "keys.title": ("Keys of {who}", "Clés de {who}"),
        "keys.use": ("use", "usage"),
        "keys.algorithm": ("algorithm", "algorithme"),
        "keys.kid": ("key id (RFC 7638 thumbprint)", "identifiant de clé (empreinte RFC 7638)"),
        "keys.use_signing": ("signing", "signature"),
        "keys.use_encryption": ("encryption", "chiffrement"),
        "keys.protected_yes": (
            "private keys passphrase-protected: yes",
            "clés privées protégées par une phrase secrète : oui",
        ),
        "keys.protected_no": (
            "private keys passphrase-protected: no",
            "clés privées protégées par une phrase secrète : non",
        ),
        "seal.done": (
            "sealed {kind} {mid} to {to} -> {path}",
            "{kind} {mid} scellé pour {to} -> {path}",
        ),
        "dir.enc_kid": ("encryption key id", "identifiant de la clé de chiffrement"),
        "dir.id": ("participant", "participant"),
        "dir.country": ("country", "pays"),
        "dir.role": ("role", "rôle"),
        "dir.status": ("status", "statut"),
        "dir.keys": ("current keys", "clés actuelles"),
        "keys.missing": (
            "the key folder {folder} does not exist (make one with `pgs keygen PARTICIPANT`)",
            "le dossier de clés {folder} n'existe pas (créez-le avec `pgs keygen PARTICIPANT`)",
        ),
        "keys.encrypted": (
            "the keys in {folder} are encrypted: set ${env} (or ${env}_FILE) or use"
            " --prompt-passphrase",
            "les clés de {folder} sont chiffrées : définissez ${env} (ou ${env}_FILE) ou utilisez"
            " --prompt-passphrase",
        ),
        "send.accepted": (
            "accepted {kind} {mid} ({size} bytes)",
            "{kind} {mid} accepté ({size} octets)",
        ),
        "send.to": ("  to {to}", "  à {to}"),
        "send.progress": (
            "verifying keys, sealing and sending…",
            "vérification des clés, scellement et envoi…",
        ),
        "validate.ok": ("{path}: valid {kind} message", "{path} : message {kind} valide"),
        "ack.sent": ("{status} receipt sent for {mid}", "accusé « {status} » envoyé pour {mid}"),
    },
)

AUDIT: dict[str, _Entry] = _pairs(
    "cli.audit",
    {
        "checkpoint": (
            "checkpoint {origin}: {size} entries, root {root}…, signature verified with the"
            " pinned log key",
            "point de contrôle {origin} : {size} entrées, racine {root}…, signature vérifiée"
            " avec la clé du journal épinglée",
        ),
        "first": (
            "first verification of this log by this auditor",
            "première vérification de ce journal par cet auditeur",
        ),
        "consistent": (
            "consistent with the checkpoint of {size} entries verified before",
            "cohérent avec le point de contrôle de {size} entrées vérifié auparavant",
        ),
        "resuming": (
            "resuming an unfinished run at entry {start}",
            "reprise d'une vérification inachevée à l'entrée {start}",
        ),
        "read": (
            "read {n} new entries ({start} → {end})",
            "{n} nouvelles entrées lues ({start} → {end})",
        ),
        "read_scoped": (
            "read {n} new entries ({start} → {end}): {received} involve {scope}, each checked by"
            " inclusion proof",
            "{n} nouvelles entrées lues ({start} → {end}) : {received} concernent {scope},"
            " chacune vérifiée par preuve d'inclusion",
        ),
        "paused": (
            "paused at entry {end} of {size}: run again to continue",
            "pause à l'entrée {end} sur {size} : relancez pour continuer",
        ),
        "root": (
            "root recomputed from all {size} entries: matches the checkpoint",
            "racine recalculée à partir des {size} entrées : conforme au point de contrôle",
        ),
        "verified": (
            "log verified; state saved in {path}",
            "journal vérifié ; état enregistré dans {path}",
        ),
        "failed": (
            "log verification failed [{code}]: {reason}",
            "la vérification du journal a échoué [{code}] : {reason}",
        ),
    },
)

EVIDENCE: dict[str, _Entry] = _pairs(
    "cli.evidence",
    {
        "title": ("evidence for {kind} {mid}", "preuve pour {kind} {mid}"),
        "sender": ("sender", "expéditeur"),
        "sender_ok": (
            "{who} (certificate and signature verified)",
            "{who} (certificat et signature vérifiés)",
        ),
        "accepted": ("accepted", "accepté"),
        "accepted_at": ("{when}, log entry {index}", "{when}, entrée {index} du journal"),
        "log": ("log", "journal"),
        "log_ok": (
            "checkpoint {origin} of {size} entries (signature and inclusion verified)",
            "point de contrôle {origin} de {size} entrées (signature et inclusion vérifiées)",
        ),
        "sender_key": ("sender key", "clé de l'expéditeur"),
        "sender_key_ok": (
            "logged at entry {index}, before the message",
            "journalisée à l'entrée {index}, avant le message",
        ),
        "receipt": (
            "{status} (signed receipt, log entry {index})",
            "{status} (accusé signé, entrée {index} du journal)",
        ),
        "no_receipt": ("no receipt in this bundle", "aucun accusé dans ce dossier"),
        "disclosed": (
            "disclosed by {who}; key matches the commitment",
            "divulgué par {who} ; la clé correspond à l'engagement",
        ),
        "verified": ("evidence verified", "preuve vérifiée"),
        "invalid": (
            "evidence does not verify [{code}] {reason}",
            "la preuve ne se vérifie pas [{code}] {reason}",
        ),
        "written": (
            "evidence for {mid} written to {path}: {n} receipt(s), log entry {index}",
            "preuve de {mid} écrite dans {path} : {n} accusé(s), entrée {index} du journal",
        ),
        "key_disclosed": (", content key disclosed", ", clé du contenu divulguée"),
        "not_checked": (
            "note: not checked (give --authority and --log-key to check before writing)",
            "remarque : non vérifié (donnez --authority et --log-key pour vérifier avant d'écrire)",
        ),
    },
)

DEMO: dict[str, _Entry] = _pairs(
    "hub.demo",
    {
        "col.participant": ("participant", "participant"),
        "col.kind": ("kind", "type"),
        "col.from": ("from", "de"),
        "col.mid": ("message id", "identifiant"),
        "col.event": ("event", "événement"),
        "col.actor": ("actor", "acteur"),
        "col.subject": ("subject", "objet"),
        "col.what": ("what", "quoi"),
        "receipt_row": ("receipt: {status}", "accusé : {status}"),
    },
)
DEMO |= _pairs(
    "demo",
    {
        "col.signing": ("signing kid", "clé de signature (kid)"),
        "col.encryption": ("encryption kid", "clé de chiffrement (kid)"),
    },
)

CLI_CATALOGUE: dict[str, _Entry] = {
    **AUDIT,
    **EVIDENCE,
    **DEMO,
    **ERRORS,
    **CODES,
    **FIELDS,
    **VALUES,
    **READ,
    **INBOX,
    **WATCH,
    **NEW,
    **MISC,
}
