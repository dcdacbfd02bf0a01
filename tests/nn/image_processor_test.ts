import assert from "node:assert/strict";
import {
  processImage,
  QWEN25VL_IMAGE_PROCESSOR,
  resizeBicubic,
  type RgbImage,
  roundHalfEven,
  smartResize,
} from "../../src/nn/image_processor.ts";

/** The LCG noise image that make_goldens.py feeds to PIL. */
const lcgImage = (width: number, height: number, seed: number): RgbImage => {
  const data = new Uint8Array(width * height * 3);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    data[i] = (state >>> 16) & 0xff;
  }
  return { width, height, data };
};

const goldens = JSON.parse(
  Deno.readTextFileSync(
    new URL("../../data/fixtures/image_processor/pil_bicubic_goldens.json", import.meta.url),
  ),
) as {
  cases: {
    width: number;
    height: number;
    seed: number;
    outWidth: number;
    outHeight: number;
    expected: number[];
  }[];
};

Deno.test("resizeBicubic matches Pillow's BICUBIC byte for byte, up- and downscaling", () => {
  for (const c of goldens.cases) {
    const out = resizeBicubic(lcgImage(c.width, c.height, c.seed), c.outWidth, c.outHeight);
    assert.equal(out.data.length, c.expected.length);
    const firstDiff = out.data.findIndex((v, i) => v !== c.expected[i]);
    assert.equal(firstDiff, -1, `${c.width}×${c.height} → ${c.outWidth}×${c.outHeight}`);
  }
});

Deno.test("roundHalfEven rounds halves to the even neighbour like Python", () => {
  assert.deepEqual([0.5, 1.5, 2.5, 6.5, 6.4, 6.6].map(roundHalfEven), [0, 2, 2, 6, 6, 7]);
});

Deno.test("smartResize keeps sides multiples of 28 within the pixel budget", () => {
  assert.deepEqual(smartResize(182, 300), [168, 308]);
  assert.deepEqual(smartResize(96, 96), [84, 84]);
  assert.deepEqual(smartResize(20, 20), [56, 56]); // below min_pixels 3136: scaled up
  const [h, w] = smartResize(4000, 3000, 28, 3136, 1_000_000);
  assert.ok(h * w <= 1_000_000 && h % 28 === 0 && w % 28 === 0);
  assert.throws(() => smartResize(5, 100), RangeError);
  assert.throws(() => smartResize(10, 3000), /aspect/);
});

Deno.test("processImage patchifies in the upstream order with the image repeated over time", () => {
  const image = lcgImage(112, 56, 7); // already a multiple of 28: no resize
  const { pixelValues, grid, imageTokens } = processImage(image);
  assert.deepEqual(grid, [1, 4, 8]);
  assert.equal(imageTokens, 8);
  const rowLength = 3 * 2 * 14 * 14;
  assert.equal(pixelValues.length, 32 * rowLength);
  const { imageMean, imageStd } = QWEN25VL_IMAGE_PROCESSOR;
  const normalised = (y: number, x: number, ch: number) =>
    Math.fround(
      Math.fround(image.data[(y * 112 + x) * 3 + ch]! / 255) - Math.fround(imageMean[ch]!),
    ) /
    Math.fround(imageStd[ch]!);
  // Row order (bh, bw, mh, mw): row 5 is merge block (0, 1), inner (0, 1): patch row 0, col 3.
  const row = 5;
  for (const [ch, t, y, x] of [[0, 0, 0, 0], [2, 1, 13, 13], [1, 0, 7, 2]] as const) {
    const col = ((ch * 2 + t) * 14 + y) * 14 + x;
    assert.equal(pixelValues[row * rowLength + col], Math.fround(normalised(y, 3 * 14 + x, ch)));
  }
});
