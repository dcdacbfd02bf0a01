// GELU with the exact erf (PyTorch's nn.GELU()), used by the vision patch merger:
// y = x · Φ(x) = 0.5 · x · (1 + erf(x / √2)).

#include "gelu_common.wgsl"

struct Params {
  count: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i < params.count) {
    let v = x[i];
    y[i] = 0.5 * v * (1.0 + erf_f32(v * 0.70710678118654752));
  }
}
