/**
 * The learning-rate schedule of the GRPO actor: linear warm-up over `warmupSteps` optimizer
 * steps, then constant (the paper uses a constant 1e-6 with no warm-up).
 *
 * @module
 */

/**
 * Learning rate of 0-based optimizer step `step`: `lr · (step + 1) / warmupSteps` during
 * warm-up, `lr` afterwards.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { learningRateAt } from "./schedule.ts";
 * assert.equal(learningRateAt(0, { lr: 1e-3, warmupSteps: 4 }), 2.5e-4);
 * assert.equal(learningRateAt(10, { lr: 1e-3, warmupSteps: 4 }), 1e-3);
 * ```
 */
export const learningRateAt = (
  step: number,
  options: { readonly lr: number; readonly warmupSteps: number },
): number => {
  if (!(Number.isInteger(step) && step >= 0)) {
    throw new RangeError(`learningRateAt: step must be a non-negative integer, got ${step}`);
  }
  return step < options.warmupSteps ? options.lr * (step + 1) / options.warmupSteps : options.lr;
};
