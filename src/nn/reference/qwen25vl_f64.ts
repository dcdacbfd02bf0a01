/**
 * A float64 reference of the whole Qwen2.5-VL forward pass (vision tower with window attention,
 * patch merger, M-RoPE decoder, LM head), written from the facts in the upstream modeling code.
 * It is slow and exists to check the GPU model: logits of both must agree.
 *
 * @module
 */
import type { Qwen25VLConfig } from "../config.ts";
import { type Grid, mropePositions, visionRotaryPositions, windowIndex } from "../positions.ts";
import { addInPlace, applyRotary, attention, gelu, linear, rmsNorm, silu } from "./math_f64.ts";

/** Weights by Hugging Face name (`visual.*`, `model.*`, `lm_head.weight`). */
export type WeightsF64 = ReadonlyMap<string, Float64Array>;

/** One prompt: token ids, and for an image its patches and grid. */
export interface ReferenceInput {
  readonly inputIds: ReadonlyArray<number>;
  readonly image?: {
    /** [gridT·gridH·gridW, C·temporalPatch·patch²] as the image processor produces. */
    readonly pixelValues: ArrayLike<number>;
    readonly grid: Grid;
  };
}

const weight = (w: WeightsF64, name: string): Float64Array => {
  const t = w.get(name);
  if (t === undefined) throw new Error(`reference: missing tensor ${name}`);
  return t;
};

/** Splits row-major [n, segments·width] into per-segment attention inputs (no copy of rows). */
const column = (x: Float64Array, n: number, width: number, from: number, count: number) => {
  const out = new Float64Array(n * count);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < count; c++) out[i * count + c] = x[i * width + from + c]!;
  }
  return out;
};

/** Vision tower + merger: returns [imageTokens, out_hidden_size] in the processor's token order. */
export const referenceVision = (
  config: Qwen25VLConfig,
  w: WeightsF64,
  pixelValues: ArrayLike<number>,
  grid: Grid,
): Float64Array => {
  const v = config.vision_config;
  const d = v.hidden_size;
  const heads = v.num_heads;
  const hd = d / heads;
  const m = v.spatial_merge_size;
  const unit = m * m;
  const n = grid[0] * grid[1] * grid[2];
  const patchDim = v.in_chans * v.temporal_patch_size * v.patch_size ** 2;
  const pixels = Float64Array.from(pixelValues);
  const embedded = linear(pixels, n, weight(w, "visual.patch_embed.proj.weight"), d, patchDim);

  // 2-D rotary tables: per patch [row·f, col·f] (hd/2), duplicated to hd.
  const pos = visionRotaryPositions(grid, m);
  const quarter = hd / 4;
  const invFreq = Array.from({ length: quarter }, (_, i) => 1 / 10000 ** ((2 * i) / (hd / 2)));
  const windows = windowIndex(grid, v.window_size, m, v.patch_size);
  // Permute patches by merge groups into window order.
  const x = new Float64Array(n * d);
  const cos = new Float64Array(n * hd);
  const sin = new Float64Array(n * hd);
  windows.order.forEach((token, j) => {
    for (let u = 0; u < unit; u++) {
      const src = token * unit + u;
      const dst = j * unit + u;
      x.set(embedded.subarray(src * d, (src + 1) * d), dst * d);
      for (let c = 0; c < hd; c++) {
        const f = c % (hd / 2);
        const angle = f < quarter
          ? pos[2 * src]! * invFreq[f]!
          : pos[2 * src + 1]! * invFreq[f - quarter]!;
        cos[dst * hd + c] = Math.cos(angle);
        sin[dst * hd + c] = Math.sin(angle);
      }
    }
  });
  const segmentOf = (bounds: Int32Array) => {
    const seg = new Int32Array(n);
    for (let s = 0; s + 1 < bounds.length; s++) seg.fill(s, bounds[s]!, bounds[s + 1]!);
    return seg;
  };
  const windowSegment = segmentOf(windows.cuWindowSeqlens);

  for (let b = 0; b < v.depth; b++) {
    const p = `visual.blocks.${b}`;
    const full = v.fullatt_block_indexes.includes(b);
    const h = rmsNorm(x, d, weight(w, `${p}.norm1.weight`), 1e-6);
    const qkv = linear(
      h,
      n,
      weight(w, `${p}.attn.qkv.weight`),
      3 * d,
      d,
      weight(w, `${p}.attn.qkv.bias`),
    );
    const q = column(qkv, n, 3 * d, 0, d);
    const k = column(qkv, n, 3 * d, d, d);
    const val = column(qkv, n, 3 * d, 2 * d, d);
    applyRotary(q, n, heads, hd, cos, sin);
    applyRotary(k, n, heads, hd, cos, sin);
    const visible = full
      ? () => true
      : (i: number, j: number) => windowSegment[i] === windowSegment[j];
    const att = attention(q, k, val, n, n, heads, heads, hd, visible);
    const proj = linear(
      att,
      n,
      weight(w, `${p}.attn.proj.weight`),
      d,
      d,
      weight(w, `${p}.attn.proj.bias`),
    );
    addInPlace(x, proj);
    const h2 = rmsNorm(x, d, weight(w, `${p}.norm2.weight`), 1e-6);
    const inter = v.intermediate_size;
    const gate = linear(
      h2,
      n,
      weight(w, `${p}.mlp.gate_proj.weight`),
      inter,
      d,
      weight(w, `${p}.mlp.gate_proj.bias`),
    );
    const up = linear(
      h2,
      n,
      weight(w, `${p}.mlp.up_proj.weight`),
      inter,
      d,
      weight(w, `${p}.mlp.up_proj.bias`),
    );
    for (let i = 0; i < gate.length; i++) gate[i] = silu(gate[i]!) * up[i]!;
    const down = linear(
      gate,
      n,
      weight(w, `${p}.mlp.down_proj.weight`),
      d,
      inter,
      weight(w, `${p}.mlp.down_proj.bias`),
    );
    addInPlace(x, down);
  }

  const merged = n / unit;
  const normed = rmsNorm(x, d, weight(w, "visual.merger.ln_q.weight"), 1e-6);
  const hidden = linear(
    normed,
    merged,
    weight(w, "visual.merger.mlp.0.weight"),
    unit * d,
    unit * d,
    weight(w, "visual.merger.mlp.0.bias"),
  );
  for (let i = 0; i < hidden.length; i++) hidden[i] = gelu(hidden[i]!);
  const out = v.out_hidden_size;
  const windowed = linear(
    hidden,
    merged,
    weight(w, "visual.merger.mlp.2.weight"),
    out,
    unit * d,
    weight(w, "visual.merger.mlp.2.bias"),
  );
  // Undo the window permutation.
  const features = new Float64Array(merged * out);
  for (let token = 0; token < merged; token++) {
    const j = windows.inverse[token]!;
    features.set(windowed.subarray(j * out, (j + 1) * out), token * out);
  }
  return features;
};

