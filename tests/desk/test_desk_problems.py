"""Who stopped a send, said on the desk's page in the officer's language: the hub's refusal, a
hub that cannot be reached, a directory that does not verify, the desk's own check (a recipient
key of small order) or an attachment's transfer; never "the hub refused" for what the hub never
saw, and the reason from the catalog where it has one."""

from __future__ import annotations

import aiohttp
import pytest
from markupsafe import escape

from pgs_hub.crypto.errors import LowOrderKeyError
from pgs_hub.hub.client import HubClientError, TrustError
from pgs_hub.hub.client.attachments import AttachmentError
from pgs_hub.hub.desk import i18n
from pgs_hub.hub.desk.app import environment
from pgs_hub.hub.desk.hubapi import HubProblem, _problem

LOW_ORDER = LowOrderKeyError("GH-NCP-ACCRA's encryption key is an X25519 point of small order")


@pytest.mark.parametrize(
    ("failure", "source", "code"),
    [
        (HubClientError(403, {"code": "policy.seizure_needs_wco", "detail": "add WCO"}), "hub",
         "policy.seizure_needs_wco"),
        (aiohttp.ClientConnectionError("refused"), "network", "hub.unreachable"),
        (TimeoutError(), "network", "hub.unreachable"),
        (TrustError("the certificate does not verify"), "trust", "trust.failed"),
        (LOW_ORDER, "local", "crypto.low_order_key"),
        (AttachmentError("the link to the hub kept failing"), "attachment", "attachment.failed"),
    ],
)  # fmt: skip
def test_each_failure_is_put_down_to_who_stopped_it(
    failure: BaseException, source: str, code: str
) -> None:
    problem = _problem(failure)
    assert (problem.source, problem.code) == (source, code)


def test_the_reason_is_in_the_officers_language_where_the_catalog_has_it() -> None:
    problem = _problem(LOW_ORDER)
    assert problem.reason("en") == str(LOW_ORDER)  # English keeps the specifics
    assert "ordre faible" in problem.reason("fr")
    assert problem.reason("fr") != problem.reason("es") != problem.reason("en")
    unknown = HubProblem("made.up", "a detail in English")
    assert unknown.reason("fr") == "a detail in English"  # no sentence to give: the detail


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_the_problem_page_shows_the_reason_in_the_page_language(lang: str) -> None:
    translations = i18n.translations(lang)
    page = environment().get_template("problem.html").render(
        _=translations.gettext, gettext=translations.gettext, ngettext=translations.ngettext,
        lang=lang, dir=i18n.direction(lang), languages=i18n.NATIVE, csrf="", me="NG-NCP-LAGOS",
        unlocked=True, path="/", problem=_problem(LOW_ORDER),
    )  # fmt: skip
    assert "crypto.low_order_key" in page
    assert str(escape(_problem(LOW_ORDER).reason(lang))) in page
    assert (str(escape(str(LOW_ORDER))) in page) == (lang == "en")
