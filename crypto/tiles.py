"""The log as C2SP tlog-tiles (c2sp.org/tlog-tiles): tile paths, which subtrees a tile holds, and
the entry-bundle encoding. Pure: no I/O; the hub reads the hashes and entries it names.

A tile at level ``L`` and index ``N`` holds up to 256 hashes: hash ``i`` is the Merkle Tree Hash of
the ``256**L`` leaves starting at ``(N * 256 + i) * 256**L``, i.e. the perfect subtree
``NodeId(8 * L, N * 256 + i)`` of :mod:`crypto.merkle`. The log already stores every complete
perfect subtree, so a tile is one lookup of at most 256 stored hashes. A tile of a tree of ``size``
leaves is full (256 hashes) when all of it lies below ``size``, else *partial*: the rightmost tile
of a level has ``floor(size / 256**L) mod 256`` hashes and is named with ``.p/<W>``.

Entry bundles (``tile/entries/<N>``) are the entries ``[N * 256, N * 256 + W)``, each a big-endian
uint16 length followed by the entry's exact bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pgs_hub.crypto.errors import MalformedError, TreeRangeError
from pgs_hub.crypto.merkle import HASH_SIZE, MAX_TREE_SIZE, NodeId

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes
MAX_LEVEL = 63
MAX_ENTRY_BYTES = 0xFFFF  # an entry bundle prefixes each entry with a uint16 length
ENTRIES = "entries"

_ELEMENT = re.compile(r"[0-9]{3}")
_LEVEL = re.compile(r"0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")


class TilePathError(MalformedError):
    """A path under ``tile/`` is not a tile or entry-bundle path in its one spelling."""

    code = "tiles.bad_path"


@dataclass(frozen=True, slots=True)
class Tile:
    """A tile (``level`` 0..63) or, with ``level`` None, an entry bundle; ``width`` None is full."""

    level: int | None
    index: int
    width: int | None = None

    def __post_init__(self) -> None:
        if self.level is not None and not 0 <= self.level <= MAX_LEVEL:
            raise TilePathError("a tile level is from 0 to 63")
        if not 0 <= self.index <= MAX_TREE_SIZE:
            raise TilePathError("a tile index is a non-negative 64-bit number")
        if self.width is not None and not 1 <= self.width < TILE_WIDTH:
            raise TilePathError("a partial tile is 1 to 255 hashes wide")

    @property
    def count(self) -> int:
        """How many hashes (or entries) the tile holds."""
        return TILE_WIDTH if self.width is None else self.width

    @property
    def hash_level(self) -> int:
        """The :class:`~crypto.merkle.NodeId` level of the tile's hashes (entries: leaves)."""
        return 0 if self.level is None else TILE_HEIGHT * self.level

    def nodes(self) -> tuple[NodeId, ...]:
        """The perfect subtrees whose hashes are the tile's, in order."""
        first = self.index * TILE_WIDTH
        return tuple(NodeId(self.hash_level, first + i) for i in range(self.count))

    def leaf_range(self) -> tuple[int, int]:
        """``[begin, end)`` of the leaves the tile's hashes cover."""
        span = 1 << self.hash_level
        begin = self.index * TILE_WIDTH * span
        return begin, begin + self.count * span

    def path(self) -> str:
        """``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]``."""
        level = ENTRIES if self.level is None else str(self.level)
        suffix = "" if self.width is None else f".p/{self.width}"
        return f"tile/{level}/{encode_index(self.index)}{suffix}"

    def available_in(self, size: int) -> bool:
        """Whether a tree of ``size`` leaves holds every hash of this tile: full tiles once the tree
        covers them, partial tiles while (and after) their width is reached."""
        return self.leaf_range()[1] <= size


def encode_index(index: int) -> str:
    """Zero-padded 3-digit path elements, all but the last prefixed with ``x``: 1234067 is
    ``x001/x234/067``."""
    if not 0 <= index <= MAX_TREE_SIZE:
        raise TilePathError("a tile index is a non-negative 64-bit number")
    elements = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        elements.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(elements))


