/**
 * Batched matmul in NN, NT and TN layouts with bias / scale / accumulate epilogues, and the bias
 * gradient (column sum) of a linear layer.
 *
 * A linear layer with weights stored `W [in, out]` (y = x·W + bias):
 * - forward `y = x·W`        → `matmul(rec, x, W, y, { bias })`            (NN)
 * - input grad `dx = dy·Wᵀ`  → `matmul(rec, dy, W, dx, { layout: "NT" })`  (NT)
 * - weight grad `dW = xᵀ·dy` → `matmul(rec, x, dy, dW, { layout: "TN", accumulate })` (TN)
 * - bias grad `db = Σ_rows dy` → `biasGrad(rec, dy, db)`
 * With weights stored `W [out, in]` (PyTorch, safetensors) the forward is NT, `dx = dy·W` is NN
 * and `dW = dyᵀ·x` is TN.
 *
 * The WGSL comes from matmul_wgsl.ts (one shader per tile size; see there why), tiles are chosen
 * from the shape, and operands larger than one storage binding are split into row chunks.
 *
 * Inference weights may be 16-bit: in the NT layout B can be a `bf16` or `f16` tensor (two values
 * per u32, even K), widened in the kernel and accumulated in f32 (`linearForward`, the LM head).
 *
 * @module
 */
import { isCpuAdapter } from "../adapter.ts";
import { ShapeMismatch, TensorTooLarge } from "../errors.ts";
import type { CommandRecorder } from "../recorder.ts";
import type { GpuRuntime } from "../runtime.ts";
import { TENSOR_USAGE } from "../buffer_pool.ts";
import { assertDisjoint } from "./disjoint.ts";
import {
  byteLength,
  BYTES_PER_ELEMENT,
  describe,
  type DType,
  expectShape,
  type Tensor,
} from "../tensor.ts";
import { grid1d, packParams } from "./dispatch.ts";
import {
  MATMUL_WORKGROUP,
  type MatmulLayout,
  matmulSource,
  type MatmulVariant,
  type PackedDtype,
} from "./matmul_wgsl.ts";

export type { MatmulLayout, PackedDtype } from "./matmul_wgsl.ts";

/** Whether a tensor holds packed 16-bit values (two per u32 word). */
export const isPacked = (dtype: DType): dtype is PackedDtype => dtype === "bf16" || dtype === "f16";

/** Per-invocation register tile: `tm` rows × `4·tn4` columns of C. */
export interface MatmulTile {
  readonly tm: number;
  readonly tn4: number;
}

/** Options of `matmul`. */
export interface MatmulOptions {
  /** Default "NN". */
  readonly layout?: MatmulLayout;
  /** Row vector [N] added to every row of C. */
  readonly bias?: Tensor;
  /** C += product instead of C = product (gradient accumulation across micro-batches). */
  readonly accumulate?: boolean;
  /** Scales the product (not the bias, not the old C); default 1. */
  readonly alpha?: number;
  /** Overrides the tile chosen from the shape (benchmarks and tile sweeps). */
  readonly tile?: MatmulTile;
  /** Binding limit to split against; defaults to the device's. Smaller values force splitting. */
  readonly maxBindingBytes?: number;
  /**
   * Run NN and TN as transposes plus the NT kernel (in scratch buffers of this module), when K is a
   * multiple of 4 and nothing needs splitting. Default: on CPU adapters, when the product is large
   * enough to repay the transposes.
   */
  readonly viaNT?: boolean;
}

/** The matmul dimensions an op works on. */
export interface MatmulShape {
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** B has no batch axis and is shared by every batch entry (weights). */
  readonly broadcastB: boolean;
}

const pipelineCache = new WeakMap<GpuRuntime, Map<string, GPUComputePipeline>>();

