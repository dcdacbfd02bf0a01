// RMSNorm forward over the last axis (Qwen2RMSNorm, in f32):
//   y[r, j] = x[r, j] · rstd[r] · w[j],   rstd[r] = 1 / sqrt(mean_j x[r, j]² + eps)
// TPR invocations per row (a power of two, 256 / TPR rows per workgroup): each sums the squares of
// a strided slice of its row (adjacent invocations read adjacent elements), then a tree reduction
// within the row's TPR slots of workgroup memory. Short rows use few invocations each, so a
// workgroup is not mostly idle and there are fewer barriers per row. rstd is saved for the
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
// Invocations per row: a power of two ≤ WG.
override TPR: u32 = 256u;
var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = lid % TPR;
  let row = (wid.x + wid.y * groups.x) * (WG / TPR) + lid / TPR;
  let valid = row < params.rows;
  let base = row * params.dim;
  var sumsq = 0.0;
  if (valid) {
    for (var j = lane; j < params.dim; j += TPR) {
      let v = x[base + j];
      sumsq = fma(v, v, sumsq);
    }
  }
  partial[lid] = sumsq;
  workgroupBarrier();
  for (var stride = TPR / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      partial[lid] += partial[lid + stride];
    }
    workgroupBarrier();
  }
  if (!valid) {
    return;
  }
  let r = inverseSqrt(partial[lid - lane] / f32(params.dim) + params.eps);
  for (var j = lane; j < params.dim; j += TPR) {
    y[base + j] = x[base + j] * r * w[j];
  }
  if (lane == 0u) {
    rstd[row] = r;
  }
}
