// Fused attention forward (FlashAttention-2 style, online softmax), grouped-query heads.
//
//   O[b, t, h] = Σ_j softmax_j(scale · Q[b, t, h] · K[b, j, h / G]) V[b, j, h / G]
//   L[b, h, t] = log Σ_j exp(scale · Q · K_j)            (natural log, saved for the backward)
//
// Work split: one workgroup per (block of WG query rows, KV head, batch). The rows of a block are
// the (t, g) pairs of the G query heads that share the KV head (row r → t = r / G, g = r % G), so
// every row of the workgroup reads the same K/V tiles. Each invocation owns one row: its Q row
// (pre-scaled by scale·log2 e) and its output accumulator stay in registers; keys stream through
// workgroup memory BC at a time. Per block: scores s_j, new running max m', rescale the
// accumulator by 2^(m - m') once, then add p_j V_j. Blocks past the workgroup's last visible key
// are skipped, so causal attention does about half the work.
//
// Rows with no visible key (key_len 0) write O = 0 and L = -inf.

#include "attention_common.wgsl"

@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> o: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
#ifdef KEY_LENGTHS
@group(0) @binding(5) var<storage, read> key_lengths: array<u32>;
@group(0) @binding(6) var<uniform> params: Params;
#else
@group(0) @binding(5) var<uniform> params: Params;
#endif

// Query rows per workgroup (one per invocation).
override WG: u32 = 64u;
// Keys per tile (fixed: the scores of a tile are four vec4s).
const BC: u32 = 16u;

var<workgroup> k_tile: array<vec4<f32>, BC * DV>; // [BC, DV]
var<workgroup> v_tile: array<vec4<f32>, BC * DV>; // [BC, DV]

fn sequence_keys(b: u32) -> u32 {
#ifdef KEY_LENGTHS
  return min(params.s_len, key_lengths[b]);
#else
  return params.s_len;
#endif
}

fn max4(x: vec4<f32>) -> f32 {
  return max(max(x.x, x.y), max(x.z, x.w));
}

// Scaled scores (base 2) of keys kb + first .. kb + first + 3 of the tile; NEG_BIG where masked.
fn masked_scores(q_row: ptr<function, array<vec4<f32>, DV>>, kb: u32, first: u32, limit: u32)
    -> vec4<f32> {
  var d0 = vec4<f32>(0.0);
  var d1 = vec4<f32>(0.0);
  var d2 = vec4<f32>(0.0);
  var d3 = vec4<f32>(0.0);
  for (var c = 0u; c < DV; c++) {
    let qc = (*q_row)[c];
    d0 = fma(qc, k_tile[(first + 0u) * DV + c], d0);
    d1 = fma(qc, k_tile[(first + 1u) * DV + c], d1);
    d2 = fma(qc, k_tile[(first + 2u) * DV + c], d2);
    d3 = fma(qc, k_tile[(first + 3u) * DV + c], d3);
  }
  let scores = vec4<f32>(
    dot(d0, vec4<f32>(1.0)),
    dot(d1, vec4<f32>(1.0)),
    dot(d2, vec4<f32>(1.0)),
    dot(d3, vec4<f32>(1.0)),
  );
  let keys = vec4<u32>(kb + first) + vec4<u32>(0u, 1u, 2u, 3u);
  return select(vec4<f32>(NEG_BIG), scores, keys < vec4<u32>(limit));
}

// exp2(s - m) for visible keys, 0 for masked ones.
fn probabilities(s: vec4<f32>, m: f32, kb: u32, first: u32, limit: u32) -> vec4<f32> {
  let keys = vec4<u32>(kb + first) + vec4<u32>(0u, 1u, 2u, 3u);
  return select(vec4<f32>(0.0), exp2(s - vec4<f32>(m)), keys < vec4<u32>(limit));
}

