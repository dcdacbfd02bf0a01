import assert from "node:assert/strict";
import { grpoLoss, type GrpoLossInputs, type GrpoLossOptions } from "../../src/rl/grpo_loss.ts";
import { microBatchWeights, miniBatchPlan, sliceRows } from "../../src/rl/mini_batches.ts";
import { padResponses, type TokenBatch } from "../../src/rl/token_batch.ts";

const PAPER: GrpoLossOptions = {
  clipLow: 0.2,
  clipHigh: 0.3,
  dualClip: 3,
  klCoef: 0.01,
  klEstimator: "low_var_kl",
  aggregation: "token-mean",
  maxResponseLength: 4,
};
const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

/** Three responses (lengths 2, 3, 1) with ratios chosen to hit each clip branch once. */
const makeInputs = (): GrpoLossInputs => {
  const old = padResponses([[-1, -1], [-1, -1, -1], [-1]]);
  const logp = padResponses([
    [-1 + Math.log(1.1), -1 + Math.log(1.5)], // A = +1: none, high
    [-1 + Math.log(0.5), -1 + Math.log(2), -1 + Math.log(4)], // A = −1: low, none, dual
    [-1 + Math.log(0.9)], // A = +0.5: none
  ]);
  const ref = padResponses([[-1.2, -0.9], [-1, -1.1, -0.8], [-1.3]]);
  const entropy = padResponses([[1, 2], [3, 4, 5], [6]]);
  return {
    logp: logp.batch,
    oldLogp: old.batch,
    refLogp: ref.batch,
    advantages: new Float64Array([1, -1, 0.5]),
    mask: old.mask,
    entropy: entropy.batch,
  };
};

const k3 = (logp: number, ref: number) => Math.exp(ref - logp) - (ref - logp) - 1;

Deno.test("grpoLoss sums token-mean policy loss and 0.01 × token-mean k3 by hand", () => {
  const inputs = makeInputs();
  const r = grpoLoss(inputs, PAPER);
  // Token losses: −1.1, −1.3 | 0.8, 2, 3 | −0.45 → sum 2.95 over 6 tokens.
  close(r.policyLoss, 2.95 / 6);
  const lp = inputs.logp.values, rf = inputs.refLogp!.values;
  const kls = [0, 1, 3, 4, 5, 6].map((k) => k3(lp[k]!, rf[k]!));
  close(r.klLoss, kls.reduce((s, v) => s + v, 0) / 6);
  close(r.loss, r.policyLoss + 0.01 * r.klLoss);
  const pg = [-1.1, -1.3, 0, 0.8, 2, 3, -0.45, 0, 0];
  r.tokenLosses.forEach((t, k) => {
    const expected = inputs.mask.values[k] === 0 ? 0 : pg[k]! + 0.01 * k3(lp[k]!, rf[k]!);
    close(t, expected);
  });
});

Deno.test("grpoLoss reports clip fractions, ratio range, KL and entropy means over real tokens", () => {
  const s = grpoLoss(makeInputs(), PAPER).statistics;
  assert.equal(s.tokens, 6);
  close(s.clipFractionHigh, 1 / 6);
  close(s.clipFractionLow, 1 / 6);
  close(s.clipFractionDual, 1 / 6);
  close(s.ratioMin, 0.5);
  close(s.ratioMax, 4);
  close(s.ratioMean, (1.1 + 1.5 + 0.5 + 2 + 4 + 0.9) / 6);
  close(s.entropyMean!, 21 / 6);
  assert.ok(s.klMean > 0);
});

Deno.test("grpoLoss gradient matches finite differences of the loss for each aggregation mode", () => {
  for (
    const aggregation of ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"] as const
  ) {
    const options = { ...PAPER, aggregation };
    const inputs = makeInputs();
    const r = grpoLoss(inputs, options);
    const h = 1e-6;
    inputs.mask.values.forEach((m, k) => {
      if (m === 0) return assert.equal(r.gradLogp[k], 0);
      const bump = (d: number): TokenBatch => {
        const values = inputs.logp.values.slice();
        values[k] = values[k]! + d;
        return { ...inputs.logp, values };
      };
      const fd = (grpoLoss({ ...inputs, logp: bump(h) }, options).loss -
        grpoLoss({ ...inputs, logp: bump(-h) }, options).loss) / (2 * h);
      close(r.gradLogp[k]!, fd, 1e-7);
    });
  }
});

Deno.test("grpoLoss with klCoef 0 needs no reference log-probs and reports zero KL", () => {
  const r = grpoLoss({ ...makeInputs(), refLogp: undefined }, { ...PAPER, klCoef: 0 });
  assert.equal(r.klLoss, 0);
  assert.equal(r.statistics.klMean, 0);
  close(r.loss, 2.95 / 6);
});

Deno.test("grpoLoss refuses a non-zero klCoef without reference log-probs", () => {
  assert.throws(() => grpoLoss({ ...makeInputs(), refLogp: undefined }, PAPER), /refLogp/);
});

Deno.test("micro-batch losses and gradients with mini-batch weights sum to the mini-batch's", () => {
  for (
    const aggregation of ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"] as const
  ) {
    const options = { ...PAPER, aggregation };
    const inputs = makeInputs();
    const full = grpoLoss(inputs, options);
    const [mini] = miniBatchPlan(3, 3, 2);
    const weights = microBatchWeights(inputs.mask, mini!.microBatches, aggregation, 4);
    let loss = 0;
    const grads: Array<number> = [];
    mini!.microBatches.forEach((range, j) => {
      const part = grpoLoss(
        {
          logp: sliceRows(inputs.logp, range),
          oldLogp: sliceRows(inputs.oldLogp, range),
          refLogp: sliceRows(inputs.refLogp!, range),
          advantages: inputs.advantages.slice(range.start, range.end),
          mask: sliceRows(inputs.mask, range),
          entropy: undefined,
        },
        options,
        weights[j],
      );
      loss += part.loss;
      grads.push(...part.gradLogp);
    });
    close(loss, full.loss, 1e-12);
    grads.forEach((g, k) => close(g, full.gradLogp[k]!, 1e-15));
  }
});
