/**
 * Fused attention, forward and backward (kernels/attention_fwd.wgsl, kernels/attention_bwd.wgsl):
 * online softmax over key tiles, grouped-query heads, causal / prefix-LM / full masks, optional
 * per-sequence key lengths, no T×S matrix in memory in either direction.
 *
 * Layout: "bshd" (default) is [batch, position, head, head_dim]. It is what a QKV projection of
 * [B·T, C] activations produces, so the model needs no transpose before or after attention, and a
 * KV cache in this layout grows by writing rows at the end. "bhsd" ([batch, head, position,
 * head_dim]) is accepted too; both are addressed by strides in the same kernels.
 *
 * @module
 */
import { isCpuAdapter } from "../adapter.ts";
import { ShapeMismatch, TensorTooLarge } from "../errors.ts";
import type { CommandRecorder } from "../recorder.ts";
import { byteLength, describe, expectShape, type Tensor } from "../tensor.ts";
import { packParams } from "./dispatch.ts";

/** Which keys each query sees. */
export type AttentionMask =
  /** Query i sees keys j ≤ i + (S − T): causal, with the first S − T keys a KV-cache prefix. */
  | { readonly kind: "causal" }
  /** Every query sees every key (vision encoder). */
  | { readonly kind: "full" }
  /** Positions below `prefixLength` see each other fully; later ones are causal (image, then text). */
  | { readonly kind: "prefix"; readonly prefixLength: number };

/** Axis order of Q, K, V, O (and their gradients). */
export type AttentionLayout = "bshd" | "bhsd";

/** Options of `attentionForward` and `attentionBackward` (use the same for both). */
export interface AttentionOptions {
  readonly mask: AttentionMask;
  /** Default "bshd". */
  readonly layout?: AttentionLayout;
  /** S: keys in use, ≤ the K/V position capacity (a KV cache); default the capacity. */
  readonly keyCount?: number;
  /** [B] u32: keys at or past keyLengths[b] are padding for sequence b. */
  readonly keyLengths?: Tensor;
  /** Softmax scale; default 1/√D. */
  readonly scale?: number;
  /**
   * Invocations per workgroup, in [1, 256]. Default 64 for full attention; 16 for causal and
   * prefix masks, whose smaller row blocks skip more fully masked tiles (measured on lavapipe,
   * T = 512: causal forward −20%, backward −18% CPU time against 64); halved (down to 8) while
   * half a workgroup's rows would be idle (short sequences, decoding). The subgroup kernels on a
   * CPU adapter (forward and backward) default to 8 (one 8-lane subgroup; more workgroups balance
   * better over the CPU threads: lavapipe, T = 512, D = 64: causal −10% against 16, full about the
   * same as 64). On a GPU the default is 64 for every mask (H100, T = 512, D = 64: 32 to 128
   * within 5%).
   */
  readonly workgroupSize?: number;
  /**
   * Rows (queries; keys in the dK/dV pass) per invocation: each value read from workgroup memory
   * serves this many rows. Default 4 for D ≤ 64 (2–2.5× faster than 1 on lavapipe), 2 above (the
   * per-invocation state, and lavapipe's compile time, grow with rows × D), 1 when there are at
   * most 16 query rows per KV head; 1 also suits GPUs short of registers. The subgroup forward
   * on a CPU adapter defaults to 8 for D ≤ 64 and 4 above (every K/V load and shuffle serves more
   * rows; lavapipe, T = 512, D = 64: −10% time against 4; at D = 128, 8 is −14% but compiles in
   * 7.6 s against 2.5 s); the subgroup backward there to 8 for D ≤ 32, 4 for D ≤ 64, 2 above
   * (lavapipe, T = 512: D = 32, 8 rows −24 to −29% time against 4; D = 64, 8 rows −5 to −10%
   * but both passes compile in 58 s against 14 s). On a GPU the default is 1: registers are
   * scarce and one row per invocation gives the most workgroups (H100, T = 512, D = 64, 8 heads:
   * forward 0.59 ms and backward 1.45 ms against 2.8 and 15.2 ms with the CPU defaults). (Not
   * used by the `splitKeys` path.)
   */
  readonly rowsPerInvocation?: 1 | 2 | 4 | 8;
  /**
   * Forward only: spread the keys over the invocations of one workgroup per KV head instead of the
   * query rows (the `decode` entry point). Needs T·Hq/Hkv ≤ 8; default on exactly then (decoding,
   * where a row split would leave most invocations idle: 8× faster at S = 1024 on lavapipe).
   * `workgroupSize` then is the number of key streams (default 8; a power of two ≤ 4096 / D).
   */
  readonly splitKeys?: boolean;
  /**
   * Row-split forward and both backward passes: pass the streamed rows (K/V; Q/dO in the dK/dV
   * pass) between lanes with subgroup shuffles instead of workgroup memory (no barriers; forward
   * ~5× faster on lavapipe at T = 512, D = 64). Default: when the device has subgroups, except the
   * forward on a GPU (its subgroup kernel is tuned for and tested on lavapipe's 8-lane subgroups).
   */
  readonly subgroups?: boolean;
}

