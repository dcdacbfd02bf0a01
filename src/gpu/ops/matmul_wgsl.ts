/**
 * WGSL source of the register-tiled matmul, generated per variant (layout, tile, vec4, epilogue).
 *
 * Why generated rather than a kernels/*.wgsl file with `override` tile sizes: lavapipe (Mesa's
 * NIR) does not fully unroll nested loops whose trip counts come from override constants, so a
 * register tile held in a WGSL array spills to scratch memory. Measured at 1024³ on lavapipe:
 * 5.4 GFLOP/s for the loop-and-array kernel against 23–25 GFLOP/s for the same 16×16 tile
 * written as straight-line code with one named `vec4` accumulator per 4 columns. So each tile
 * size is its own shader, written out here the way gpu.cpp's `createMatmulN` fills a template.
 *
 * The kernel (one invocation = a TM × 4·TN4 block of C, workgroup 8×8, no workgroup memory):
 *   C[z] = alpha · op(A[z]) · op(B[z])  (+ bias[n])  (+ C[z] when accumulating)
 * Storage is row-major with explicit row strides and element offsets (`Params`), so a launcher can
 * bind a slice of an operand too big for one binding.
 *
 * In the NT layout B (weights [out, in]) may be stored in 16 bits, two values per u32 word with
 * element 2i in the low half: bf16 widens exactly by a shift (`bitcast<f32>(w << 16)`), f16 by
 * `unpack2x16float` (core WGSL, no `shader-f16` needed). Products accumulate in f32 either way, and
 * the vec4 path reads four K-values of B as one `vec2<u32>` — half the bytes of the f32 kernel.
 *
 * @module
 */

/** Which operands are stored transposed: NN (A M×K, B K×N), NT (B N×K), TN (A K×M). */
export type MatmulLayout = "NN" | "NT" | "TN";

/** One compiled matmul variant. */
export interface MatmulVariant {
  readonly layout: MatmulLayout;
  /** Rows of C per invocation: 1, 2, 4, 8 or 16 (a multiple of 4 for TN). */
  readonly tm: number;
  /** vec4 columns of C per invocation: 1, 2 or 4. */
  readonly tn4: number;
  /** Rows, strides and offsets are all multiples of 4: read and write vec4 directly. */
  readonly vec4: boolean;
  /** Add a bias vector (length N) to every row of C. */
  readonly bias: boolean;
  /** Add the product to C's previous contents (gradient accumulation). */
  readonly accumulate: boolean;
  /** B is stored packed in 16 bits (NT only); absent for f32. */
  readonly packedB?: PackedDtype;
}

/** 16-bit storage of a packed operand. */
export type PackedDtype = "bf16" | "f16";

/** Invocations per workgroup along N (x) and M (y). 8×8 was fastest on lavapipe (webgpu.md §8.1). */
export const MATMUL_WORKGROUP = [8, 8] as const;

/** Field order of the uniform block; the launcher packs them in this order. */
export const MATMUL_PARAMS = [
  "m",
  "n",
  "k",
  "lda",
  "ldb",
  "ldc",
  "a_offset",
  "b_offset",
  "c_offset",
  "a_batch_stride",
  "b_batch_stride",
  "c_batch_stride",
  "bias_offset",
  "alpha",
] as const;

const COMPONENTS = ["x", "y", "z", "w"] as const;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Widening of packed B: `unpack_b4` turns one `vec2<u32>` (4 consecutive values) into a vec4, and
 * `b_at` reads element `e` (scalar path).
 */
