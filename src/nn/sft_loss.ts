/**
 * The supervised loss of one micro-batch: forward, mean cross-entropy over the response tokens
 * (prompt and padding targets are ignored), and backward into the parameter gradients.
 *
 * @module
 */
import type { Arena } from "../gpu/buffer_pool.ts";
import { crossEntropyBackward, crossEntropyForward } from "../gpu/ops/cross_entropy.ts";
import type { CommandRecorder } from "../gpu/recorder.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { HostBatch } from "./batch.ts";
import type { Vlm } from "./vlm.ts";

/**
 * Records the micro-batch's forward, loss and backward; `gradScale` weights its gradient (1 / the
 * number of micro-batches of a step). Returns the [2] tensor [mean loss, tokens counted].
 */
export const recordSftLoss = (
  rec: CommandRecorder,
  arena: Arena,
  vlm: Vlm,
  host: HostBatch,
  gradScale = 1,
): Tensor => {
  const batch = vlm.upload(arena, host);
  const { logits, saved } = vlm.forward(rec, arena, batch);
  const rows = host.batch * host.length;
  const stats = {
    lse: arena.alloc([rows]),
    logp: arena.alloc([rows]),
    entropy: arena.alloc([rows]),
    summary: arena.alloc([2]),
  };
  crossEntropyForward(rec, logits, batch.targets, stats);
  const dlogits = arena.alloc(logits.shape);
  crossEntropyBackward(rec, {
    logits,
    targets: batch.targets,
    lse: stats.lse,
    summary: stats.summary,
    dlogits,
  }, { gradScale });
  vlm.backward(rec, arena, saved, dlogits);
  return stats.summary;
};
