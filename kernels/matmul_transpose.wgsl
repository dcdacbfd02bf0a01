// Batched transpose: dst[z][c, r] = src[z][r, c] for src [batch, rows, cols]. The matmul launcher
// uses it on CPU adapters (lavapipe) to turn NN and TN products into NT, whose operands are both
// read contiguously along K: strided K reads touch a new page every step there and run ~1.5×
// slower (bench/matmul_bench.ts measures both paths). Adjacent invocations read adjacent columns.

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let r = gid.y;
  if (r >= p.rows || c >= p.cols) { return; }
  let plane = p.rows * p.cols;
  dst[gid.z * plane + c * p.rows + r] = src[gid.z * plane + r * p.cols + c];
}