/** Sizes of one attention call, read from the tensors. */
export interface AttentionDims {
  readonly batch: number;
  readonly queries: number;
  readonly keys: number;
  readonly keyCapacity: number;
  readonly queryHeads: number;
  readonly kvHeads: number;
  readonly headDim: number;
}

const HEAD_DIM_VARIANTS = [32, 64, 96, 128] as const;

/** Most query rows per KV head (T · Hq/Hkv) the key-split decode path takes. */
const DECODE_MAX_ROWS = 8;

/** Reads [B, T, H, D] or [B, H, T, D] as {batch, seq, heads, dim}. */
const axes = (t: Tensor, layout: AttentionLayout) => {
  const [b = 0, x = 0, y = 0, d = 0] = t.shape;
  return layout === "bshd"
    ? { batch: b, seq: x, heads: y, dim: d }
    : { batch: b, seq: y, heads: x, dim: d };
};

/** Shape of a [B, S, H, D]-like tensor in `layout`. */
const shapeOf = (layout: AttentionLayout, b: number, s: number, h: number, d: number) =>
  layout === "bshd" ? [b, s, h, d] : [b, h, s, d];

/** Element strides (batch, position, head) of a contiguous tensor in `layout`, in vec4s. */
const stridesOf = (layout: AttentionLayout, s: number, h: number, d: number) => {
  const v = d / 4;
  return layout === "bshd"
    ? { batch: s * h * v, seq: h * v, head: v }
    : { batch: h * s * v, seq: v, head: s * v };
};

/**
 * Checks Q/K/V against each other and the options; throws `ShapeMismatch` naming `op`.
 * Q [B, T, Hq, D], K and V [B, S_cap, Hkv, D] in "bshd" (axes 1 and 2 swapped in "bhsd").
 */
export const attentionDims = (
  op: string,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions,
): AttentionDims => {
  const layout = options.layout ?? "bshd";
  const fail = (detail: string): never => {
    throw new ShapeMismatch({ op, detail });
  };
  if (q.shape.length !== 4) fail(`q is ${describe(q)}, expected a 4-D ${layout} tensor`);
  const qa = axes(q, layout);
  expectShape(op, "q", q, q.shape);
  expectShape(op, "k", k, shapeOf(layout, qa.batch, -1, -1, qa.dim));
  const ka = axes(k, layout);
  expectShape(op, "v", v, k.shape);
  if (qa.dim % 4 !== 0 || qa.dim > 128 || qa.dim === 0) {
    fail(`head dim ${qa.dim} must be a multiple of 4 in [4, 128]`);
  }
  if (ka.heads === 0 || qa.heads % ka.heads !== 0) {
    fail(`query heads ${qa.heads} are not a multiple of KV heads ${ka.heads}`);
  }
  if (qa.seq === 0 || qa.batch === 0) fail(`q is ${describe(q)}: no queries`);
  const keys = options.keyCount ?? ka.seq;
  if (!Number.isInteger(keys) || keys < 1 || keys > ka.seq) {
    fail(`keyCount ${keys} is outside [1, ${ka.seq}] (K/V capacity)`);
  }
  if (options.mask.kind === "prefix") {
    const p = options.mask.prefixLength;
    if (!Number.isInteger(p) || p < 0) fail(`prefixLength ${p} is not a non-negative integer`);
  }
  if (options.keyLengths !== undefined) {
    expectShape(op, "keyLengths", options.keyLengths, [qa.batch], "u32");
  }
  return {
    batch: qa.batch,
    queries: qa.seq,
    keys,
    keyCapacity: ka.seq,
    queryHeads: qa.heads,
    kvHeads: ka.heads,
    headDim: qa.dim,
  };
};