/** The compiled pipeline of a variant, built once per runtime. */
export const matmulPipeline = (rt: GpuRuntime, v: MatmulVariant): GPUComputePipeline => {
  let cache = pipelineCache.get(rt);
  if (cache === undefined) pipelineCache.set(rt, cache = new Map());
  const key = JSON.stringify(v);
  let pipeline = cache.get(key);
  if (pipeline === undefined) {
    const module = rt.device.createShaderModule({ label: `matmul ${key}`, code: matmulSource(v) });
    pipeline = rt.device.createComputePipeline({
      label: "matmul",
      layout: "auto",
      compute: { module, entryPoint: "main" },
    });
    cache.set(key, pipeline);
  }
  return pipeline;
};

/** Limits on the tile `chooseTile` picks for one kind of device. */
export interface TileTarget {
  /** Largest rows per invocation. */
  readonly maxTm: number;
  /** Largest vec4 columns per invocation. */
  readonly maxTn4: number;
  /** Tiles shrink (down to 4 rows, then 4 columns) while the grid has fewer workgroups. */
  readonly minWorkgroups: number;
}

/**
 * CPU adapters: 16×16 per invocation was fastest on lavapipe (webgpu.md §8.1), and one thread runs
 * a whole workgroup, so a 2-core CPU needs only a few. GPUs: 8×8 per invocation (64 accumulators
 * stay in registers; gpu.cpp and Surfgrad use 8×8) and enough workgroups to fill the device.
 */
export const TILE_TARGETS: Readonly<Record<"cpu" | "gpu", TileTarget>> = {
  cpu: { maxTm: 16, maxTn4: 4, minWorkgroups: 4 },
  gpu: { maxTm: 8, maxTn4: 2, minWorkgroups: 128 },
};

/**
 * The tile for a shape: the target's largest for large outputs, smaller when M or N is small so
 * that ragged edges waste little work, and smaller again while the grid has too few workgroups.
 */
export const chooseTile = (
  layout: MatmulLayout,
  s: MatmulShape,
  target: TileTarget = TILE_TARGETS.cpu,
): MatmulTile => {
  const minTm = layout === "TN" ? 4 : 1;
  let tm = s.m >= 128 ? 16 : s.m >= 48 ? 8 : s.m >= 12 ? 4 : s.m >= 2 ? 2 : 1;
  tm = Math.max(Math.min(tm, target.maxTm), minTm);
  let tn4 = Math.min(s.n >= 64 ? 4 : s.n >= 16 ? 2 : 1, target.maxTn4);
  const [wx, wy] = MATMUL_WORKGROUP;
  const groups = (tm: number, tn4: number) =>
    Math.ceil(s.m / (tm * wy)) * Math.ceil(s.n / (4 * tn4 * wx)) * s.batch;
  while (groups(tm, tn4) < target.minWorkgroups) {
    if (tm > Math.max(4, minTm)) tm /= 2;
    else if (tn4 > 1) tn4 /= 2;
    else break;
  }
  return { tm, tn4 };
};

/**
 * Validates shapes and returns the matmul dimensions.
 *
 * Shapes (f32), with an optional leading batch axis on A and C (B either has the same batch axis
 * or none, then it is shared):
 * - NN: A [M, K], B [K, N]; NT: A [M, K], B [N, K]; TN: A [K, M], B [K, N]; C [M, N].
 * In NT, B may also be bf16 or f16 with an even K (two values per u32 word never straddle rows).
 */