// a + Σ_{i<4} p[i] · V_tile[first + i, c].
fn add_weighted_values(a: vec4<f32>, p: vec4<f32>, first: u32, c: u32) -> vec4<f32> {
  var r = fma(vec4<f32>(p.x), v_tile[(first + 0u) * DV + c], a);
  r = fma(vec4<f32>(p.y), v_tile[(first + 1u) * DV + c], r);
  r = fma(vec4<f32>(p.z), v_tile[(first + 2u) * DV + c], r);
  return fma(vec4<f32>(p.w), v_tile[(first + 3u) * DV + c], r);
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let b = wid.z;
  let kvh = wid.y;
  let rows = params.t_len * params.group;
  let row = wid.x * WG + lid;
  let row_valid = row < rows;
  let t = min(row, rows - 1u) / params.group;
  let h = kvh * params.group + min(row, rows - 1u) % params.group;
  let key_len = sequence_keys(b);
  let limit = key_limit(t, key_len);
  // The last row of the block has the largest limit (limits grow with t).
  let block_limit = key_limit((min(wid.x * WG + WG, rows) - 1u) / params.group, key_len);

  let q_base = q_index(b, t, h);
  var q_row: array<vec4<f32>, DV>;
  var acc: array<vec4<f32>, DV>;
  for (var c = 0u; c < DV; c++) {
    var value = vec4<f32>(0.0);
    if (row_valid && c < params.dv) {
      value = q[q_base + c] * params.scale_log2;
    }
    q_row[c] = value;
    acc[c] = vec4<f32>(0.0);
  }
  var m = NEG_BIG;
  var l = 0.0;

  for (var kb = 0u; kb < block_limit; kb += BC) {
    for (var e = lid; e < BC * DV; e += WG) {
      let key = kb + e / DV;
      let c = e % DV;
      var kv = vec4<f32>(0.0);
      var vv = vec4<f32>(0.0);
      if (key < block_limit && c < params.dv) {
        kv = k[kv_index(b, key, kvh) + c];
        vv = v[kv_index(b, key, kvh) + c];
      }
      k_tile[e] = kv;
      v_tile[e] = vv;
    }
    workgroupBarrier();

    // Scores of the 16 keys as four vec4s (no indexed array: on lavapipe a dynamically indexed
    // private array becomes per-lane scratch memory).
    let s0 = masked_scores(&q_row, kb, 0u, limit);
    let s1 = masked_scores(&q_row, kb, 4u, limit);
    let s2 = masked_scores(&q_row, kb, 8u, limit);
    let s3 = masked_scores(&q_row, kb, 12u, limit);
    let m_new = max(m, max(max(max4(s0), max4(s1)), max(max4(s2), max4(s3))));
    let alpha = exp2(m - m_new);
    let p0 = probabilities(s0, m_new, kb, 0u, limit);
    let p1 = probabilities(s1, m_new, kb, 4u, limit);
    let p2 = probabilities(s2, m_new, kb, 8u, limit);
    let p3 = probabilities(s3, m_new, kb, 12u, limit);
    l = l * alpha + dot(p0 + p1 + p2 + p3, vec4<f32>(1.0));
    for (var c = 0u; c < DV; c++) {
      var a = acc[c] * alpha;
      a = add_weighted_values(a, p0, 0u, c);
      a = add_weighted_values(a, p1, 4u, c);
      a = add_weighted_values(a, p2, 8u, c);
      a = add_weighted_values(a, p3, 12u, c);
      acc[c] = a;
    }
    m = m_new;
    workgroupBarrier();
  }

  if (row_valid) {
    let inv_l = select(0.0, 1.0 / l, l > 0.0);
    for (var c = 0u; c < DV; c++) {
      if (c < params.dv) {
        o[q_base + c] = acc[c] * inv_l;
      }
    }
    let lse_index = (b * params.hq + h) * params.t_len + t;
    lse[lse_index] = select(bitcast<f32>(0xff800000u), (m + log2(l)) * LN2, l > 0.0);
  }
}
