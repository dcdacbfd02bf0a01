/**
 * float64 reference of one AdamW step (PyTorch's torch.optim.AdamW formulation).
 *
 * @module
 */

/** Hyper-parameters of one step; the gradient is multiplied by gradScale·clipScale first. */
export interface AdamWRefOptions {
  readonly lr: number;
  readonly step: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly gradScale: number;
  readonly clipScale: number;
}

/** Updates p, m, v in place: decoupled decay, moment updates, bias-corrected step. */
export const adamwRef = (
  p: Float64Array,
  grad: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
  o: AdamWRefOptions,
): void => {
  const bc1 = 1 - o.beta1 ** o.step;
  const bc2 = 1 - o.beta2 ** o.step;
  for (let i = 0; i < p.length; i++) {
    const g = grad[i]! * o.gradScale * o.clipScale;
    m[i] = o.beta1 * m[i]! + (1 - o.beta1) * g;
    v[i] = o.beta2 * v[i]! + (1 - o.beta2) * g * g;
    p[i] = p[i]! * (1 - o.lr * o.weightDecay);
    p[i] = p[i]! - (o.lr / bc1) * m[i]! / (Math.sqrt(v[i]! / bc2) + o.eps);
  }
};