const checkBindings = (rec: CommandRecorder, op: string, tensors: ReadonlyArray<Tensor>) => {
  const limit = rec.runtime.maxBindingBytes;
  for (const t of tensors) {
    if (byteLength(t) > limit) throw new TensorTooLarge({ op, bytes: byteLength(t), limit });
  }
};

/** Uniform parameters (see `Params` in kernels/attention_common.wgsl). */
const attentionParams = (dims: AttentionDims, options: AttentionOptions): Uint8Array => {
  const layout = options.layout ?? "bshd";
  const qs = stridesOf(layout, dims.queries, dims.queryHeads, dims.headDim);
  const ks = stridesOf(layout, dims.keyCapacity, dims.kvHeads, dims.headDim);
  const scale = options.scale ?? 1 / Math.sqrt(dims.headDim);
  const prefix = options.mask.kind === "full"
    ? dims.keys
    : options.mask.kind === "prefix"
    ? Math.min(options.mask.prefixLength, dims.keys)
    : 0;
  return packParams([
    { u32: dims.queries },
    { u32: dims.keys },
    { u32: dims.headDim / 4 },
    { u32: dims.queryHeads / dims.kvHeads },
    { u32: qs.batch },
    { u32: qs.seq },
    { u32: qs.head },
    { u32: ks.batch },
    { u32: ks.seq },
    { u32: ks.head },
    { u32: dims.queryHeads },
    { i32: dims.keys - dims.queries + 1 },
    { u32: prefix },
    { f32: scale * Math.LOG2E },
    { f32: scale },
  ]);
};

/** Defines selecting the head-dim capacity and the key-length binding. */
const attentionDefines = (dims: AttentionDims, options: AttentionOptions) => {
  const capacity = HEAD_DIM_VARIANTS.find((c) => c >= dims.headDim)!;
  const defines: Record<string, boolean> = { KEY_LENGTHS: options.keyLengths !== undefined };
  if (options.subgroups !== undefined) defines["SUBGROUPS"] = options.subgroups;
  for (const c of HEAD_DIM_VARIANTS) defines[`HEAD_DIM_${c}`] = c === capacity;
  return defines;
};

/**
 * Which launch-shape defaults apply: the subgroup forward on a CPU adapter (lavapipe: a workgroup
 * is one thread and a subgroup one SIMD register, so per-invocation state may be large and
 * workgroups small), the spelled-out subgroup backward on a CPU adapter (the same, with fewer rows
 * per invocation: its passes hold two to four [R, D] arrays each), the other passes on a CPU
 * adapter, or a GPU (many small workgroups fill its cores: one row per invocation, 64 invocations).
 */
type LaunchProfile = "cpu-subgroups" | "cpu-subgroups-backward" | "cpu" | "gpu";

const rowsPerInvocation = (
  dims: AttentionDims,
  options: AttentionOptions,
  profile: LaunchProfile,
): number => {
  // Few query rows per KV head: one row each, so no invocation computes idle rows.
  const queryRows = dims.queries * (dims.queryHeads / dims.kvHeads);
  if (options.rowsPerInvocation !== undefined) return options.rowsPerInvocation;
  if (queryRows <= 16 || profile === "gpu") return 1;
  if (profile === "cpu-subgroups") return dims.headDim <= 64 ? 8 : 4;
  // R · D ≤ 256: lavapipe's compile time grows faster than the rows (D = 64, both passes: 14 s at
  // R = 4, 58 s at R = 8, for 5–10% less run time at R = 8).
  if (profile === "cpu-subgroups-backward") {
    return dims.headDim <= 32 ? 8 : dims.headDim <= 64 ? 4 : 2;
  }
  return dims.headDim <= 64 ? 4 : 2;
};

/**
 * Invocations per workgroup for a pass over `rows` rows at `perInvocation` rows each: the option,
 * or the profile's default shrunk (by powers of two, down to 8) while half the rows would be idle.
 */