def parse_tile_path(path: str) -> Tile:
    """Read ``<L>/<N>[.p/<W>]`` or ``entries/<N>[.p/<W>]`` (what follows ``tile/``), strictly:
    one spelling per tile, so a cache or a mirror never holds two copies of one."""
    if not isinstance(path, str) or len(path) > 200:
        raise TilePathError("not a tile path")
    parts = path.split("/")
    width: int | None = None
    if len(parts) >= 2 and parts[-2].endswith(".p"):
        if not _WIDTH.fullmatch(parts[-1]) or int(parts[-1]) >= TILE_WIDTH:
            raise TilePathError("a partial tile's width is a number from 1 to 255")
        width = int(parts[-1])
        parts = [*parts[:-2], parts[-2][: -len(".p")]]
    if len(parts) < 2:
        raise TilePathError("a tile path is <level>/<index>")
    level_text, elements = parts[0], parts[1:]
    level: int | None
    if level_text == ENTRIES:
        level = None
    elif _LEVEL.fullmatch(level_text) and int(level_text) <= MAX_LEVEL:
        level = int(level_text)
    else:
        raise TilePathError("a tile level is a number from 0 to 63, or 'entries'")
    *upper, last = elements
    if not _ELEMENT.fullmatch(last) or not all(
        e.startswith("x") and _ELEMENT.fullmatch(e[1:]) for e in upper
    ):
        raise TilePathError("a tile index is 3-digit elements, all but the last after an 'x'")
    if upper and upper[0] == "x000":
        raise TilePathError("a tile index has no leading zero element")
    index = 0
    for element in elements:
        index = index * 1000 + int(element.lstrip("x"))
    return Tile(level, index, width)


def tile_for(level: int | None, index: int, size: int) -> Tile | None:
    """The tile ``index`` of ``level`` as a tree of ``size`` leaves has it (full or partial), or
    None when that tree holds none of it."""
    hash_level = 0 if level is None else TILE_HEIGHT * level
    if not 0 <= size <= MAX_TREE_SIZE:
        raise TreeRangeError("a tree size is from 0 to 2**64 - 1")
    hashes = size >> hash_level  # complete subtrees at this level
    first = index * TILE_WIDTH
    if hashes >= first + TILE_WIDTH:
        return Tile(level, index)
    if hashes > first:
        return Tile(level, index, hashes - first)
    return None


def tiles_of(size: int) -> list[Tile]:
    """Every tile (hash tiles of every level, then entry bundles) of a tree of ``size`` leaves."""
    found: list[Tile] = []
    level = 0
    while level <= MAX_LEVEL and size >> (TILE_HEIGHT * level):
        count = size >> (TILE_HEIGHT * level)
        for index in range((count + TILE_WIDTH - 1) // TILE_WIDTH):
            tile = tile_for(level, index, size)
            if tile is not None:
                found.append(tile)
        level += 1
    for index in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        tile = tile_for(None, index, size)
        if tile is not None:
            found.append(tile)
    return found


def encode_tile(hashes: Sequence[bytes]) -> bytes:
    """The tile's bytes: its hashes concatenated."""
    if not 1 <= len(hashes) <= TILE_WIDTH or any(len(h) != HASH_SIZE for h in hashes):
        raise MalformedError("a tile is 1 to 256 hashes of 32 bytes")
    return b"".join(hashes)


def decode_tile(data: bytes, tile: Tile) -> list[bytes]:
    """The hashes of ``tile`` from its bytes (exactly its width of 32-byte hashes)."""
    if len(data) != tile.count * HASH_SIZE:
        raise MalformedError(f"the tile {tile.path()} must be {tile.count * HASH_SIZE} bytes")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes."""
    parts: list[bytes] = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_BYTES:
            raise MalformedError("an entry of an entry bundle is at most 65535 bytes")
        parts.append(len(entry).to_bytes(2, "big") + entry)
    return b"".join(parts)


def decode_bundle(data: bytes) -> list[bytes]:
    """The entries of a bundle; trailing or truncated bytes are refused."""
    entries: list[bytes] = []
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise MalformedError("an entry bundle ends inside a length prefix")
        length = int.from_bytes(data[at : at + 2], "big")
        at += 2
        if at + length > len(data):
            raise MalformedError("an entry bundle ends inside an entry")
        entries.append(data[at : at + length])
        at += length
    if len(entries) > TILE_WIDTH:
        raise MalformedError("an entry bundle holds at most 256 entries")
    return entries
