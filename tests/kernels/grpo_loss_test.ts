import assert from "node:assert/strict";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import {
  GPU_KL_ESTIMATORS,
  GRPO_STAT_COUNT,
  GRPO_STATS,
  grpoLossGpu,
  type GrpoLossGpuOptions,
  grpoLossPartialRows,
  grpoStatistics,
} from "../../src/gpu/ops/grpo_loss.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import type { Tensor } from "../../src/gpu/tensor.ts";
import { type AggregationMode, aggregationWeights } from "../../src/rl/aggregation.ts";
import {
  grpoLoss as hostGrpoLoss,
  type GrpoLossOptions,
  type GrpoLossResult,
} from "../../src/rl/grpo_loss.ts";
import { KL_ESTIMATORS, type KlEstimator } from "../../src/rl/kl.ts";
import { microBatchWeights } from "../../src/rl/mini_batches.ts";
import { tokenPolicyLoss } from "../../src/rl/policy_loss.ts";
import type { UpdateStatistics } from "../../src/rl/statistics.ts";
import type { TokenMask } from "../../src/rl/token_batch.ts";
import { assertAllClose, gpuTest, runAndRead, seededRandom } from "../gpu/harness.ts";
import { centralDifference, pick } from "./reference/central_difference.ts";

type F32 = Float32Array<ArrayBuffer>;

/** A [rows, cols] GRPO batch: host float64 copies of exactly the f32 values the GPU gets. */
interface Problem {
  readonly rows: number;
  readonly cols: number;
  readonly logp: F32;
  readonly oldLogp: F32;
  readonly refLogp: F32;
  /** [rows] one advantage per response (f32-representable). */
  readonly advantages: Float64Array;
  readonly mask: F32;
  readonly entropy: F32;
}

const f32 = (x: number) => Math.fround(x);
const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

/**
 * Random responses of random length ≤ cols (some empty), log-ratios in [−1.5, 1.5] (every clip
 * branch), log π_ref − log π_θ in [−3, 3] (k3's output clamp bites past ≈ 2.5), a zero-advantage
 * response, and NaN in every masked-out slot: the kernel must never read them.
 */
const randomProblem = (seed: number, rows: number, cols: number): Problem => {
  const rng = seededRandom(seed);
  const n = rows * cols;
  const logp = new Float32Array(n), oldLogp = new Float32Array(n), refLogp = new Float32Array(n);
  const mask = new Float32Array(n), entropy = new Float32Array(n);
  const advantages = Float64Array.from(
    { length: rows },
    (_, i) => i === 1 ? 0 : f32((rng() * 2 - 1) * 2),
  );
  for (let i = 0; i < rows; i++) {
    const length = i === 2 ? 0 : Math.floor(rng() * (cols + 1));
    for (let t = 0; t < cols; t++) {
      const k = i * cols + t;
      if (t >= length) {
        logp[k] =
          oldLogp[k] =
          refLogp[k] =
          entropy[k] =
            NaN;
        continue;
      }
      mask[k] = 1;
      logp[k] = -rng() * 6;
      oldLogp[k] = logp[k]! - (rng() * 2 - 1) * 1.5;
      refLogp[k] = logp[k]! + (rng() * 2 - 1) * 3;
      entropy[k] = rng() * 4;
    }
  }
  return { rows, cols, logp, oldLogp, refLogp, advantages, mask, entropy };
};

const hostMask = (p: Problem): TokenMask => ({ rows: p.rows, cols: p.cols, values: f64(p.mask) });

/** The host reference on the same (f32) values; weights are the f32 weights the GPU gets. */
const reference = (
  p: Problem,
  options: GrpoLossOptions,
  weights: F32,
  withEntropy: boolean,
): GrpoLossResult => {
  const batch = (values: F32) => ({ rows: p.rows, cols: p.cols, values: f64(values) });
  return hostGrpoLoss(
    {
      logp: batch(p.logp),
      oldLogp: batch(p.oldLogp),
      refLogp: batch(p.refLogp),
      advantages: p.advantages,
      mask: hostMask(p),
      entropy: withEntropy ? batch(p.entropy) : undefined,
    },
    options,
    f64(weights),
  );
};

const f32Weights = (p: Problem, mode: AggregationMode, maxResponseLength: number): F32 =>
  Float32Array.from(aggregationWeights(hostMask(p), mode, maxResponseLength));