const unpackers = (packed: PackedDtype, vec4: boolean): string => {
  const four = packed === "bf16"
    ? `  let lo = bitcast<vec2<f32>>(w << vec2<u32>(16u));
  let hi = bitcast<vec2<f32>>(w & vec2<u32>(0xffff0000u));
  return vec4<f32>(lo.x, hi.x, lo.y, hi.y);`
    : "  return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));";
  const one = packed === "bf16"
    ? "  return bitcast<f32>(select(w << 16u, w & 0xffff0000u, (e & 1u) == 1u));"
    : "  return unpack2x16float(w)[e & 1u];";
  return vec4
    ? `
// B values 4i..4i+3 (${packed}, two per word, element 2i in the low half) as f32.
fn unpack_b4(w: vec2<u32>) -> vec4<f32> {
${four}
}`
    : `
// Element e of B (${packed}, two per word, element 2i in the low half) as f32.
fn b_at(e: u32) -> f32 {
  let w = b[e / 2u];
${one}
}`;
};

/** Bindings, parameter block and the bounds-checked load/store helpers. */
const prelude = (v: MatmulVariant): string => {
  const elem = v.vec4 ? "vec4<f32>" : "f32";
  const bElem = v.packedB === undefined ? elem : v.vec4 ? "vec2<u32>" : "u32";
  const fields = MATMUL_PARAMS.map((f) => `  ${f}: ${f === "alpha" ? "f32" : "u32"},`).join("\n");
  // Only the scalar path needs bounds-checked loads (see `Body`).
  const loader = (name: string, element: (at: string) => string) =>
    v.vec4 ? "" : `
// Four consecutive elements (row r, columns col..col+3) of a rows×cols matrix; zero outside it.
fn ${name}(base: u32, ld: u32, rows: u32, cols: u32, r: u32, col: u32) -> vec4<f32> {
  var value = vec4<f32>(0.0);
  if (r < rows) {
    let start = base + r * ld + col;
    for (var q = 0u; q < 4u; q++) {
      if (col + q < cols) { value[q] = ${element("start + q")}; }
    }
  }
  return value;
}`;
  const biasAdd = v.bias
    ? `
  for (var q = 0u; q < 4u; q++) {
    value[q] += bias[p.bias_offset + min(col + q, p.n - 1u)];
  }`
    : "";
  const store = v.vec4
    ? `  c[at / 4u] = ${v.accumulate ? "c[at / 4u] + " : ""}value;`
    : `  for (var q = 0u; q < 4u; q++) {
    if (col + q < p.n) { c[at + q] = ${v.accumulate ? "c[at + q] + " : ""}value[q]; }
  }`;
  return `struct Params {
${fields}
}

@group(0) @binding(0) var<storage, read> a: array<${elem}>;
@group(0) @binding(1) var<storage, read> b: array<${bElem}>;
@group(0) @binding(2) var<storage, read_write> c: array<${elem}>;
${
    v.bias
      ? `@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;`
      : "@group(0) @binding(3) var<uniform> p: Params;"
  }
${loader("load_a", (at) => `a[${at}]`)}
${loader("load_b", (at) => v.packedB === undefined ? `b[${at}]` : `b_at(${at})`)}${
    v.packedB === undefined ? "" : unpackers(v.packedB, v.vec4)
  }

// Epilogue for columns col..col+3 of row r: scale, bias, accumulate, store (inside C only).
fn store_c(base: u32, r: u32, col: u32, product: vec4<f32>) {
  if (r >= p.m || col >= p.n) { return; }
  var value = p.alpha * product;${biasAdd}
  let at = base + r * p.ldc + col;
${store}
}
`;
};

/**
 * Loop bodies. With vec4 storage the row offsets are computed once before the K loop (in vec4
 * units); K is a multiple of 4 so it never runs past the end, and rows/columns past M or N are
 * clamped inside the matrix (their results are never stored), so no load needs zeroing. The
 * scalar path goes through the bounds-checked `load_a` / `load_b`, which zero-pad along K.
 */
interface Body {
  readonly setup: string[];
  readonly loop: string[];
}

