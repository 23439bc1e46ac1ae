"""Notice: a broadcast from WCO staff to all members or to some WCO regions, in English/French."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Self

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pgs_hub.protocols.messages._base import (
    CODE_MAX,
    ContentModel,
    Line,
    LongText,
    WireDate,
    problem,
)
from pgs_hub.protocols.messages.attachments import Attachments
from pgs_hub.protocols.messages.codes import CodeListSchema
from pgs_hub.protocols.messages.kinds import MessageKind
from pgs_hub.protocols.messages.references import References

__all__ = [
    "Audience",
    "AudienceScope",
    "LocalizedBody",
    "LocalizedTitle",
    "Notice",
    "NoticeCategory",
    "RegionCode",
]


class NoticeCategory(StrEnum):
    """What a notice is about."""

    ADVISORY = "advisory"
    """Advice or a warning to members (a new concealment method, a diversion route)."""
    OPERATION = "operation"
    """An enforcement operation: announcement, instructions or results."""
    TRAINING = "training"
    """A training course, workshop or material."""
    TREND = "trend"
    """An analysis of seizures and trends."""
    OTHER = "other"


_LANGUAGES_MISSING = "must be given in English (en), French (fr) or both"


_SOME_LANGUAGE_SCHEMA = ConfigDict(
    json_schema_extra={"anyOf": [{"required": ["en"]}, {"required": ["fr"]}]}
)


class LocalizedTitle(ContentModel):
    """A title in English, French or both."""

    model_config = _SOME_LANGUAGE_SCHEMA

    en: Line | None = None
    """The title in English."""
    fr: Line | None = None
    """The title in French."""

    @model_validator(mode="after")
    def _some_language(self) -> Self:
        if self.en is None and self.fr is None:
            raise problem("no_language", _LANGUAGES_MISSING)
        return self

    @property
    def languages(self) -> frozenset[str]:
        """The languages given: a subset of {"en", "fr"}, never empty."""
        return frozenset(k for k, v in (("en", self.en), ("fr", self.fr)) if v is not None)


class LocalizedBody(ContentModel):
    """A text in English, French or both."""

    model_config = _SOME_LANGUAGE_SCHEMA

    en: LongText | None = None
    """The text in English."""
    fr: LongText | None = None
    """The text in French."""

    @model_validator(mode="after")
    def _some_language(self) -> Self:
        if self.en is None and self.fr is None:
            raise problem("no_language", _LANGUAGES_MISSING)
        return self

    @property
    def languages(self) -> frozenset[str]:
        """The languages given: a subset of {"en", "fr"}, never empty."""
        return frozenset(k for k, v in (("en", self.en), ("fr", self.fr)) if v is not None)


def _region(value: str) -> str:
    from pgs_hub.protocols.codelists import wco_regions  # noqa: PLC0415 - code lists load on first use

    known = wco_regions()
    if value not in known:
        raise problem("region", "must be one of " + ", ".join(known))
    return value


def _region_codes() -> list[str]:
    from pgs_hub.protocols.codelists import wco_regions  # noqa: PLC0415 - code lists load on first use

    return list(wco_regions())


RegionCode = Annotated[
    str,
    StringConstraints(max_length=CODE_MAX),
    AfterValidator(_region),
    CodeListSchema(_region_codes, "Code of a WCO region."),
]
"""Code of a WCO region (``WCA`` West and Central Africa, ``ESA``, ``MENA``, ``EUR``, ``APC``,
``AMC``), from :func:`protocols.codelists.wco_regions`."""


class AudienceScope(StrEnum):
    """Who a notice is for."""

    ALL_MEMBERS = "all_members"
    """Every participant of every WCO member."""
    REGIONS = "regions"
    """The participants of the members in the listed WCO regions."""


class Audience(ContentModel):
    """Who a notice is for: all members, or the members of some WCO regions."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"scope": {"const": "regions"}}},
            "then": {"required": ["regions"], "properties": {"regions": {"minItems": 1}}},
            "else": {"properties": {"regions": {"maxItems": 0}}},
        }
    )

    scope: AudienceScope
    """all_members, or regions."""
    regions: Annotated[
        tuple[RegionCode, ...],
        Field(max_length=6, validate_default=True, json_schema_extra={"uniqueItems": True}),
    ] = ()
    """The WCO regions addressed: required when scope is regions, absent otherwise."""

    @field_validator("regions")
    @classmethod
    def _regions_match_scope(
        cls, regions: tuple[str, ...], info: ValidationInfo
    ) -> tuple[str, ...]:
        scope = info.data.get("scope")
        if scope is AudienceScope.REGIONS and not regions:
            raise problem("regions_missing", "must list at least one region when scope is regions")
        if scope is AudienceScope.ALL_MEMBERS and regions:
            raise problem("regions_unexpected", "must be empty when scope is all_members")
        if len(set(regions)) != len(regions):
            raise problem("duplicate", "must list each region once")
        return regions


class Notice(ContentModel):
    """A broadcast from WCO staff: advice, operations, training, trends.

    Title and body are each given in English, French or both, and in the same languages.
    Sender, recipients, message id and handling (TLP) are in the routing header, not here.
    """

    kind: ClassVar[MessageKind] = MessageKind.NOTICE

    category: NoticeCategory
    """advisory, operation, training, trend or other."""
    title: LocalizedTitle
    """The title, in English and/or French."""
    body: LocalizedBody
    """The text, in the same languages as the title."""
    audience: Audience
    """Who the notice is for."""
    valid_until: WireDate | None = None
    """Last day the notice applies, when it expires."""
    references: References = ()
    """Earlier messages this notice relates to."""
    attachments: Attachments = ()
    """Files sent with the notice (descriptions only)."""

    @field_validator("body")
    @classmethod
    def _same_languages(cls, body: LocalizedBody, info: ValidationInfo) -> LocalizedBody:
        title = info.data.get("title")
        if isinstance(title, LocalizedTitle) and title.languages != body.languages:
            wanted = " and ".join(sorted(title.languages))
            raise problem(
                "languages_differ", f"must be given in the same languages as the title ({wanted})"
            )
        return body
