/**
 * Per-token KL estimators between the policy and the frozen reference, with the clamps of the
 * paper's code (EasyR1 `compute_kl`). With `x = logRef − logp`:
 *
 * ```
 * kl         (k1) = logp − logRef
 * abs             = |logp − logRef|
 * mse        (k2) = ½ (logp − logRef)²
 * low_var_kl (k3) = clamp(exp(x') − x' − 1, −10, 10),  x' = clamp(x, −20, 20)
 * ```
 *
 * Each also gives d(estimate)/d(logp) for the backward kernel; a clamp that bites zeroes it.
 *
 * @module
 */

/** The estimators the trainer can put in its KL loss; names follow EasyR1's `kl_penalty`. */
export const KL_ESTIMATORS = ["kl", "abs", "mse", "low_var_kl"] as const;

/** One of {@link KL_ESTIMATORS}. */
export type KlEstimator = typeof KL_ESTIMATORS[number];

/** k3's input clamp on log(π_ref/π_θ). */
export const K3_INPUT_CLAMP = 20;
/** k3's output clamp. k3 ≥ 0, so only the upper bound can bite. */
export const K3_OUTPUT_CLAMP = 10;

/** One token's KL estimate and its derivative with respect to the policy log-prob. */
export interface TokenKl {
  readonly value: number;
  readonly gradLogp: number;
}

/**
 * KL estimate of one token.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenKl } from "./kl.ts";
 * const k = tokenKl("low_var_kl", Math.log(0.5), Math.log(0.25));
 * assert.ok(Math.abs(k.value - (0.5 + Math.log(2) - 1)) < 1e-12);
 * ```
 */
export const tokenKl = (estimator: KlEstimator, logp: number, logRef: number): TokenKl => {
  const d = logp - logRef;
  switch (estimator) {
    case "kl":
      return { value: d, gradLogp: 1 };
    case "abs":
      return { value: Math.abs(d), gradLogp: Math.sign(d) };
    case "mse":
      return { value: 0.5 * d * d, gradLogp: d };
    case "low_var_kl": {
      const x = -d;
      const xc = Math.min(K3_INPUT_CLAMP, Math.max(-K3_INPUT_CLAMP, x));
      const raw = Math.exp(xc) - xc - 1;
      const value = Math.min(K3_OUTPUT_CLAMP, Math.max(-K3_OUTPUT_CLAMP, raw));
      // dk3/dlogp = −(e^x − 1) when neither clamp holds the value fixed.
      const free = xc === x && value === raw;
      return { value, gradLogp: free ? 1 - Math.exp(xc) : 0 };
    }
  }
};
