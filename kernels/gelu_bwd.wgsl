// GELU backward: dx = dy · (Φ(x) + x · φ(x)), φ the standard normal density.

#include "gelu_common.wgsl"

struct Params {
  count: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i < params.count) {
    let v = x[i];
    let cdf = 0.5 * (1.0 + erf_f32(v * 0.70710678118654752));
    let pdf = 0.39894228040143268 * exp(-0.5 * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}
