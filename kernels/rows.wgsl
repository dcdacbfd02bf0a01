// rows: dst[dstIndex[k], :] = src[srcIndex[k], :] (or +=) for k < count.
// Moves whole rows between tensors: the vision tower's window permutation and its inverse, and
// placing image features among the text embeddings. Each destination row must be written by at
// most one k, so accumulation needs no atomics.

struct Params {
  count: u32,
  width: u32,
  accumulate: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> srcIndex: array<u32>;
@group(0) @binding(2) var<storage, read> dstIndex: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  let k = gid.y + gid.z * 65535u;
  if (col >= params.width || k >= params.count) {
    return;
  }
  let srcAt = srcIndex[k] * params.width + col;
  let dstAt = dstIndex[k] * params.width + col;
  if (params.accumulate != 0u) {
    dst[dstAt] = dst[dstAt] + src[srcAt];
  } else {
    dst[dstAt] = src[srcAt];
  }
}
