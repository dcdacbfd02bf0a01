/**
 * The Qwen2.5-VL model assembled from its parts: token embedding, vision tower whose features
 * replace the `<|image_pad|>` embeddings, decoder layers, final norm and LM head (tied to the
 * embedding when the config says so). Forward records every activation the hand-written backward
 * needs; one training step is one command recorder and one submit.
 *
 * @module
 */
import type { Arena } from "../gpu/buffer_pool.ts";
import { embeddingBackward, embeddingForward } from "../gpu/ops/embedding.ts";
import { fill } from "../gpu/ops/fill.ts";
import { matmul } from "../gpu/ops/matmul.ts";
import { rmsNormBackward, rmsNormForward } from "../gpu/ops/rmsnorm.ts";
import { mropeTable } from "../gpu/ops/rope_tables.ts";
import { moveRows } from "../gpu/ops/rows.ts";
import type { CommandRecorder } from "../gpu/recorder.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { HostBatch } from "./batch.ts";
import { type Qwen25VLConfig, qwen25vlTensorShapes } from "./config.ts";
import {
  type DecoderCache,
  type DecoderContext,
  decoderLayerBackward,
  decoderLayerForward,
  type DecoderLayerSaved,
} from "./decoder.ts";
import { Parameters, type ParametersOptions } from "./parameters.ts";
import { visionBackward, type VisionContext, visionForward, type VisionSaved } from "./vision.ts";
import { visionInputs } from "./vision_inputs.ts";

/** A batch on the GPU (tensors from the step's arena). */
export interface DeviceBatch {
  readonly host: HostBatch;
  readonly inputIds: Tensor;
  readonly targets: Tensor;
  readonly decoder: DecoderContext;
  readonly vision?: {
    readonly ctx: VisionContext;
    readonly pixels: Tensor;
    /** [features] merged-token rows in window order, 0..n−1. */
    readonly featureRows: Tensor;
    /** [features] the sequence row each windowed feature goes to. */
    readonly sequenceRows: Tensor;
  };
}

/** What `backward` needs from `forward`. */
export interface ForwardSaved {
  readonly batch: DeviceBatch;
  readonly layers: ReadonlyArray<DecoderLayerSaved>;
  readonly vision?: VisionSaved;
  readonly xFinal: Tensor;
  readonly normed: Tensor;
  readonly rstdFinal: Tensor;
}

const upload = (
  rt: GpuRuntime,
  arena: Arena,
  data: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>,
  shape: ReadonlyArray<number>,
) => {
  const t = arena.alloc(shape, data instanceof Uint32Array ? "u32" : "f32");
  rt.write(t, data);
  return t;
};

/** The model: config, parameters on the GPU, and its forward/backward passes. */
export class Vlm {
  readonly config: Qwen25VLConfig;
  readonly params: Parameters;
  readonly runtime: GpuRuntime;

  /**
   * Uploads `weights` (f32 host arrays), or allocates zero-filled weights for the caller to fill
   * (`params.loadStored`) when `weights` is undefined. `options.weightsDtype` "bf16"/"f16" stores
   * the matrices in 16 bits for inference (half the GPU memory; forward and generation only — the
   * backward needs f32 weights); default f32.
   */
  constructor(
    rt: GpuRuntime,
    config: Qwen25VLConfig,
    weights: ReadonlyMap<string, Float32Array<ArrayBuffer>> | undefined,
    options: ParametersOptions = {},
  ) {
    this.runtime = rt;
    this.config = config;
    this.params = new Parameters(rt, qwen25vlTensorShapes(config), weights, options);
  }

  /** The LM head weight [vocab, hidden] (the embedding when tied). */
  get lmHead(): { readonly value: Tensor; readonly grad: Tensor } {
    return this.params.get(
      this.config.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight",
    );
  }

  /** Uploads a host batch into `arena` tensors (queued before the next submit). */
  upload(arena: Arena, host: HostBatch): DeviceBatch {
    const rt = this.runtime;
    const rows = host.batch * host.length;
    const c = this.config;
    const hd = c.hidden_size / c.num_attention_heads;
    const axis = (a: number) => host.positions.subarray(a * rows, (a + 1) * rows);
    const rotary = mropeTable(
      [axis(0), axis(1), axis(2)],
      hd,
      c.rope_theta,
      c.rope_scaling.mrope_section,
    );
    const decoder: DecoderContext = {
      batch: host.batch,
      length: host.length,
      rotary: upload(rt, arena, rotary, [1, rows, hd / 2, 2]),
      keyLengths: upload(rt, arena, host.lengths, [host.batch]),
    };
    const base = {
      host,
      inputIds: upload(rt, arena, host.inputIds, [rows]),
      targets: upload(rt, arena, host.targets, [rows]),
      decoder,
    };
    if (host.images.length === 0) return base;
    const vi = visionInputs(c, host.images);
    const v = c.vision_config;
    const vhd = v.hidden_size / v.num_heads;
    const R = vi.images * vi.patches;
    const perImage = vi.order.length;
    // Feature j of image i (window order) belongs at the row of that image's order[j]-th pad token.
    const sequenceRows = new Uint32Array(vi.images * perImage);
    for (let i = 0; i < vi.images; i++) {
      for (let j = 0; j < perImage; j++) {
        sequenceRows[i * perImage + j] = host.imageRows[i * perImage + vi.order[j]!]!;
      }
    }
    if (host.imageRows.length !== sequenceRows.length) {
      throw new RangeError(
        `upload: ${host.imageRows.length} image pad tokens for ${sequenceRows.length} features`,
      );
    }
    return {
      ...base,
      vision: {
        ctx: {
          images: vi.images,
          patches: vi.patches,
          windows: vi.windows,
          rotary: upload(rt, arena, vi.rotary, [1, vi.patches, vhd / 2, 2]),
          ...(vi.ragged === undefined ? {} : {
            ragged: {
              longest: vi.ragged.longest,
              rows: upload(rt, arena, Uint32Array.from({ length: R }, (_, r) => r), [R]),
              paddedRows: upload(rt, arena, vi.ragged.paddedRows, [R]),
              keyLengths: upload(rt, arena, vi.ragged.keyLengths, [vi.ragged.keyLengths.length]),
            },
          }),
        },
        pixels: upload(rt, arena, vi.pixels, [R, vi.pixels.length / R]),
        featureRows: upload(rt, arena, Uint32Array.from(sequenceRows, (_, j) => j), [
          sequenceRows.length,
        ]),
        sequenceRows: upload(rt, arena, sequenceRows, [sequenceRows.length]),
      },
    };
  }