const workgroupSize = (
  options: AttentionOptions,
  rows: number,
  perInvocation: number,
  profile: LaunchProfile,
): number => {
  const byProfile = profile === "cpu-subgroups" || profile === "cpu-subgroups-backward"
    ? 8
    : profile === "gpu" || options.mask.kind === "full"
    ? 64
    : 16;
  let wg = options.workgroupSize ?? byProfile;
  if (options.workgroupSize === undefined) {
    while (wg > 8 && (wg / 2) * perInvocation >= rows) wg /= 2;
  }
  if (!Number.isInteger(wg) || wg < 1 || wg > 256) {
    throw new RangeError(`attention: workgroupSize ${wg} is outside [1, 256]`);
  }
  return wg;
};

/** What decides the default launch shapes: a CPU adapter or a GPU, and subgroup support. */
export interface LaunchDevice {
  readonly cpu: boolean;
  readonly subgroups: boolean;
}

/**
 * The row-split forward's kernel variant and launch shape: the options where given, else the
 * device's defaults. The subgroup forward is tuned for (and tested on) lavapipe's 8-lane
 * subgroups; a GPU takes the workgroup-memory kernel unless asked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forwardLaunch } from "./attention.ts";
 * const dims = {
 *   batch: 1, queries: 512, keys: 512, keyCapacity: 512, queryHeads: 8, kvHeads: 8, headDim: 64,
 * };
 * const full = { mask: { kind: "full" } } as const;
 * assert.deepEqual(
 *   forwardLaunch(dims, full, { cpu: false, subgroups: true }),
 *   { subgroups: false, perInvocation: 1, wg: 64 },
 * );
 * assert.deepEqual(
 *   forwardLaunch(dims, full, { cpu: true, subgroups: true }),
 *   { subgroups: true, perInvocation: 8, wg: 8 },
 * );
 * ```
 */
export const forwardLaunch = (
  dims: AttentionDims,
  options: AttentionOptions,
  device: LaunchDevice,
): { readonly subgroups: boolean; readonly perInvocation: number; readonly wg: number } => {
  const subgroups = options.subgroups ?? (device.cpu && device.subgroups);
  const profile: LaunchProfile = !device.cpu ? "gpu" : subgroups ? "cpu-subgroups" : "cpu";
  const rows = dims.queries * (dims.queryHeads / dims.kvHeads);
  const perInvocation = rowsPerInvocation(dims, options, profile);
  return { subgroups, perInvocation, wg: workgroupSize(options, rows, perInvocation, profile) };
};

/**
 * The backward passes' kernel variant and launch shape (dQ over query rows, dK/dV over keys): the
 * options where given, else the defaults of a CPU adapter or a GPU. `step8` selects the spelled-out
 * subgroup kernels (STEP_8 in kernels/attention_bwd.wgsl), written for CPU adapters: subgroups on
 * a CPU adapter take them; a GPU keeps the generic subgroup kernels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backwardLaunch } from "./attention.ts";
 * const dims = {
 *   batch: 1, queries: 512, keys: 512, keyCapacity: 512, queryHeads: 8, kvHeads: 8, headDim: 64,
 * };
 * const causal = { mask: { kind: "causal" } } as const;
 * assert.deepEqual(
 *   backwardLaunch(dims, causal, { cpu: false, subgroups: true }),
 *   { subgroups: true, step8: false, perInvocation: 1, dqWg: 64, dkvWg: 64 },
 * );
 * assert.deepEqual(
 *   backwardLaunch(dims, causal, { cpu: true, subgroups: true }),
 *   { subgroups: true, step8: true, perInvocation: 4, dqWg: 8, dkvWg: 8 },
 * );
 * assert.deepEqual(
 *   backwardLaunch(dims, causal, { cpu: true, subgroups: false }),
 *   { subgroups: false, step8: false, perInvocation: 4, dqWg: 16, dkvWg: 16 },
 * );
 * ```
 */
