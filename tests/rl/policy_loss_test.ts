import assert from "node:assert/strict";
import { tokenPolicyLoss } from "../../src/rl/policy_loss.ts";

const PAPER = { clipLow: 0.2, clipHigh: 0.3, dualClip: 3 } as const;
const at = (ratio: number, advantage: number) =>
  tokenPolicyLoss(Math.log(ratio) - 0.7, -0.7, advantage, PAPER);
const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

Deno.test("tokenPolicyLoss leaves a positive-advantage ratio inside the band unclipped", () => {
  const t = at(1.1, 2);
  assert.equal(t.branch, "none");
  close(t.loss, -2.2);
  close(t.gradLogp, -2.2);
});

Deno.test("tokenPolicyLoss clips a positive-advantage ratio above 1 + ε_high", () => {
  const t = at(1.5, 2);
  assert.equal(t.branch, "high");
  close(t.loss, -2.6);
  assert.equal(t.gradLogp, 0);
});

Deno.test("tokenPolicyLoss does not clip a positive-advantage ratio below 1 − ε_low", () => {
  const t = at(0.5, 2);
  assert.equal(t.branch, "none");
  close(t.loss, -1);
  close(t.gradLogp, -1);
});

Deno.test("tokenPolicyLoss clips a negative-advantage ratio below 1 − ε_low", () => {
  const t = at(0.5, -1);
  assert.equal(t.branch, "low");
  close(t.loss, 0.8);
  assert.equal(t.gradLogp, 0);
});

Deno.test("tokenPolicyLoss keeps a negative-advantage ratio between 1 + ε_high and c unclipped", () => {
  const t = at(2, -1);
  assert.equal(t.branch, "none");
  close(t.loss, 2);
  close(t.gradLogp, 2);
});

Deno.test("tokenPolicyLoss caps a negative-advantage ratio above c with the dual clip", () => {
  const t = at(4, -1.5);
  assert.equal(t.branch, "dual");
  close(t.loss, 4.5);
  assert.equal(t.gradLogp, 0);
});

Deno.test("tokenPolicyLoss gives zero loss and gradient for a zero advantage, even at huge ratios", () => {
  const t = tokenPolicyLoss(500, 0, 0, PAPER);
  assert.equal(t.loss, 0);
  assert.equal(t.gradLogp, 0);
  assert.ok(Number.isFinite(t.ratio));
});

Deno.test("tokenPolicyLoss matches the max/min form of EasyR1 on a grid of ratios and advantages", () => {
  for (const ratio of [0.05, 0.5, 0.79, 0.81, 1, 1.29, 1.31, 2, 2.99, 3.01, 10]) {
    for (const a of [-2, -0.3, 0.4, 1.7]) {
      const clipped = Math.min(1.3, Math.max(0.8, ratio));
      const lClip = Math.max(-a * ratio, -a * clipped);
      const expected = a < 0 ? Math.min(lClip, -a * 3) : lClip;
      close(at(ratio, a).loss, expected, 1e-12);
    }
  }
});

Deno.test("tokenPolicyLoss gradient matches a central finite difference on unclipped tokens", () => {
  const h = 1e-6;
  for (const [logp, old, a] of [[-1.2, -1.0, 0.8], [-0.4, -1.0, -0.6], [-2, -1.9, 1.3]] as const) {
    const t = tokenPolicyLoss(logp, old, a, PAPER);
    assert.equal(t.branch, "none");
    const fd = (tokenPolicyLoss(logp + h, old, a, PAPER).loss -
      tokenPolicyLoss(logp - h, old, a, PAPER).loss) / (2 * h);
    close(t.gradLogp, fd, 1e-6);
  }
});
