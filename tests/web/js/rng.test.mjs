import assert from "node:assert/strict";
import { test } from "node:test";
import { JS } from "./paths.mjs";

const { Xorshift64 } = await import(`${JS}rng.js`);

// Expected values from a direct transcription of docs/RULES.md in Python (64-bit masks).
test("seed 42 draws the docs/RULES.md xorshift64 sequence", () => {
  const rng = new Xorshift64(42n);
  assert.equal(rng.nextU64(), 11355432n);
  assert.equal(rng.nextU64(), 2889041884332n);
  assert.equal(rng.nextU64(), 781066217214251534n);
});

test("a zero seed becomes 0x1234567890abcdef", () => {
  const rng = new Xorshift64(0);
  assert.equal(rng.state, 0x1234567890abcdefn);
  assert.equal(rng.nextU32(), 2275019289);
  assert.equal(rng.nextU16(), 57034);
  assert.equal(rng.nextU16(), 743);
});

test("the state keeps all 64 bits (no double rounding)", () => {
  const rng = new Xorshift64("18446744073709551615");
  assert.equal(rng.nextU64(), 253983n);
  const big = new Xorshift64("14058552380343811746");
  const copy = big.clone();
  assert.equal(big.nextU64(), copy.nextU64());
  assert.equal(copy.state.toString().length > 15, true);
});
