// fill: out[i] = value for i < count. Used to zero gradients and to poison outputs in tests.
// Value is passed as raw bits so that NaN survives the trip.

struct Params {
  count: u32,
  bits: u32,
}

@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i < params.count) {
    out[i] = params.bits;
  }
}
