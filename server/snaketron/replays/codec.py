"""A recording as bytes: a format byte, then zlib-compressed msgpack.

zlib because it is in the standard library on every platform and every language a
tool might read replays with, and a recording is small (a few kilobytes a minute:
the inputs are short arrays that repeat), so a faster codec such as zstd would save
microseconds per finished game and cost a dependency. Level 9: a replay is
compressed once and kept for weeks.
"""

from __future__ import annotations

import zlib

import msgspec

from snaketron.engine.recording import Recording

FORMAT_V1 = 1
# A recording decompresses to at most this: a corrupt or hostile item cannot make a
# read allocate without bound (a day-long game is far below it).
MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Recording)


class ReplayCorrupt(ValueError):
    """Stored bytes that are not a replay this server can read."""


def encode_recording(recording: Recording) -> bytes:
    return bytes([FORMAT_V1]) + zlib.compress(_encoder.encode(recording), 9)


def decode_recording(data: bytes) -> Recording:
    if not data or data[0] != FORMAT_V1:
        raise ReplayCorrupt(f"unknown replay format {data[:1]!r}")
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(data[1:], MAX_DECOMPRESSED_BYTES)
    except zlib.error as exc:
        raise ReplayCorrupt(f"replay data is damaged: {exc}") from exc
    if inflater.unconsumed_tail or not inflater.eof:
        raise ReplayCorrupt("replay data is truncated or too large")
    try:
        return _decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ReplayCorrupt(f"replay data does not decode: {exc}") from exc


def split(data: bytes, chunk_bytes: int) -> list[bytes]:
    """`data` in pieces of at most `chunk_bytes` (at least one piece)."""
    return [data[i : i + chunk_bytes] for i in range(0, len(data), chunk_bytes)] or [b""]