  /** Token embeddings with the image features in place of the pad tokens: [B·T, H]. */
  #inputEmbeddings(rec: CommandRecorder, arena: Arena, batch: DeviceBatch) {
    const rows = batch.host.batch * batch.host.length;
    const x = arena.alloc([rows, this.config.hidden_size]);
    embeddingForward(rec, batch.inputIds, this.params.value("model.embed_tokens.weight"), x);
    if (batch.vision === undefined) return { x };
    const v = batch.vision;
    const out = visionForward(rec, arena, this.params, this.config, v.ctx, v.pixels);
    moveRows(rec, out.features, v.featureRows, v.sequenceRows, x);
    return { x, vision: out.saved };
  }

  /** The decoder stack and final norm over x [R, H]. */
  decode(rec: CommandRecorder, arena: Arena, ctx: DecoderContext, input: Tensor) {
    const c = this.config;
    const rows = ctx.batch * ctx.length;
    let x = input;
    const layers: DecoderLayerSaved[] = [];
    for (let l = 0; l < c.num_hidden_layers; l++) {
      const out = decoderLayerForward(rec, arena, this.params, c, l, ctx, x);
      layers.push(out.saved);
      x = out.y;
    }
    const normed = arena.alloc([rows, c.hidden_size]);
    const rstdFinal = arena.alloc([rows]);
    rmsNormForward(rec, {
      x,
      weight: this.params.value("model.norm.weight"),
      y: normed,
      rstd: rstdFinal,
    }, c.rms_norm_eps);
    return { layers, xFinal: x, normed, rstdFinal };
  }

  /** Records logits [N, vocab] = hidden [N, H] · headᵀ. */
  head(rec: CommandRecorder, arena: Arena, hidden: Tensor): Tensor {
    const logits = arena.alloc([hidden.shape[0]!, this.config.vocab_size]);
    matmul(rec, hidden, this.lmHead.value, logits, { layout: "NT" });
    return logits;
  }

  /** Records the forward pass; returns logits [B·T, vocab] and the saved activations. */
  forward(
    rec: CommandRecorder,
    arena: Arena,
    batch: DeviceBatch,
  ): { readonly logits: Tensor; readonly saved: ForwardSaved } {
    const { x, vision } = this.#inputEmbeddings(rec, arena, batch);
    const decoded = this.decode(rec, arena, batch.decoder, x);
    return {
      logits: this.head(rec, arena, decoded.normed),
      saved: { batch, ...decoded, ...(vision ? { vision } : {}) },
    };
  }

  /**
   * Records a prompt pass that fills `cache` (its rows = this batch's rows) and returns the
   * hidden state [B·T, H] after the final norm, for the caller to pick rows from.
   */
  prefill(rec: CommandRecorder, arena: Arena, batch: DeviceBatch, cache: DecoderCache): Tensor {
    const { x } = this.#inputEmbeddings(rec, arena, batch);
    return this.decode(rec, arena, { ...batch.decoder, cache }, x).normed;
  }

  /** Records the backward pass for dlogits [B·T, vocab]; accumulates every parameter gradient. */
  backward(rec: CommandRecorder, arena: Arena, s: ForwardSaved, dlogits: Tensor): void {
    const c = this.config;
    const rows = s.batch.host.batch * s.batch.host.length;
    const H = c.hidden_size;
    const head = this.lmHead;
    matmul(rec, dlogits, s.normed, head.grad, { layout: "TN", accumulate: true });
    const dNormed = arena.alloc([rows, H]);
    matmul(rec, dlogits, head.value, dNormed, { layout: "NN" });
    let dx = arena.alloc([rows, H]);
    const norm = this.params.get("model.norm.weight");
    rmsNormBackward(rec, arena, {
      x: s.xFinal,
      weight: norm.value,
      rstd: s.rstdFinal,
      dy: dNormed,
      dx,
      dweight: norm.grad,
    }, { accumulate: true });
    for (let l = c.num_hidden_layers - 1; l >= 0; l--) {
      dx = decoderLayerBackward(rec, arena, this.params, c, l, s.batch.decoder, s.layers[l]!, dx);
    }
    const v = s.batch.vision;
    if (v && s.vision) {
      // Image rows took vision features, not embeddings: route their gradient to the tower and
      // zero it before the embedding backward.
      const count = v.featureRows.shape[0]!;
      const dFeatures = arena.alloc([count, H]);
      moveRows(rec, dx, v.sequenceRows, v.featureRows, dFeatures);
      const zeros = arena.alloc([count, H]);
      fill(rec, zeros, 0);
      moveRows(rec, zeros, v.featureRows, v.sequenceRows, dx);
      visionBackward(rec, arena, this.params, c, v.ctx, s.vision, dFeatures);
    }
    embeddingBackward(rec, arena, {
      ids: s.batch.inputIds,
      dout: dx,
      dtable: this.params.grad("model.embed_tokens.weight"),
    }, { accumulate: true });
  }
}
