// Embedding gather: out[n, :] = table[ids[n], :]. TPR invocations per token (a power of two ≤ 256)
// stride over its row, so the id is read once per invocation; 256 / TPR tokens per workgroup.
// A table larger than one storage binding is bound in blocks of rows [row_base, row_base + rows);
// each block's dispatch writes the outputs whose id falls in it. An id ≥ vocab writes NaN, so a
// bad token id shows up in the loss instead of silently reading another row.

struct Params {
  tokens: u32,
  dim: u32,
  row_base: u32,
  rows: u32,
  vocab: u32,
}

@group(0) @binding(0) var<storage, read> ids: array<u32>;          // [N]
@group(0) @binding(1) var<storage, read> table: array<f32>;        // [rows, dim] (this block)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;    // [N, dim]
@group(0) @binding(3) var<uniform> params: Params;

override TPR: u32 = 1u;

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let n = (wid.x + wid.y * groups.x) * (256u / TPR) + lid / TPR;
  if (n >= params.tokens) {
    return;
  }
  let id = ids[n];
  let in_block = id >= params.row_base && id - params.row_base < params.rows;
  if (id < params.vocab && !in_block) {
    return;
  }
  for (var j = lid % TPR; j < params.dim; j += TPR) {
    if (id >= params.vocab) {
      out[n * params.dim + j] = bitcast<f32>(0x7fc00000u);
    } else {
      out[n * params.dim + j] = table[(id - params.row_base) * params.dim + j];
    }
  }
}
