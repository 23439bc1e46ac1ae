"""The error catalogue (hub/error_codes.py) is the one list of the hub's error codes: every code
has a title in each language, every place that raises or answers a code names a catalogue member
(no literal code strings), and the status each raise site produces is the one the catalogue says.

The raise sites are found by reading the hub's source (``ast``), so a new ``raise Forbidden(...,
code=Code.X)`` whose catalogue entry says 404 fails here, not in production."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pgs_hub.hub import errors
from pgs_hub.hub.error_codes import Code
from pgs_hub.hub.i18n import CATALOGUE, LANGS
from pgs_hub.hub.server.problems import STATUS, from_error

HUB = Path(__file__).parents[2] / "hub"
# Programs of their own with their own codes, and the client side (codes of local failures).
OUTSIDE = {"witness", "client", "cli", "demo"}
ERROR_CLASSES = {
    name: cls
    for name, cls in vars(errors).items()
    if isinstance(cls, type) and issubclass(cls, errors.HubError)
}


def _sources() -> list[Path]:
    return sorted(p for p in HUB.rglob("*.py") if p.relative_to(HUB).parts[0] not in OUTSIDE)


def _code_member(node: ast.expr) -> Code | None:
    named = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
    if named and node.value.id == "Code":  # type: ignore[attr-defined]
        return Code[node.attr]  # type: ignore[attr-defined]
    return None


def test_every_code_has_a_title_in_every_language() -> None:
    for code in Code:
        titles = CATALOGUE[code.title_key]
        assert all(titles.get(lang) for lang in LANGS), code


def test_codes_are_unique_and_well_formed() -> None:
    values = [c.value for c in Code]
    assert len(values) == len(set(values))
    for code in Code:
        assert code.statuses, code
        assert all(400 <= s <= 599 for s in code.statuses), code


def test_no_literal_code_strings_in_the_hub() -> None:
    literal: list[str] = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "code"
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                literal.append(f"{path.relative_to(HUB)}:{node.value.lineno}")
    assert literal == []


def test_each_raise_site_answers_the_status_the_catalogue_says() -> None:
    checked = 0
    wrong: list[str] = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else None
            code = next((_code_member(k.value) for k in node.keywords if k.arg == "code"), None)
            status: int | None = None
            if name in ERROR_CLASSES and code is not None:
                status = STATUS[ERROR_CLASSES[name].kind]
            elif name == "problem" and len(node.args) >= 2:
                code = _code_member(node.args[1])
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, int):
                    status = first.value
            if code is None or status is None:
                continue
            checked += 1
            if status not in code.statuses:
                wrong.append(f"{path.relative_to(HUB)}:{node.lineno} {code} answers {status}")
    assert wrong == []
    assert checked > 60  # the scan found the raise sites (not a test that cannot fail)


@pytest.mark.parametrize("cls", sorted(ERROR_CLASSES.values(), key=lambda c: c.__name__),
                         ids=lambda c: c.__name__)  # fmt: skip
def test_each_error_class_default_code_is_catalogued_with_its_status(
    cls: type[errors.HubError],
) -> None:
    assert STATUS[cls.kind] in Code(cls.code).statuses or cls is errors.HubError


def test_a_problem_carries_the_catalogue_title() -> None:
    answer = from_error(errors.AuthenticationError("again", code=Code.AUTH_REPLAY))
    assert answer.status == 401
    assert answer.text is not None
    assert '"title": "Request already received (replay)"' in answer.text
    assert '"code": "auth.replay"' in answer.text
