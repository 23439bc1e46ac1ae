"""``--help`` in the user's language, translated where Click formats it, in one place.

The English help stays in the code (docstrings, ``help=``): it is the source. Each text a person
sees in ``--help`` has a catalog key derived from where it is shown, in the ``help`` domain
(hub/locale/<lang>/LC_MESSAGES/help.po):

* ``help.pgs`` and ``help.pgs.<command>...`` -- a command's or group's help (its docstring up to
  any ``\\f``), e.g. ``help.pgs.admin.suspend``; the short help in a group's list of commands is
  made from it as Click makes it (first sentence), unless the command declares ``short_help``:
  ``help.<path>.@short``; an epilog is ``help.<path>.@epilog``;
* ``help.<path>.--option`` -- an option's help, by its first long flag (``help.pgs.send.--to``);
* ``help.<path>.NAME`` -- an argument's help, by its name in capitals (``help.pgs.read.MID``).

Flags start with ``-``, arguments are in capitals and ``@`` marks the rest, so no key can be taken
for a sub-command's. ``make i18n-help`` writes the English entries from the command
tree and lists what the other languages lack; ``check`` fails on an entry missing in a language or
an English entry that differs from the code (a changed docstring must be translated again).

How: the root group (:class:`hub.cli.errors.PgsGroup`) and every command it resolves speak
through :class:`HelpInLanguage`. A resolved sub-command is a shallow copy of the module's command
whose class also derives from the mixin, so the command modules keep plain ``@click.command``
(and may be imported lazily) and the original objects are never changed. At format time the copy
formats a second copy holding the translated texts: Click's own formatting does the rest (wrapping,
``[default: ...]`` and the headings, which come from the ``click`` domain).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterator, Sequence
from gettext import gettext
from typing import Any, TypeVar

import click

from pgs_hub.hub.i18n import HELP_DOMAIN, Lang, resolve, texts

C = TypeVar("C", bound=click.Command)
ROOT = "pgs"
PREFIX = "help"
SHORT = "@short"
EPILOG = "@epilog"
# Click's text for -h/--help (a msgid of the click domain).
HELP_OPTION_TEXT = "Show this message and exit."


def command_key(path: Sequence[str]) -> str:
    """``help.pgs.admin.suspend`` for the command at ``("pgs", "admin", "suspend")``."""
    return ".".join((PREFIX, *path))


def param_slot(param: click.Parameter) -> str:
    """An option's first long flag (else its first flag); an argument's name in capitals."""
    if isinstance(param, click.Option):
        return next((o for o in param.opts if o.startswith("--")), param.opts[0])
    return (param.name or "").upper()


def param_key(path: Sequence[str], param: click.Parameter) -> str:
    return f"{command_key(path)}.{param_slot(param)}"


def english_texts(command: click.Command, path: Sequence[str]) -> dict[str, str]:
    """The help texts ``command`` shows itself (key -> English as Click prints it), not those of
    its sub-commands."""
    found: dict[str, str] = {}
    key = command_key(path)
    if command.help:
        found[key] = inspect.cleandoc(command.help).partition("\f")[0].strip()
    if command.short_help:
        found[f"{key}.{SHORT}"] = inspect.cleandoc(command.short_help)
    if command.epilog:
        found[f"{key}.{EPILOG}"] = inspect.cleandoc(command.epilog)
    for param in command.params:
        help_text = getattr(param, "help", None)
        if help_text and not getattr(param, "hidden", False):
            found[param_key(path, param)] = help_text
    return found


def walk(
    command: click.Command, path: tuple[str, ...] = (ROOT,), parent: click.Context | None = None
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every visible command of the tree under ``command`` with its path, loading lazy groups
    through ``list_commands``/``get_command`` as ``--help`` would."""
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1], parent=parent)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, (*path, name), ctx)


def tree_texts(root: click.Command) -> dict[str, str]:
    """Key -> English text for every help text of the tree, in the order of the tree."""
    found: dict[str, str] = {}
    for path, command in walk(root):
        found |= english_texts(command, path)
    return found


def text(key: str, lang: Lang) -> str | None:
    """The text of ``key`` in ``lang``; ``None`` when the language has none (yet)."""
    return texts(lang, HELP_DOMAIN).get(key)


def command_path(ctx: click.Context) -> tuple[str, ...]:
    names = []
    while ctx.parent is not None:
        names.append(ctx.command.name or ctx.info_name or "")
        ctx = ctx.parent
    return (ROOT, *reversed(names))


