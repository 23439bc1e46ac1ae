"""A decrypted message written for people: labelled fields, code-list names beside the codes.

``pgs read`` and ``pgs open`` print what :func:`render_lines` returns. Every label comes from the
catalogue (``cli.field.*``, ``cli.value.*``, ``cli.read.*`` in :mod:`hub.i18n_cli`), in the user's
language; codes keep their wire value and gain their name (``AN - Ammonium nitrate``, ``NG -
Nigeria``, ``TNE - tonne``); the TLP mark comes with its sharing rule and a 4x4 evaluation with
the meaning of both halves. Nothing here does I/O: it turns a header and a content dict into lines.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from pgs_hub.hub import i18n_measures as measures
from pgs_hub.hub import i18n_names as names
from pgs_hub.hub.i18n import CATALOGUE, Lang, t
from pgs_hub.protocols.routing import RoutingHeader

if TYPE_CHECKING:
    from pgs_hub.protocols.unlocode import PlaceList

INDENT = "  "


def label(field: str, lang: Lang) -> str:
    key = f"cli.field.{field}"
    return t(key, lang) if key in CATALOGUE else field.replace("_", " ").capitalize()


def _value_word(value: str, lang: Lang) -> str:
    key = f"cli.value.{value}"
    return t(key, lang) if key in CATALOGUE else value


def when(epoch: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch)) if epoch else ""


def kind_name(kind: str, lang: Lang) -> str:
    key = f"cli.read.kind.{kind}"
    return t(key, lang) if key in CATALOGUE else kind


def country(code: str, lang: Lang) -> str:
    name = names.country_or_code(code, lang)
    return f"{code} - {name}" if name != code else code


def _commodity(code: str, lang: Lang) -> str:
    name = names.commodity(code, lang)
    if name is None:
        return f"{code} ({t('cli.read.unknown_code', lang)})"
    return f"{code} - {name}"


def _unit(code: str, lang: Lang) -> str:
    name = names.unit(code, lang)
    return f"{code} - {name}" if name else code


def _hs(code: str, lang: Lang) -> str:
    from pgs_hub.protocols.codelists import commodity_for_hs

    found = commodity_for_hs(code)
    if found is None:
        return code
    return f"{code} - {names.commodity(found.code, lang)}"


def _by_cas_or_un(code: str, lang: Lang, *, cas: bool) -> str:
    found = names.commodities_by_number(lang)["cas" if cas else "un"].get(code)
    return f"{code} - {', '.join(found)}" if found else code


#: The UN/LOCODE list kept in the keys folder (hub.client.codelists), set by ``pgs read``: codes
#: are named from it on this machine, never asked of the hub.
PLACES: ContextVar[PlaceList | None] = ContextVar("PLACES", default=None)


def _locode(code: str, lang: Lang) -> str:
    listed = PLACES.get()
    place = listed.get(code) if listed is not None else None
    if place is not None:
        where = names.country_or_code(code[:2], lang)
        return f"{code} - {t('cli.read.locode_named', lang, name=place.name, country=where)}"
    return f"{code} - {t('cli.read.locode_in', lang, country=country(code[:2], lang))}"


def _region(code: str, lang: Lang) -> str:
    name = names.region(code, lang)
    return f"{code} - {name}" if name else code


def _quantity(value: dict[str, Any], lang: Lang) -> str:
    return f"{measures.number(value.get('value'), lang)} {_unit(str(value.get('unit', '')), lang)}"


def evaluation(value: dict[str, Any], lang: Lang) -> str:
    source = str(value.get("source", ""))
    information = str(value.get("information", ""))
    parts = [
        t(key, lang) if key in CATALOGUE else part
        for key, part in (
            (f"cli.read.source.{source}", source),
            (f"cli.read.information.{information}", information),
        )
    ]
    return f"{source}{information} ({t('cli.read.separator', lang).join(parts)})"


def tlp_rule(tlp: str, lang: Lang) -> str:
    key = f"cli.read.tlp.{tlp}"
    return t(key, lang) if key in CATALOGUE else f"TLP:{tlp}"


def scalar(field: str, value: object, lang: Lang) -> str:  # noqa: PLR0911
    """One coded or plain value, with the name of its code when it has one."""
    text = str(value)
    coded = {
        "commodity": _commodity,
        "country": country,
        "unit": _unit,
        "hs": _hs,
        "locode": _locode,
        "regions": _region,
    }
    if field in coded:
        return coded[field](text, lang)
    if field == "cas":
        return _by_cas_or_un(text, lang, cas=True)
    if field == "un_number":
        return _by_cas_or_un(text, lang, cas=False)
    if field in {"kind"}:
        return kind_name(text, lang)
    if isinstance(value, str) and f"cli.value.{value}" in CATALOGUE and field not in _FREE_TEXT:
        return _value_word(text, lang)
    if isinstance(value, bool):
        return t("cli.read.yes", lang) if value else t("cli.read.no", lang)
    if field == "size" and isinstance(value, int):
        return measures.size(value, lang)
    if isinstance(value, int | float):
        return measures.number(value, lang)
    return text


# Fields people write: never looked up as code words.
_FREE_TEXT = frozenset(
    {
        "subject", "description", "narrative", "question", "answer", "text", "name", "address",
        "details", "follow_up", "title", "body", "en", "fr", "conveyance", "voyage",
        "transport_document", "case_reference", "identifier", "mid", "sha256",
    }
)  # fmt: skip


def content_lines(doc: dict[str, Any], lang: Lang, depth: int = 0) -> list[str]:
    """Every member of ``doc``, labelled, nested objects and lists indented below their label."""
    lines: list[str] = []
    pad = INDENT * depth
    colon = t("cli.read.colon", lang)  # French typography: a space before the colon
    for field, value in doc.items():
        name = label(field, lang)
        if field in {"quantity", "quantity_seized"}:
            lines.append(f"{pad}{name}{colon} {_quantity(value, lang)}")
        elif field == "evaluation" and isinstance(value, dict):
            lines.append(f"{pad}{name}{colon} {evaluation(value, lang)}")
        elif isinstance(value, dict):
            lines.append(f"{pad}{name}{colon}")
            lines += content_lines(value, lang, depth + 1)
        elif isinstance(value, list):
            if not value:
                continue
            if all(not isinstance(v, dict | list) for v in value):
                joined = ", ".join(scalar(field, v, lang) for v in value)
                lines.append(f"{pad}{name}{colon} {joined}")
                continue
            lines.append(f"{pad}{name}{colon}")
            for number, item in enumerate(value, 1):
                if isinstance(item, dict):
                    lines.append(f"{pad}{INDENT}{number}.")
                    lines += content_lines(item, lang, depth + 2)
                else:
                    lines.append(f"{pad}{INDENT}{number}. {scalar(field, item, lang)}")
        elif isinstance(value, str) and "\n" in value:
            lines.append(f"{pad}{name}{colon}")
            lines += [f"{pad}{INDENT}{part}" for part in value.splitlines()]
        else:
            lines.append(f"{pad}{name}{colon} {scalar(field, value, lang)}")
    return lines


def header_rows(header: RoutingHeader, lang: Lang) -> list[tuple[str, str]]:
    """The routing header as (label, value) rows, with the signature status."""
    rows = [
        (t("cli.read.kind", lang), f"{kind_name(header.kind.value, lang)} ({header.kind.value})"),
        (t("cli.read.from", lang), header.sender.id),
        (
            t("cli.read.to", lang),
            ", ".join(a.id for a in header.to)
            + (f"  ({t('cli.read.group', lang, group=header.grp)})" if header.grp else ""),
        ),
        (t("cli.read.handling", lang), tlp_rule(header.tlp.value, lang)),
        (t("cli.read.created", lang), when(header.iat)),
        (t("cli.read.expires", lang), when(header.exp)),
    ]
    if header.thread and header.thread != header.mid:
        rows.append((t("cli.read.thread", lang), header.thread))
    if header.irt:
        rows.append((t("cli.read.in_reply_to", lang), header.irt))
    return rows


def render_lines(
    header: RoutingHeader, content: dict[str, Any], lang: Lang, *, signature: str
) -> list[str]:
    """The whole message as plain lines: title, header rows, signature, then the content."""
    rows = [*header_rows(header, lang), (t("cli.read.signature", lang), signature)]
    width = max(len(name) for name, _ in rows)
    subject = content.get("subject") or (content.get("title") or {}).get(lang) or ""
    title = f"{kind_name(header.kind.value, lang)} {header.mid}"
    lines = [f"{title}" + (f"  {subject}" if subject else ""), "=" * min(len(title) + 2, 78)]
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    lines += ["", t("cli.read.content", lang) + t("cli.read.colon", lang)]
    lines += content_lines(content, lang, 1)
    return lines
