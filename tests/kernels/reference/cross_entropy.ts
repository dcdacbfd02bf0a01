/**
 * float64 references of the softmax statistics, cross-entropy and their logit gradients.
 *
 * @module
 */

/** u32 target that marks an ignored row (same value as the op's IGNORE_INDEX). */
export const IGNORE = 0xffffffff;

/** Per-row lse, target log-prob (0 when ignored) and entropy of softmax(logits / temperature). */
export const tokenStatsRef = (
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  rows: number,
  vocab: number,
  temperature = 1,
): { lse: Float64Array; logp: Float64Array; entropy: Float64Array } => {
  const lse = new Float64Array(rows);
  const logp = new Float64Array(rows);
  const entropy = new Float64Array(rows);
  for (let n = 0; n < rows; n++) {
    const z = Array.from({ length: vocab }, (_, v) => logits[n * vocab + v]! / temperature);
    const m = Math.max(...z);
    const s = z.reduce((a, zi) => a + Math.exp(zi - m), 0);
    lse[n] = m + Math.log(s);
    // p·z → 0 as z → −∞: zero-probability (masked) tokens add nothing.
    const pz = (zi: number) => (zi === -Infinity ? 0 : Math.exp(zi - lse[n]!) * zi);
    entropy[n] = lse[n]! - z.reduce((a, zi) => a + pz(zi), 0);
    const t = targets[n]!;
    logp[n] = t === IGNORE ? 0 : z[t]! - lse[n]!;
  }
  return { lse, logp, entropy };
};

/** Mean of −logp over rows whose target is not IGNORE, and how many rows that is. */
export const meanCrossEntropyRef = (
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  rows: number,
  vocab: number,
  temperature = 1,
): { loss: number; count: number } => {
  const { logp } = tokenStatsRef(logits, targets, rows, vocab, temperature);
  let sum = 0;
  let count = 0;
  for (let n = 0; n < rows; n++) {
    if (targets[n] === IGNORE) continue;
    sum -= logp[n]!;
    count++;
  }
  return { loss: count === 0 ? 0 : sum / count, count };
};

/** d(Σ_n coef[n] · logp[n]) / d logits, analytically: coef[n] · (onehot − p) / temperature. */
export const logpGradientRef = (
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  coef: ArrayLike<number>,
  rows: number,
  vocab: number,
  temperature = 1,
): Float64Array => {
  const { lse } = tokenStatsRef(logits, targets, rows, vocab, temperature);
  const grad = new Float64Array(rows * vocab);
  for (let n = 0; n < rows; n++) {
    const t = targets[n]!;
    if (t === IGNORE) continue;
    for (let v = 0; v < vocab; v++) {
      const p = Math.exp(logits[n * vocab + v]! / temperature - lse[n]!);
      grad[n * vocab + v] = (coef[n]! * ((v === t ? 1 : 0) - p)) / temperature;
    }
  }
  return grad;
};
