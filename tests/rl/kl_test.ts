import assert from "node:assert/strict";
import { K3_OUTPUT_CLAMP, tokenKl } from "../../src/rl/kl.ts";

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

Deno.test("low_var_kl of p = 0.5 against ref = 0.25 is 0.5 + ln 2 − 1 with gradient 0.5", () => {
  const k = tokenKl("low_var_kl", Math.log(0.5), Math.log(0.25));
  close(k.value, 0.5 + Math.LN2 - 1);
  close(k.gradLogp, 0.5);
});

Deno.test("low_var_kl of p = 0.25 against ref = 0.5 is 2 − ln 2 − 1 with gradient −1", () => {
  const k = tokenKl("low_var_kl", Math.log(0.25), Math.log(0.5));
  close(k.value, 2 - Math.LN2 - 1);
  close(k.gradLogp, -1);
});

Deno.test("low_var_kl is zero with zero gradient when policy and reference agree", () => {
  const k = tokenKl("low_var_kl", -3.2, -3.2);
  assert.equal(k.value, 0);
  assert.equal(k.gradLogp, 0);
});

Deno.test("low_var_kl clamps its value at 10 and stops the gradient there", () => {
  // x = logRef − logp = 5: e^5 − 6 ≈ 142 > 10.
  const k = tokenKl("low_var_kl", -6, -1);
  assert.equal(k.value, K3_OUTPUT_CLAMP);
  assert.equal(k.gradLogp, 0);
});

Deno.test("low_var_kl stays finite when the log-ratio is beyond its ±20 input clamp", () => {
  for (const [logp, ref] of [[-100, 0], [0, -100]] as const) {
    const k = tokenKl("low_var_kl", logp, ref);
    assert.equal(k.value, K3_OUTPUT_CLAMP);
    assert.equal(k.gradLogp, 0);
  }
});

Deno.test("low_var_kl gradient matches a central finite difference inside the clamps", () => {
  const h = 1e-6;
  for (const [logp, ref] of [[-1, -1.7], [-2, -0.5], [-0.1, -0.3]] as const) {
    const fd = (tokenKl("low_var_kl", logp + h, ref).value -
      tokenKl("low_var_kl", logp - h, ref).value) / (2 * h);
    close(tokenKl("low_var_kl", logp, ref).gradLogp, fd, 1e-6);
  }
});

Deno.test("kl, abs and mse estimators give k1, |k1| and k1²/2 with their gradients", () => {
  const k1 = tokenKl("kl", -1, -1.5);
  close(k1.value, 0.5);
  assert.equal(k1.gradLogp, 1);
  const abs = tokenKl("abs", -1.5, -1);
  close(abs.value, 0.5);
  assert.equal(abs.gradLogp, -1);
  const mse = tokenKl("mse", -1, -1.5);
  close(mse.value, 0.125);
  close(mse.gradLogp, 0.5);
});
