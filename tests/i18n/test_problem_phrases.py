"""Every phrase the protocol uses to say what is wrong with a field is said whole in each language
the CLI speaks (``pgs validate``, ``pgs send``, ``pgs new``): no French line that starts with
"doit être" and goes on in English.

The phrases are collected from the protocol's own code, not listed here: pydantic's (the fixed
ones and those with numbers, rendered with sample numbers) and every ``problem(kind, message)``
the protocol's validators raise, read from their source. A new phrase without a catalog entry
fails this test in every language.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import pgs_hub.protocols
from pgs_hub.hub.cli.errors import problem_place, problem_text
from pgs_hub.hub.i18n import LANGS, t
from pgs_hub.protocols.messages import problems

# Words that only English puts in these phrases; codes, field names and values (KGM, regions,
# base64url, null) are the same in every language.
ENGLISH = re.compile(
    r"\b(must|be|is|not|have|has|least|most|one of|with|without|when|only|can|cannot|written|"
    r"like|given|list|each|characters?|digits|items?|long|the|and|or|after|before|valid)\b"
)
#: What a phrase built by code says in place of its specifics (a sample).
SAMPLE_JOINED = "AF, EA"
SAMPLE_PHRASE = "must be one of KGM, TNE or another listed code"
SAMPLE_FIELD = "fr"


def _module_constants(tree: ast.Module) -> dict[str, str]:
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name) and isinstance(node.value.value, str)
    }


def _render(node: ast.expr, constants: dict[str, str]) -> str:
    """The message a ``problem(...)`` argument makes, its run-time parts given sample values."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) else SAMPLE_FIELD for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _render(node.left, constants) + _render(node.right, constants)
    if isinstance(node, ast.Name):
        return constants[node.id]
    if isinstance(node, ast.Call):
        joins = isinstance(node.func, ast.Attribute) and node.func.attr == "join"
        return SAMPLE_JOINED if joins else SAMPLE_PHRASE
    raise AssertionError(f"a problem message this test cannot read: {ast.dump(node)}")


def _raised_phrases() -> Iterator[str]:
    root = Path(pgs_hub.protocols.__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _module_constants(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "problem"
                and len(node.args) == 2  # problem(kind, message)
            ):
                yield _render(node.args[1], constants)


def _pydantic_phrases() -> Iterator[str]:
    # The tables under test, read as they are.
    yield from problems._FIXED.values()
    for render in problems._WITH_CONTEXT.values():
        for n in (1, 2, 5):
            ctx = dict.fromkeys(
                ("min_length", "max_length", "gt", "ge", "lt", "le", "max_digits",
                 "decimal_places", "whole_digits"), n,
            )  # fmt: skip
            yield render(ctx | {"expected": "'KGM', 'TNE' or 'LTR'"})
            yield render(ctx | {"expected": "'KGM'"})
    yield "is not valid"
    yield "has 7 more problems"


PHRASES = sorted({*_raised_phrases(), *_pydantic_phrases()})


def test_the_phrases_are_found() -> None:
    """The collection reads the protocol's validators (a guard for the test itself)."""
    assert len(PHRASES) > 60
    assert "must list each container once" in PHRASES
    assert "must be given in the same languages as the title (fr)" in PHRASES
    assert "must be at most 5 characters long" in PHRASES


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "en"])
def test_every_phrase_is_said_whole_in_the_language(lang: str) -> None:
    mixed = {}
    for phrase in PHRASES:
        said = problem_text(phrase, lang)  # type: ignore[arg-type]
        if said == phrase or ENGLISH.search(said):
            mixed[phrase] = said
    assert mixed == {}


def test_english_is_left_as_the_protocol_wrote_it() -> None:
    assert all(problem_text(phrase, "en") == phrase for phrase in PHRASES)


@pytest.mark.parametrize(
    ("phrase", "lang", "said"),
    [
        ("must be at most 5 characters long", "fr", "doit compter au plus 5 caractères"),
        ("must be at most 1 character long", "es", "debe tener como máximo 1 carácter"),
        ("must have at least 2 items", "pt", "deve ter pelo menos 2 elementos"),
        (
            "must be given in the same languages as the title (en and fr)",
            "fr",
            "doit être donné dans les mêmes langues que le titre (en et fr)",
        ),
        (
            "is not a PGS commodity code: must be one of AN, AC or another listed code",
            "fr",
            "n'est pas un code de marchandise PGS : doit être l'une des valeurs AN, AC ou un "
            "autre code",
        ),
        ("must be at least 3", "es", "debe ser como mínimo 3"),
    ],
)
def test_the_specifics_are_kept(phrase: str, lang: str, said: str) -> None:
    assert problem_text(phrase, lang) == said  # type: ignore[arg-type]


def test_the_whole_message_is_named_in_the_language() -> None:
    assert problem_place("/subject", "fr") == "/subject"
    assert problem_place("", "es") == t("cli.problem.whole_message", "es") == "(mensaje)"
