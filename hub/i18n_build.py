"""Build-time tools for the catalogs of :mod:`hub.i18n` (``python -m pgs_hub.hub.i18n_build CMD``).

``check``
    Fails, listing each problem, when a key used in code (found by Babel's Python extractor, with
    the keywords below) is missing from the English catalog, when a shipped language lacks a text
    for a key English has (or has a key English lacks), or when a text's ``{placeholders}`` differ
    from the English ones. ``make i18n-check`` runs it; tests/hub/test_i18n_catalogs.py asserts the
    same. Keys built at run time (``t(f"cli.value.{status}")``) cannot be extracted: the check
    counts them, and the completeness of every language covers their texts. For the ``help``
    domain (``pgs ... --help``), it walks the whole command tree: see ``help`` below.
``compile [DIR]``
    Writes each ``.mo`` beside its ``.po`` (or under ``DIR``, mirroring ``hub/locale``).
``add LANG``
    Starts the catalogs of a new language (``messages``, ``click``, ``help``): every English
    entry, with the English text as a comment for the translator and an empty text (which
    ``check`` lists until it is translated).
``fold FILE... [--base FILE...]``
    Folds old-style Python dict catalogues (``{key: {"en": ..., "fr": ...}}``, as hub/i18n.py and
    hub/i18n_cli.py were before the catalogs) from another branch into the catalogs: a new key
    gets its English and French; a key whose English changed gets both replaced. Either way the
    other languages are left empty for that key, so ``check`` lists what remains to translate.
    ``--base`` names the same files at the merge base: only what the branch added or changed
    is folded.
``help``
    Writes the English entries of the ``help`` domain (hub/locale/en/LC_MESSAGES/help.po) from the
    ``pgs`` command tree (every command, lazily loaded ones included: see hub/cli/helptext.py for
    the keys), drops entries no command shows any more from every language, marks ``fuzzy`` a
    translation whose English changed, and lists, with the English to translate, every entry a
    language lacks or must review. After translating an entry, remove its ``#, fuzzy`` line.
    ``check`` fails until none is left, and when the English entries differ from the code.
``click``
    Lists Click's own messages (extracted from the installed click) that the ``click`` domain
    catalogs leave in English, and exits 1 if there is any. Every message that is words is
    translated, those for programmers too (bad declarations, shell completion, editor failures,
    Windows): a language is complete or not shipped. What stays as Click writes it is only what
    is not words (``CLICK_NOT_WORDS``, listed with the reason). Run it after upgrading Click.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import string
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from pgs_hub.hub.i18n import CLICK_DOMAIN, DOMAIN, HELP_DOMAIN, LANGS, LOCALE_DIR, catalog_path

# The functions whose first argument is a catalog key (pybabel: -k t -k say ...), and where
# another argument is: keep in step with the i18n-extract target of the Makefile.
KEYWORDS: Mapping[str, tuple[int, ...] | None] = {
    "t": None,
    "say": None,
    "_t": None,
    "html_text": None,
    "_ask": None,
    "_maybe": None,
    "step": None,
    "_refused": (3,),
    "config_error": None,
    "keyed": None,
}
CODE_ROOT = Path(__file__).parent
WIDTH = 100


def placeholders(text: str) -> list[str]:
    """The names of the ``{fields}`` of a ``str.format`` text, sorted."""
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def load(lang: str, domain: str = DOMAIN) -> Catalog:
    with catalog_path(lang, domain).open("rb") as stream:
        return read_po(stream, locale=lang, domain=domain)


def save(catalog: Catalog, lang: str, domain: str = DOMAIN) -> None:
    path = catalog_path(lang, domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=WIDTH, sort_output=False, ignore_obsolete=True)
    path.write_bytes(buffer.getvalue())


def new_catalog(lang: str, domain: str = DOMAIN) -> Catalog:
    return Catalog(
        locale=lang, domain=domain, project="Global Shield Hub", version="1",
        copyright_holder="Global Shield Hub developers", msgid_bugs_address="",
        fuzzy=False, charset="utf-8",
    )  # fmt: skip


# Between the forms of a plural text (Click's ngettext messages), in what texts_of returns.
PLURAL_SEPARATOR = "\x00"


def texts_of(catalog: Catalog) -> dict[str, str]:
    """msgid to text; a plural entry is keyed by its singular, its forms joined (empty when any
    form is empty)."""
    found = {}
    for m in catalog:
        if not m.id:
            continue
        if isinstance(m.id, str):
            found[m.id] = str(m.string or "")
        else:
            forms = [str(f or "") for f in (m.string or ())]
            found[str(m.id[0])] = PLURAL_SEPARATOR.join(forms) if all(forms) else ""
    return found


def _fields(text: str) -> list[str]:
    """The placeholders to compare: for a plural text, the set over all its forms."""
    if PLURAL_SEPARATOR in text:
        return sorted({p for form in text.split(PLURAL_SEPARATOR) for p in placeholders(form)})
    return placeholders(text)


def used_keys(root: Path = CODE_ROOT) -> tuple[dict[str, list[str]], int]:
    """Keys written literally in the code (key -> where), and how many key sites are built at
    run time (f-strings, which Babel's extractor reports and skips)."""
    found: dict[str, list[str]] = {}
    skipped = io.StringIO()
    with contextlib.redirect_stderr(skipped):
        for filename, line, key, _comments, _context in extract_from_dir(
            root, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=()
        ):
            if isinstance(key, str):
                found.setdefault(key, []).append(f"{filename}:{line}")
    return found, skipped.getvalue().count("Skipping f-string")


def problems(langs: Iterable[str] = LANGS, domain: str = DOMAIN) -> Iterator[str]:
    """Everything ``check`` fails on, one line each."""
    english = texts_of(load("en", domain))
    if domain == DOMAIN:
        used, _ = used_keys()
        for key, where in sorted(used.items()):
            if key not in english:
                yield f"{key}: used in code ({', '.join(where)}) but missing in the catalogs"
    for lang in langs:
        if lang == "en":
            theirs = english
        elif not catalog_path(lang, domain).exists():
            yield f"{lang}: no catalog {catalog_path(lang, domain).relative_to(CODE_ROOT)}"
            continue
        else:
            theirs = texts_of(load(lang, domain))
        for key, text in english.items():
            if not theirs.get(key, "").strip():
                yield f"{lang}: {key}: no text"
            elif _fields(theirs[key]) != _fields(text):
                yield (
                    f"{lang}: {key}: placeholders {_fields(theirs[key])} differ from the"
                    f" English {_fields(text)}"
                )
        for key in theirs.keys() - english.keys():
            yield f"{lang}: {key}: not in the English catalog"


def compile_all(into: Path | None = None) -> list[Path]:
    """Write every catalog's ``.mo`` (beside it, or under ``into``); the paths written."""
    written = []
    for po in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if into is not None:
            mo = into / mo.relative_to(LOCALE_DIR)
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as stream:
            catalog = read_po(stream, locale=po.parts[-3], domain=po.stem)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        mo.write_bytes(buffer.getvalue())
        written.append(mo)
    return written


def add_language(lang: str) -> None:
    """Start both catalogs of ``lang`` (``messages`` and ``click``) with every English entry."""
    for domain in (DOMAIN, CLICK_DOMAIN, HELP_DOMAIN):
        catalog = new_catalog(lang, domain)
        for message in load("en", domain):
            if not message.id:
                continue
            if isinstance(message.id, str):
                catalog.add(message.id, "", auto_comments=[f"en: {message.string}"])
            else:
                catalog.add(message.id, ("",) * catalog.num_plurals)
        save(catalog, lang, domain)


def old_catalogue(files: Iterable[Path]) -> dict[str, dict[str, str]]:
    """The merged ``CATALOGUE`` of old-style modules (i18n_cli first, so i18n can import it)."""
    ordered = sorted(files, key=lambda p: p.stem != "i18n_cli")
    merged: dict[str, dict[str, str]] = {}
    saved = sys.modules.get("hub.i18n_cli")
    try:
        for path in ordered:
            spec = importlib.util.spec_from_file_location(f"_old_{path.stem}", path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            if path.stem == "i18n_cli":
                sys.modules["pgs_hub.hub.i18n_cli"] = module
            for name in ("CATALOGUE", "CLI_CATALOGUE"):
                merged |= {k: dict(v) for k, v in getattr(module, name, {}).items()}
    finally:
        if saved is not None:
            sys.modules["pgs_hub.hub.i18n_cli"] = saved
        else:
            sys.modules.pop("hub.i18n_cli", None)
    return merged


def fold(files: Iterable[Path], base: Iterable[Path] = ()) -> list[str]:
    """Fold old-style dict entries into the catalogs; the keys added or changed. With ``base``
    (the same modules at the merge base), only the entries the branch added or changed are
    folded, so that keys the catalogs dropped on purpose do not come back."""
    old = old_catalogue(files)
    before = old_catalogue(base)
    old = {k: v for k, v in old.items() if before.get(k) != v}
    catalogs = {lang: load(lang) for lang in LANGS}
    english = texts_of(catalogs["en"])
    changed = []
    for key, entry in old.items():
        if english.get(key) == entry.get("en"):
            continue
        changed.append(key)
        for lang, catalog in catalogs.items():
            text = entry.get(lang, "") if lang in ("en", "fr") else ""
            comments = [] if lang == "en" else [f"en: {entry['en']}"]
            if key in catalog:
                catalog[key].string = text
                catalog[key].auto_comments = comments
            else:
                catalog.add(key, text, auto_comments=comments)
    for lang, catalog in catalogs.items():
        save(catalog, lang)
    return changed


# Messages Click translates through a variable, which the extractor cannot see (the mark an
# option's help gets, ``_(extra["required"])`` in Option.get_help_record): counted while Click's
# source still does so.
_CLICK_INDIRECT = {"required": '_(extra["required"])'}


# Click messages that are not words, so no language translates them (msgid -> why).
CLICK_NOT_WORDS: Mapping[str, str] = {
    "Choice({choices})": "the repr() of a click.Choice type: Python code, never shown to a user",
}


def click_messages() -> dict[str, str]:
    """Click's translatable messages (msgid -> plural msgid or ""), as its source has them."""
    source = (Path(click.__file__).parent / "core.py").read_text(encoding="utf-8")
    found = {message: "" for message, use in _CLICK_INDIRECT.items() if use in source}
    with contextlib.redirect_stderr(io.StringIO()):
        for _, _, message, _, _ in extract_from_dir(
            Path(click.__file__).parent, method_map=[("**.py", "python")],
            keywords={"_": None, "ngettext": (1, 2)}, comment_tags=(),
        ):  # fmt: skip
            if isinstance(message, tuple):
                found[message[0]] = message[1]
            elif message:
                found[message] = ""
    return found


def click_report(ours: Mapping[str, str]) -> int:
    """Print what ``click`` lists; 1 when a message that is words is left in English."""
    missing = [m for m in click_messages() if m not in ours]
    for message in missing:
        if message in CLICK_NOT_WORDS:
            print(f"kept as Click writes it: {message!r}: {CLICK_NOT_WORDS[message]}")
        else:
            print(f"left in English: {message!r}")
    return 1 if set(missing) - CLICK_NOT_WORDS.keys() else 0


def help_tree() -> dict[str, str]:
    """Key -> English for every ``--help`` text of ``pgs`` (imports every command module)."""
    from pgs_hub.hub.cli import main as pgs  # noqa: PLC0415 - the whole CLI, only for the help tools
    from pgs_hub.hub.cli.helptext import tree_texts  # noqa: PLC0415

    return tree_texts(pgs)


# What a translation of a help text must keep as it is: options, `code` and $VARIABLES.
_KEPT = re.compile(r"`[^`]+`|(?<![\w-])--?[A-Za-z][\w-]*|\$[A-Z_]+")


def kept(text: str) -> list[str]:
    """The parts of a help text a translation keeps unchanged (sorted, with repeats)."""
    return sorted(_KEPT.findall(text))


def _help_catalog(lang: str) -> Catalog:
    return load(lang, HELP_DOMAIN) if catalog_path(lang, HELP_DOMAIN).exists() else Catalog()


def help_problems(
    tree: Mapping[str, str] | None = None, langs: Iterable[str] = LANGS
) -> Iterator[str]:
    """What ``check`` fails on in the ``help`` domain: an English entry missing or different from
    the code's text, a language without a text (or a ``fuzzy`` one: its English changed), a text
    that lost an option, a `code` or a $VARIABLE of the English, an entry no command shows."""
    tree = help_tree() if tree is None else tree
    english = {str(m.id): m for m in _help_catalog("en") if m.id}
    regenerate = "run python -m pgs_hub.hub.i18n_build help"
    for key, text in tree.items():
        if key not in english or not english[key].string:
            yield f"en: {key}: no entry ({regenerate})"
        elif english[key].string != text:
            yield f"en: {key}: the catalog's English differs from the code's ({regenerate})"
    for key in english.keys() - tree.keys():
        yield f"en: {key}: no command shows it any more ({regenerate})"
    for lang in langs:
        if lang == "en":
            continue
        theirs = {str(m.id): m for m in _help_catalog(lang) if m.id}
        for key, text in tree.items():
            found = theirs.get(key)
            if found is None or not str(found.string or "").strip():
                yield f"{lang}: {key}: no text"
            elif found.fuzzy:
                yield f"{lang}: {key}: to review, the English changed (then remove '#, fuzzy')"
            elif kept(str(found.string)) != kept(text):
                yield (
                    f"{lang}: {key}: keeps {kept(str(found.string))}, the English has {kept(text)}"
                )
        for key in theirs.keys() - tree.keys():
            yield f"{lang}: {key}: no command shows it any more ({regenerate})"


def update_help(tree: Mapping[str, str] | None = None) -> dict[str, list[tuple[str, str]]]:
    """Write the ``help`` catalogs from the command tree (see ``help`` above); per language other
    than English, the entries still to translate or review, as (key, English)."""
    tree = help_tree() if tree is None else tree
    before = {str(m.id): str(m.string or "") for m in _help_catalog("en") if m.id}
    lacking: dict[str, list[tuple[str, str]]] = {}
    for lang in LANGS:
        existing = _help_catalog(lang)
        old = {str(m.id): m for m in existing if m.id}
        catalog = new_catalog(lang, HELP_DOMAIN)
        if catalog_path(lang, HELP_DOMAIN).exists():  # a rerun changes no header date
            catalog.creation_date = existing.creation_date
            catalog.revision_date = existing.revision_date
        for key, text in tree.items():
            if lang == "en":
                catalog.add(key, text)
                continue
            found = old.get(key)
            translated = str(found.string or "") if found is not None else ""
            fuzzy = bool(found is not None and found.fuzzy)
            if translated and before.get(key) != text:
                fuzzy = True
            flags = ("fuzzy",) if fuzzy and translated else ()
            catalog.add(key, translated, flags=flags)
            if not translated or fuzzy:
                lacking.setdefault(lang, []).append((key, text))
        save(catalog, lang, HELP_DOMAIN)
    return lacking


def main(argv: list[str]) -> int:  # noqa: PLR0911 - one return per command
    command, *rest = argv or ["check"]
    if command == "check":
        found = list(problems())
        if catalog_path("en", CLICK_DOMAIN).exists():
            found += problems(domain=CLICK_DOMAIN)
        found += help_problems()
        for line in found:
            print(line)
        used, dynamic = used_keys()
        print(
            f"{len(found)} problem(s); {len(used)} keys used literally in code, {dynamic} key"
            f" sites built at run time; languages: {', '.join(LANGS)}"
        )
        return 1 if found else 0
    if command == "compile":
        written = compile_all(Path(rest[0]) if rest else None)
        print(f"compiled {len(written)} catalogs")
        return 0
    if command == "add" and len(rest) == 1:
        add_language(rest[0])
        print(f"started {catalog_path(rest[0])}: add {rest[0]!r} to Lang in hub/i18n.py")
        return 0
    if command == "fold" and rest:
        branch, _, base = (" ".join(rest) + " ").partition(" --base ")
        for key in fold([Path(n) for n in branch.split()], [Path(n) for n in base.split()]):
            print(f"folded {key}")
        return 0
    if command == "help":
        lacking = update_help()
        for lang, entries in lacking.items():
            for key, text in entries:
                print(f"{lang}: {key}: to translate; English:")
                print("    " + text.replace("\n", "\n    "))
        count = sum(len(e) for e in lacking.values())
        print(f"wrote {catalog_path('en', HELP_DOMAIN).relative_to(CODE_ROOT)};"
              f" {count} text(s) to translate or review")  # fmt: skip
        return 0
    if command == "click":
        return click_report(texts_of(load("en", CLICK_DOMAIN)))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