/** Per-token advantages: each response's advantage on every one of its slots. */
const broadcastAdvantages = (p: Problem): F32 =>
  Float32Array.from({ length: p.rows * p.cols }, (_, k) => p.advantages[Math.floor(k / p.cols)]!);

interface GpuBatch {
  readonly inputs: {
    logp: Tensor;
    oldLogp: Tensor;
    refLogp: Tensor;
    advantage: Tensor;
    mask: Tensor;
    weight: Tensor;
    entropy: Tensor;
  };
  readonly out: { dlogp: Tensor; tokenLoss: Tensor; partials: Tensor; stats: Tensor };
}

const upload = (rt: GpuRuntime, p: Problem, weights: F32): GpuBatch => {
  const n = p.rows * p.cols;
  const t = (data: F32) => rt.createTensor([n], "f32", data);
  return {
    inputs: {
      logp: t(p.logp),
      oldLogp: t(p.oldLogp),
      refLogp: t(p.refLogp),
      advantage: t(broadcastAdvantages(p)),
      mask: t(p.mask),
      weight: t(weights),
      entropy: t(p.entropy),
    },
    out: {
      dlogp: rt.createTensor([n]),
      tokenLoss: rt.createTensor([n]),
      partials: rt.createTensor([grpoLossPartialRows(n), GRPO_STAT_COUNT]),
      stats: rt.createTensor([GRPO_STAT_COUNT]),
    },
  };
};

/**
 * Poisons the outputs, records one grpoLossGpu and reads dlogp, tokenLoss and stats. `options` may be
 * the host's GrpoLossOptions: the kernel options are a subset of them.
 */
const runOnce = async (
  rt: GpuRuntime,
  b: GpuBatch,
  options: GrpoLossGpuOptions,
) => {
  const [dlogp, tokenLoss, stats] = await runAndRead(rt, (rec) => {
    for (const t of [b.out.dlogp, b.out.tokenLoss, b.out.partials, b.out.stats]) {
      fill(rec, t, NaN);
    }
    grpoLossGpu(rec, b.inputs, b.out, options);
    return [b.out.dlogp, b.out.tokenLoss, b.out.stats];
  }) as F32[];
  return { dlogp: dlogp!, tokenLoss: tokenLoss!, stats: stats! };
};

const assertStatistics = (actual: UpdateStatistics, expected: UpdateStatistics) => {
  assert.equal(actual.tokens, expected.tokens);
  for (
    const key of [
      "clipFractionHigh",
      "clipFractionLow",
      "clipFractionDual",
      "ratioMean",
      "ratioMin",
      "ratioMax",
      "klMean",
    ] as const
  ) {
    assertAllClose([actual[key]], [expected[key]], { rtol: 1e-4, atol: 1e-6, label: key });
  }
  if (expected.entropyMean === undefined) assert.equal(actual.entropyMean, undefined);
  else {
    assertAllClose([actual.entropyMean!], [expected.entropyMean], {
      rtol: 1e-5,
      label: "entropyMean",
    });
  }
};

/** Compares one GPU run with the host reference slot by slot and statistic by statistic. */
const assertMatchesHost = (
  gpu: { dlogp: F32; tokenLoss: F32; stats: F32 },
  host: GrpoLossResult,
  withEntropy: boolean,
  label: string,
) => {
  const scale = Math.max(...host.gradLogp.map(Math.abs));
  assertAllClose(gpu.dlogp, host.gradLogp, {
    rtol: 1e-4,
    atol: 1e-6 * scale,
    label: `${label} dlogp`,
  });
  assertAllClose(gpu.tokenLoss, host.tokenLosses, {
    rtol: 1e-4,
    atol: 1e-6,
    label: `${label} tokenLoss`,
  });
  const s = grpoStatistics(gpu.stats, withEntropy);
  assertAllClose([s.loss, s.policyLoss, s.klLoss], [host.loss, host.policyLoss, host.klLoss], {
    rtol: 1e-4,
    atol: 1e-6,
    label: `${label} loss, policyLoss, klLoss`,
  });
  assertStatistics(s, host.statistics);
};

const baseOptions = (
  klEstimator: KlEstimator,
  aggregation: AggregationMode,
  klCoef = 0.05,
): GrpoLossOptions => ({
  clipLow: 0.2,
  clipHigh: 0.3,
  dualClip: 3,
  klCoef,
  klEstimator,
  aggregation,
  maxResponseLength: 64,
});