export const backwardLaunch = (
  dims: AttentionDims,
  options: AttentionOptions,
  device: LaunchDevice,
): {
  readonly subgroups: boolean;
  readonly step8: boolean;
  readonly perInvocation: number;
  readonly dqWg: number;
  readonly dkvWg: number;
} => {
  const subgroups = options.subgroups ?? device.subgroups;
  const step8 = device.cpu && subgroups;
  const profile: LaunchProfile = !device.cpu ? "gpu" : step8 ? "cpu-subgroups-backward" : "cpu";
  const rows = dims.queries * (dims.queryHeads / dims.kvHeads);
  const perInvocation = rowsPerInvocation(dims, options, profile);
  return {
    subgroups,
    step8,
    perInvocation,
    dqWg: workgroupSize(options, rows, perInvocation, profile),
    dkvWg: workgroupSize(options, dims.keys, perInvocation, profile),
  };
};

/**
 * Records the fused attention forward.
 *
 * Shapes ("bshd"): q [B, T, Hq, D], k and v [B, S_cap, Hkv, D], o [B, T, Hq, D] (written),
 * lse [B, Hq, T] (written: natural-log sum of exponentials of each query's scaled scores, for the
 * backward). Hq must be a multiple of Hkv (query head h uses KV head ⌊h / (Hq/Hkv)⌋); D a multiple
 * of 4, at most 128. Queries with no visible key get o = 0 and lse = −∞.
 *
 * @example Causal attention of 3 tokens, 2 query heads sharing one KV head
 * ```ts
 * import { Effect } from "effect";
 * import { Gpu } from "../gpu.ts";
 * import { CommandRecorder } from "../recorder.ts";
 * import { GpuRuntime } from "../runtime.ts";
 * import { attentionForward } from "./attention.ts";
 *
 * const program = Effect.gen(function* () {
 *   const rt = new GpuRuntime(yield* Gpu);
 *   const q = rt.createTensor([1, 3, 2, 4], "f32", new Float32Array(24).fill(0.5));
 *   const k = rt.createTensor([1, 3, 1, 4], "f32", new Float32Array(12).fill(1));
 *   const v = rt.createTensor([1, 3, 1, 4], "f32", Float32Array.from({ length: 12 }, (_, i) => i));
 *   const o = rt.createTensor([1, 3, 2, 4]);
 *   const lse = rt.createTensor([1, 2, 3]);
 *   const rec = new CommandRecorder(rt);
 *   attentionForward(rec, q, k, v, o, lse, { mask: { kind: "causal" } });
 *   rec.read(o);
 *   return yield* Effect.promise(() => rec.submit().resolve());
 * });
 * const { arrays } = await Effect.runPromise(Effect.provide(program, Gpu.layer));
 * // Equal scores: token t averages V rows 0..t, e.g. token 1 gets (v0 + v1) / 2 = [2, 3, 4, 5].
 * const token1 = Array.from(arrays[0]!.slice(8, 12));
 * if (token1.some((x, c) => Math.abs(x - (2 + c)) > 1e-5)) throw new Error(`got ${token1}`);
 * ```
 */
export const attentionForward = (
  rec: CommandRecorder,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  o: Tensor,
  lse: Tensor,
  options: AttentionOptions,
): void => {
  const op = "attentionForward";
  const dims = attentionDims(op, q, k, v, options);
  expectShape(op, "o", o, q.shape);
  expectShape(op, "lse", lse, [dims.batch, dims.queryHeads, dims.queries]);
  const bindings = [q, k, v, o, lse, ...(options.keyLengths ? [options.keyLengths] : [])];
  checkBindings(rec, op, bindings);
  const rows = dims.queries * (dims.queryHeads / dims.kvHeads);
  const splitKeys = options.splitKeys ?? rows <= DECODE_MAX_ROWS;
  if (splitKeys && rows > DECODE_MAX_ROWS) {
    throw new ShapeMismatch({
      op,
      detail: `splitKeys needs at most ${DECODE_MAX_ROWS} query rows per KV head, got ${rows}`,
    });
  }
  if (splitKeys) {
    // Rows: the smallest count ≥ T·G. The merge buffer [WG, D] stays within 16 KiB.
    const perWorkgroup = [1, 2, 4, 8].find((r) => r >= rows)!;
    const capacity = HEAD_DIM_VARIANTS.find((c) => c >= dims.headDim)!;
    // 8 invocations measured best on lavapipe (S = 1024: 4–5 ms against 8 ms with 64); GPUs
    // want more, up to 4096 / D.
    const wg = options.workgroupSize ?? 8;
    if (!Number.isInteger(Math.log2(wg)) || wg * capacity * 4 > 16384) {
      throw new RangeError(
        `attention: decode workgroupSize ${wg} must be a power of two with ` +
          `workgroupSize · D ≤ 4096`,
      );
    }
    const pipeline = rec.runtime.pipelines.get({
      kernel: "attention_fwd.wgsl",
      entryPoint: "decode",
      defines: { ...attentionDefines(dims, options), [`ROWS_${perWorkgroup}`]: true },
      constants: { WG: wg },
    });
    rec.dispatch(pipeline, bindings, [1, dims.kvHeads, dims.batch], attentionParams(dims, options));
    return;
  }
  const { subgroups, perInvocation, wg } = forwardLaunch(dims, options, {
    cpu: isCpuAdapter(rec.runtime.device),
    subgroups: rec.runtime.features.subgroups,
  });
  const pipeline = rec.runtime.pipelines.get({
    kernel: "attention_fwd.wgsl",
    defines: {
      ...attentionDefines(dims, { ...options, subgroups }),
      [`ROWS_${perInvocation}`]: true,
    },
    constants: { WG: wg },
  });
  rec.dispatch(
    pipeline,
    bindings,
    [Math.ceil(rows / (wg * perInvocation)), dims.kvHeads, dims.batch],
    attentionParams(dims, options),
  );
};

