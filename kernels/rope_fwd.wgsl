// Rotary position embedding applied to Q or K heads, HF's rotate_half convention: channel pair
// (i, i + D/2) of a head at batch b, token t is rotated by the angle of frequency i:
//   y[i]       = x[i]·cos − x[i + D/2]·sin
//   y[i + D/2] = x[i + D/2]·cos + x[i]·sin
// `sign` = −1 rotates by −θ, which is the backward pass (a rotation is orthogonal: its
// transpose is its inverse), and also undoes the forward.
// The cos/sin table is [table_batches, T, D/2] vec2 (cos, sin); table_batch is T for one table per
// sequence (M-RoPE) or 0 for a table shared by the batch. Heads are addressed by element strides
// so Q/K may be slices of a fused QKV buffer. One invocation per channel pair.
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

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  let pair = i % params.half;
  var rest = i / params.half;
  let h = rest % params.heads;
  rest = rest / params.heads;
  let t = rest % params.tokens;
  let b = rest / params.tokens;
  if (b >= params.batch) {
    return;
  }
  let cs = table[(b * params.table_batch + t) * params.half + pair];
  let s = params.sign * cs.y;
  let src = params.src_offset + b * params.src_batch + t * params.src_token + h * params.src_head
    + pair;
  let x1 = x[src];
  let x2 = x[src + params.half];
  let y1 = x1 * cs.x - x2 * s;
  let y2 = x2 * cs.x + x1 * s;
#ifdef INPLACE
  x[src] = y1;
  x[src + params.half] = y2;
#else
  let dst = params.dst_offset + b * params.dst_batch + t * params.dst_token + h * params.dst_head
    + pair;
  y[dst] = y1;
  y[dst + params.half] = y2;
#endif
}
