import assert from "node:assert/strict";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import {
  crossEntropyBackward,
  crossEntropyForward,
  IGNORE_INDEX,
  tokenLogProbs,
  tokenLogProbsBackward,
} from "../../src/gpu/ops/cross_entropy.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { assertAllClose, gpuTest, randomArray, runAndRead, seededRandom } from "../gpu/harness.ts";
import { centralDifference, pick } from "./reference/central_difference.ts";
import {
  IGNORE,
  logpGradientRef,
  meanCrossEntropyRef,
  tokenStatsRef,
} from "./reference/cross_entropy.ts";

type F32 = Float32Array<ArrayBuffer>;

const randomLogits = (n: number, rng: () => number, scale: number): F32 =>
  Float32Array.from(randomArray(n, rng, scale));

/** Targets in [0, V), with every `ignoreEvery`-th row ignored. */
const randomTargets = (rows: number, vocab: number, rng: () => number, ignoreEvery = 0) =>
  Uint32Array.from(
    { length: rows },
    (_, n) => ignoreEvery > 0 && n % ignoreEvery === 1 ? IGNORE : Math.floor(rng() * vocab),
  );

/** Runs the fused forward (stats + mean) and both backward ops in one submit. */
const runAll = async (
  rt: GpuRuntime,
  logits: F32,
  targets: Uint32Array<ArrayBuffer>,
  vocab: number,
  { temperature = 1, dlogp, gradScale = 1 }: {
    temperature?: number;
    dlogp: F32;
    gradScale?: number;
  },
) => {
  const rows = targets.length;
  const tl = rt.createTensor([rows, vocab], "f32", logits);
  const tt = rt.createTensor([rows], "u32", targets);
  const lse = rt.createTensor([rows]);
  const logp = rt.createTensor([rows]);
  const entropy = rt.createTensor([rows]);
  const summary = rt.createTensor([2]);
  const dce = rt.createTensor([rows, vocab]);
  const tg = rt.createTensor([rows], "f32", dlogp);
  const dlp = rt.createTensor([rows, vocab]);
  const out = await runAndRead(rt, (rec) => {
    for (const t of [lse, logp, entropy, summary, dce, dlp]) fill(rec, t, NaN);
    crossEntropyForward(rec, tl, tt, { lse, logp, entropy, summary }, { temperature });
    crossEntropyBackward(rec, { logits: tl, targets: tt, lse, summary, dlogits: dce }, {
      temperature,
      gradScale,
    });
    tokenLogProbsBackward(rec, { logits: tl, targets: tt, lse, dlogp: tg, dlogits: dlp }, {
      temperature,
    });
    return [lse, logp, entropy, summary, dce, dlp];
  });
  const [gl, gp, ge, gs, gce, glp] = out as F32[];
  return { lse: gl!, logp: gp!, entropy: ge!, summary: gs!, dce: gce!, dlp: glp! };
};

// Rows packed several per workgroup (300 rows of 50: 1 invocation per row, 256 rows per
// workgroup; 70 rows of 200: 4 per row, 64 rows per workgroup), and long rows.
const cases = [
  { rows: 1, vocab: 1, temperature: 1 },
  { rows: 300, vocab: 50, temperature: 1 },
  { rows: 70, vocab: 200, temperature: 0.9 },
  { rows: 5, vocab: 7, temperature: 0.7 },
  { rows: 6, vocab: 300, temperature: 1 },
  { rows: 3, vocab: 1000, temperature: 1.3 },
  { rows: 2, vocab: 17000, temperature: 1 },
];

