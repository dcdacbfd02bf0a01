import assert from "node:assert/strict";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import {
  attentionForward,
  type AttentionLayout,
  type AttentionOptions,
} from "../../src/gpu/ops/attention.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { assertAllClose, gpuTest, randomArray, runAndRead, seededRandom } from "../gpu/harness.ts";
import { attentionForwardRef, type AttentionRefDims } from "./reference/attention.ts";

/** Reorders a [B, S, H, D] array into `layout` with `capacity` ≥ S positions (extra ones NaN). */
const toLayout = (
  x: ArrayLike<number>,
  [b, s, h, d]: readonly [number, number, number, number],
  layout: AttentionLayout,
  capacity = s,
): Float32Array<ArrayBuffer> => {
  const out = new Float32Array(b * capacity * h * d).fill(Number.NaN);
  for (let bi = 0; bi < b; bi++) {
    for (let si = 0; si < s; si++) {
      for (let hi = 0; hi < h; hi++) {
        const src = ((bi * s + si) * h + hi) * d;
        const dst = layout === "bshd"
          ? ((bi * capacity + si) * h + hi) * d
          : ((bi * h + hi) * capacity + si) * d;
        for (let c = 0; c < d; c++) out[dst + c] = x[src + c]!;
      }
    }
  }
  return out;
};

/** Inverse of `toLayout` for full-capacity tensors. */
const fromLayout = (
  x: ArrayLike<number>,
  shape: readonly [number, number, number, number],
  layout: AttentionLayout,
): Float32Array => {
  if (layout === "bshd") return Float32Array.from(x);
  const [b, s, h, d] = shape;
  const out = new Float32Array(b * s * h * d);
  for (let bi = 0; bi < b; bi++) {
    for (let si = 0; si < s; si++) {
      for (let hi = 0; hi < h; hi++) {
        const dst = ((bi * s + si) * h + hi) * d;
        const src = ((bi * h + hi) * s + si) * d;
        for (let c = 0; c < d; c++) out[dst + c] = x[src + c]!;
      }
    }
  }
  return out;
};

const layoutShape = (
  layout: AttentionLayout,
  [b, s, h, d]: readonly [number, number, number, number],
) => layout === "bshd" ? [b, s, h, d] : [b, h, s, d];

interface Case {
  readonly name: string;
  readonly dims: AttentionRefDims;
  readonly layout?: AttentionLayout;
  /** K/V position capacity (≥ keys): a KV cache with unused, NaN-filled rows. */
  readonly capacity?: number;
  readonly rowsPerWorkgroup?: number;
}

/** Random Q, K, V for a case (keys past a sequence's key length are NaN: they must not be read). */
const inputsFor = (dims: AttentionRefDims, seed: number) => {
  const rng = seededRandom(seed);
  const { batch: b, queries: t, keys: s, queryHeads: hq, kvHeads: hkv, headDim: d } = dims;
  const q = randomArray(b * t * hq * d, rng);
  const k = randomArray(b * s * hkv * d, rng);
  const v = randomArray(b * s * hkv * d, rng);
  for (let bi = 0; bi < b; bi++) {
    const len = dims.keyLengths?.[bi] ?? s;
    k.fill(Number.NaN, (bi * s + len) * hkv * d, (bi + 1) * s * hkv * d);
    v.fill(Number.NaN, (bi * s + len) * hkv * d, (bi + 1) * s * hkv * d);
  }
  return { q, k, v };
};

const optionsFor = (rt: GpuRuntime, c: Case): AttentionOptions => ({
  mask: c.dims.mask,
  layout: c.layout ?? "bshd",
  keyCount: c.dims.keys,
  ...(c.dims.keyLengths
    ? { keyLengths: rt.createTensor([c.dims.batch], "u32", Uint32Array.from(c.dims.keyLengths)) }
    : {}),
  ...(c.dims.scale !== undefined ? { scale: c.dims.scale } : {}),
  ...(c.rowsPerWorkgroup !== undefined ? { rowsPerWorkgroup: c.rowsPerWorkgroup } : {}),
});

