// RMSNorm forward over the last axis (Qwen2RMSNorm, in f32):
//   y[r, j] = x[r, j] · rstd[r] · w[j],   rstd[r] = 1 / sqrt(mean_j x[r, j]² + eps)
// One workgroup per row: each invocation sums the squares of a strided slice of the row (adjacent
// invocations read adjacent elements), then a workgroup tree reduction. rstd is saved for the
// backward pass so it need not recompute the reduction.

struct Params {
  rows: u32,
  dim: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;           // [rows, dim]
@group(0) @binding(1) var<storage, read> w: array<f32>;           // [dim]
@group(0) @binding(2) var<storage, read_write> y: array<f32>;     // [rows, dim]
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;  // [rows]
@group(0) @binding(4) var<uniform> params: Params;

const WG: u32 = 256u;
var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = wid.x + wid.y * groups.x;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.dim;
  var sumsq = 0.0;
  for (var j = lid; j < params.dim; j += WG) {
    let v = x[base + j];
    sumsq = fma(v, v, sumsq);
  }
  partial[lid] = sumsq;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      partial[lid] += partial[lid + stride];
    }
    workgroupBarrier();
  }
  let r = inverseSqrt(partial[0] / f32(params.dim) + params.eps);
  for (var j = lid; j < params.dim; j += WG) {
    y[base + j] = x[base + j] * r * w[j];
  }
  if (lid == 0u) {
    rstd[row] = r;
  }
}
