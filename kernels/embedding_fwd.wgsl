// Embedding gather: out[n, :] = table[ids[n], :]. TPR invocations per token (a power of two ≤ 256)
// stride over its row, so the id is read once per invocation; 256 / TPR tokens per workgroup.
// A table larger than one storage binding is bound in blocks of rows [row_base, row_base + rows);
// each block's dispatch writes the outputs whose id falls in it. An id ≥ vocab writes NaN, so a
// bad token id shows up in the loss instead of silently reading another row.
// With PACKED_BF16 or PACKED_F16 the table holds 16-bit inference weights, two per u32 word
// (element 2i in the low half), widened to f32 here: bf16 exactly by a shift, f16 by
// unpack2x16float (core WGSL, no shader-f16 needed).

struct Params {
  tokens: u32,
  dim: u32,
  row_base: u32,
  rows: u32,
  vocab: u32,
}

@group(0) @binding(0) var<storage, read> ids: array<u32>;          // [N]
#ifdef PACKED_BF16
@group(0) @binding(1) var<storage, read> table: array<u32>;        // [rows, dim / 2] (this block)
#else
#ifdef PACKED_F16
@group(0) @binding(1) var<storage, read> table: array<u32>;        // [rows, dim / 2] (this block)
#else
@group(0) @binding(1) var<storage, read> table: array<f32>;        // [rows, dim] (this block)
#endif
#endif
@group(0) @binding(2) var<storage, read_write> out: array<f32>;    // [N, dim]
@group(0) @binding(3) var<uniform> params: Params;

override TPR: u32 = 1u;

// Element e of this block of the table, as f32.
fn table_at(e: u32) -> f32 {
#ifdef PACKED_BF16
  let w = table[e / 2u];
  return bitcast<f32>(select(w << 16u, w & 0xffff0000u, (e & 1u) == 1u));
#else
#ifdef PACKED_F16
  return unpack2x16float(table[e / 2u])[e & 1u];
#else
  return table[e];
#endif
#endif
}

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
      out[n * params.dim + j] = table_at((id - params.row_base) * params.dim + j);
    }
  }
}
