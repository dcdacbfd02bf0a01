/**
 * The `update` stage: GRPO on the GPU. Rollouts with their group advantages become teacher-forced
 * batches [prompt + response]; per mini-batch the policy's per-token log-probs, the frozen
 * reference's, and the rollout-time policy's ("old", recomputed after the rollout) feed the
 * dual-clip PPO + KL loss kernel, whose gradient flows back through the model; AdamW applies one
 * NaN-guarded update per mini-batch (gradients accumulated over micro-batches).
 *
 * @module
 */
import { Context, Effect, Layer } from "effect";
import { Arena } from "../gpu/buffer_pool.ts";
import { tokenLogProbs, tokenLogProbsBackward } from "../gpu/ops/cross_entropy.ts";
import {
  GPU_KL_ESTIMATORS,
  GRPO_STAT_COUNT,
  grpoLossGpu,
  grpoLossPartialRows,
  type GrpoStatistics,
  grpoStatistics,
} from "../gpu/ops/grpo_loss.ts";
import type { CommandRecorder } from "../gpu/recorder.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { type HostBatch, IGNORE_TARGET, packBatch } from "../nn/batch.ts";
import { recordForwardWithStats } from "../nn/token_stats.ts";
import { optimizerStep } from "../nn/train_step.ts";
import type { Vlm } from "../nn/vlm.ts";
import { type AggregationMode, aggregationWeights } from "../rl/aggregation.ts";
import type { Rollout } from "./reason.ts";
import { Policy } from "./policy.ts";

/** A rollout with its GRPO advantage. */
export interface AdvantagedRollout extends Rollout {
  readonly advantage: number;
}

/** The GRPO settings the update needs. */
export interface UpdateOptions {
  readonly clipLow: number;
  readonly clipHigh: number;
  readonly dualClip: number;
  readonly klCoef: number;
  readonly klEstimator: typeof GPU_KL_ESTIMATORS[number];
  readonly aggregation: AggregationMode;
  /** L_max of Dr.GRPO's aggregation. */
  readonly maxResponseLength: number;
  /** Responses per optimizer update. */
  readonly miniBatch: number;
  /** Responses per forward/backward. */
  readonly microBatch: number;
  /** Rollout temperature: log-probs are of logits / temperature, as in the paper's code. */
  readonly temperature: number;
}

/** What one optimizer update did. */
export interface UpdateResult {
  readonly applied: boolean;
  readonly gradNorm: number;
  readonly statistics: GrpoStatistics;
  readonly tokens: number;
  readonly waitSeconds: number;
}

/** A micro-batch on the host: the packed sequences and its per-row GRPO inputs. */
interface HostMicroBatch {
  readonly batch: HostBatch;
  readonly advantage: Float32Array<ArrayBuffer>;
  readonly mask: Float32Array<ArrayBuffer>;
  readonly weight: Float32Array<ArrayBuffer>;
}

/**
 * Packs a mini-batch into micro-batches with aggregation weights computed over the whole
 * mini-batch (so micro-batch accumulation adds up to the mini-batch's loss exactly).
 */
const hostMiniBatch = (
  vlm: Vlm,
  rollouts: ReadonlyArray<AdvantagedRollout>,
  o: UpdateOptions,
  padId: number,
): HostMicroBatch[] => {
  const lengths = rollouts.map((r) => r.tokens.length);
  const cols = Math.max(1, ...lengths);
  const mask = new Float64Array(rollouts.length * cols);
  lengths.forEach((n, i) => mask.fill(1, i * cols, i * cols + n));
  const weights = aggregationWeights(
    { rows: rollouts.length, cols, values: mask },
    o.aggregation,
    o.maxResponseLength,
  );
  const out: HostMicroBatch[] = [];
  for (let start = 0; start < rollouts.length; start += o.microBatch) {
    const slice = rollouts.slice(start, start + o.microBatch);
    const batch = packBatch(
      vlm.config,
      slice.map((r) => ({
        tokens: [...r.example.promptTokens, ...r.tokens],
        image: r.example.image,
        responseStart: r.example.promptTokens.length,
      })),
      padId,
    );
    const rows = batch.batch * batch.length;
    const advantage = new Float32Array(rows);
    const rowMask = new Float32Array(rows);
    const weight = new Float32Array(rows);
    slice.forEach((r, b) => {
      // Row t predicts token t+1: response token k sits at row prompt + k − 1.
      const first = r.example.promptTokens.length - 1;
      for (let k = 0; k < r.tokens.length; k++) {
        const row = b * batch.length + first + k;
        if (batch.targets[row] === IGNORE_TARGET) continue;
        advantage[row] = r.advantage;
        rowMask[row] = 1;
        weight[row] = weights[(start + b) * cols + k]!;
      }
    });
    out.push({ batch, advantage, mask: rowMask, weight });
  }
  return out;
};