for (const { rows, vocab, temperature } of cases) {
  gpuTest(
    `cross-entropy, log-probs and entropy match float64 for [${rows}, ${vocab}] at T=${temperature}`,
    async (rt) => {
      const rng = seededRandom(rows * 31 + vocab);
      const logits = randomLogits(rows * vocab, rng, 8);
      const targets = randomTargets(rows, vocab, rng, 3);
      const dlogp = randomLogits(rows, rng, 1);
      const gradScale = 0.5;
      const r = await runAll(rt, logits, targets, vocab, { temperature, dlogp, gradScale });
      const ref = tokenStatsRef(logits, targets, rows, vocab, temperature);
      const mean = meanCrossEntropyRef(logits, targets, rows, vocab, temperature);
      // Logits up to ±8/T; f32 exp and a sum of ≤1000 terms: ~1e-6 relative in lse and logp.
      assertAllClose(r.lse, ref.lse, { rtol: 1e-6, atol: 1e-5, label: "lse" });
      assertAllClose(r.logp, ref.logp, { rtol: 1e-5, atol: 1e-5, label: "logp" });
      assertAllClose(r.entropy, ref.entropy, { rtol: 1e-5, atol: 1e-5, label: "entropy" });
      assertAllClose(r.summary, [mean.loss, mean.count], {
        rtol: 1e-5,
        atol: 1e-5,
        label: "summary",
      });
      // The mean loss is Σ (−1/count)·logp: its gradient is the logp gradient with that weight.
      const ceCoef = Array.from(targets, () => -gradScale / Math.max(mean.count, 1));
      const refCe = logpGradientRef(logits, targets, ceCoef, rows, vocab, temperature);
      const refLp = logpGradientRef(logits, targets, dlogp, rows, vocab, temperature);
      // Gradients are differences of probabilities ≤ 1: absolute tolerance ~1e-6.
      assertAllClose(r.dce, refCe, { rtol: 1e-5, atol: 2e-7, label: "dlogits (cross-entropy)" });
      assertAllClose(r.dlp, refLp, { rtol: 1e-5, atol: 2e-7, label: "dlogits (log-prob)" });

      // Analytic gradients against central differences of the float64 forward.
      const x = Float64Array.from(logits);
      const probes = [0, Math.floor(x.length / 2), x.length - 1];
      const loss = (l: Float64Array) =>
        gradScale * meanCrossEntropyRef(l, targets, rows, vocab, temperature).loss;
      const weighted = (l: Float64Array) =>
        tokenStatsRef(l, targets, rows, vocab, temperature).logp.reduce(
          (a, lp, n) => a + lp * dlogp[n]!,
          0,
        );
      // float64, h = 1e-6: truncation ~h², rounding ~1e-10.
      assertAllClose(pick(r.dce, probes), centralDifference(loss, x, 1e-6, probes), {
        rtol: 1e-4,
        atol: 1e-6,
        label: "cross-entropy dlogits vs finite differences",
      });
      assertAllClose(pick(r.dlp, probes), centralDifference(weighted, x, 1e-6, probes), {
        rtol: 1e-4,
        atol: 1e-6,
        label: "log-prob dlogits vs finite differences",
      });
    },
  );
}

gpuTest("the cross-entropy gradient agrees with finite differences of the GPU loss", async (rt) => {
  const rows = 2, vocab = 5;
  const rng = seededRandom(11);
  const logits = randomLogits(rows * vocab, rng, 2);
  const targets = randomTargets(rows, vocab, rng);
  const dlogp = randomLogits(rows, rng, 1);
  const { dce } = await runAll(rt, logits, targets, vocab, { dlogp });
  const h = 1e-2;
  for (const i of [0, 3, 7]) {
    const plus = Float32Array.from(logits);
    const minus = Float32Array.from(logits);
    plus[i] = logits[i]! + h;
    minus[i] = logits[i]! - h;
    const lp = (await runAll(rt, plus, targets, vocab, { dlogp })).summary[0]!;
    const lm = (await runAll(rt, minus, targets, vocab, { dlogp })).summary[0]!;
    // f32 losses ~2 carry ~2e-7 rounding each: /2h → ~2e-5; truncation ~h²·|f'''| ≲ 1e-5.
    assertAllClose([dce[i]!], [(lp - lm) / (2 * h)], {
      rtol: 1e-3,
      atol: 1e-4,
      label: `dlogits[${i}] vs GPU fd`,
    });
  }
});

gpuTest("every row ignored gives a zero loss, zero count and zero gradient", async (rt) => {
  const rows = 3, vocab = 4;
  const logits = randomLogits(rows * vocab, seededRandom(3), 1);
  const targets = new Uint32Array(rows).fill(IGNORE_INDEX);
  const r = await runAll(rt, logits, targets, vocab, { dlogp: new Float32Array(rows).fill(1) });
  assert.deepEqual([...r.summary], [0, 0]);
  assert.deepEqual([...r.logp], [0, 0, 0]);
  assert.ok(r.dce.every((v) => v === 0) && r.dlp.every((v) => v === 0));
});