/** NN: per 4 k-steps, one vec4 of A per row (along K) and TN4 vec4 of each of 4 rows of B. */
const bodyNN = (tm: number, tn4: number, vec4: boolean): Body => {
  const setup = vec4
    ? [
      ...range(tm).map((i) => `let ra${i} = (a_base + min(row0 + ${i}u, p.m - 1u) * p.lda) / 4u;`),
      ...range(tn4).map((j) => `let cb${j} = min(col0 + ${4 * j}u, p.n - 4u) / 4u;`),
    ]
    : [];
  const loop = ["for (var k = 0u; k < p.k; k += 4u) {"];
  for (const i of range(tm)) {
    loop.push(
      vec4
        ? `  let a${i} = a[ra${i} + k / 4u];`
        : `  let a${i} = load_a(a_base, p.lda, p.m, p.k, row0 + ${i}u, k);`,
    );
  }
  for (const kk of range(4)) {
    if (vec4) loop.push(`  let rb${kk} = (b_base + (k + ${kk}u) * p.ldb) / 4u;`);
    for (const j of range(tn4)) {
      loop.push(
        vec4
          ? `  let b${kk}_${j} = b[rb${kk} + cb${j}];`
          : `  let b${kk}_${j} = load_b(b_base, p.ldb, p.k, p.n, k + ${kk}u, col0 + ${4 * j}u);`,
      );
    }
    for (const i of range(tm)) {
      for (const j of range(tn4)) {
        loop.push(
          `  c${i}_${j} = fma(vec4<f32>(a${i}.${COMPONENTS[kk]}), b${kk}_${j}, c${i}_${j});`,
        );
      }
    }
  }
  loop.push("}");
  return { setup, loop };
};

/**
 * NT: per 4 k-steps, one vec4 of A per row and one of B per column (both along K); dot products.
 * Packed B is indexed in the same units (one `vec2<u32>` holds 4 values) and widened on load.
 */
const bodyNT = (tm: number, tn4: number, vec4: boolean, packed: boolean): Body => {
  const setup = vec4
    ? [
      ...range(tm).map((i) => `let ra${i} = (a_base + min(row0 + ${i}u, p.m - 1u) * p.lda) / 4u;`),
      ...range(4 * tn4).map((jj) =>
        `let rb${jj} = (b_base + min(col0 + ${jj}u, p.n - 1u) * p.ldb) / 4u;`
      ),
    ]
    : [];
  const loop = ["for (var k = 0u; k < p.k; k += 4u) {"];
  for (const i of range(tm)) {
    loop.push(
      vec4
        ? `  let a${i} = a[ra${i} + k / 4u];`
        : `  let a${i} = load_a(a_base, p.lda, p.m, p.k, row0 + ${i}u, k);`,
    );
  }
  for (const jj of range(4 * tn4)) {
    loop.push(
      vec4
        ? packed
          ? `  let b${jj} = unpack_b4(b[rb${jj} + k / 4u]);`
          : `  let b${jj} = b[rb${jj} + k / 4u];`
        : `  let b${jj} = load_b(b_base, p.ldb, p.n, p.k, col0 + ${jj}u, k);`,
    );
  }
  for (const i of range(tm)) {
    for (const j of range(tn4)) {
      const dots = range(4).map((q) => `dot(a${i}, b${4 * j + q})`).join(", ");
      loop.push(`  c${i}_${j} += vec4<f32>(${dots});`);
    }
  }
  loop.push("}");
  return { setup, loop };
};

/** TN: per k-step, TM/4 vec4 of A's row k (along M) and TN4 vec4 of B's row k (along N). */
const stepTN = (tm: number, tn4: number, vec4: boolean, k: string, indent: string): string[] => {
  const lines: string[] = [];
  if (vec4) {
    lines.push(`${indent}let ar = (a_base + (${k}) * p.lda) / 4u;`);
    lines.push(`${indent}let br = (b_base + (${k}) * p.ldb) / 4u;`);
  }
  for (const q of range(tm / 4)) {
    lines.push(
      vec4
        ? `${indent}let a${q} = a[ar + ca${q}];`
        : `${indent}let a${q} = load_a(a_base, p.lda, p.k, p.m, ${k}, row0 + ${4 * q}u);`,
    );
  }
  for (const j of range(tn4)) {
    lines.push(
      vec4
        ? `${indent}let b${j} = b[br + cb${j}];`
        : `${indent}let b${j} = load_b(b_base, p.ldb, p.k, p.n, ${k}, col0 + ${4 * j}u);`,
    );
  }
  for (const i of range(tm)) {
    for (const j of range(tn4)) {
      const s = `a${Math.floor(i / 4)}.${COMPONENTS[i % 4]}`;
      lines.push(`${indent}c${i}_${j} = fma(vec4<f32>(${s}), b${j}, c${i}_${j});`);
    }
  }
  return lines;
};