export const matmulShape = (
  op: string,
  layout: MatmulLayout,
  a: Tensor,
  b: Tensor,
  c: Tensor,
): MatmulShape => {
  if (a.shape.length !== 2 && a.shape.length !== 3) {
    throw new ShapeMismatch({ op, detail: `A is ${describe(a)}, expected rank 2 or 3` });
  }
  const batched = a.shape.length === 3;
  const batch = batched ? a.shape[0]! : 1;
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [m, k] = layout === "TN" ? [ac, ar] : [ar, ac];
  const broadcastB = b.shape.length === 2;
  if (!broadcastB && !(batched && b.shape.length === 3)) {
    throw new ShapeMismatch({
      op,
      detail: `B is ${describe(b)}, expected rank 2${batched ? " or 3" : ""} with A ${describe(a)}`,
    });
  }
  const n = (layout === "NT" ? b.shape.at(-2) : b.shape.at(-1))!;
  const bBatch = broadcastB ? [] : [batch];
  if (isPacked(b.dtype) && layout !== "NT") {
    throw new ShapeMismatch({
      op,
      detail: `B is ${
        describe(b)
      }: 16-bit B is supported only in the NT layout (weights [out, in])`,
    });
  }
  if (isPacked(b.dtype) && k % 2 !== 0) {
    throw new ShapeMismatch({
      op,
      detail: `B is ${describe(b)}: 16-bit B needs an even inner dimension K, got ${k}`,
    });
  }
  expectShape(op, "A", a, a.shape, "f32");
  expectShape(
    op,
    "B",
    b,
    [...bBatch, ...(layout === "NT" ? [n, k] : [k, n])],
    isPacked(b.dtype) ? b.dtype : "f32",
  );
  expectShape(op, "C", c, [...(batched ? [batch] : []), m, n], "f32");
  if (m === 0 || n === 0) {
    throw new ShapeMismatch({ op, detail: `empty output ${describe(c)}` });
  }
  return { batch, m, n, k, broadcastB };
};

type Dim = "m" | "n" | "k";

/** An operand as stored: `rows × ld` row-major per batch entry, rows along `rowDim`. */
interface Operand {
  readonly tensor: Tensor;
  readonly rowDim: Dim;
  readonly colDim: Dim;
  readonly ld: number;
  readonly batchStride: number;
}

const gcd = (a: number, b: number): number => b === 0 ? a : gcd(b, a % b);

/** One dispatch's view of an operand: what to bind and the element offset inside it. */
const viewOf = (
  o: Operand,
  split: { dim: Dim; start: number; length: number } | undefined,
  limit: number,
): { tensor: Tensor; offset: number } => {
  if (split === undefined) return { tensor: o.tensor, offset: 0 };
  if (o.rowDim === split.dim) {
    if (byteLength(o.tensor) <= limit) return { tensor: o.tensor, offset: split.start * o.ld };
    return {
      tensor: {
        ...o.tensor,
        shape: [split.length, o.ld],
        offset: o.tensor.offset + split.start * o.ld * BYTES_PER_ELEMENT[o.tensor.dtype],
      },
      offset: 0,
    };
  }
  if (o.colDim === split.dim) return { tensor: o.tensor, offset: split.start };
  return { tensor: o.tensor, offset: 0 };
};

/**
 * The dimension and chunk length to split along so that every operand fits one binding, or
 * undefined when all fit. Only operands whose rows run along the split dimension are sliced;
 * the others are bound whole with an offset, so they must fit.
 */
const planSplit = (
  op: string,
  operands: ReadonlyArray<Operand>,
  s: MatmulShape,
  limit: number,
  align: number,
): { dim: Dim; chunk: number } | undefined => {
  const big = operands.filter((o) => byteLength(o.tensor) > limit);
  if (big.length === 0) return undefined;
  const worst = big.reduce((x, y) => byteLength(x.tensor) >= byteLength(y.tensor) ? x : y);
  const tooLarge = new TensorTooLarge({ op, bytes: byteLength(worst.tensor), limit });
  const dim = big[0]!.rowDim;
  if (s.batch > 1 || big.some((o) => o.rowDim !== dim)) throw tooLarge;
  let chunk = s[dim];
  for (const o of big) {
    // Chunk starts must keep binding offsets aligned and vec4 element offsets whole.
    const rowBytes = o.ld * BYTES_PER_ELEMENT[o.tensor.dtype];
    const granule = Math.max(4, align / gcd(rowBytes, align));
    chunk = Math.min(chunk, Math.floor(limit / rowBytes / granule) * granule);
  }
  if (chunk <= 0) throw tooLarge;
  return { dim, chunk };
};

/**
 * Whether transposing NN's B (K·N values) or TN's A and B (K·(M + N)) costs at most ~1/32 of the
 * product's 2·M·N·K operations.
 */
