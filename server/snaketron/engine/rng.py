"""The game's random numbers: xorshift64, bit-exact with the clients' predictor (docs/RULES.md)."""

from __future__ import annotations

_MASK64 = (1 << 64) - 1
# xorshift never leaves 0, so a zero seed is replaced by this constant.
ZERO_SEED_STATE = 0x1234567890ABCDEF


class Xorshift64:
    __slots__ = ("state",)

    def __init__(self, seed: int) -> None:
        self.state = (seed & _MASK64) or ZERO_SEED_STATE

    def next_u64(self) -> int:
        s = self.state
        s ^= (s << 13) & _MASK64
        s ^= s >> 17
        s ^= (s << 5) & _MASK64
        self.state = s
        return s

    def next_u32(self) -> int:
        """The high 32 bits of the next state."""
        return self.next_u64() >> 32

    def next_u16(self) -> int:
        """`next_u32` truncated to its low 16 bits."""
        return self.next_u64() >> 32 & 0xFFFF
