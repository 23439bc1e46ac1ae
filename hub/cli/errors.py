"""One place that turns every failure of a ``pgs`` command into one plain line and an exit code.

The commands raise what they raise (domain errors with a stable ``code``, the hub's problem
documents, ``OSError`` from files and sockets ...); :class:`PgsGroup` catches them at the top and
prints ``error: <what was wrong>`` in the user's language (``PGS_LANG``, see :mod:`hub.i18n`),
exit status 1. Anything not foreseen is an ``internal error`` line with a hint; its traceback is
printed only with ``pgs --debug`` or ``PGS_DEBUG=1``. Click's own usage errors keep their short
block (usage line, hint, error) and exit status 2.
"""

from __future__ import annotations

import errno
import functools
import gettext
import json
import os
import re
import string
import sys
import tomllib
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from pgs_hub.hub.cli.helptext import GroupHelpInLanguage
from pgs_hub.hub.i18n import CATALOGUE, CLICK_DOMAIN, LANGS, Lang, compiled_dir, resolve, t

DEBUG_ENV = "PGS_DEBUG"
EXIT_ERROR = 1


def debugging() -> bool:
    return os.environ.get(DEBUG_ENV, "").lower() in {"1", "true", "yes", "on"}


def language() -> Lang:
    return resolve(None)


def _code_text(code: str, lang: Lang) -> str | None:
    """The catalogue's sentence for a stable error code, if it has one."""
    key = f"cli.code.{code}"
    return t(key, lang) if key in CATALOGUE else None


# The phrases of protocols/messages/problems.py that begin a problem (a field problem reads
# "<pointer> <phrase>"): catalog keys whose English text is how the phrase begins (the longest
# that fits wins); what follows is a value (a number, codes) or a phrase itself.
_PROBLEM_KEYS: tuple[str, ...] = tuple(
    f"cli.problem.{name}"
    for name in (
        "required", "not_allowed", "string", "whole_number", "number", "boolean", "list",
        "object", "json_object", "one_of", "at_least", "at_most", "greater_than", "less_than",
        "must_be", "not_blank", "format", "not_json", "country", "commodity", "date",
        # the policy file's own rules (hub/policy/model.py)
        "policy_receipt", "policy_role", "policy_red", "policy_attachments", "group_name",
        "group_empty", "group_duplicate_country", "group_duplicate_participant", "group_builtin",
    )
)  # fmt: skip

# The protocol's whole phrases, those with numbers or names in them (``{n}``, ``{wanted}``)
# included: catalog keys whose English text, its {fields} standing for the specifics, a phrase
# must match whole. They are tried before the prefixes above, so that "must be at most 5
# characters long" is said whole in the user's language, not as "must be at most " and English.
# The first that matches wins: a phrase without fields comes before the one with a field that
# it would also match.
_PHRASE_KEYS: tuple[str, ...] = tuple(
    f"cli.problem.{name}"
    for name in (
        "unicode", "finite", "null", "datetime", "timezone", "frozen", "recursion", "not_empty",
        "chars_at_least", "chars_at_most", "chars_at_most_one", "items_at_least",
        "items_at_least_one", "items_at_most", "items_at_most_one", "digits_at_most",
        "decimal_places", "whole_digits", "not_allowed_value", "invalid", "more_problems",
        "indicator_code", "container_format", "container_check", "containers_once", "date_order",
        "message_id", "participant_id", "sha256_hex", "one_line", "no_control", "utc",
        "digest_b64", "media_type", "file_name", "upload_id", "file_key", "blob_size",
        "locode_country", "languages", "regions_missing", "regions_unexpected", "regions_once",
        "same_languages_both", "same_languages", "unlocode", "hs", "cas", "un_number", "jwk_x",
        "member_country", "serial", "kid", "certificate_country", "ncp_wco", "wco_role",
        "scope_null", "scope_wco", "scope_own", "expiry",
    )
)  # fmt: skip

# Messages of the domain errors (keystore, configuration, policy, the hub's refusals) that carry
# the specifics (a path, a group) the user needs: catalog keys whose English text, its {fields}
# standing for any specifics, is the pattern a whole message must match; the specifics are kept.
_MESSAGE_KEYS: tuple[str, ...] = tuple(
    f"cli.message.{name}"
    for name in (
        "run_init", "not_exist", "holds_hub", "holds_keys", "toml", "no_group", "red_group",
        "participant_id",
    )
)  # fmt: skip


@functools.cache
def _pattern(key: str) -> re.Pattern[str]:
    """The English text of ``key`` as a regular expression, each ``{field}`` a named group."""
    parts = []
    for literal, field, _, _ in string.Formatter().parse(_english(key)):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(f"(?P<{field}>.+)")
    return re.compile("".join(parts))


def _english(key: str) -> str:
    from pgs_hub.hub.i18n import texts

    return texts("en")[key]


def message_text(text: str, lang: Lang) -> str | None:
    """``text`` in ``lang`` when it is one of the known domain messages, else ``None``."""
    if lang == "en":
        return None
    for key in _MESSAGE_KEYS:
        found = _pattern(key).fullmatch(text)
        if found:
            return t(key, lang, **found.groupdict())
    return None