/** Records per-row log-probs of the targets [rows] (and lse, entropy) under `vlm`. */
const recordLogProbs = (
  rec: CommandRecorder,
  arena: Arena,
  vlm: Vlm,
  host: HostBatch,
  temperature: number,
) => {
  const { batch, logits, saved, stats } = recordForwardWithStats(rec, arena, vlm, host);
  tokenLogProbs(rec, logits, batch.targets, stats, { temperature });
  return { batch, logits, saved, ...stats };
};

const upload = (vlm: Vlm, arena: Arena, values: Float32Array<ArrayBuffer>): Tensor => {
  const t = arena.alloc([values.length]);
  vlm.runtime.write(t, values);
  return t;
};

/** The update stage as a service. */
export class Updater extends Context.Service<Updater, {
  readonly update: (
    rollouts: ReadonlyArray<AdvantagedRollout>,
    lr: number,
    options: UpdateOptions,
  ) => Effect.Effect<ReadonlyArray<UpdateResult>>;
}>()("spatial-thinker/stages/Updater") {
  /** GRPO on the policy's model. */
  static readonly layer: Layer.Layer<Updater, never, Policy> = Layer.effect(
    Updater,
    Effect.gen(function* () {
      const { setup, reference, optimizer } = yield* Policy;
      const vlm = setup.vlm;
      const padId = setup.generation.pad_token_id;
      const update = Effect.fn("Updater.update")(function* (
        rollouts: ReadonlyArray<AdvantagedRollout>,
        lr: number,
        o: UpdateOptions,
      ) {
        const miniBatches: HostMicroBatch[][] = [];
        for (let i = 0; i < rollouts.length; i += o.miniBatch) {
          miniBatches.push(hostMiniBatch(vlm, rollouts.slice(i, i + o.miniBatch), o, padId));
        }
        // Old log-probs of later mini-batches must come from the weights before the first update:
        // record them up front into tensors that live for the whole step.
        const stepArena = new Arena(vlm.runtime.pool);
        const oldLogp = new Map<HostMicroBatch, Tensor>();
        const results: UpdateResult[] = [];
        for (const [m, micros] of miniBatches.entries()) {
          const arena = new Arena(vlm.runtime.pool);
          const stats = arena.alloc([GRPO_STAT_COUNT]);
          const outcome = yield* Effect.promise(() =>
            optimizerStep(vlm, optimizer, arena, lr, (rec) => {
              if (m === 0) {
                for (const later of miniBatches.slice(1).flat()) {
                  const old = recordLogProbs(rec, arena, vlm, later.batch, o.temperature);
                  const kept = stepArena.alloc(old.logp.shape);
                  rec.copy(old.logp, kept);
                  oldLogp.set(later, kept);
                }
              }
              micros.forEach((micro, k) => {
                const current = recordLogProbs(rec, arena, vlm, micro.batch, o.temperature);
                const rows = current.logp.shape[0]!;
                // The first mini-batch runs on the rollout-time weights: its old log-probs are the
                // current ones (held constant by the loss), exactly what a separate pass would give.
                const old = oldLogp.get(micro) ?? current.logp;
                const refLogp = reference !== undefined && o.klCoef !== 0
                  ? recordLogProbs(rec, arena, reference, micro.batch, o.temperature).logp
                  : undefined;
                const dlogp = arena.alloc([rows]);
                grpoLossGpu(rec, {
                  logp: current.logp,
                  oldLogp: old,
                  refLogp,
                  advantage: upload(vlm, arena, micro.advantage),
                  mask: upload(vlm, arena, micro.mask),
                  weight: upload(vlm, arena, micro.weight),
                  entropy: current.entropy,
                }, {
                  dlogp,
                  tokenLoss: arena.alloc([rows]),
                  partials: arena.alloc([grpoLossPartialRows(rows), GRPO_STAT_COUNT]),
                  stats,
                }, {
                  clipLow: o.clipLow,
                  clipHigh: o.clipHigh,
                  dualClip: o.dualClip,
                  klCoef: o.klCoef,
                  klEstimator: o.klEstimator,
                  accumulate: k > 0,
                });
                const dlogits = arena.alloc(current.logits.shape);
                tokenLogProbsBackward(rec, {
                  logits: current.logits,
                  targets: current.batch.targets,
                  lse: current.lse,
                  dlogp,
                  dlogits,
                }, { temperature: o.temperature });
                vlm.backward(rec, arena, current.saved, dlogits);
              });
              return [stats];
            })
          );
          const tokens = micros.reduce((s, x) => s + x.mask.reduce((a, b) => a + b, 0), 0);
          results.push({
            applied: outcome.applied,
            gradNorm: outcome.gradNorm,
            statistics: grpoStatistics(Array.from(outcome.readouts[0]!), true),
            tokens,
            waitSeconds: outcome.waitSeconds,
          });
        }
        stepArena.reset();
        return results;
      });
      return Updater.of({ update });
    }),
  );
}
