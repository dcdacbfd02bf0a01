/**
 * Packing samples into the padded host arrays one forward/backward pass consumes: token ids,
 * M-RoPE positions, where image features go, per-sequence lengths, and per-token targets.
 * Pure host code; `uploadBatch` (in vlm.ts) moves the result to the GPU.
 *
 * @module
 */
import { IGNORE_INDEX } from "../gpu/ops/cross_entropy.ts";
import type { Qwen25VLConfig } from "./config.ts";
import type { ProcessedImage } from "./image_processor.ts";
import { mropePositions } from "./positions.ts";

/** Marks a target that contributes no loss (prompt tokens, padding). */
export const IGNORE_TARGET = IGNORE_INDEX;

/** One sequence: the full token ids (prompt + response), its image, and which tokens are learned. */
export interface SequenceSample {
  /** Prompt and response ids, the prompt's `<|image_pad|>` expanded to the image's token count. */
  readonly tokens: ReadonlyArray<number>;
  readonly image?: ProcessedImage;
  /** Tokens from this index on are the response: predicted (targets) and never image tokens. */
  readonly responseStart: number;
  /**
   * Loss weight of learning each token (aligned with `tokens`; only response tokens count).
   * Default 1 for every token: the plain mean cross-entropy.
   */
  readonly tokenWeights?: ReadonlyArray<number>;
}

/** A padded batch on the host. `B` sequences of `T` positions (the longest sequence). */
export interface HostBatch {
  readonly batch: number;
  readonly length: number;
  /** [B·T] token ids; padding uses `padId`. */
  readonly inputIds: Uint32Array<ArrayBuffer>;
  /** [3, B·T] M-RoPE positions (t, h, w rows), as f32 for the rotary kernel. */
  readonly positions: Float32Array<ArrayBuffer>;
  /** [B] number of real tokens per sequence (keys past it are masked). */
  readonly lengths: Uint32Array<ArrayBuffer>;
  /** [B·T] next-token targets: tokens[t+1] inside the response, else IGNORE_TARGET. */
  readonly targets: Uint32Array<ArrayBuffer>;
  /** Number of learned targets in the batch. */
  readonly targetCount: number;
  /** [B·T] loss weight of each row's target; 0 where the target is ignored. */
  readonly targetWeights: Float32Array<ArrayBuffer>;
  /** Images in batch order (one per sequence that has one). */
  readonly images: ReadonlyArray<ProcessedImage>;
  /** [imageTokens] rows of the flattened [B·T] sequence that take image features, in order. */
  readonly imageRows: Uint32Array<ArrayBuffer>;
}

/**
 * Pads and packs `samples`. Every image must have the same grid (one vision batch); the
 * `<|image_pad|>` runs must match each image's token count.
 */
export const packBatch = (
  config: Qwen25VLConfig,
  samples: ReadonlyArray<SequenceSample>,
  padId: number,
): HostBatch => {
  const B = samples.length;
  const T = Math.max(1, ...samples.map((s) => s.tokens.length));
  const inputIds = new Uint32Array(B * T).fill(padId);
  const positions = new Float32Array(3 * B * T);
  const lengths = new Uint32Array(B);
  const targets = new Uint32Array(B * T).fill(IGNORE_TARGET);
  const targetWeights = new Float32Array(B * T);
  const images: ProcessedImage[] = [];
  const imageRows: number[] = [];
  let targetCount = 0;
  const merge = config.vision_config.spatial_merge_size;
  samples.forEach((sample, b) => {
    const n = sample.tokens.length;
    lengths[b] = n;
    const grids = sample.image ? [sample.image.grid] : [];
    if (sample.image) images.push(sample.image);
    // Images live in the prompt: a pad token the model wrote in its response is plain text.
    const prompt = Math.min(sample.responseStart, n);
    const { ids, delta } = mropePositions(
      sample.tokens.slice(0, prompt),
      config.image_token_id,
      grids,
      merge,
    );
    for (let t = 0; t < T; t++) {
      const row = b * T + t;
      if (t < n) {
        const id = sample.tokens[t]!;
        inputIds[row] = id;
        if (t < prompt && id === config.image_token_id) imageRows.push(row);
        for (let axis = 0; axis < 3; axis++) {
          // Text after the prompt continues at position t + delta on every axis.
          positions[axis * B * T + row] = t < prompt ? ids[axis * prompt + t]! : t + delta;
        }
        if (t + 1 < n && t + 1 >= sample.responseStart) {
          targets[row] = sample.tokens[t + 1]!;
          targetWeights[row] = sample.tokenWeights?.[t + 1] ?? 1;
          targetCount++;
        }
      } else {
        // Padding continues the positions; its keys are masked by `lengths`.
        for (let axis = 0; axis < 3; axis++) {
          positions[axis * B * T + row] = positions[axis * B * T + row - 1]! + 1;
        }
      }
    }
  });
  const grid = images[0]?.grid;
  for (const image of images) {
    if (image.grid.join() !== grid!.join()) {
      throw new RangeError(`packBatch: images of grids ${grid} and ${image.grid} in one batch`);
    }
  }
  return {
    batch: B,
    length: T,
    inputIds,
    positions,
    lengths,
    targets,
    targetCount,
    targetWeights,
    images,
    imageRows: Uint32Array.from(imageRows),
  };
};