gpuTest(
  "grpoLossGpu takes every branch of the surrogate and KL as the host math does",
  async (rt) => {
    // One response per case, one token each: [log ρ, A, log π_ref − log π_θ].
    const cases = [
      [Math.log(1.1), 1.5, 0.1], // no clip, A > 0
      [Math.log(1.1), -1.5, -0.2], // no clip, A < 0
      [Math.log(1.5), 1.5, 0.5], // clip high (A > 0, ρ > 1.3)
      [Math.log(0.5), -1.5, 1], // clip low (A < 0, ρ < 0.8)
      [Math.log(4), -1.5, -1], // dual clip (A < 0, ρ > 3)
      [Math.log(0.5), 1.5, 2], // ρ < 1 − ε with A > 0: not clipped
      [Math.log(2), 0, 0.3], // A = 0: no loss, no policy gradient
      [-25, 1.5, 0], // log-ratio clamp at −20: ρ held at e^−20, no gradient; k3 = 0
      [25, -1.5, -5], // log-ratio clamp with A < 0: dual clip; k3 below its output clamp
      [0.2, 1, 4], // k3 output clamp (e^4 − 5 > 10): KL gradient 0
      [0.1, 1, 30], // k3 input clamp (x > 20)
      [0.1, 0.7, -30], // k3 input clamp (x < −20) and output clamp
    ];
    const rows = cases.length;
    const logp = Float32Array.from(cases, (_, i) => -1 - 0.1 * i);
    const p: Problem = {
      rows,
      cols: 1,
      logp,
      oldLogp: Float32Array.from(cases, ([lr], i) => logp[i]! - lr!),
      refLogp: Float32Array.from(cases, ([, , x], i) => logp[i]! + x!),
      advantages: Float64Array.from(cases, ([, a]) => a!),
      mask: new Float32Array(rows).fill(1),
      entropy: Float32Array.from(cases, (_, i) => 0.5 + i),
    };
    const options = baseOptions("low_var_kl", "token-mean", 0.1);
    const weights = f32Weights(p, "token-mean", 1);
    const host = reference(p, options, weights, true);
    // The cases really are the branches named above.
    const branch = (i: number) =>
      tokenPolicyLoss(p.logp[i]!, p.oldLogp[i]!, p.advantages[i]!, options).branch;
    assert.deepEqual(cases.map((_, i) => branch(i)), [
      "none",
      "none",
      "high",
      "low",
      "dual",
      "none",
      "none",
      "none",
      "dual",
      "none",
      "none",
      "none",
    ]);
    const gpu = await runOnce(rt, upload(rt, p, weights), options);
    assertMatchesHost(gpu, host, true, "branches");
    // Gradient of token i alone under `overrides`, weighted as on the GPU.
    const single = (i: number, overrides: { advantage?: number; klCoef?: number }) =>
      hostGrpoLoss(
        {
          logp: { rows: 1, cols: 1, values: f64([p.logp[i]!]) },
          oldLogp: { rows: 1, cols: 1, values: f64([p.oldLogp[i]!]) },
          refLogp: { rows: 1, cols: 1, values: f64([p.refLogp[i]!]) },
          advantages: f64([overrides.advantage ?? p.advantages[i]!]),
          mask: { rows: 1, cols: 1, values: f64([1]) },
          entropy: undefined,
        },
        { ...options, klCoef: overrides.klCoef ?? options.klCoef },
        f64([weights[i]!]),
      ).gradLogp[0]!;
    // Clipped or clamped policy term: only the KL term's gradient remains.
    for (const i of [2, 3, 4, 8]) {
      assert.notEqual(single(i, { advantage: 0 }), 0);
      assertAllClose([gpu.dlogp[i]!], [single(i, { advantage: 0 })], {
        rtol: 1e-4,
        atol: 1e-9,
        label: `policy term clipped at token ${i}`,
      });
    }
    // The log-ratio clamp holds ρ fixed: exactly zero, where −A·ρ·w would be about −1e−10.
    assert.equal(Math.abs(gpu.dlogp[7]!), 0);
    // Clamped KL term: only the policy gradient remains.
    for (const i of [9, 10, 11]) {
      assert.equal(single(i, { advantage: 0 }), 0);
      assertAllClose([gpu.dlogp[i]!], [single(i, { klCoef: 0 })], {
        rtol: 1e-4,
        atol: 1e-9,
        label: `KL term clamped at token ${i}`,
      });
    }
    assert.equal(gpu.stats[GRPO_STATS.clippedHigh], 1);
    assert.equal(gpu.stats[GRPO_STATS.clippedLow], 1);
    assert.equal(gpu.stats[GRPO_STATS.clippedDual], 2);
  },
);