/** Runs the GPU forward on a case; returns O in "bshd" order and L. */
const gpuForward = async (
  rt: GpuRuntime,
  c: Case,
  inputs: { q: ArrayLike<number>; k: ArrayLike<number>; v: ArrayLike<number> },
) => {
  const { batch: b, queries: t, keys: s, queryHeads: hq, kvHeads: hkv, headDim: d } = c.dims;
  const layout = c.layout ?? "bshd";
  const cap = c.capacity ?? s;
  const qShape = [b, t, hq, d] as const;
  const kShape = [b, s, hkv, d] as const;
  const qt = rt.createTensor(
    layoutShape(layout, qShape),
    "f32",
    toLayout(inputs.q, qShape, layout),
  );
  const kt = rt.createTensor(
    layoutShape(layout, [b, cap, hkv, d]),
    "f32",
    toLayout(inputs.k, kShape, layout, cap),
  );
  const vt = rt.createTensor(
    layoutShape(layout, [b, cap, hkv, d]),
    "f32",
    toLayout(inputs.v, kShape, layout, cap),
  );
  const ot = rt.createTensor(layoutShape(layout, qShape));
  const lt = rt.createTensor([b, hq, t]);
  const [o, l] = await runAndRead(rt, (rec) => {
    fill(rec, ot, Number.NaN);
    fill(rec, lt, Number.NaN);
    attentionForward(rec, qt, kt, vt, ot, lt, optionsFor(rt, c));
    return [ot, lt];
  });
  return { o: fromLayout(o!, qShape, layout), lse: l as Float32Array };
};

const dims = (
  over: Partial<AttentionRefDims> & Pick<AttentionRefDims, "mask">,
): AttentionRefDims => ({
  batch: 1,
  queries: 7,
  keys: 7,
  queryHeads: 1,
  kvHeads: 1,
  headDim: 16,
  ...over,
});

const FORWARD_CASES: ReadonlyArray<Case> = [
  {
    name: "causal, GQA 2, ragged T and D, several workgroups",
    dims: dims({
      mask: { kind: "causal" },
      batch: 2,
      queries: 19,
      keys: 19,
      queryHeads: 4,
      kvHeads: 2,
      headDim: 20,
    }),
    rowsPerWorkgroup: 8,
  },
  {
    name: "causal with a KV-cache prefix (S > T) and unused cache rows",
    dims: dims({ mask: { kind: "causal" }, queries: 5, keys: 37, queryHeads: 3, kvHeads: 3 }),
    capacity: 45,
    rowsPerWorkgroup: 4,
  },
  {
    name: "full attention with per-sequence key lengths, D = 64",
    dims: dims({
      mask: { kind: "full" },
      batch: 3,
      queries: 33,
      keys: 33,
      headDim: 64,
      keyLengths: [33, 17, 1],
    }),
  },
  {
    name: "prefix-LM, GQA 2, D = 8",
    dims: dims({
      mask: { kind: "prefix", prefixLength: 7 },
      queries: 23,
      keys: 23,
      queryHeads: 2,
      kvHeads: 1,
      headDim: 8,
    }),
    rowsPerWorkgroup: 16,
  },
  {
    name: "decode: one query against 50 cached keys, GQA 2",
    dims: dims({ mask: { kind: "causal" }, queries: 1, keys: 50, queryHeads: 4, kvHeads: 2 }),
    capacity: 64,
  },
  {
    name: "bhsd layout, causal, GQA 2",
    dims: dims({
      mask: { kind: "causal" },
      batch: 2,
      queries: 11,
      keys: 17,
      queryHeads: 2,
      kvHeads: 1,
      headDim: 12,
    }),
    layout: "bhsd",
    capacity: 20,
  },
  {
    name: "D = 80 and D = 128 head dims with an explicit scale",
    dims: dims({ mask: { kind: "causal" }, queries: 18, keys: 18, headDim: 80, scale: 0.3 }),
  },
  {
    name: "D = 128",
    dims: dims({ mask: { kind: "full" }, queries: 9, keys: 21, headDim: 128, queryHeads: 2 }),
  },
];

