// Batched transpose: dst[z][c, r] = src[z][r, c] for src [batch, rows, cols]. The matmul launcher
// uses it on CPU adapters (lavapipe) to turn NN and TN products into NT, whose operands are both
// read contiguously along K: strided K reads touch a new page every step there and run ~1.5–2×
// slower (bench/matmul_bench.ts measures both paths).
// VEC4 (rows and cols multiples of 4): each invocation moves a 4×4 block with four vec4 reads and
// four vec4 writes; otherwise one element, adjacent invocations reading adjacent columns.

struct Params {
  rows: u32,
  cols: u32,
}

#ifdef VEC4
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
#else
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
#endif
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
#ifdef VEC4
  let c4 = gid.x;
  let r4 = gid.y;
  let cols4 = p.cols / 4u;
  let rows4 = p.rows / 4u;
  if (r4 >= rows4 || c4 >= cols4) { return; }
  let plane = rows4 * p.cols;
  let s = gid.z * plane + 4u * r4 * cols4 + c4;
  let m = mat4x4<f32>(src[s], src[s + cols4], src[s + 2u * cols4], src[s + 3u * cols4]);
  let t = transpose(m);
  let d = gid.z * plane + 4u * c4 * rows4 + r4;
  dst[d] = t[0];
  dst[d + rows4] = t[1];
  dst[d + 2u * rows4] = t[2];
  dst[d + 3u * rows4] = t[3];
#else
  let c = gid.x;
  let r = gid.y;
  if (r >= p.rows || c >= p.cols) { return; }
  let plane = p.rows * p.cols;
  dst[gid.z * plane + c * p.rows + r] = src[gid.z * plane + r * p.cols + c];
#endif
}