/**
 * Records the fused attention backward: two dispatches that recompute the probabilities from
 * q, k and the forward's lse (pass the forward's options unchanged).
 *
 * Shapes ("bshd"): q, o, dO, dQ [B, T, Hq, D]; k, v, dK, dV [B, S_cap, Hkv, D]; lse [B, Hq, T].
 * dQ is written for every query; dK and dV for key positions below S (positions S..S_cap−1 of a
 * larger K/V buffer are left untouched). dK and dV sum over the query heads sharing a KV head.
 */
export const attentionBackward = (
  rec: CommandRecorder,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  o: Tensor,
  lse: Tensor,
  dO: Tensor,
  dQ: Tensor,
  dK: Tensor,
  dV: Tensor,
  options: AttentionOptions,
): void => {
  const op = "attentionBackward";
  const dims = attentionDims(op, q, k, v, options);
  expectShape(op, "o", o, q.shape);
  expectShape(op, "lse", lse, [dims.batch, dims.queryHeads, dims.queries]);
  expectShape(op, "dO", dO, q.shape);
  expectShape(op, "dQ", dQ, q.shape);
  expectShape(op, "dK", dK, k.shape);
  expectShape(op, "dV", dV, k.shape);
  const keyLengths = options.keyLengths ? [options.keyLengths] : [];
  checkBindings(rec, op, [q, k, v, o, lse, dO, dQ, dK, dV, ...keyLengths]);
  const rows = dims.queries * (dims.queryHeads / dims.kvHeads);
  const { subgroups, step8, perInvocation, dqWg, dkvWg } = backwardLaunch(dims, options, {
    cpu: isCpuAdapter(rec.runtime.device),
    subgroups: rec.runtime.features.subgroups,
  });
  const defines = {
    ...attentionDefines(dims, { ...options, subgroups }),
    [`ROWS_${perInvocation}`]: true,
    STEP_8: step8,
  };
  const params = attentionParams(dims, options);
  const dqPipeline = rec.runtime.pipelines.get({
    kernel: "attention_bwd.wgsl",
    entryPoint: "dq_pass",
    defines: { ...defines, DQ_PASS: true },
    constants: { WG: dqWg },
  });
  const dkvPipeline = rec.runtime.pipelines.get({
    kernel: "attention_bwd.wgsl",
    entryPoint: "dkv_pass",
    defines: { ...defines, DKV_PASS: true },
    constants: { WG: dkvWg },
  });
  rec.dispatch(
    dqPipeline,
    [q, k, v, o, lse, dO, dQ, ...keyLengths],
    [Math.ceil(rows / (dqWg * perInvocation)), dims.kvHeads, dims.batch],
    params,
  );
  rec.dispatch(
    dkvPipeline,
    [q, k, v, o, lse, dO, dK, dV, ...keyLengths],
    [Math.ceil(dims.keys / (dkvWg * perInvocation)), dims.kvHeads, dims.batch],
    params,
  );
};
