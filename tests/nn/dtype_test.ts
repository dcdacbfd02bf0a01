import assert from "node:assert/strict";
import { bf16ToF32, elementCount, f16ToF32, f32ToBf16, f32ToF16 } from "../../src/nn/dtype.ts";

const allBitPatterns = () => Uint16Array.from({ length: 65536 }, (_, i) => i);
const isNaNBits16 = (h: number, exponentMask: number) =>
  (h & exponentMask) === exponentMask && (h & ~exponentMask & 0x7fff) !== 0;

/** Checks that `h` is the nearest representable value to `x`, ties going to the even pattern. */
const assertNearestEven = (x: number, h: number, widen: (h: Uint16Array) => Float32Array) => {
  const value = widen(new Uint16Array([h]))[0]!;
  if (!Number.isFinite(value)) return;
  for (const neighbour of [h - 1, h + 1]) {
    if ((neighbour & 0x7fff) === 0x7fff || neighbour < 0 || neighbour > 0xffff) continue;
    if (((neighbour ^ h) & 0x8000) !== 0) continue;
    const other = widen(new Uint16Array([neighbour]))[0]!;
    if (!Number.isFinite(other)) continue;
    const mine = Math.abs(x - value);
    const theirs = Math.abs(x - other);
    assert.ok(
      mine < theirs || (mine === theirs && (h & 1) === 0),
      `x=${x} rounded to ${value} (0x${h.toString(16)}) but ${other} is nearer or the even tie`,
    );
  }
};

const randomF32 = (count: number, seed: number): Float32Array => {
  let state = seed >>> 0;
  const bits = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bits[i] = state;
  }
  return new Float32Array(bits.buffer);
};

Deno.test("f16 to f32 and back reproduces every non-NaN half bit pattern", () => {
  const halves = allBitPatterns().filter((h) => !isNaNBits16(h, 0x7c00));
  assert.deepEqual(f32ToF16(f16ToF32(halves)), halves);
});

Deno.test("bf16 to f32 and back reproduces every non-NaN bf16 bit pattern", () => {
  const halves = allBitPatterns().filter((h) => !isNaNBits16(h, 0x7f80));
  assert.deepEqual(f32ToBf16(bf16ToF32(halves)), halves);
});

Deno.test("f32ToF16 rounds halfway cases to even, overflows to Inf and keeps NaN", () => {
  const inputs = new Float32Array([
    1 + 2 ** -11, // halfway between 1 and the next half: stays 1 (even)
    1 + 3 * 2 ** -11, // halfway, odd below: rounds up
    65504,
    65520, // halfway to 2^16: rounds to even = Inf
    2 ** -24, // smallest subnormal
    2 ** -25, // halfway to zero: even = 0
    3 * 2 ** -26, // above halfway: smallest subnormal
    -0,
    NaN,
  ]);
  const out = [...f32ToF16(inputs)];
  assert.deepEqual(out.slice(0, 8), [
    0x3c00,
    0x3c02,
    0x7bff,
    0x7c00,
    0x0001,
    0x0000,
    0x0001,
    0x8000,
  ]);
  assert.ok(Number.isNaN(f16ToF32(new Uint16Array([out[8]!]))[0]!));
});

Deno.test("f32ToF16 picks the nearest half for random f32 values in range", () => {
  const values = randomF32(20000, 7).map((v) => (Number.isFinite(v) ? v % 70000 : 0));
  const halves = f32ToF16(values);
  for (let i = 0; i < values.length; i++) assertNearestEven(values[i]!, halves[i]!, f16ToF32);
});

Deno.test("f32ToBf16 picks the nearest bf16 for random f32 values", () => {
  const values = randomF32(20000, 11).map((v) => (Number.isFinite(v) ? v : 1));
  const halves = f32ToBf16(values);
  for (let i = 0; i < values.length; i++) assertNearestEven(values[i]!, halves[i]!, bf16ToF32);
});

Deno.test("f32ToBf16 rounds ties to even and keeps NaN a NaN", () => {
  const out = f32ToBf16(new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8, NaN, -Infinity]));
  assert.deepEqual([...out.slice(0, 2)], [0x3f80, 0x3f82]);
  assert.ok(Number.isNaN(bf16ToF32(out.slice(2, 3))[0]!));
  assert.equal(bf16ToF32(out.slice(3))[0], -Infinity);
});

Deno.test("elementCount multiplies dimensions and gives 1 for a scalar", () => {
  assert.equal(elementCount([2, 3, 4]), 24);
  assert.equal(elementCount([]), 1);
  assert.equal(elementCount([5, 0]), 0);
});
