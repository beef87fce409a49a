"""The lean path's HTTP/1.1 answer parser, on answers as DynamoDB and proxies frame them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snaketron.db.http1 import IncompleteResponse, parse_response

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"


def chunked(body: bytes, sizes: list[int]) -> bytes:
    out, at = b"", 0
    for size in sizes:
        piece = body[at : at + size]
        if not piece:
            break
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        at += len(piece)
    if at < len(body):
        out += f"{len(body) - at:x};ext=1\r\n".encode() + body[at:] + b"\r\n"
    return out + b"0\r\n\r\n"


@given(body=st.binary(max_size=300), sizes=st.lists(st.integers(min_value=1, max_value=64), max_size=8))
def test_every_prefix_waits_and_the_whole_answer_parses(body: bytes, sizes: list[int]) -> None:
    for answer in (
        HEAD + f"Content-Length: {len(body)}\r\n\r\n".encode() + body,
        HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(body, sizes),
    ):
        for cut in range(len(answer)):
            assert parse_response(bytearray(answer[:cut]), eof=False) is None
        status, headers, parsed, used = parse_response(bytearray(answer + b"HTTP/1.1 next"), eof=False) or (
            0,
            {},
            b"",
            0,
        )
        assert (status, parsed, used) == (200, body, len(answer))
        assert headers["content-type"] == "application/x-amz-json-1.0"


def test_an_answer_without_length_ends_with_the_connection() -> None:
    answer = bytearray(b"HTTP/1.1 502 Bad Gateway\r\nX-Amzn-ErrorType: Oops\r\n\r\n<html>bad gateway</html>")
    assert parse_response(answer, eof=False) is None
    status, headers, body, _ = parse_response(answer, eof=True) or (0, {}, b"", 0)
    assert (status, body, headers["x-amzn-errortype"], headers["connection"]) == (
        502,
        b"<html>bad gateway</html>",
        "Oops",
        "close",
    )


def test_garbage_is_refused() -> None:
    with pytest.raises(IncompleteResponse):
        parse_response(bytearray(b"SSH-2.0-OpenSSH\r\n\r\n"), eof=False)