gpuTest("a target outside the vocabulary gives NaN instead of a plausible loss", async (rt) => {
  const vocab = 4;
  const logits = randomLogits(2 * vocab, seededRandom(4), 1);
  const targets = new Uint32Array([1, vocab]);
  const r = await runAll(rt, logits, targets, vocab, { dlogp: new Float32Array([1, 1]) });
  assert.ok(Number.isFinite(r.logp[0]) && Number.isNaN(r.logp[1]));
  assert.ok(Number.isNaN(r.summary[0]));
});

gpuTest("tokenLogProbs splits logits larger than one binding into row blocks", async (rt) => {
  const rows = 37, vocab = 64;
  const rng = seededRandom(12);
  const logits = randomLogits(rows * vocab, rng, 4);
  const targets = randomTargets(rows, vocab, rng);
  // A runtime that claims 5 rows per binding: logits go in 8 blocks, the last one partial.
  const small = Object.create(rt, { maxBindingBytes: { get: () => 5 * vocab * 4 } });
  const tl = rt.createTensor([rows, vocab], "f32", logits);
  const tt = rt.createTensor([rows], "u32", targets);
  const [lse, logp, entropy] = [0, 1, 2].map(() => rt.createTensor([rows]));
  const rec = new CommandRecorder(small);
  for (const t of [lse!, logp!, entropy!]) fill(rec, t, NaN);
  tokenLogProbs(rec, tl, tt, { lse: lse!, logp: logp!, entropy: entropy! });
  rec.read(logp!);
  assert.equal(rec.dispatchCount, 3 + Math.ceil(rows / 5));
  const [got] = (await rec.submit().resolve()).arrays;
  assertAllClose(got!, tokenStatsRef(logits, targets, rows, vocab).logp, {
    rtol: 1e-5,
    atol: 1e-5,
    label: "logp",
  });
});

gpuTest("tokenLogProbs rejects targets that are not u32 [N]", (rt) => {
  const rec = new CommandRecorder(rt);
  const logits = rt.createTensor([4, 10]);
  const stats = {
    lse: rt.createTensor([4]),
    logp: rt.createTensor([4]),
    entropy: rt.createTensor([4]),
  };
  assert.throws(
    () => tokenLogProbs(rec, logits, rt.createTensor([4]), stats),
    (e: unknown) => e instanceof ShapeMismatch && /targets/.test(e.message),
  );
  assert.throws(
    () => tokenLogProbs(rec, logits, rt.createTensor([3], "u32"), stats),
    ShapeMismatch,
  );
  return Promise.resolve();
});

gpuTest(
  "−inf logits (a masked vocabulary) give finite statistics and zero gradient",
  async (rt) => {
    const rows = 4, vocab = 30;
    const rng = seededRandom(13);
    const logits = randomLogits(rows * vocab, rng, 3);
    for (let i = 0; i < logits.length; i += 3) logits[i] = -Infinity;
    // Targets on unmasked tokens (index ≡ 1 mod 3 in each row).
    const targets = Uint32Array.from({ length: rows }, (_, n) => 3 * n + 1);
    const dlogp = randomLogits(rows, rng, 1);
    const r = await runAll(rt, logits, targets, vocab, { dlogp });
    const ref = tokenStatsRef(logits, targets, rows, vocab);
    assertAllClose(r.lse, ref.lse, { rtol: 1e-6, atol: 1e-5, label: "lse" });
    assertAllClose(r.entropy, ref.entropy, { rtol: 1e-5, atol: 1e-5, label: "entropy" });
    assertAllClose(r.logp, ref.logp, { rtol: 1e-5, atol: 1e-5, label: "logp" });
    for (let i = 0; i < logits.length; i += 3) {
      assert.ok(r.dce[i] === 0 && r.dlp[i] === 0, `gradient at masked logit ${i}`);
    }
  },
);
