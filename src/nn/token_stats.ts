/**
 * The forward pass both training objectives start from: upload a packed batch, record the model's
 * forward, and allocate the per-row statistics of its target tokens that the cross-entropy ops
 * write. Callers record the op they need (mean cross-entropy for SFT, tempered log-probs for GRPO).
 *
 * @module
 */
import type { Arena } from "../gpu/buffer_pool.ts";
import type { TokenStats } from "../gpu/ops/cross_entropy.ts";
import type { CommandRecorder } from "../gpu/recorder.ts";
import type { HostBatch } from "./batch.ts";
import type { Vlm } from "./vlm.ts";

/** Records `vlm`'s forward on `host`; returns the device batch, logits, saved activations and [B·T] stats. */
export const recordForwardWithStats = (
  rec: CommandRecorder,
  arena: Arena,
  vlm: Vlm,
  host: HostBatch,
) => {
  const batch = vlm.upload(arena, host);
  const { logits, saved } = vlm.forward(rec, arena, batch);
  const rows = host.batch * host.length;
  const stats: TokenStats = {
    lse: arena.alloc([rows]),
    logp: arena.alloc([rows]),
    entropy: arena.alloc([rows]),
  };
  return { batch, logits, saved, stats };
};