/** TN is unrolled by 4 along K with a single-step tail (K is not contiguous in either operand). */
const bodyTN = (tm: number, tn4: number, vec4: boolean): Body => ({
  setup: vec4
    ? [
      ...range(tm / 4).map((q) => `let ca${q} = min(row0 + ${4 * q}u, p.m - 4u) / 4u;`),
      ...range(tn4).map((j) => `let cb${j} = min(col0 + ${4 * j}u, p.n - 4u) / 4u;`),
    ]
    : [],
  loop: [
    "var k = 0u;",
    "for (; k + 4u <= p.k; k += 4u) {",
    ...range(4).flatMap((kk) => [
      "  {",
      ...stepTN(tm, tn4, vec4, `k + ${kk}u`, "    "),
      "  }",
    ]),
    "}",
    "for (; k < p.k; k++) {",
    ...stepTN(tm, tn4, vec4, "k", "  "),
    "}",
  ],
});

/** The complete WGSL module for one variant (entry point `main`). */
export const matmulSource = (v: MatmulVariant): string => {
  if (![1, 2, 4, 8, 16].includes(v.tm) || ![1, 2, 4].includes(v.tn4)) {
    throw new RangeError(`matmul: unsupported tile ${v.tm}×${4 * v.tn4}`);
  }
  if (v.packedB !== undefined && v.layout !== "NT") {
    throw new RangeError(`matmul: packed B needs the NT layout, got ${v.layout}`);
  }
  if (v.layout === "TN" && v.tm % 4 !== 0) {
    throw new RangeError(`matmul: TN needs a multiple of 4 rows per invocation, got ${v.tm}`);
  }
  const body = v.layout === "NN"
    ? bodyNN(v.tm, v.tn4, v.vec4)
    : v.layout === "NT"
    ? bodyNT(v.tm, v.tn4, v.vec4, v.packedB !== undefined)
    : bodyTN(v.tm, v.tn4, v.vec4);
  const accumulators = range(v.tm).flatMap((i) =>
    range(v.tn4).map((j) => `var c${i}_${j} = vec4<f32>(0.0);`)
  );
  const stores = range(v.tm).flatMap((i) =>
    range(v.tn4).map((j) => `store_c(c_base, row0 + ${i}u, col0 + ${4 * j}u, c${i}_${j});`)
  );
  const [wx, wy] = MATMUL_WORKGROUP;
  return `// matmul ${v.layout}, ${v.tm}×${4 * v.tn4} per invocation${v.vec4 ? ", vec4" : ""}` +
    `${v.packedB ? `, ${v.packedB} B` : ""}` +
    `${v.bias ? ", bias" : ""}${v.accumulate ? ", accumulate" : ""} (generated by matmul_wgsl.ts)
${prelude(v)}
@compute @workgroup_size(${wx}, ${wy}, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * ${v.tm}u;
  let col0 = gid.x * ${4 * v.tn4}u;
  if (row0 >= p.m || col0 >= p.n) { return; }
  let a_base = p.a_offset + gid.z * p.a_batch_stride;
  let b_base = p.b_offset + gid.z * p.b_batch_stride;
  let c_base = p.c_offset + gid.z * p.c_batch_stride;
${[...accumulators, ...body.setup, ...body.loop, ...stores].map((l) => `  ${l}`).join("\n")}
}
`;
};
