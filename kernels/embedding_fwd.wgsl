// Embedding gather: out[n, :] = table[ids[n], :]. One invocation per output element.
// A table larger than one storage binding is bound in blocks of rows [row_base, row_base + rows);
// each block's dispatch writes the outputs whose id falls in it. An id ≥ vocab writes NaN, so a
// bad token id shows up in the loss instead of silently reading another row.

struct Params {
  count: u32,     // N · dim
  dim: u32,
  row_base: u32,
  rows: u32,
  vocab: u32,
}

@group(0) @binding(0) var<storage, read> ids: array<u32>;          // [N]
@group(0) @binding(1) var<storage, read> table: array<f32>;        // [rows, dim] (this block)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;    // [N, dim]
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= params.count) {
    return;
  }
  let n = i / params.dim;
  let d = i % params.dim;
  let id = ids[n];
  if (id >= params.vocab) {
    out[i] = bitcast<f32>(0x7fc00000u);
  } else if (id >= params.row_base && id - params.row_base < params.rows) {
    out[i] = table[(id - params.row_base) * params.dim + d];
  }
}
