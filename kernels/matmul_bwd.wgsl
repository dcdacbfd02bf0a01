// Bias gradient of a linear layer: db[n] = Σ_r dy[r, n] (+ db[n] when accumulating), the column
// sum of dy [rows, N]. The weight and input gradients are matmuls (NT and TN, see
// src/gpu/ops/matmul.ts). One invocation per column; adjacent invocations read adjacent columns,
// so every row is read contiguously across a workgroup.

struct Params {
  rows: u32,
  cols: u32,
  accumulate: u32,
}

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> db: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(64)
fn bias_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let col = gid.x + gid.y * groups.x * 64u;
  if (col >= p.cols) { return; }
  var sum = 0.0;
  for (var r = 0u; r < p.rows; r++) {
    sum += dy[r * p.cols + col];
  }
  if (p.accumulate != 0u) {
    sum += db[col];
  }
  db[col] = sum;
}