// Tolerance: scores are f32 dot products of ≤ 128 terms of size ≤ 1/√D (absolute error ~1e-6);
// exp2 and the running rescale add a few ulps; O is a convex combination of V rows (|V| ≤ 1), so
// absolute error stays ~1e-6. 2e-5 absolute catches any wrong mask (one key more or less moves O
// by ≥ 1e-3 at these sizes) or a missed rescale.
const FORWARD_TOL = { rtol: 1e-5, atol: 2e-5 };

gpuTest("attentionForward matches the float64 reference for every mask and layout", async (rt) => {
  let seed = 100;
  for (const c of FORWARD_CASES) {
    const inputs = inputsFor(c.dims, seed++);
    const ref = attentionForwardRef(inputs.q, inputs.k, inputs.v, c.dims);
    const gpu = await gpuForward(rt, c, inputs);
    assertAllClose(gpu.o, ref.o, { ...FORWARD_TOL, label: `${c.name}: O` });
    assertAllClose(gpu.lse, ref.lse, { ...FORWARD_TOL, label: `${c.name}: L` });
  }
});

gpuTest("attentionForward gives zeros and L = -inf to queries with no visible key", async (rt) => {
  const c: Case = {
    name: "key length 0",
    dims: dims({ mask: { kind: "full" }, batch: 2, queries: 3, keys: 5, keyLengths: [0, 5] }),
  };
  const inputs = inputsFor(c.dims, 7);
  const gpu = await gpuForward(rt, c, inputs);
  const ref = attentionForwardRef(inputs.q, inputs.k, inputs.v, c.dims);
  assert.deepEqual([...gpu.o.subarray(0, 3 * 16)], new Array(3 * 16).fill(0));
  assert.deepEqual([...gpu.lse.subarray(0, 3)], [-Infinity, -Infinity, -Infinity]);
  assertAllClose(gpu.o.subarray(48), ref.o.subarray(48), { ...FORWARD_TOL, label: "b=1 O" });
});

gpuTest("attentionForward rejects inconsistent shapes before recording", (rt) => {
  const rec = new CommandRecorder(rt);
  const q = rt.createTensor([1, 4, 3, 8]);
  const kv = rt.createTensor([1, 6, 2, 8]);
  const o = rt.createTensor([1, 4, 3, 8]);
  const lse = rt.createTensor([1, 3, 4]);
  const causal = { mask: { kind: "causal" } } as const;
  // 3 query heads are not a multiple of 2 KV heads.
  assert.throws(() => attentionForward(rec, q, kv, kv, o, lse, causal), ShapeMismatch);
  const q2 = rt.createTensor([1, 4, 2, 8]);
  const o2 = rt.createTensor([1, 4, 2, 8]);
  const lse2 = rt.createTensor([1, 2, 4]);
  assert.throws(
    () => attentionForward(rec, q2, kv, kv, o2, lse2, { ...causal, keyCount: 7 }),
    ShapeMismatch,
  );
  assert.throws(
    () => attentionForward(rec, q2, kv, kv, o2, lse, causal),
    ShapeMismatch,
  );
  assert.throws(
    () => attentionForward(rec, q2, rt.createTensor([1, 6, 2, 6]), kv, o2, lse2, causal),
    ShapeMismatch,
  );
  assert.throws(
    () =>
      attentionForward(rec, q2, kv, kv, o2, lse2, {
        ...causal,
        keyLengths: rt.createTensor([2], "u32"),
      }),
    ShapeMismatch,
  );
  attentionForward(rec, q2, kv, kv, o2, lse2, causal);
  assert.equal(rec.dispatchCount, 1);
  return Promise.resolve();
});
