/**
 * The supervised loss of one micro-batch: forward, cross-entropy over the response tokens
 * (prompt and padding targets are ignored), and backward into the parameter gradients.
 *
 * The objective is the weighted mean `Σ w·CE / Σ w` over the batch's targets, with the weights of
 * `HostBatch.targetWeights` (all 1 unless the samples set `tokenWeights`: the plain mean).
 *
 * @module
 */
import type { Arena } from "../gpu/buffer_pool.ts";
import { crossEntropyForward, tokenLogProbsBackward } from "../gpu/ops/cross_entropy.ts";
import type { CommandRecorder } from "../gpu/recorder.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { HostBatch } from "./batch.ts";
import { recordForwardWithStats } from "./token_stats.ts";
import type { Vlm } from "./vlm.ts";

/**
 * d objective / d logp of every row: `−gradScale · w / Σ w` ([B·T], 0 for ignored rows).
 * Pure host math, so the weighting needs no kernel of its own.
 */
export const weightedLogProbGradient = (
  weights: Float32Array,
  gradScale: number,
): Float32Array<ArrayBuffer> => {
  const total = weights.reduce((s, w) => s + w, 0);
  const out = new Float32Array(weights.length);
  if (total <= 0) return out;
  for (let i = 0; i < weights.length; i++) out[i] = (-gradScale * weights[i]!) / total;
  return out;
};

/**
 * Records the micro-batch's forward, loss and backward; `gradScale` weights its gradient (1 / the
 * number of micro-batches of a step). Returns the [2] tensor [mean loss, tokens counted], the
 * unweighted mean so that runs with different weights report comparable losses.
 */
export const recordSftLoss = (
  rec: CommandRecorder,
  arena: Arena,
  vlm: Vlm,
  host: HostBatch,
  gradScale = 1,
): Tensor => {
  const { batch, logits, saved, stats } = recordForwardWithStats(rec, arena, vlm, host);
  const summary = arena.alloc([2]);
  crossEntropyForward(rec, logits, batch.targets, { ...stats, summary });
  const dlogp = arena.alloc([host.batch * host.length]);
  rec.runtime.write(dlogp, weightedLogProbGradient(host.targetWeights, gradScale));
  const dlogits = arena.alloc(logits.shape);
  tokenLogProbsBackward(rec, {
    logits,
    targets: batch.targets,
    lse: stats.lse,
    dlogp,
    dlogits,
  });
  vlm.backward(rec, arena, saved, dlogits);
  return summary;
};
