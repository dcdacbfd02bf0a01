// Shared by attention_fwd.wgsl and attention_bwd.wgsl: parameters, head-dimension capacity,
// tensor addressing and the visibility rule.
//
// Layout: every tensor keeps the head dimension contiguous and is addressed by element strides
// (in vec4 units) for batch, sequence position and head, so [B, T, H, D] (what a QKV projection
// writes, and a KV cache that grows by appending rows) and [B, H, T, D] share one kernel.
//
// Visibility: query i (0 ≤ i < T) sees key j (0 ≤ j < S) iff
//   j < min(key_len[b], max(i + limit_offset, prefix_len)).
// Causal with a KV-cache prefix: limit_offset = S - T + 1, prefix_len = 0 (i sees j ≤ i + S - T).
// Prefix-LM: the same with prefix_len = P (the first P positions see each other fully).
// Full/bidirectional: prefix_len = S. key_len[b] (optional) masks padded keys of sequence b.

struct Params {
  t_len: u32,        // T: queries per sequence
  s_len: u32,        // S: keys per sequence (≤ the K/V tensors' capacity)
  dv: u32,           // D / 4: head dimension in vec4s (≤ DV)
  group: u32,        // Hq / Hkv: query heads per KV head
  q_batch: u32,      // strides of Q, O, dQ, dO in vec4s
  q_seq: u32,
  q_head: u32,
  kv_batch: u32,     // strides of K, V, dK, dV in vec4s
  kv_seq: u32,
  kv_head: u32,
  hq: u32,           // query heads (L is [B, Hq, T])
  limit_offset: i32,
  prefix_len: u32,
  scale_log2: f32,   // softmax scale · log2(e): scores are kept in base 2
  scale: f32,        // softmax scale
}

// Head-dimension capacity in vec4s: the smallest variant ≥ D is chosen by the launcher; lanes
// past D are zero so they add nothing.
#ifdef HEAD_DIM_32
const DV: u32 = 8u;
#endif
#ifdef HEAD_DIM_64
const DV: u32 = 16u;
#endif
#ifdef HEAD_DIM_96
const DV: u32 = 24u;
#endif
#ifdef HEAD_DIM_128
const DV: u32 = 32u;
#endif

// Stand-in for -infinity in running maxima: exp2(NEG_BIG - x) underflows to 0 without the
// inf - inf = NaN of a true infinity.
const NEG_BIG: f32 = -1.0e30;
const LN2: f32 = 0.6931471805599453;
const LOG2E: f32 = 1.4426950408889634;

fn q_index(b: u32, t: u32, h: u32) -> u32 {
  return b * params.q_batch + t * params.q_seq + h * params.q_head;
}

fn kv_index(b: u32, s: u32, h: u32) -> u32 {
  return b * params.kv_batch + s * params.kv_seq + h * params.kv_head;
}

// Valid keys of sequence b (the includer declares `key_lengths` when KEY_LENGTHS is defined).
fn sequence_keys(b: u32) -> u32 {
#ifdef KEY_LENGTHS
  return min(params.s_len, key_lengths[b]);
#else
  return params.s_len;
#endif
}

// Keys [0, limit) are visible to query t of a sequence with `key_len` valid keys.
fn key_limit(t: u32, key_len: u32) -> u32 {
  let causal = max(i32(t) + params.limit_offset, 0);
  return min(key_len, max(u32(causal), params.prefix_len));
}

// Invocations per workgroup.
override WG: u32 = 64u;
// Rows per invocation (forward: query rows; backward dq: query rows, dkv: keys).
#ifdef ROWS_1
const R: u32 = 1u;
#endif
#ifdef ROWS_2
const R: u32 = 2u;
#endif
#ifdef ROWS_4
const R: u32 = 4u;
#endif
#ifdef ROWS_8
const R: u32 = 8u;
#endif
