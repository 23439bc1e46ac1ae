"""The text people read, in the WCO's languages: English, French, Spanish, Portuguese and Arabic.

Every human-facing text lives in gettext catalogs managed with Babel, domain ``messages``:
``hub/locale/<lang>/LC_MESSAGES/messages.po``. The msgid is a stable key (``cli.error.json``) and
every language, English included, holds the text for it, so call sites say ``t(key, lang, x=...)``
and a change of English wording never orphans a translation. ``make i18n`` compiles the ``.mo``
files the build also puts into the wheel; a tree where a ``.po`` is newer than its ``.mo`` (or has
none, as after a fresh checkout) reads the ``.po`` through Babel instead, so an edited catalog is
never shadowed by a stale compiled one. ``python -m pgs_hub.hub.i18n_build`` checks, compiles, folds
catalogs (see its docstring).

The language comes from an explicit choice, else ``PGS_LANG``, else the ``LC_ALL``/``LANG``
locale, else English.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal, get_args

Lang = Literal["en", "fr", "es", "pt", "ar"]
LANGS: tuple[Lang, ...] = get_args(Lang)
# Languages written right to left: the console sets dir="rtl" on <html> for them.
RTL: frozenset[str] = frozenset({"ar"})
# Each language's own name, for the language switch (never translated).
NATIVE_NAMES: Mapping[str, str] = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "ar": "العربية",
}
# Accept-Language is untrusted input: only its first entries are read.
MAX_ACCEPTED_LANGUAGES = 20
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
# Click's own messages (usage errors, help headings), keyed by Click's English text.
CLICK_DOMAIN = "click"
# The help of the commands (`pgs ... --help`), keyed by where it is shown: see hub/cli/helptext.py.
HELP_DOMAIN = "help"


def catalog_path(lang: str, domain: str = DOMAIN, suffix: str = ".po") -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}{suffix}"


@functools.cache
def texts(lang: str, domain: str = DOMAIN) -> Mapping[str, str]:
    """Key to text for one language (empty texts left out), read once per process."""
    mo, po = catalog_path(lang, domain, ".mo"), catalog_path(lang, domain, ".po")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        from babel.messages.mofile import read_mo  # noqa: PLC0415 - only when a text is needed

        with mo.open("rb") as stream:
            catalog = read_mo(stream)
    elif po.exists():
        from babel.messages.pofile import read_po  # noqa: PLC0415 - only without a fresh .mo

        with po.open("rb") as stream:
            catalog = read_po(stream, locale=lang, domain=domain)
    else:
        return {}
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string
        and not m.fuzzy
    }  # fmt: skip


def resolve(choice: str | None = None) -> Lang:
    """Pick the language: explicit choice, ``PGS_LANG``, the locale, then English."""
    for candidate in (
        choice,
        os.environ.get("PGS_LANG"),
        os.environ.get("LC_ALL"),
        os.environ.get("LANG"),
    ):
        found = match(candidate)
        if found is not None:
            return found
    return "en"


def match(tag: str | None) -> Lang | None:
    """The shipped language a locale name or language tag means (``pt_BR.UTF-8`` -> ``pt``)."""
    found = re.match(r"([A-Za-z]{2,3})(?:[-_.@]|$)", (tag or "").strip())
    prefix = found[1].lower() if found else ""
    return next((lang for lang in LANGS if lang == prefix), None)


def negotiate(accept_language: str) -> Lang | None:
    """The shipped language a browser prefers most (``Accept-Language``, RFC 9110 q-values)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")[:MAX_ACCEPTED_LANGUAGES]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if quality > 0:
            ranked.append((-quality, position, tag.strip()))
    for _, _, tag in sorted(ranked):
        found = match(tag)
        if found is not None:
            return found
    return None


def template(key: str, lang: Lang) -> str:
    """The unformatted text of ``key`` in ``lang`` (English when ``lang`` has none)."""
    return texts(lang).get(key) or texts("en")[key]


def t(key: str, lang: Lang, **values: object) -> str:
    """The text for ``key`` in ``lang``, with ``values`` filled in.

    A key without a text in ``lang`` falls back to English (the completeness test keeps that from
    happening in a release); a key English does not know raises ``KeyError``, as a typo should.
    """
    return template(key, lang).format(**values)


def known(key: str) -> bool:
    """Whether the catalogs have ``key`` (for texts chosen at run time, such as error codes)."""
    return key in texts("en")


class _Catalogue(Mapping[str, Mapping[Lang, str]]):
    """A read-only view, key to ``{lang: text}``: there is no way to add a text here in code."""

    def __getitem__(self, key: str) -> Mapping[Lang, str]:
        english = texts("en")[key]
        return {lang: texts(lang).get(key, english if lang == "en" else "") for lang in LANGS}

    def __iter__(self) -> Iterator[str]:
        return iter(texts("en"))

    def __len__(self) -> int:
        return len(texts("en"))

    def __contains__(self, key: object) -> bool:
        return key in texts("en")


CATALOGUE: Mapping[str, Mapping[Lang, str]] = _Catalogue()


@functools.cache
def compiled_dir(lang: str, domain: str) -> Path:
    """A locale folder holding an up-to-date ``<lang>/LC_MESSAGES/<domain>.mo``, for readers that
    need compiled catalogs (the standard library's gettext, which Click uses): ``hub/locale``
    itself when the build compiled it, else a private temporary folder where it is compiled now
    (a source tree without ``make i18n``, or a ``.po`` edited since)."""
    mo, po = catalog_path(lang, domain, ".mo"), catalog_path(lang, domain, ".po")
    if not po.exists() or (mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime):
        return LOCALE_DIR
    from babel.messages.mofile import write_mo  # noqa: PLC0415 - only in a source tree
    from babel.messages.pofile import read_po  # noqa: PLC0415

    folder = Path(tempfile.mkdtemp(prefix="pgs-locale-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    target = folder / lang / "LC_MESSAGES" / f"{domain}.mo"
    target.parent.mkdir(parents=True)
    with po.open("rb") as source, target.open("wb") as out:
        write_mo(out, read_po(source, locale=lang, domain=domain), use_fuzzy=False)
    return folder