const repaysTransposes = (layout: MatmulLayout, s: MatmulShape): boolean =>
  layout === "NN" ? s.m * (s.broadcastB ? s.batch : 1) >= 32 : Math.min(s.m, s.n) >= 64;

/** How `matmul` runs a shape: through the NT kernel or directly, and with which tile. */
export interface MatmulStrategy {
  readonly viaNT: boolean;
  /** The tile of the kernel that runs (the NT kernel's when `viaNT`). */
  readonly tile: MatmulTile;
}

/** The strategy `matmul` picks for a shape on this runtime (also used by the benchmark table). */
export const matmulStrategy = (
  rt: GpuRuntime,
  layout: MatmulLayout,
  s: MatmulShape,
  options: Pick<MatmulOptions, "viaNT" | "tile" | "maxBindingBytes"> = {},
): MatmulStrategy => {
  const limit = options.maxBindingBytes ?? rt.maxBindingBytes;
  const cpu = isCpuAdapter(rt.device);
  const bBatch = s.broadcastB ? 1 : s.batch;
  const fits = [s.batch * s.m * s.k, bBatch * s.k * s.n, s.batch * s.m * s.n]
    .every((elements) => elements * 4 <= limit);
  const viaNT = layout !== "NT" && fits && s.k % 4 === 0 &&
    (options.viaNT ?? (cpu && repaysTransposes(layout, s)));
  const target = cpu ? TILE_TARGETS.cpu : TILE_TARGETS.gpu;
  const tile = options.tile ?? chooseTile(viaNT ? "NT" : layout, s, target);
  return { viaNT, tile };
};

const scratchCache = new WeakMap<GpuRuntime, Map<"a" | "b", GPUBuffer>>();

/**
 * A scratch buffer of at least `bytes` for one transposed operand, owned by this module (not the
 * pool): pool buffers can be written from the host by a later user before this recording's
 * transposes run, since `queue.writeBuffer` executes ahead of the submit. Every use writes the
 * scratch before reading it, so recorded uses in any order are safe. A buffer outgrown is dropped,
 * not destroyed, because work recorded earlier may still reference it.
 */
const scratchBuffer = (rt: GpuRuntime, role: "a" | "b", bytes: number): GPUBuffer => {
  let cache = scratchCache.get(rt);
  if (cache === undefined) scratchCache.set(rt, cache = new Map());
  let buffer = cache.get(role);
  if (buffer === undefined || buffer.size < bytes) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(bytes, 256)));
    buffer = rt.device.createBuffer({ label: `matmul scratch ${role}`, size, usage: TENSOR_USAGE });
    cache.set(role, buffer);
  }
  return buffer;
};

/** Records `dst[z] = src[z]ᵀ` for src [(batch,) rows, cols] into scratch and returns it. */
const transposed = (
  rec: CommandRecorder,
  role: "a" | "b",
  src: Tensor,
  batch: number,
  rows: number,
  cols: number,
): Tensor => {
  const rt = rec.runtime;
  const dst: Tensor = {
    shape: src.shape.length === 3 ? [batch, cols, rows] : [cols, rows],
    dtype: "f32",
    buffer: scratchBuffer(rt, role, batch * rows * cols * 4),
    offset: 0,
  };
  const vec4 = rows % 4 === 0 && cols % 4 === 0;
  const per = vec4 ? 4 : 1;
  rec.dispatch(
    rt.pipelines.get({ kernel: "matmul_transpose.wgsl", defines: { VEC4: vec4 } }),
    [src, dst],
    [Math.ceil(cols / per / 16), Math.ceil(rows / per / 16), batch],
    packParams([{ u32: rows }, { u32: cols }]),
  );
  return dst;
};

/** NN as `A·(Bᵀ)ᵀ` and TN as `(Aᵀ)·(Bᵀ)ᵀ` through the NT kernel, transposing into scratch. */
const matmulViaNT = (
  rec: CommandRecorder,
  layout: MatmulLayout,
  s: MatmulShape,
  a: Tensor,
  b: Tensor,
  c: Tensor,
  options: MatmulOptions,
): void => {
  const bt = transposed(rec, "b", b, s.broadcastB ? 1 : s.batch, s.k, s.n);
  const at = layout === "TN" ? transposed(rec, "a", a, s.batch, s.k, s.m) : a;
  matmul(rec, at, bt, c, { ...options, layout: "NT", viaNT: false });
};