def _param_in(param: click.Parameter, path: Sequence[str], lang: Lang) -> click.Parameter:
    if not getattr(param, "help", None):
        return param
    translated = text(param_key(path, param), lang)
    if translated is None:
        return param
    clone = copy.copy(param)
    clone.help = translated
    return clone


def in_language(command: C, path: Sequence[str], lang: Lang) -> C:
    """A copy of ``command`` holding its help texts in ``lang`` (English where ``lang`` has
    none); ``command`` itself for English."""
    if lang == "en":
        return command
    clone = copy.copy(command)
    key = command_key(path)
    if command.help:
        clone.help = text(key, lang) or command.help
    if command.short_help:
        clone.short_help = text(f"{key}.{SHORT}", lang) or command.short_help
    if command.epilog:
        clone.epilog = text(f"{key}.{EPILOG}", lang) or command.epilog
    clone.params = [_param_in(p, path, lang) for p in command.params]
    return clone


class HelpInLanguage(click.Command):
    """Formats its help in the user's language (``--lang``, ``PGS_LANG``, the locale)."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """Click makes the -h/--help option once and keeps it (one object per run: its callback
        order depends on it), with its text in the language of that moment. Made again when the
        language has changed since, so an earlier run's language never stays behind."""
        option = super().get_help_option(ctx)
        if option is not None and option.help != gettext(HELP_OPTION_TEXT):
            self._help_option = None
            option = super().get_help_option(ctx)
        return option

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        lang = resolve(None)
        shown = copy.copy(in_language(self, command_path(ctx), lang))
        # Click makes the -h/--help option once per command and keeps it, in the language of
        # that moment (the root's before --lang is read, or an earlier run's in the same process).
        # Its text is Click's, asked again now (the click domain).
        option = self.get_help_option(ctx)
        if option is not None:  # never given a text of ours: it is always Click's
            option = copy.copy(option)
            option.help = gettext(HELP_OPTION_TEXT)
            shown._help_option = option
        super(HelpInLanguage, shown).format_help(ctx, formatter)


class GroupHelpInLanguage(HelpInLanguage, click.Group):
    """A group whose list of commands, and the commands it resolves, speak the user's language."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        return name, (speaking(command) if command is not None else None), rest

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's list of commands, each short help from the catalog of the language.

        A command the English catalog knows is listed from the catalogs alone, without loading
        it (a lazy group stays lazy); any other is loaded and asked, as Click does."""
        lang, path = resolve(None), command_path(ctx)
        english = texts("en", HELP_DOMAIN)
        listed: list[tuple[str, str | None, bool, click.Command | None]] = []
        for name in self.list_commands(ctx):
            key = command_key((*path, name))
            if f"{key}.{SHORT}" in english:
                short = f"{key}.{SHORT}"
                listed.append((name, text(short, lang) or english[short], True, None))
            elif key in english:
                listed.append((name, text(key, lang) or english[key], False, None))
            else:
                command = self.get_command(ctx, name)
                if command is not None and not command.hidden:
                    listed.append((name, None, False, in_language(command, (*path, name), lang)))
        if not listed:
            return
        limit = formatter.width - 6 - max(len(row[0]) for row in listed)
        rows = []
        for name, found, is_short, command in listed:
            if command is not None:
                rows.append((name, command.get_short_help_str(limit)))
            else:
                # A stand-in command shortens the text exactly as Click does for the real one.
                stand_in = click.Command(name, short_help=found) if is_short else None
                stand_in = stand_in or click.Command(name, help=found)
                rows.append((name, stand_in.get_short_help_str(limit)))
        with formatter.section(gettext("Commands")):  # Click's heading, from the click domain
            formatter.write_dl(rows)


_SPEAKING: dict[type[click.Command], type[click.Command]] = {}


def _speaking_class(cls: type[click.Command]) -> type[click.Command]:
    """``cls`` with the mixin in front (one class per command class, made once)."""
    if cls not in _SPEAKING:
        mixin = GroupHelpInLanguage if issubclass(cls, click.Group) else HelpInLanguage
        _SPEAKING[cls] = type(cls.__name__, (mixin, cls), {"__module__": cls.__module__})
    return _SPEAKING[cls]


def speaking(command: click.Command) -> click.Command:
    """``command``, or a shallow copy of it whose class formats help in the user's language."""
    if isinstance(command, HelpInLanguage):
        return command
    clone: Any = copy.copy(command)
    clone.__class__ = _speaking_class(type(command))
    speaking_command: click.Command = clone
    return speaking_command
