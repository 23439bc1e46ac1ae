"""How the client hands a request body to aiohttp: small ones whole, an upload part of several
MiB in slices with its length declared (so the hub can judge it from its head)."""

from __future__ import annotations

import os

from pgs_hub.hub.client.client import LARGE_BODY, request_body


async def _joined(data: object) -> tuple[bytes, list[int]]:
    pieces = [bytes(piece) async for piece in data]  # type: ignore[attr-defined]
    return b"".join(pieces), [len(p) for p in pieces]


def test_a_small_body_goes_whole_with_the_headers_unchanged() -> None:
    body = os.urandom(LARGE_BODY)
    headers = {"Upload-Offset": "0"}
    assert request_body(body, headers) == (body, headers)
    assert request_body(None, headers) == (None, headers)


async def test_a_large_body_goes_in_slices_that_add_up_to_it_with_its_length_declared() -> None:
    body = os.urandom(2 * LARGE_BODY + 12_345)
    data, headers = request_body(body, {"Upload-Offset": "7"})
    assert headers == {"Upload-Offset": "7", "Content-Length": str(len(body))}
    joined, sizes = await _joined(data)
    assert joined == body
    assert sizes == [LARGE_BODY, LARGE_BODY, 12_345]
