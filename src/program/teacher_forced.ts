/**
 * Teacher-forced passes for probes: the model's logits over every response token of a list of SFT
 * sequences, one forward and one readback per batch.
 *
 * @module
 */
import type { Arena } from "../gpu/buffer_pool.ts";
import { CommandRecorder } from "../gpu/recorder.ts";
import { packBatch, type SequenceSample } from "../nn/batch.ts";
import type { ModelSetup } from "../stages/model_setup.ts";

/** The logits that predict response token `k` of a sequence: `z[offset … offset + V)`. */
export interface ResponseLogits {
  readonly z: ArrayLike<number>;
  readonly offset: number;
}

/**
 * Runs `setup`'s model on `samples`, `batchSize` per forward, and calls `visit` with each sample and,
 * for every response token k (the prediction of `sample.tokens[responseStart + k]`), its logits.
 */
export const visitResponseLogits = async (
  setup: ModelSetup,
  arena: Arena,
  samples: ReadonlyArray<SequenceSample>,
  batchSize: number,
  visit: (sample: SequenceSample, logits: (k: number) => ResponseLogits) => void,
): Promise<void> => {
  const V = setup.config.vocab_size;
  for (let i = 0; i < samples.length; i += batchSize) {
    const batch = samples.slice(i, i + batchSize);
    const host = packBatch(setup.config, batch, setup.generation.pad_token_id);
    const rec = new CommandRecorder(setup.vlm.runtime, "teacher-forced-probe");
    const { logits } = setup.vlm.forward(rec, arena, setup.vlm.upload(arena, host));
    rec.read(logits);
    const { arrays } = await rec.submit().resolve();
    arena.reset();
    const z = arrays[0]!; // [B·T, V]
    batch.forEach((sample, b) =>
      visit(sample, (k) => ({ z, offset: (b * host.length + sample.responseStart + k - 1) * V }))
    );
  }
};
