"""Every word the desk shows for a field name or a coded value, marked for translation.

The strings are English msgids of the ``desk`` domain; views translate them where they are shown
(``_()`` in the templates), so this module has no language of its own.
"""

from __future__ import annotations

from typing import Final

from pgs_hub.hub.desk.i18n import N_

FIELDS: Final = {
    "subject": N_("Subject"), "narrative": N_("What happened"), "lines": N_("Goods"),
    "commodity": N_("Commodity"), "description": N_("Description"), "quantity": N_("Quantity"),
    "value": N_("Value"), "unit": N_("Unit"), "hs": N_("HS code"), "cas": N_("CAS number"),
    "un_number": N_("UN number"), "concentration": N_("Concentration (%)"),
    "shipment": N_("Shipment"), "mode": N_("Mode of transport"), "route": N_("Route"),
    "origin": N_("Origin"), "transit": N_("Transit"), "destination": N_("Destination"),
    "country": N_("Country"), "locode": N_("Place (UN/LOCODE)"),
    "conveyance": N_("Vessel, aircraft or vehicle"),
    "voyage": N_("Voyage or flight"), "transport_document": N_("Transport document"),
    "containers": N_("Containers"), "departure": N_("Departure"), "arrival": N_("Arrival"),
    "parties": N_("Parties"), "role": N_("Role"), "name": N_("Name"), "address": N_("Address"),
    "identifier": N_("Identifier"), "risk_indicators": N_("Risk indicators"), "text": N_("Text"),
    "code": N_("Code"), "detection": N_("How it was detected"), "concealment": N_("Concealment"),
    "method": N_("Method"), "details": N_("Details"), "action_requested": N_("Action requested"),
    "action_taken": N_("Action taken"), "evaluation": N_("Evaluation"),
    "references": N_("Related messages"), "mid": N_("Message id"), "kind": N_("Kind"),
    "attachments": N_("Attachments"), "media_type": N_("Type"), "size": N_("Size"),
    "sha256": N_("SHA-256"), "seized_on": N_("Seized on"), "place": N_("Place of seizure"),
    "quantity_seized": N_("Quantity seized"), "arrests": N_("Arrests"),
    "follow_up": N_("Follow-up"), "case_reference": N_("Case reference"),
    "question": N_("Question"), "about": N_("About"), "due": N_("Answer needed by"),
    "priority": N_("Priority"), "in_reply_to": N_("In reply to"), "answer": N_("Answer"),
    "category": N_("Category"), "title": N_("Title"), "body": N_("Text of the notice"),
    "audience": N_("Audience"), "scope": N_("Scope"), "regions": N_("WCO regions"),
    "valid_until": N_("Valid until"), "en": N_("English"), "fr": N_("French"),
    "source": N_("Source"), "information": N_("Information"),
}  # fmt: skip

KINDS: Final = {
    "alert": N_("Alert"), "seizure": N_("Seizure notice"), "rfi": N_("Request for information"),
    "reply": N_("Reply"), "notice": N_("Notice"), "receipt": N_("Receipt"),
}  # fmt: skip

VALUES: Final = {
    # actions
    "monitor": N_("monitor"), "inspect": N_("inspect"), "hold": N_("hold"),
    "controlled_delivery": N_("controlled delivery"), "seize": N_("seize"),
    # transport modes
    "sea": N_("sea"), "air": N_("air"), "road": N_("road"), "rail": N_("rail"),
    "post": N_("post"), "courier": N_("courier"), "multimodal": N_("multimodal"),
    "other": N_("other"),
    # detection
    "risk_profiling": N_("risk profiling"), "intelligence": N_("intelligence"),
    "pgs_alert": N_("a Global Shield alert"), "documentary_check": N_("documentary check"),
    "non_intrusive_inspection": N_("non-intrusive inspection (scanner)"),
    "physical_examination": N_("physical examination"), "detection_dog": N_("detection dog"),
    "field_test": N_("field test"), "laboratory_analysis": N_("laboratory analysis"),
    "random_selection": N_("random selection"),
    # concealment
    "not_concealed": N_("not concealed"), "misdeclaration": N_("misdeclaration"),
    "among_other_goods": N_("among other goods"), "repacked": N_("repacked"),
    "false_compartment": N_("false compartment"), "on_person": N_("on a person"),
    # parties
    "consignor": N_("consignor"), "consignee": N_("consignee"), "declarant": N_("declarant"),
    "end_user": N_("end user"), "carrier": N_("carrier"),
    "freight_forwarder": N_("freight forwarder"), "notify_party": N_("notify party"),
    # priorities
    "low": N_("low"), "normal": N_("normal"), "high": N_("high"), "urgent": N_("urgent"),
    # notices
    "advisory": N_("advisory"), "operation": N_("operation"), "training": N_("training"),
    "trend": N_("trend"), "all_members": N_("all members"),
    # receipts
    "delivered": N_("delivered"), "read": N_("read"),
}  # fmt: skip

ACTIONS: Final = ("monitor", "inspect", "hold", "controlled_delivery", "seize")
MODES: Final = ("sea", "air", "road", "rail", "post", "courier", "multimodal", "other")
DETECTIONS: Final = (
    "risk_profiling", "intelligence", "pgs_alert", "documentary_check",
    "non_intrusive_inspection", "physical_examination", "detection_dog", "field_test",
    "laboratory_analysis", "random_selection", "other",
)  # fmt: skip
PRIORITIES: Final = ("low", "normal", "high", "urgent")
CATEGORIES: Final = ("advisory", "operation", "training", "trend", "other")

TLP_RULES: Final = {
    "CLEAR": N_("TLP:CLEAR: disclosure is not limited."),
    "GREEN": N_("TLP:GREEN: share within your community, not on public channels."),
    "AMBER": N_("TLP:AMBER: share only within your organisation and with those who need to know."),
    "AMBER+STRICT": N_("TLP:AMBER+STRICT: share only within your own organisation."),
    "RED": N_("TLP:RED: for your eyes only; do not share it with anyone."),
}

SOURCE_MEANING: Final = {
    "A": N_("A: no doubt about the source's reliability"),
    "B": N_("B: the source has proved reliable in most cases"),
    "C": N_("C: the source has proved unreliable in most cases"),
    "X": N_("X: the source's reliability cannot be assessed"),
}
INFORMATION_MEANING: Final = {
    "1": N_("1: accuracy not in doubt"),
    "2": N_("2: known personally to the source, not to the official passing it on"),
    "3": N_("3: not known personally to the source, but corroborated"),
    "4": N_("4: not known personally to the source and not corroborated"),
}

OUTCOMES: Final = {
    "inspected": N_("Inspected"),
    "seized": N_("Seized"),
    "nothing_found": N_("Nothing found"),
    "false_alarm": N_("False alarm"),
}
OUTCOME_SENTENCES: Final = {
    "inspected": N_("We inspected the shipment named in your alert."),
    "seized": N_("We seized goods following your alert."),
    "nothing_found": N_("We inspected the shipment named in your alert and found nothing."),
    "false_alarm": N_("The shipment named in your alert was a false alarm."),
}

# What ``pgs desk`` prints on the terminal (in the language of $PGS_LANG or the locale).
CLI_OPEN_LINK: Final = N_(
    "Open this link in your browser (it works once). Press Ctrl+C to stop the desk."
)
CLI_NOT_AUTHORITY: Final = N_("{path} is not a registry-authority key: {reason}")
CLI_CANNOT_LISTEN: Final = N_("Cannot listen on 127.0.0.1:{port}: {reason}")
