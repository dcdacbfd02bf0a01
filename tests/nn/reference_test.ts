import assert from "node:assert/strict";
import { PRESETS } from "../../src/nn/config.ts";
import { initialWeights } from "../../src/nn/init.ts";
import { erf, gelu } from "../../src/nn/reference/math_f64.ts";
import { referenceForward, referenceVision } from "../../src/nn/reference/qwen25vl_f64.ts";
import { makeRng } from "../../src/domain/random.ts";

const tiny = PRESETS.tiny.config;

/** Initial weights with norms and biases perturbed, so that mistakes in them show. */
const perturbedWeights = (seed: number) => {
  const rng = makeRng(seed);
  const w = new Map<string, Float64Array>();
  for (const [name, values] of initialWeights(tiny, seed)) {
    const f = Float64Array.from(values);
    if (name.endsWith(".bias") || /norm|ln_q/.test(name)) {
      for (let i = 0; i < f.length; i++) f[i] = f[i]! + rng.uniform(-0.1, 0.1);
    }
    w.set(name, f);
  }
  return w;
};

Deno.test("erf matches known values to 1e-14", () => {
  const cases: [number, number][] = [
    [0, 0],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [3.5, 0.9999992569016276],
    [-1.2, -0.9103139782296354],
  ];
  for (const [x, want] of cases) assert.ok(Math.abs(erf(x) - want) < 1e-14, `erf(${x})`);
  assert.ok(Math.abs(gelu(1) - 0.8413447460685429) < 1e-14);
});

Deno.test("reference vision output is independent of the window order when every block is full", () => {
  const w = perturbedWeights(3);
  const rng = makeRng(4);
  const grid = [1, 6, 6] as const;
  const pixels = Float64Array.from({ length: 36 * 1176 }, () => rng.uniform(-2, 2));
  const allFull = {
    ...tiny,
    vision_config: { ...tiny.vision_config, fullatt_block_indexes: [0, 1] },
  };
  // Window 112 px → 4×4 merged tokens per window; 56 px → 2×2: a different permutation.
  const a = referenceVision(allFull, w, pixels, grid);
  const b = referenceVision(
    { ...allFull, vision_config: { ...allFull.vision_config, window_size: 56 } },
    w,
    pixels,
    grid,
  );
  assert.equal(a.length, 9 * tiny.hidden_size);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-12);
});

Deno.test("reference forward is causal: logits of a prefix do not depend on later tokens", () => {
  const w = perturbedWeights(5);
  const ids = [3, 17, 250, 999, 42, 7];
  const full = referenceForward(tiny, w, { inputIds: ids });
  const prefix = referenceForward(tiny, w, { inputIds: ids.slice(0, 4) });
  const V = tiny.vocab_size;
  for (let i = 0; i < 4 * V; i++) assert.ok(Math.abs(full[i]! - prefix[i]!) < 1e-12);
  assert.ok(full.every(Number.isFinite));
});
