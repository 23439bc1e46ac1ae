"""A decrypted message turned into labelled rows for people: code-list names beside codes,
numbers and dates for the locale, evaluation codes explained.

Pure: a content dict and a language in, :class:`Row` trees out (no I/O, no HTML; the template
escapes and isolates user data with ``<bdi>``).
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from typing import Any

from pgs_hub.hub import i18n_measures as measures
from pgs_hub.hub import i18n_names as names
from pgs_hub.hub.desk.words import FIELDS, INFORMATION_MEANING, KINDS, SOURCE_MEANING, VALUES
from pgs_hub.protocols.unlocode import PlaceList

# Fields people write: shown as written, never looked up as codes.
_FREE = frozenset(
    {
        "subject", "description", "narrative", "question", "answer", "text", "name", "address",
        "details", "follow_up", "en", "fr", "conveyance", "voyage", "transport_document",
        "case_reference", "identifier", "mid", "sha256", "containers", "code",
    }
)  # fmt: skip
_SKIP = frozenset({"attachments"})  # listed apart, with their downloads


@dataclass
class Row:
    """One labelled value; ``code`` is the wire value shown beside its name, ``data`` marks text
    the sender wrote (isolated for bidirectional text)."""

    label: str
    value: str = ""
    code: str = ""
    data: bool = False
    children: list[Row] = field(default_factory=list)


class Reader:
    """Renders content for one language."""

    def __init__(
        self, lang: str, translations: gettext.NullTranslations, places: PlaceList | None = None
    ) -> None:
        self.lang = lang
        self._ = translations.gettext
        self.places = places  # UN/LOCODE, kept on this computer (hub/desk/places.py)

    def label(self, name: str) -> str:
        known = FIELDS.get(name)
        return self._(known) if known else name.replace("_", " ").capitalize()

    def word(self, value: str) -> str:
        known = VALUES.get(value)
        return self._(known) if known else value

    def commodity(self, code: str) -> str:
        return names.commodity(code, self.lang) or ""

    def unit(self, code: str) -> str:
        return names.unit(code, self.lang) or code

    def region(self, code: str) -> str:
        return names.region(code, self.lang) or ""

    def by_number(self, code: str, *, cas: bool) -> str:
        from pgs_hub.protocols.codelists import commodities, commodity_for_hs  # noqa: PLC0415

        if not cas and "." in code:
            found = commodity_for_hs(code)
            return self.commodity(found.code) if found else ""
        names = [
            self.commodity(c.code)
            for c in commodities().values()
            if code in (c.cas if cas else c.un)
        ]
        return ", ".join(names)

    def place(self, code: str) -> str:
        """ "Lagos (Nigeria)" from the UN/LOCODE list kept on this computer, else "a place in
        Nigeria" (no list yet, or a code the list does not have)."""
        where = names.country_or_code(code[:2], self.lang)
        place = self.places.get(code) if self.places is not None else None
        if place is not None:
            return f"{place.name} ({where})"
        return self._("a place in {country}").format(country=where)

    def scalar(self, name: str, value: object) -> Row:  # noqa: PLR0911
        text = str(value)
        label = self.label(name)
        if isinstance(value, bool):
            return Row(label, self._("yes") if value else self._("no"))
        if name == "commodity":
            return Row(label, self.commodity(text), code=text)
        if name == "country":
            return Row(label, names.country_or_code(text, self.lang), code=text)
        if name == "locode":
            return Row(label, self.place(text), code=text)
        if name == "unit":
            return Row(label, self.unit(text), code=text)
        if name == "hs":
            return Row(label, self.by_number(text, cas=False), code=text)
        if name == "cas":
            return Row(label, self.by_number(text, cas=True), code=text)
        if name == "un_number":
            return Row(label, self.by_number(text, cas=False), code=text)
        if name == "regions":
            return Row(label, self.region(text), code=text)
        if name == "kind":
            return Row(label, self._(KINDS.get(text, text)))
        if name in _FREE:
            return Row(label, text, data=True)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Row(label, measures.number(value, self.lang))
        return Row(label, self.word(text))

    def quantity(self, name: str, value: dict[str, Any]) -> Row:
        unit = str(value.get("unit", ""))
        shown = f"{measures.number(value.get('value'), self.lang)} {self.unit(unit)}"
        return Row(self.label(name), shown, code=unit)

    def evaluation(self, value: dict[str, Any]) -> Row:
        source, info = str(value.get("source", "")), str(value.get("information", ""))
        row = Row(self.label("evaluation"), code=source + info)
        row.children = [
            Row(self.label("source"), self._(SOURCE_MEANING.get(source, source))),
            Row(self.label("information"), self._(INFORMATION_MEANING.get(info, info))),
        ]
        return row

    def rows(self, doc: dict[str, Any]) -> list[Row]:
        """Every member of ``doc`` as labelled rows, nested objects as children."""
        found: list[Row] = []
        for name, value in doc.items():
            if name in _SKIP:
                continue
            if name in {"quantity", "quantity_seized"} and isinstance(value, dict):
                found.append(self.quantity(name, value))
            elif name == "evaluation" and isinstance(value, dict):
                found.append(self.evaluation(value))
            elif isinstance(value, dict):
                found.append(Row(self.label(name), children=self.rows(value)))
            elif isinstance(value, list):
                if not value:
                    continue
                if all(not isinstance(v, dict | list) for v in value):
                    row = Row(self.label(name))
                    row.children = [self.scalar(name, v) for v in value]
                    for child in row.children:
                        child.label = ""
                    found.append(row)
                    continue
                row = Row(self.label(name))
                for index, item in enumerate(value, 1):
                    inner = self.rows(item) if isinstance(item, dict) else []
                    row.children.append(Row(f"{index}.", children=inner))
                found.append(row)
            else:
                found.append(self.scalar(name, value))
        return found