gpuTest(
  "grpoLossGpu gives zero loss and gradient on masked tokens even when their inputs are NaN",
  async (rt) => {
    const p = randomProblem(11, 9, 40);
    const options = baseOptions("low_var_kl", "seq-mean-token-mean");
    const weights = f32Weights(p, "seq-mean-token-mean", 40);
    const gpu = await runOnce(rt, upload(rt, p, weights), options);
    let masked = 0;
    for (let k = 0; k < p.mask.length; k++) {
      if (p.mask[k] !== 0) continue;
      masked++;
      assert.equal(gpu.dlogp[k], 0, `dlogp[${k}]`);
      assert.equal(gpu.tokenLoss[k], 0, `tokenLoss[${k}]`);
    }
    assert.ok(masked > 0);
    assert.ok(gpu.stats.every(Number.isFinite));
    assertMatchesHost(gpu, reference(p, options, weights, true), true, "masked");
  },
);

for (
  const [seed, rows, cols, estimator, mode] of [
    [1, 7, 53, "low_var_kl", "token-mean"],
    [2, 16, 300, "low_var_kl", "seq-mean-token-mean"],
    [3, 5, 37, "kl", "seq-mean-token-sum-norm"],
    [4, 6, 45, "abs", "token-mean"],
    [5, 3, 100, "mse", "seq-mean-token-mean"],
    [6, 40, 300, "low_var_kl", "token-mean"], // 3 workgroups of 4096 tokens, the last one partial
  ] as const
) {
  gpuTest(
    `grpoLossGpu with ${estimator} and ${mode} on ${rows}×${cols} tokens matches the host loss, gradient and statistics`,
    async (rt) => {
      const p = randomProblem(seed, rows, cols);
      const options = { ...baseOptions(estimator, mode), maxResponseLength: cols };
      const weights = f32Weights(p, mode, cols);
      const gpu = await runOnce(rt, upload(rt, p, weights), options);
      assertMatchesHost(gpu, reference(p, options, weights, true), true, `${estimator} ${mode}`);
    },
  );
}

gpuTest(
  "grpoLossGpu keeps k3 and its gradient accurate when the policy is close to the reference",
  async (rt) => {
    // |log π_ref − log π_θ| from 1e-5 to 0.3: in f32, e^x − x − 1 computed directly loses most digits.
    const rows = 64;
    const logp = Float32Array.from({ length: rows }, (_, i) => -0.5 - 0.01 * i);
    const gaps = Float32Array.from({ length: rows }, (_, i) => (i % 2 ? 1 : -1) * 1e-5 * 1.2 ** i);
    const p: Problem = {
      rows,
      cols: 1,
      logp,
      oldLogp: logp,
      refLogp: Float32Array.from(logp, (lp, i) => lp + gaps[i]!),
      advantages: new Float64Array(rows),
      mask: new Float32Array(rows).fill(1),
      entropy: new Float32Array(rows),
    };
    const options = baseOptions("low_var_kl", "token-mean", 1);
    const weights = f32Weights(p, "token-mean", 1);
    const gpu = await runOnce(rt, upload(rt, p, weights), options);
    const host = reference(p, options, weights, true);
    assertAllClose(gpu.tokenLoss, host.tokenLosses, { rtol: 1e-4, atol: 0, label: "k3" });
    assertAllClose(gpu.dlogp, host.gradLogp, { rtol: 1e-4, atol: 0, label: "dk3/dlogp" });
  },
);

gpuTest("grpoLossGpu dlogp equals central differences of the host loss", async (rt) => {
  const p = randomProblem(21, 6, 50);
  const options = baseOptions("low_var_kl", "seq-mean-token-mean", 0.2);
  const weights = f32Weights(p, "seq-mean-token-mean", 50);
  const gpu = await runOnce(rt, upload(rt, p, weights), options);
  const batch = (values: Float64Array) => ({ rows: p.rows, cols: p.cols, values });
  const loss = (x: Float64Array) =>
    hostGrpoLoss(
      {
        logp: batch(x),
        oldLogp: batch(f64(p.oldLogp)),
        refLogp: batch(f64(p.refLogp)),
        advantages: p.advantages,
        mask: hostMask(p),
        entropy: undefined,
      },
      options,
      f64(weights),
    ).loss;
  const learned = Array.from(p.mask.keys()).filter((k) => p.mask[k] !== 0);
  assert.ok(learned.length > 60);
  const numeric = centralDifference(loss, f64(p.logp), 1e-6, learned);
  const scale = Math.max(...numeric.map(Math.abs));
  assertAllClose(pick(gpu.dlogp, learned), numeric, {
    rtol: 1e-3,
    atol: 1e-5 * scale,
    label: "dlogp vs finite differences",
  });
});

