"""How a message may be shared: the Traffic Light Protocol label of its routing header."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Tlp"]


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0 labels (FIRST), as written on the wire.

    Carried in the routing header, not in message content; defined here so both use one type.
    """

    CLEAR = "CLEAR"
    """Disclosure is not limited."""
    GREEN = "GREEN"
    """Limited disclosure: the recipient's community, not public channels."""
    AMBER = "AMBER"
    """Limited disclosure: the recipient's organisation and its clients on a need-to-know basis."""
    AMBER_STRICT = "AMBER+STRICT"
    """Limited disclosure: the recipient's organisation only."""
    RED = "RED"
    """For the eyes and ears of the individual recipients only; no further disclosure."""
