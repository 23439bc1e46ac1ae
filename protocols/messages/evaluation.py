"""How much to trust a piece of information: the 4x4 grading of its source and accuracy."""

from __future__ import annotations

from enum import StrEnum

from pgs_hub.protocols.messages._base import (
    ContentModel,
)

__all__ = ["Evaluation", "InformationAccuracy", "SourceReliability"]


class SourceReliability(StrEnum):
    """How reliable the source is: first half of the 4x4 evaluation used by customs and police.

    The same scale as Article 29 of the Europol Regulation (EU) 2016/794 and the law enforcement
    information exchange handbooks built on it (the "4x4" system, a reduced Admiralty grading).
    """

    A = "A"
    """No doubt about the source's authenticity, trustworthiness and competence, or the source has
    proved reliable in all instances."""
    B = "B"
    """The source has proved reliable in most instances."""
    C = "C"
    """The source has proved unreliable in most instances."""
    X = "X"
    """The reliability of the source cannot be assessed."""


class InformationAccuracy(StrEnum):
    """How accurate the information is: second half of the 4x4 evaluation.

    The wire values are the strings "1" to "4", not numbers.
    """

    CONFIRMED = "1"
    """Information whose accuracy is not in doubt."""
    KNOWN_TO_SOURCE = "2"
    """Known personally to the source, but not to the official passing it on."""
    CORROBORATED = "3"
    """Not known personally to the source, but corroborated by information already recorded."""
    UNCORROBORATED = "4"
    """Not known personally to the source and cannot be corroborated."""


class Evaluation(ContentModel):
    """4x4 grading of a piece of information, for example B2."""

    source: SourceReliability
    """Reliability of the source: A, B, C or X."""
    information: InformationAccuracy
    """Accuracy of the information: "1" to "4"."""

    @property
    def code(self) -> str:
        """The usual two-character form, such as ``"B2"``."""
        return f"{self.source.value}{self.information.value}"