gpuTest("grpoLossGpu without KL or entropy logs zero KL and no entropy", async (rt) => {
  const p = randomProblem(31, 4, 300);
  const options = baseOptions("low_var_kl", "token-mean", 0);
  const weights = f32Weights(p, "token-mean", 300);
  const b = upload(rt, p, weights);
  const [dlogp, tokenLoss, stats] = await runAndRead(rt, (rec) => {
    for (const t of [b.out.dlogp, b.out.tokenLoss, b.out.stats]) fill(rec, t, NaN);
    const { refLogp: _, entropy: __, ...inputs } = b.inputs;
    grpoLossGpu(rec, inputs, b.out, options);
    return [b.out.dlogp, b.out.tokenLoss, b.out.stats];
  }) as F32[];
  const host = reference(p, options, weights, false);
  assertMatchesHost({ dlogp: dlogp!, tokenLoss: tokenLoss!, stats: stats! }, host, false, "no KL");
  assert.equal(stats![GRPO_STATS.klSum], 0);
  assert.equal(stats![GRPO_STATS.entropySum], 0);
});

gpuTest(
  "grpoLossGpu accumulates two micro-batches into the mini-batch's statistics",
  async (rt) => {
    const p = randomProblem(41, 10, 70);
    const options = baseOptions("low_var_kl", "token-mean");
    const mask = hostMask(p);
    const ranges = [{ start: 0, end: 6 }, { start: 6, end: 10 }];
    const micro = microBatchWeights(mask, ranges, "token-mean", 70);
    const stats = rt.createTensor([GRPO_STAT_COUNT]);
    const slice = (a: F32, r: { start: number; end: number }) =>
      a.slice(r.start * p.cols, r.end * p.cols);
    const batches = ranges.map((r, i) => {
      const part: Problem = {
        rows: r.end - r.start,
        cols: p.cols,
        logp: slice(p.logp, r),
        oldLogp: slice(p.oldLogp, r),
        refLogp: slice(p.refLogp, r),
        advantages: p.advantages.slice(r.start, r.end),
        mask: slice(p.mask, r),
        entropy: slice(p.entropy, r),
      };
      const b = upload(rt, part, Float32Array.from(micro[i]!));
      return { ...b, out: { ...b.out, stats } };
    });
    const [read] = await runAndRead(rt, (rec) => {
      fill(rec, stats, NaN);
      batches.forEach((b, i) =>
        grpoLossGpu(rec, b.inputs, b.out, { ...options, accumulate: i > 0 })
      );
      return [stats];
    }) as F32[];
    const host = reference(p, options, f32Weights(p, "token-mean", 70), true);
    const s = grpoStatistics(read!, true);
    assertAllClose([s.loss, s.policyLoss, s.klLoss], [host.loss, host.policyLoss, host.klLoss], {
      rtol: 1e-4,
      atol: 1e-6,
      label: "accumulated loss",
    });
    assertStatistics(s, host.statistics);
  },
);

gpuTest("grpoLossGpu statistics are bit-for-bit the same on every run", async (rt) => {
  const p = randomProblem(51, 12, 250);
  const options = baseOptions("low_var_kl", "token-mean");
  const b = upload(rt, p, f32Weights(p, "token-mean", 250));
  const first = await runOnce(rt, b, options);
  const second = await runOnce(rt, b, options);
  assert.deepEqual(second.stats, first.stats);
  assert.deepEqual(second.dlogp, first.dlogp);
});

