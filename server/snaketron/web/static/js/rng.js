// xorshift64, exactly as docs/RULES.md ("Randomness"): the server's food spawns depend on
// it, so the client must draw the same numbers to predict them. BigInt keeps all 64
// bits (a Number would lose everything above 2^53).

const MASK_64 = (1n << 64n) - 1n;
const ZERO_SEED_REPLACEMENT = 0x1234567890abcdefn;

export class Xorshift64 {
  /** @param {bigint | number | string} state the 64-bit state (a snapshot's `rng.state`) */
  constructor(state) {
    let s = BigInt(state) & MASK_64;
    if (s === 0n) s = ZERO_SEED_REPLACEMENT;
    this.state = s;
  }

  nextU64() {
    let s = this.state;
    s ^= (s << 13n) & MASK_64;
    s ^= s >> 17n;
    s ^= (s << 5n) & MASK_64;
    this.state = s;
    return s;
  }

  /** The high 32 bits of the new state. */
  nextU32() {
    return Number(this.nextU64() >> 32n);
  }

  /** next_u32 truncated to 16 bits. */
  nextU16() {
    return this.nextU32() & 0xffff;
  }

  clone() {
    return new Xorshift64(this.state);
  }
}
