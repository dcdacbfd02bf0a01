import assert from "node:assert/strict";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import {
  attentionBackward,
  attentionForward,
  type AttentionLayout,
  type AttentionOptions,
} from "../../src/gpu/ops/attention.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import { GpuRuntime } from "../../src/gpu/runtime.ts";
import { assertAllClose, gpuTest, randomArray, runAndRead, seededRandom } from "../gpu/harness.ts";
import {
  attentionBackwardRef,
  attentionForwardRef,
  type AttentionRefDims,
} from "./reference/attention.ts";

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

/** Inverse of `toLayout`: the first S positions of a tensor with `capacity` positions. */
const fromLayout = (
  x: ArrayLike<number>,
  [b, s, h, d]: readonly [number, number, number, number],
  layout: AttentionLayout,
  capacity = s,
): Float32Array => {
  const out = new Float32Array(b * s * h * d);
  for (let bi = 0; bi < b; bi++) {
    for (let si = 0; si < s; si++) {
      for (let hi = 0; hi < h; hi++) {
        const dst = ((bi * s + si) * h + hi) * d;
        const src = layout === "bshd"
          ? ((bi * capacity + si) * h + hi) * d
          : ((bi * h + hi) * capacity + si) * d;
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
  readonly workgroupSize?: number;
  readonly rowsPerInvocation?: 1 | 2 | 4 | 8;
  readonly splitKeys?: boolean;
  readonly subgroups?: boolean;
  /** Skip in the backward test (its kernels take ~60 s to compile at 8 rows × D = 64 on lavapipe). */
  readonly forwardOnly?: boolean;
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
  ...(c.workgroupSize !== undefined ? { workgroupSize: c.workgroupSize } : {}),
  ...(c.rowsPerInvocation !== undefined ? { rowsPerInvocation: c.rowsPerInvocation } : {}),
  ...(c.splitKeys !== undefined ? { splitKeys: c.splitKeys } : {}),
  ...(c.subgroups !== undefined ? { subgroups: c.subgroups } : {}),
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

/** Runs the GPU forward then backward on a case; returns dQ, dK, dV in "bshd" order (first S). */
const gpuBackward = async (
  rt: GpuRuntime,
  c: Case,
  inputs: { q: ArrayLike<number>; k: ArrayLike<number>; v: ArrayLike<number> },
  dO: ArrayLike<number>,
) => {
  const { batch: b, queries: t, keys: s, queryHeads: hq, kvHeads: hkv, headDim: d } = c.dims;
  const layout = c.layout ?? "bshd";
  const cap = c.capacity ?? s;
  const qShape = [b, t, hq, d] as const;
  const kShape = [b, s, hkv, d] as const;
  const kvLayoutShape = layoutShape(layout, [b, cap, hkv, d]);
  const upload = (x: ArrayLike<number>, shape: typeof qShape | typeof kShape, capacity?: number) =>
    rt.createTensor(
      layoutShape(layout, [shape[0], capacity ?? shape[1], shape[2], shape[3]]),
      "f32",
      toLayout(x, shape, layout, capacity),
    );
  const qt = upload(inputs.q, qShape);
  const kt = upload(inputs.k, kShape, cap);
  const vt = upload(inputs.v, kShape, cap);
  const dot = upload(dO, qShape);
  const ot = rt.createTensor(layoutShape(layout, qShape));
  const lt = rt.createTensor([b, hq, t]);
  const dqt = rt.createTensor(layoutShape(layout, qShape));
  const dkt = rt.createTensor(kvLayoutShape);
  const dvt = rt.createTensor(kvLayoutShape);
  const options = optionsFor(rt, c);
  const [dq, dk, dv] = await runAndRead(rt, (rec) => {
    for (const g of [dqt, dkt, dvt]) fill(rec, g, Number.NaN);
    attentionForward(rec, qt, kt, vt, ot, lt, options);
    attentionBackward(rec, qt, kt, vt, ot, lt, dot, dqt, dkt, dvt, options);
    return [dqt, dkt, dvt];
  });
  return {
    dq: fromLayout(dq!, qShape, layout),
    dk: fromLayout(dk!, kShape, layout, cap),
    dv: fromLayout(dv!, kShape, layout, cap),
    /** Everything of dK past the S used positions (must still be the NaN poison). */
    dkUnused: (dk as Float32Array).filter((_, i) => {
      const pos = layout === "bshd" ? Math.floor(i / (hkv * d)) % cap : Math.floor(i / d) % cap;
      return pos >= s;
    }),
  };
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
    workgroupSize: 8,
    rowsPerInvocation: 1,
  },
  {
    name: "causal with a KV-cache prefix (S > T) and unused cache rows",
    dims: dims({ mask: { kind: "causal" }, queries: 5, keys: 37, queryHeads: 3, kvHeads: 3 }),
    capacity: 45,
    workgroupSize: 4,
    rowsPerInvocation: 2,
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
    workgroupSize: 16,
    rowsPerInvocation: 8,
  },
  {
    name: "causal, D = 64, GQA 2, 8 rows per invocation, workgroups of 6 (a ragged subgroup)",
    dims: dims({
      mask: { kind: "causal" },
      queries: 45,
      keys: 45,
      queryHeads: 4,
      kvHeads: 2,
      headDim: 64,
    }),
    // 90 rows per KV head: two workgroups of 48 rows, the second one half empty. Six lanes take
    // the keys in groups of four: the second group has two keys and two masked lanes.
    workgroupSize: 6,
    rowsPerInvocation: 8,
    forwardOnly: true,
  },
  {
    name: "causal, D = 64, GQA 2, 4 rows per invocation, workgroups of 6 (a ragged subgroup)",
    dims: dims({
      mask: { kind: "causal" },
      queries: 29,
      keys: 29,
      queryHeads: 4,
      kvHeads: 2,
      headDim: 64,
    }),
    // The CPU adapter's default backward tile for D = 64 (4 rows per invocation) with six lanes:
    // 58 rows per KV head in three workgroups of 24 rows, the last one partly empty; both passes
    // stream six rows a step, so the spelled-out 8-row steps mask their last two offsets.
    workgroupSize: 6,
    rowsPerInvocation: 4,
  },
  {
    name: "causal with fewer keys than queries (the first queries see none)",
    dims: dims({ mask: { kind: "causal" }, queries: 9, keys: 4, headDim: 8 }),
  },
  {
    name: "decode: one query against 50 cached keys, GQA 2",
    dims: dims({ mask: { kind: "causal" }, queries: 1, keys: 50, queryHeads: 4, kvHeads: 2 }),
    capacity: 64,
    workgroupSize: 32,
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
    // 12 invocations: one full 8-lane subgroup and one partial one on lavapipe.
    workgroupSize: 12,
    rowsPerInvocation: 1,
  },
  {
    name: "D = 80 and D = 128 head dims with an explicit scale",
    dims: dims({ mask: { kind: "causal" }, queries: 18, keys: 18, headDim: 80, scale: 0.3 }),
    workgroupSize: 4,
  },
  {
    name: "D = 128",
    dims: dims({ mask: { kind: "full" }, queries: 9, keys: 21, headDim: 128, queryHeads: 2 }),
  },
  {
    name: "the tiny preset's training shape: 2 × 300 tokens, GQA 2, D = 32, default workgroups",
    dims: dims({
      mask: { kind: "causal" },
      batch: 2,
      queries: 300,
      keys: 300,
      queryHeads: 4,
      kvHeads: 2,
      headDim: 32,
    }),
  },
];

// Tolerance: scores are f32 dot products of ≤ 128 terms of size ≤ 1/√D (absolute error ~1e-6);
// exp2 and the running rescale add a few ulps; O is a convex combination of V rows (|V| ≤ 1), so
// absolute error stays ~1e-6. 2e-5 absolute catches any wrong mask (one key more or less moves O
// by ≥ 1e-3 at these sizes) or a missed rescale.
const FORWARD_TOL = { rtol: 1e-5, atol: 2e-5 };

/** L must be exactly −∞ where the reference's is (no visible key) and close elsewhere. */
const assertLseClose = (gpu: Float32Array, ref: Float64Array, label: string) => {
  ref.forEach((r, i) => {
    if (r === -Infinity) assert.equal(gpu[i], -Infinity, `${label}: L[${i}] should be -inf`);
  });
  const finite = (x: ArrayLike<number>) => Array.from(ref, (r, i) => r === -Infinity ? 0 : x[i]!);
  assertAllClose(finite(gpu), finite(ref), { ...FORWARD_TOL, label });
};

gpuTest("attentionForward matches the float64 reference for every mask and layout", async (rt) => {
  let seed = 100;
  for (const c of FORWARD_CASES) {
    const inputs = inputsFor(c.dims, seed++);
    const ref = attentionForwardRef(inputs.q, inputs.k, inputs.v, c.dims);
    // Few query rows per KV head: the key-split (decode) kernel too. The row-split kernel with
    // and without subgroup shuffles (lavapipe's subgroups have 8 lanes).
    const rows = c.dims.queries * c.dims.queryHeads / c.dims.kvHeads;
    const variants = [
      ...(rows <= 8 ? [{ splitKeys: true, label: "split keys" }] : []),
      { splitKeys: false, subgroups: false, label: "rows" },
      ...(rt.features.subgroups
        ? [{ splitKeys: false, subgroups: true, label: "rows, subgroups" }]
        : []),
    ];
    for (const { label: variant, ...options } of variants) {
      const gpu = await gpuForward(rt, { ...c, ...options }, inputs);
      const label = `${c.name} (${variant})`;
      assertAllClose(gpu.o, ref.o, { ...FORWARD_TOL, label: `${label}: O` });
      assertLseClose(gpu.lse, ref.lse, `${label}: L`);
    }
  }
});

gpuTest("attentionForward gives zeros and L = -inf to queries with no visible key", async (rt) => {
  const c: Case = {
    name: "key length 0",
    dims: dims({ mask: { kind: "full" }, batch: 2, queries: 3, keys: 5, keyLengths: [0, 5] }),
  };
  const inputs = inputsFor(c.dims, 7);
  const ref = attentionForwardRef(inputs.q, inputs.k, inputs.v, c.dims);
  for (const splitKeys of [true, false]) {
    const gpu = await gpuForward(rt, { ...c, splitKeys }, inputs);
    assert.deepEqual([...gpu.o.subarray(0, 3 * 16)], new Array(3 * 16).fill(0));
    assert.deepEqual([...gpu.lse.subarray(0, 3)], [-Infinity, -Infinity, -Infinity]);
    assertAllClose(gpu.o.subarray(48), ref.o.subarray(48), { ...FORWARD_TOL, label: "b=1 O" });
  }
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

// Tolerance: each gradient sums ≤ S·G terms of products of O(1) values with f32 rounding in the
// recomputed P (~1e-6 relative) and in dP − Δ (cancellation: |dP|, |Δ| ≤ ~D·1/√D); absolute error
// stays ≲ 1e-5 at these sizes. 5e-5 still fails for a missing key, head or scale factor (≥ 1e-3).
const BACKWARD_TOL = { rtol: 1e-4, atol: 5e-5 };

gpuTest("attentionBackward matches the float64 reference for every mask and layout", async (rt) => {
  let seed = 200;
  for (const [index, c] of FORWARD_CASES.entries()) {
    if (c.forwardOnly === true) continue;
    const inputs = inputsFor(c.dims, seed++);
    const dO = randomArray(inputs.q.length, seededRandom(seed++));
    const ref = attentionBackwardRef(inputs.q, inputs.k, inputs.v, dO, c.dims);
    // The device's default (subgroup shuffles on lavapipe) for every case; the workgroup-memory
    // kernels too for the first four (each variant compiles its own pipelines).
    const variants = index < 4 && rt.features.subgroups ? [undefined, false] : [undefined];
    for (const subgroups of variants) {
      const gpu = await gpuBackward(
        rt,
        { ...c, ...(subgroups === false ? { subgroups } : {}) },
        inputs,
        dO,
      );
      const label = `${c.name}${subgroups === false ? " (no subgroups)" : ""}`;
      assertAllClose(gpu.dq, ref.dq, { ...BACKWARD_TOL, label: `${label}: dQ` });
      assertAllClose(gpu.dk, ref.dk, { ...BACKWARD_TOL, label: `${label}: dK` });
      assertAllClose(gpu.dv, ref.dv, { ...BACKWARD_TOL, label: `${label}: dV` });
      assert.ok(gpu.dkUnused.every(Number.isNaN), `${label}: dK rows past S were written`);
    }
  }
});

gpuTest(
  "attentionBackward gives zero gradients for padded keys and keyless queries",
  async (rt) => {
    const c: Case = {
      name: "padding",
      dims: dims({
        mask: { kind: "causal" },
        batch: 2,
        queries: 6,
        keys: 6,
        queryHeads: 2,
        kvHeads: 1,
        keyLengths: [0, 4],
      }),
    };
    const inputs = inputsFor(c.dims, 31);
    const dO = randomArray(inputs.q.length, seededRandom(32));
    const gpu = await gpuBackward(rt, c, inputs, dO);
    const ref = attentionBackwardRef(inputs.q, inputs.k, inputs.v, dO, c.dims);
    // Sequence 0 has no keys: everything is zero. Sequence 1: keys 4 and 5 are padding.
    assert.ok(gpu.dq.subarray(0, 6 * 2 * 16).every((x) => x === 0));
    assert.ok(gpu.dk.subarray(0, 6 * 16).every((x) => x === 0));
    assert.ok(gpu.dv.subarray((6 + 4) * 16).every((x) => x === 0));
    assertAllClose(gpu.dq, ref.dq, { ...BACKWARD_TOL, label: "dQ" });
    assertAllClose(gpu.dk, ref.dk, { ...BACKWARD_TOL, label: "dK" });
    assertAllClose(gpu.dv, ref.dv, { ...BACKWARD_TOL, label: "dV" });
  },
);

/** Central differences of `loss` with respect to every element of `x` (perturbed in place). */
const centralDifferences = (x: Float64Array, loss: () => number, h: number): Float64Array =>
  x.map((xi, i) => {
    x[i] = xi + h;
    const plus = loss();
    x[i] = xi - h;
    const minus = loss();
    x[i] = xi;
    return (plus - minus) / (2 * h);
  });

Deno.test("attentionBackwardRef agrees with central differences of attentionForwardRef", () => {
  const rng = seededRandom(41);
  for (
    const mask of [
      { kind: "causal" },
      { kind: "full" },
      { kind: "prefix", prefixLength: 2 },
    ] as const
  ) {
    const d = dims({
      mask,
      batch: 1,
      queries: 3,
      keys: 4,
      queryHeads: 2,
      kvHeads: 1,
      headDim: 3,
      keyLengths: [4],
    });
    const q = Float64Array.from(randomArray(3 * 2 * 3, rng));
    const k = Float64Array.from(randomArray(4 * 3, rng));
    const v = Float64Array.from(randomArray(4 * 3, rng));
    const w = Float64Array.from(randomArray(3 * 2 * 3, rng));
    const loss = () => attentionForwardRef(q, k, v, d).o.reduce((a, oi, i) => a + oi * w[i]!, 0);
    const grads = attentionBackwardRef(q, k, v, w, d);
    // float64 with h = 1e-5: truncation ~h² = 1e-10, rounding ~1e-16/h = 1e-11.
    const tol = { rtol: 1e-6, atol: 1e-8 };
    assertAllClose(grads.dq, centralDifferences(q, loss, 1e-5), {
      ...tol,
      label: `${mask.kind} dQ`,
    });
    assertAllClose(grads.dk, centralDifferences(k, loss, 1e-5), {
      ...tol,
      label: `${mask.kind} dK`,
    });
    assertAllClose(grads.dv, centralDifferences(v, loss, 1e-5), {
      ...tol,
      label: `${mask.kind} dV`,
    });
  }
});

gpuTest("attentionBackward agrees with central differences of the GPU forward", async (rt) => {
  const c: Case = {
    name: "fd",
    dims: dims({
      mask: { kind: "causal" },
      queries: 3,
      keys: 5,
      queryHeads: 2,
      kvHeads: 1,
      headDim: 4,
    }),
  };
  const inputs = inputsFor(c.dims, 51);
  const w = randomArray(inputs.q.length, seededRandom(52));
  const grads = await gpuBackward(rt, c, inputs, w);
  // All perturbed forwards in one submit: one GPU call per perturbed input, each with its own
  // tensors, then one readback.
  const h = 1e-2;
  const perturbations: { which: "q" | "k" | "v"; index: number; sign: number }[] = [];
  for (const which of ["q", "k", "v"] as const) {
    for (let index = 0; index < inputs[which].length; index++) {
      for (const sign of [1, -1]) perturbations.push({ which, index, sign });
    }
  }
  const { queries: t, keys: s, queryHeads: hq, headDim: d } = c.dims;
  const outs = perturbations.map(() => rt.createTensor([1, t, hq, d]));
  const lses = perturbations.map(() => rt.createTensor([1, hq, t]));
  const results = await runAndRead(rt, (rec) =>
    perturbations.map(({ which, index, sign }, n) => {
      const x = {
        q: Float32Array.from(inputs.q),
        k: Float32Array.from(inputs.k),
        v: Float32Array.from(inputs.v),
      };
      x[which][index]! += sign * h;
      attentionForward(
        rec,
        rt.createTensor([1, t, hq, d], "f32", x.q),
        rt.createTensor([1, s, 1, d], "f32", x.k),
        rt.createTensor([1, s, 1, d], "f32", x.v),
        outs[n]!,
        lses[n]!,
        { mask: c.dims.mask },
      );
      return outs[n]!;
    }));
  const lossOf = (o: ArrayLike<number>) => {
    let acc = 0;
    for (let i = 0; i < o.length; i++) acc += o[i]! * w[i]!;
    return acc;
  };
  const numeric = { q: [] as number[], k: [] as number[], v: [] as number[] };
  for (let n = 0; n < perturbations.length; n += 2) {
    const { which } = perturbations[n]!;
    numeric[which].push((lossOf(results[n]!) - lossOf(results[n + 1]!)) / (2 * h));
  }
  // f32 forward: rounding ~1e-7·|loss|/h ≈ 1e-5; truncation ~h²·|third derivative| ≈ 1e-4.
  const tol = { rtol: 2e-3, atol: 5e-4 };
  assertAllClose(grads.dq, numeric.q, { ...tol, label: "gpu fd dQ" });
  assertAllClose(grads.dk, numeric.k, { ...tol, label: "gpu fd dK" });
  assertAllClose(grads.dv, numeric.v, { ...tol, label: "gpu fd dV" });
});

/**
 * `rt` as a GPU would drive it: its device reports a (fictional) discrete adapter, so the ops take
 * their GPU launch defaults (one row per invocation, workgroups of 64, the workgroup-memory forward,
 * the generic subgroup backward) while the work still runs on this adapter.
 */
const withGpuDefaults = (rt: GpuRuntime): GpuRuntime => {
  const device = new Proxy(rt.device, {
    get: (target, prop) => {
      if (prop === "adapterInfo") {
        return { vendor: "test", architecture: "", device: "", description: "discrete GPU (test)" };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return new GpuRuntime({ device, features: rt.features });
};

gpuTest("attention with a GPU's launch defaults matches the float64 reference", async (cpuRt) => {
  const rt = withGpuDefaults(cpuRt);
  let seed = 300;
  // The cases that leave the launch shape to the defaults, forward and backward.
  for (const c of FORWARD_CASES.slice(0, 6)) {
    const { workgroupSize: _wg, rowsPerInvocation: _rows, ...defaults } = c;
    const inputs = inputsFor(c.dims, seed++);
    const ref = attentionForwardRef(inputs.q, inputs.k, inputs.v, c.dims);
    const fwd = await gpuForward(rt, defaults, inputs);
    assertAllClose(fwd.o, ref.o, { ...FORWARD_TOL, label: `${c.name}: O` });
    assertLseClose(fwd.lse, ref.lse, `${c.name}: L`);
    if (c.forwardOnly === true) continue;
    const dO = randomArray(inputs.q.length, seededRandom(seed++));
    const refB = attentionBackwardRef(inputs.q, inputs.k, inputs.v, dO, c.dims);
    const bwd = await gpuBackward(rt, defaults, inputs, dO);
    assertAllClose(bwd.dq, refB.dq, { ...BACKWARD_TOL, label: `${c.name}: dQ` });
    assertAllClose(bwd.dk, refB.dk, { ...BACKWARD_TOL, label: `${c.name}: dK` });
    assertAllClose(bwd.dv, refB.dv, { ...BACKWARD_TOL, label: `${c.name}: dV` });
  }
});