/**
 * Records `C = alpha·op(A)·op(B) (+ bias) (+ C if accumulate)` for every batch entry.
 *
 * Shapes (f32): NN A [(batch,) M, K] · B [(batch,) K, N]; NT B [(batch,) N, K]; TN A [(batch,) K, M];
 * C [(batch,) M, N]; bias [N]. A 2-D B with 3-D A is shared across the batch. In NT, B may be
 * bf16 or f16 (packed, even K): 16-bit weights, f32 accumulation.
 * Throws `ShapeMismatch` before recording anything; splits operands over the binding limit into
 * row chunks (batch 1 only) and throws `TensorTooLarge` when it cannot.
 *
 * @example A linear layer's forward with bias: [1, 2]·[2, 2] + [10, 20]
 * ```ts
 * import { Effect } from "effect";
 * import { Gpu } from "../gpu.ts";
 * import { CommandRecorder } from "../recorder.ts";
 * import { GpuRuntime } from "../runtime.ts";
 * import { matmul } from "./matmul.ts";
 *
 * const program = Effect.gen(function* () {
 *   const rt = new GpuRuntime(yield* Gpu);
 *   const x = rt.createTensor([1, 2], "f32", new Float32Array([1, 2]));
 *   const w = rt.createTensor([2, 2], "f32", new Float32Array([1, 2, 3, 4]));
 *   const bias = rt.createTensor([2], "f32", new Float32Array([10, 20]));
 *   const y = rt.createTensor([1, 2]);
 *   const rec = new CommandRecorder(rt);
 *   matmul(rec, x, w, y, { bias });
 *   rec.read(y);
 *   return yield* Effect.promise(() => rec.submit().resolve());
 * });
 * const { arrays } = await Effect.runPromise(Effect.provide(program, Gpu.layer));
 * const [a, b] = arrays[0]!;
 * if (a !== 17 || b !== 30) throw new Error(`got ${a}, ${b}`);
 * ```
 */
