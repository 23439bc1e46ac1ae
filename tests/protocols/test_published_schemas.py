"""docs/schemas/pgs-1/ is what integrators download: it must equal what the models generate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.registry import all_schemas

PUBLISHED = Path(__file__).parents[2] / "docs" / "schemas" / "pgs-1"


@pytest.mark.parametrize("kind", list(MessageKind), ids=lambda k: k.value)
def test_published_schema_is_current(kind: MessageKind) -> None:
    published = json.loads((PUBLISHED / f"{kind.value}.json").read_text())
    assert published == all_schemas()[kind], "run `make schemas` and commit docs/schemas/"