/** M-RoPE tables [T, hd]: channel c uses axis (chunk index mod 3) of `mrope_section`×2. */
export const mropeTables = (config: Qwen25VLConfig, ids: Int32Array, T: number) => {
  const hd = config.hidden_size / config.num_attention_heads;
  const half = hd / 2;
  const invFreq = Array.from({ length: half }, (_, i) => 1 / config.rope_theta ** ((2 * i) / hd));
  const sections = [...config.rope_scaling.mrope_section, ...config.rope_scaling.mrope_section];
  const axisOf = new Int32Array(hd);
  let c = 0;
  sections.forEach((len, chunk) => {
    for (let k = 0; k < len; k++) axisOf[c++] = chunk % 3;
  });
  const cos = new Float64Array(T * hd);
  const sin = new Float64Array(T * hd);
  for (let t = 0; t < T; t++) {
    for (let ch = 0; ch < hd; ch++) {
      const angle = ids[axisOf[ch]! * T + t]! * invFreq[ch % half]!;
      cos[t * hd + ch] = Math.cos(angle);
      sin[t * hd + ch] = Math.sin(angle);
    }
  }
  return { cos, sin };
};

/** Logits [T, vocab] of the whole model for one prompt (causal over all positions). */
export const referenceForward = (
  config: Qwen25VLConfig,
  w: WeightsF64,
  input: ReferenceInput,
): Float64Array => {
  const T = input.inputIds.length;
  const H = config.hidden_size;
  const x = new Float64Array(T * H);
  const embed = weight(w, "model.embed_tokens.weight");
  input.inputIds.forEach((id, t) => x.set(embed.subarray(id * H, (id + 1) * H), t * H));
  const grids: Grid[] = [];
  if (input.image !== undefined) {
    const features = referenceVision(config, w, input.image.pixelValues, input.image.grid);
    grids.push(input.image.grid);
    let k = 0;
    input.inputIds.forEach((id, t) => {
      if (id === config.image_token_id) {
        x.set(features.subarray(k * H, (k + 1) * H), t * H);
        k++;
      }
    });
    if (k * H !== features.length) {
      throw new Error(`reference: ${k} image tokens for ${features.length / H} image features`);
    }
  }
  const { ids } = mropePositions(
    input.inputIds,
    config.image_token_id,
    grids,
    config.vision_config.spatial_merge_size,
  );
  const { cos, sin } = mropeTables(config, ids, T);
  const hq = config.num_attention_heads;
  const hkv = config.num_key_value_heads;
  const hd = H / hq;
  const eps = config.rms_norm_eps;
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    const h = rmsNorm(x, H, weight(w, `${p}.input_layernorm.weight`), eps);
    const q = linear(
      h,
      T,
      weight(w, `${p}.self_attn.q_proj.weight`),
      hq * hd,
      H,
      weight(w, `${p}.self_attn.q_proj.bias`),
    );
    const k = linear(
      h,
      T,
      weight(w, `${p}.self_attn.k_proj.weight`),
      hkv * hd,
      H,
      weight(w, `${p}.self_attn.k_proj.bias`),
    );
    const v = linear(
      h,
      T,
      weight(w, `${p}.self_attn.v_proj.weight`),
      hkv * hd,
      H,
      weight(w, `${p}.self_attn.v_proj.bias`),
    );
    applyRotary(q, T, hq, hd, cos, sin);
    applyRotary(k, T, hkv, hd, cos, sin);
    const att = attention(q, k, v, T, T, hq, hkv, hd, (i, j) => j <= i);
    const o = linear(att, T, weight(w, `${p}.self_attn.o_proj.weight`), H, hq * hd);
    addInPlace(x, o);
    const h2 = rmsNorm(x, H, weight(w, `${p}.post_attention_layernorm.weight`), eps);
    const I = config.intermediate_size;
    const gate = linear(h2, T, weight(w, `${p}.mlp.gate_proj.weight`), I, H);
    const up = linear(h2, T, weight(w, `${p}.mlp.up_proj.weight`), I, H);
    for (let i = 0; i < gate.length; i++) gate[i] = silu(gate[i]!) * up[i]!;
    const down = linear(gate, T, weight(w, `${p}.mlp.down_proj.weight`), H, I);
    addInPlace(x, down);
  }
  const final = rmsNorm(x, H, weight(w, "model.norm.weight"), eps);
  const head = config.tie_word_embeddings ? embed : weight(w, "lm_head.weight");
  return linear(final, T, head, config.vocab_size, H);
};
