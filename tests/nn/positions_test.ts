import assert from "node:assert/strict";
import { mropePositions, visionRotaryPositions, windowIndex } from "../../src/nn/positions.ts";

Deno.test("mropePositions gives text arange positions when there is no image", () => {
  const { ids, delta } = mropePositions([5, 6, 7, 8], 9, [], 2);
  assert.deepEqual([...ids], [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
  assert.equal(delta, 0);
});

Deno.test("mropePositions places an image on its merged grid and continues text after its max", () => {
  // text(3) + image 1×4×6 patches → 2×3 merged tokens + text(2)
  const tokens = [1, 2, 3, 9, 9, 9, 9, 9, 9, 4, 5];
  const { ids, delta } = mropePositions(tokens, 9, [[1, 4, 6]], 2);
  const T = tokens.length;
  const rows = [0, 1, 2].map((r) => [...ids.slice(r * T, (r + 1) * T)]);
  assert.deepEqual(rows[0], [0, 1, 2, 3, 3, 3, 3, 3, 3, 6, 7]);
  assert.deepEqual(rows[1], [0, 1, 2, 3, 3, 3, 4, 4, 4, 6, 7]);
  assert.deepEqual(rows[2], [0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7]);
  assert.equal(delta, 8 - T);
});

Deno.test("mropePositions rejects a pad run that does not match its grid", () => {
  assert.throws(() => mropePositions([9, 9, 9], 9, [[1, 4, 4]], 2), RangeError);
  assert.throws(() => mropePositions([1, 2], 9, [[1, 4, 4]], 2), RangeError);
});

Deno.test("visionRotaryPositions follows the 2×2 merge order of the patches", () => {
  const pos = visionRotaryPositions([1, 2, 4], 2);
  const pairs = [];
  for (let i = 0; i < pos.length; i += 2) pairs.push(`${pos[i]},${pos[i + 1]}`);
  assert.deepEqual(pairs, ["0,0", "0,1", "1,0", "1,1", "0,2", "0,3", "1,2", "1,3"]);
});

/** Transcription of the upstream get_window_index loop (pad with -100, drop pads). */
const upstreamWindowIndex = (gh: number, gw: number, side: number) => {
  const h = gh / 2;
  const w = gw / 2;
  const padH = (side - (h % side)) % side;
  const padW = (side - (w % side)) % side;
  const H = h + padH;
  const W = w + padW;
  const grid: number[] = [];
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) grid.push(r < h && c < w ? r * w + c : -100);
  }
  const order: number[] = [];
  const cu = [0];
  for (let wr = 0; wr < H / side; wr++) {
    for (let wc = 0; wc < W / side; wc++) {
      let n = 0;
      for (let r = 0; r < side; r++) {
        for (let c = 0; c < side; c++) {
          const v = grid[(wr * side + r) * W + wc * side + c]!;
          if (v !== -100) (order.push(v), n++);
        }
      }
      const next = cu.at(-1)! + n * 4;
      if (next !== cu.at(-1)) cu.push(next);
    }
  }
  return { order, cu };
};

Deno.test("windowIndex equals the upstream window order and its inverse round-trips", () => {
  for (const [gh, gw] of [[8, 8], [10, 14], [22, 6], [2, 2]] as const) {
    const got = windowIndex([1, gh, gw], 112, 2, 14);
    const want = upstreamWindowIndex(gh, gw, 4);
    assert.deepEqual([...got.order], want.order, `${gh}×${gw}`);
    assert.deepEqual([...got.cuWindowSeqlens], want.cu, `${gh}×${gw}`);
    const roundTrip = [...got.order].map((_, j) => got.order[got.inverse[j]!]);
    assert.deepEqual(roundTrip, [...got.order].map((_, j) => j));
  }
});