export const matmul = (
  rec: CommandRecorder,
  a: Tensor,
  b: Tensor,
  c: Tensor,
  options: MatmulOptions = {},
): void => {
  const op = "matmul";
  const layout = options.layout ?? "NN";
  const s = matmulShape(op, layout, a, b, c);
  if (options.bias !== undefined) expectShape(op, "bias", options.bias, [s.n], "f32");
  assertDisjoint(op, [["C", c]], [
    ["A", a],
    ["B", b],
    ...(options.bias ? [["bias", options.bias] as const] : []),
  ]);
  const rt = rec.runtime;
  const limit = options.maxBindingBytes ?? rt.maxBindingBytes;
  const operands: [Operand, Operand, Operand] = [
    layout === "TN"
      ? { tensor: a, rowDim: "k", colDim: "m", ld: s.m, batchStride: s.k * s.m }
      : { tensor: a, rowDim: "m", colDim: "k", ld: s.k, batchStride: s.m * s.k },
    layout === "NT"
      ? { tensor: b, rowDim: "n", colDim: "k", ld: s.k, batchStride: s.broadcastB ? 0 : s.n * s.k }
      : { tensor: b, rowDim: "k", colDim: "n", ld: s.n, batchStride: s.broadcastB ? 0 : s.k * s.n },
    { tensor: c, rowDim: "m", colDim: "n", ld: s.n, batchStride: s.m * s.n },
  ];
  const plan = planSplit(
    op,
    operands,
    s,
    limit,
    rt.device.limits.minStorageBufferOffsetAlignment,
  );
  const strategy = matmulStrategy(rt, layout, s, options);
  if (strategy.viaNT) return matmulViaNT(rec, layout, s, a, b, c, options);
  const tile = strategy.tile;
  const vec4 = operands.every((o) => o.ld % 4 === 0);
  const [wx, wy] = MATMUL_WORKGROUP;
  const chunks = plan === undefined ? [undefined] : Array.from(
    { length: Math.ceil(s[plan.dim] / plan.chunk) },
    (_, i) => ({
      dim: plan.dim,
      start: i * plan.chunk,
      length: Math.min(plan.chunk, s[plan.dim] - i * plan.chunk),
    }),
  );
  // Validate every dispatch before recording any, so a failure leaves the recorder untouched.
  const dispatches = chunks.map((split, index) => {
    const dims = { ...s, ...(split ? { [split.dim]: split.length } : {}) };
    const laterK = split?.dim === "k" && index > 0;
    const [va, vb, vc] = operands.map((o) => viewOf(o, split, limit)) as [
      ReturnType<typeof viewOf>,
      ReturnType<typeof viewOf>,
      ReturnType<typeof viewOf>,
    ];
    const withBias = options.bias !== undefined && !laterK;
    const pipeline = matmulPipeline(rt, {
      layout,
      tm: tile.tm,
      tn4: tile.tn4,
      vec4,
      bias: withBias,
      accumulate: (options.accumulate ?? false) || laterK,
      ...(isPacked(b.dtype) ? { packedB: b.dtype } : {}),
    });
    const params = packParams([
      { u32: dims.m },
      { u32: dims.n },
      { u32: dims.k },
      { u32: operands[0].ld },
      { u32: operands[1].ld },
      { u32: operands[2].ld },
      { u32: va.offset },
      { u32: vb.offset },
      { u32: vc.offset },
      { u32: operands[0].batchStride },
      { u32: operands[1].batchStride },
      { u32: operands[2].batchStride },
      { u32: split?.dim === "n" ? split.start : 0 },
      { f32: options.alpha ?? 1 },
    ]);
    const groups = [
      Math.ceil(dims.n / (4 * tile.tn4 * wx)),
      Math.ceil(dims.m / (tile.tm * wy)),
      s.batch,
    ] as const;
    if (groups.some((g) => g > rt.device.limits.maxComputeWorkgroupsPerDimension)) {
      throw new ShapeMismatch({
        op,
        detail: `grid ${groups.join("×")} exceeds the device's workgroup count limit`,
      });
    }
    const bindings = [va.tensor, vb.tensor, vc.tensor, ...(withBias ? [options.bias!] : [])];
    for (const t of bindings) {
      if (byteLength(t) > limit) throw new TensorTooLarge({ op, bytes: byteLength(t), limit });
    }
    return { pipeline, bindings, groups, params };
  });
  for (const d of dispatches) rec.dispatch(d.pipeline, d.bindings, d.groups, d.params);
};

/**
 * Records the bias gradient of a linear layer, `db[n] = Σ_rows dy[.., n]` (`+= ` with
 * `accumulate`).
 *
 * Shapes (f32): dy [..., N] (any leading axes, summed over), db [N].
 */
export const biasGrad = (
  rec: CommandRecorder,
  dy: Tensor,
  db: Tensor,
  options: { readonly accumulate?: boolean } = {},
): void => {
  const op = "biasGrad";
  const cols = dy.shape.at(-1);
  if (dy.shape.length < 2 || cols === undefined || cols === 0) {
    throw new ShapeMismatch({ op, detail: `dy is ${describe(dy)}, expected [..., N] with N > 0` });
  }
  expectShape(op, "dy", dy, dy.shape, "f32");
  expectShape(op, "db", db, [cols], "f32");
  assertDisjoint(op, [["db", db]], [["dy", dy]]);
  const rows = dy.shape.slice(0, -1).reduce((x, y) => x * y, 1);
  const pipeline = rec.runtime.pipelines.get({
    kernel: "matmul_bwd.wgsl",
    entryPoint: "bias_grad",
  });
  const params = packParams([
    { u32: rows },
    { u32: cols },
    { u32: options.accumulate ? 1 : 0 },
  ]);
  rec.dispatch(pipeline, [dy, db], grid1d(cols, 64), params);
};