gpuTest(
  "grpoLossGpu on a batch with no learned token reports the empty-batch statistics",
  async (rt) => {
    const p = { ...randomProblem(61, 3, 20), mask: new Float32Array(60) };
    const options = baseOptions("low_var_kl", "token-mean");
    const weights = f32Weights(p, "token-mean", 20);
    const gpu = await runOnce(rt, upload(rt, p, weights), options);
    assert.ok(gpu.dlogp.every((g) => g === 0));
    assertMatchesHost(gpu, reference(p, options, weights, true), true, "empty");
    assertStatistics(grpoStatistics(gpu.stats, true), {
      tokens: 0,
      clipFractionHigh: 0,
      clipFractionLow: 0,
      clipFractionDual: 0,
      ratioMean: 1,
      ratioMin: 1,
      ratioMax: 1,
      klMean: 0,
      entropyMean: 0,
    });
  },
);

gpuTest("grpoLossGpu on zero tokens leaves accumulated statistics unchanged", async (rt) => {
  const p = randomProblem(71, 5, 30);
  const options = baseOptions("low_var_kl", "token-mean");
  const b = upload(rt, p, f32Weights(p, "token-mean", 30));
  const none = (shape: number[]) => rt.createTensor(shape);
  const empty = {
    inputs: {
      logp: none([0]),
      oldLogp: none([0]),
      refLogp: none([0]),
      advantage: none([0]),
      mask: none([0]),
      weight: none([0]),
    },
    out: {
      dlogp: none([0]),
      tokenLoss: none([0]),
      partials: none([grpoLossPartialRows(0), GRPO_STAT_COUNT]),
      stats: b.out.stats,
    },
  };
  const [alone, accumulated] = await runAndRead(rt, (rec) => {
    fill(rec, b.out.stats, NaN);
    grpoLossGpu(rec, b.inputs, b.out, options);
    const copy = rt.createTensor([GRPO_STAT_COUNT]);
    rec.copy(b.out.stats, copy);
    fill(rec, empty.out.partials, NaN);
    grpoLossGpu(rec, empty.inputs, empty.out, { ...options, accumulate: true });
    return [copy, b.out.stats];
  }) as F32[];
  assert.deepEqual(accumulated, alone);
  const [fresh] = await runAndRead(rt, (rec) => {
    grpoLossGpu(rec, empty.inputs, empty.out, options);
    return [b.out.stats];
  }) as F32[];
  assert.equal(grpoStatistics(fresh!, false).tokens, 0);
  assert.equal(grpoStatistics(fresh!, false).ratioMean, 1);
});

gpuTest("grpoLossGpu rejects mismatched shapes before recording anything", (rt) => {
  const n = 4200;
  const t = (shape: number[], dtype: "f32" | "u32" = "f32") => rt.createTensor(shape, dtype);
  const inputs = {
    logp: t([n]),
    oldLogp: t([n]),
    refLogp: t([n]),
    advantage: t([n]),
    mask: t([n]),
    weight: t([n]),
  };
  const out = {
    dlogp: t([n]),
    tokenLoss: t([n]),
    partials: t([grpoLossPartialRows(n), GRPO_STAT_COUNT]),
    stats: t([GRPO_STAT_COUNT]),
  };
  const options = baseOptions("low_var_kl", "token-mean");
  const bad: Array<[string, () => void]> = [
    ["short advantage", () => grpoLossGpu(rec, { ...inputs, advantage: t([n - 1]) }, out, options)],
    ["u32 mask", () => grpoLossGpu(rec, { ...inputs, mask: t([n], "u32") }, out, options)],
    ["missing refLogp", () => grpoLossGpu(rec, { ...inputs, refLogp: undefined }, out, options)],
    ["2-D logp", () => grpoLossGpu(rec, { ...inputs, logp: t([n, 1]) }, out, options)],
    ["short entropy", () => grpoLossGpu(rec, { ...inputs, entropy: t([2]) }, out, options)],
    ["too few partials", () => grpoLossGpu(rec, inputs, { ...out, partials: t([1, 12]) }, options)],
    ["long stats", () => grpoLossGpu(rec, inputs, { ...out, stats: t([13]) }, options)],
  ];
  const rec = new CommandRecorder(rt, "shape test");
  for (const [label, call] of bad) assert.throws(call, ShapeMismatch, label);
  assert.equal(rec.dispatchCount, 0);
  assert.throws(() => grpoStatistics(new Float32Array(11), false), ShapeMismatch);
  return Promise.resolve();
});

Deno.test("grpoLossGpu implements every KL estimator the host trainer can be configured with", () => {
  assert.deepEqual([...GPU_KL_ESTIMATORS], [...KL_ESTIMATORS]);
});
