// Rotary position embedding applied to Q or K heads, HF's rotate_half convention: channel pair
// (i, i + D/2) of a head at batch b, token t is rotated by the angle of frequency i:
//   y[i]       = x[i]·cos − x[i + D/2]·sin
//   y[i + D/2] = x[i + D/2]·cos + x[i]·sin
// `sign` = −1 rotates by −θ, which is the backward pass (a rotation is orthogonal: its
// transpose is its inverse), and also undoes the forward.
// The cos/sin table is [table_batches, T, D/2] vec2 (cos, sin); table_batch is T for one table per
// sequence (M-RoPE) or 0 for a table shared by the batch. Heads are addressed by element strides
// so Q/K may be slices of a fused QKV buffer.
// INPLACE: x is read and written through one binding (WebGPU forbids binding one buffer twice
// when one binding is writable).

struct Params {
  batch: u32,
  tokens: u32,
  heads: u32,
  half: u32,
  src_offset: u32,
  src_batch: u32,
  src_token: u32,
  src_head: u32,
  dst_offset: u32,
  dst_batch: u32,
  dst_token: u32,
  dst_head: u32,
  table_batch: u32,
  sign: f32,
}

#ifdef INPLACE
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> table: array<vec2<f32>>;
@group(0) @binding(2) var<uniform> params: Params;
#else
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> table: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
#endif

// Invocations per head (a power of two ≤ 256): each strides over the head's channel pairs, so the
// head's addresses are computed once; 256 / TPR heads per workgroup.
override TPR: u32 = 1u;

@compute @workgroup_size(256)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let head_row = (wid.x + wid.y * groups.x) * (256u / TPR) + lid / TPR;
  let lane = lid % TPR;
  let h = head_row % params.heads;
  let bt = head_row / params.heads;
  let t = bt % params.tokens;
  let b = bt / params.tokens;
  if (b >= params.batch) {
    return;
  }
  let table_row = (b * params.table_batch + t) * params.half;
  let src = params.src_offset + b * params.src_batch + t * params.src_token + h * params.src_head;
#ifndef INPLACE
  let dst = params.dst_offset + b * params.dst_batch + t * params.dst_token + h * params.dst_head;
#endif
  for (var pair = lane; pair < params.half; pair += TPR) {
    let cs = table[table_row + pair];
    let s = params.sign * cs.y;
    let x1 = x[src + pair];
    let x2 = x[src + pair + params.half];
    let y1 = x1 * cs.x - x2 * s;
    let y2 = x2 * cs.x + x1 * s;
#ifdef INPLACE
    x[src + pair] = y1;
    x[src + pair + params.half] = y2;
#else
    y[dst + pair] = y1;
    y[dst + pair + params.half] = y2;
#endif
  }
}