def problem_text(text: str, lang: Lang) -> str:
    """A field problem's phrase in ``lang``: the whole phrase when the catalog has it (its
    numbers and names kept), else the catalog phrase that is the longest English prefix of
    ``text`` (so "must be 2 to 40 characters: ..." is the group-name rule, not "must be " and
    English after it), the rest (values, names, or a phrase in its turn) kept or said too. A
    phrase the catalog does not know stays as written."""
    if lang == "en":
        return text
    for key in _PHRASE_KEYS:
        found = _pattern(key).fullmatch(text)
        if found:
            return t(key, lang, **found.groupdict())
    matches = [key for key in _PROBLEM_KEYS if text.startswith(_english(key))]
    if not matches:
        return text
    key = max(matches, key=lambda k: len(_english(k)))
    # What follows may be a phrase itself ("is not a PGS commodity code: must be one of ...").
    rest = problem_text(text[len(_english(key)) :], lang).replace(
        _english("cli.problem.or_another_code"), t("cli.problem.or_another_code", lang)
    )
    return t(key, lang) + rest


def problem_place(pointer: str, lang: Lang) -> str:
    """A field problem's place: its JSON pointer, or the whole message's name."""
    return pointer or t("cli.problem.whole_message", lang)


def _describe(exc: BaseException, lang: Lang) -> tuple[str, list[str]]:  # noqa: PLR0911, PLR0912
    """The line to print for a known error, and any detail lines under it."""
    from pydantic import ValidationError

    from pgs_hub.crypto.errors import CryptoError
    from pgs_hub.hub.client.errors import HubClientError, TrustError
    from pgs_hub.hub.errors import ConfigError, HubError
    from pgs_hub.hub.keystore import KeyStoreError
    from pgs_hub.hub.policy.model import PolicyError
    from pgs_hub.protocols.errors import InvalidDataError, ProtocolError

    if isinstance(exc, InvalidDataError):
        details = [
            f"  {problem_place(p.pointer, lang)} {problem_text(p.message, lang)}"
            for p in exc.problems
        ]
        head = _code_text(exc.code, lang) if lang != "en" else None
        if head is None:
            head = t("cli.error.invalid", lang, what=exc.what) if details else str(exc)
        return f"[{exc.code}] {head}", details
    if isinstance(exc, HubClientError):
        return _hub_refusal(exc, lang), []
    if isinstance(exc, PolicyError) and exc.fields:
        details = [f"  {where} {problem_text(what, lang)}" for where, what in exc.fields]
        return f"[{exc.code}] {exc.text(lang)}", details
    if isinstance(exc, ConfigError) and exc.key is not None:
        return f"[{exc.code}] {exc.text(lang)}", []
    if isinstance(exc, CryptoError | ProtocolError | KeyStoreError | TrustError | ConfigError):
        code = str(getattr(exc, "code", "error"))
        translated = message_text(str(exc), lang) or (
            _code_text(code, lang) if lang != "en" else None
        )
        return f"[{code}] {translated or exc}", []
    if isinstance(exc, ValidationError):
        # A value checked by a protocol model outside a message (a participant id ...).
        texts = [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
        return "; ".join(message_text(x, lang) or x for x in texts), []
    if isinstance(exc, HubError):
        return f"[{exc.code}] {exc}", []
    if isinstance(exc, tomllib.TOMLDecodeError):
        return t("cli.error.toml", lang, reason=exc), []
    if isinstance(exc, json.JSONDecodeError):
        return t("cli.error.json", lang, line=exc.lineno, column=exc.colno, reason=exc.msg), []
    if isinstance(exc, UnicodeDecodeError):
        return t("cli.error.unicode", lang), []
    connection = _connection_problem(exc, lang)
    if connection is not None:
        return connection, []
    database = _database_problem(exc, lang)
    if database is not None:
        return database, []
    if isinstance(exc, FileNotFoundError):
        return t("cli.error.not_found", lang, path=exc.filename or exc), []
    if isinstance(exc, IsADirectoryError):
        return t("cli.error.is_directory", lang, path=exc.filename or exc), []
    if isinstance(exc, NotADirectoryError):
        return t("cli.error.not_directory", lang, path=exc.filename or exc), []
    if isinstance(exc, PermissionError):
        return t("cli.error.permission", lang, path=exc.filename or exc), []
    if isinstance(exc, FileExistsError):
        return t("cli.error.exists", lang, path=exc.filename or exc), []
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return t("cli.error.port_busy", lang, reason=exc.strerror or exc), []
    if isinstance(exc, OSError):
        return t("cli.error.os", lang, reason=exc.strerror or exc), []
    raise exc


def _hub_refusal(exc: Any, lang: Lang) -> str:
    code = str(exc.code)
    detail = str(exc.problem.get("detail") or exc.problem.get("title") or "")
    if lang != "en":
        detail = message_text(detail, lang) or _code_text(code, lang) or detail
    return t("cli.error.hub", lang, code=code, status=exc.status, detail=detail)


def refusal(exc: Any, lang: Lang) -> str:
    """A hub's refusal (:class:`HubClientError`) as ``[code] reason (status)`` in ``lang``."""
    detail = str(exc.problem.get("detail") or exc.problem.get("title") or "")
    if lang != "en":
        detail = message_text(detail, lang) or _code_text(str(exc.code), lang) or detail
    return f"[{exc.code}] {detail} ({exc.status})"


def _connection_problem(exc: BaseException, lang: Lang) -> str | None:  # noqa: PLR0911
    """Problems reaching the hub: no scheme, nothing listening, TLS, a timeout."""
    import aiohttp

    if isinstance(exc, aiohttp.InvalidURL):
        return t("cli.error.url", lang, url=exc.url)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return t("cli.error.tls", lang, reason=exc)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return t("cli.error.unreachable", lang, host=exc.host, port=exc.port)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return t("cli.error.disconnected", lang)
    if isinstance(exc, aiohttp.ClientResponseError):
        return t("cli.error.http", lang, status=exc.status, reason=exc.message)
    if isinstance(exc, aiohttp.ClientError):
        return t("cli.error.client", lang, reason=exc)
    if isinstance(exc, TimeoutError):
        return t("cli.error.timeout", lang)
    return None


def _database_problem(exc: BaseException, lang: Lang) -> str | None:
    """A database that cannot be opened, reached or written (``pgs init``, ``serve``, ``db``):
    the deployment's to fix, not a bug in pgs."""
    from pgs_hub.hub.services.database import database_problem

    problem = database_problem(exc)
    if problem is None:
        return None
    fault, reason = problem
    if fault == "full":
        return t("cli.error.database_full", lang, reason=reason)
    return t("cli.error.database", lang, reason=reason)


def check_hub_url(url: str) -> None:
    """A hub URL must be absolute, with an http or https scheme and a host."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        print_error(t("cli.error.url", language(), url=url))
        sys.exit(EXIT_ERROR)


def check_participant_ids(ids: Sequence[str]) -> None:
    """Each id must have the form of a participant id (raises pydantic's error, reported as one
    line), before it goes into a URL."""
    from pgs_hub.protocols.routing import Addressee

    for participant in ids:
        Addressee(id=participant, kid="A" * 43)


def print_error(line: str, details: Sequence[str] = ()) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    for detail in details:
        console.print(detail, markup=False)
    prefix = t("cli.error.prefix", language())
    console.print(f"[bold red]{prefix}[/] {escape(line)}", markup=True, highlight=False)


def report(exc: BaseException) -> NoReturn:
    """Print ``exc`` as one line (with its field problems above it, if any) and exit 1."""
    lang = language()
    try:
        line, details = _describe(exc, lang)
    except BaseException:  # noqa: BLE001 - not a known error: say so, plainly
        if debugging():
            traceback.print_exception(exc)
        print_error(t("cli.error.internal", lang, kind=type(exc).__name__, reason=exc))
        sys.exit(EXIT_ERROR)
    if debugging():
        traceback.print_exception(exc)
    print_error(line, details)
    sys.exit(EXIT_ERROR)


def use_language_for_click(lang: Lang) -> None:
    """Click's own messages (usage errors, "Usage:", help headings) in ``lang``.

    Click asks the standard library's gettext, in its default domain, at the moment it writes a
    message. So that domain is pointed at our ``click`` catalogs (hub/locale/<lang>/LC_MESSAGES/
    click.po: Click's English messages as msgids) and ``LANGUAGE``, the GNU variable naming the
    language of messages, which gettext reads on every call, is set to the language pgs chose.
    Nothing else in pgs uses that domain; our own texts go through :func:`hub.i18n.t`.
    """
    gettext.bindtextdomain(CLICK_DOMAIN, str(compiled_dir(lang, CLICK_DOMAIN)))
    gettext.textdomain(CLICK_DOMAIN)
    os.environ["LANGUAGE"] = lang


class PgsGroup(GroupHelpInLanguage):
    """The ``pgs`` group: every error a command lets through becomes one plain line, Click's own
    usage errors are in the user's language, and so is every ``--help`` below it (see
    :mod:`hub.cli.helptext`)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # Before the group's own options are parsed; what it changes is put back afterwards, so
        # that a test invoking pgs in its own process (CliRunner) leaves no language behind.
        before = os.environ.get("LANGUAGE"), gettext.textdomain()
        use_language_for_click(language())
        try:
            return super().main(*args, **kwargs)
        finally:
            gettext.textdomain(before[1])
            if before[0] is None:
                os.environ.pop("LANGUAGE", None)
            else:
                os.environ["LANGUAGE"] = before[0]

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            raise click.Abort from None
        except Exception as exc:  # noqa: BLE001 - the one top-level handler
            report(exc)


def debug_option(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        os.environ[DEBUG_ENV] = "1"


def lang_option(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    if value:
        os.environ["PGS_LANG"] = value
        use_language_for_click(resolve(value))


LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(LANGS),
    expose_value=False,
    is_eager=True,
    callback=lang_option,
    help="Language (default: $PGS_LANG, then the locale).",
)
