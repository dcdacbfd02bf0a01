// Fused attention backward, two passes that recompute the probabilities from Q, K and the saved
// log-sum-exp L (no T×S matrix is stored), with Δ_i = Σ_c dO[i, c] · O[i, c]:
//   P_ij = exp(scale · Q_i·K_j − L_i),  dP_ij = dO_i·V_j,  dS_ij = P_ij (dP_ij − Δ_i)
//   dQ_i = scale Σ_j dS_ij K_j                       (entry point `dq`, one invocation per query row)
//   dK_j = scale Σ_i dS_ij Q_i,  dV_j = Σ_i P_ij dO_i (entry point `dkv`, one invocation per key)
// The dkv pass loops over every query row of every query head sharing the KV head, so grouped-query
// gradients are summed in registers without atomics. Each pass is its own module (define DQ_PASS or
// DKV_PASS) so that every declared binding is used.
//
// Query rows are ordered as in the forward: row r of KV head kvh is (t = r / G, h = kvh·G + r % G).
// Scores are kept in base 2 (scaled by scale·log2 e) so that P = exp2(s − L·log2 e).

#include "attention_common.wgsl"

@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> o: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read> d_o: array<vec4<f32>>;
#ifdef DQ_PASS
@group(0) @binding(6) var<storage, read_write> dq: array<vec4<f32>>;
#ifdef KEY_LENGTHS
@group(0) @binding(7) var<storage, read> key_lengths: array<u32>;
@group(0) @binding(8) var<uniform> params: Params;
#else
@group(0) @binding(7) var<uniform> params: Params;
#endif
#endif
#ifdef DKV_PASS
@group(0) @binding(6) var<storage, read_write> dk: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dv: array<vec4<f32>>;
#ifdef KEY_LENGTHS
@group(0) @binding(8) var<storage, read> key_lengths: array<u32>;
@group(0) @binding(9) var<uniform> params: Params;
#else
@group(0) @binding(8) var<uniform> params: Params;
#endif
#endif

// Rows (dq: query rows, dkv: keys) per workgroup, one per invocation.
override WG: u32 = 64u;
// Rows of the streamed tile (dq: keys, dkv: query rows); fixed, processed four at a time.
const TILE: u32 = 16u;

// Two streamed tiles side by side (naga cannot pass workgroup pointers to functions, so helpers
// take the tile's start instead): A = dq: K rows, dkv: Q rows; B = dq: V rows, dkv: dO rows.
var<workgroup> tiles: array<vec4<f32>, 2u * TILE * DV>; // [2, TILE, DV]
const TILE_A: u32 = 0u;
const TILE_B: u32 = TILE * DV;

fn sequence_keys(b: u32) -> u32 {
#ifdef KEY_LENGTHS
  return min(params.s_len, key_lengths[b]);
#else
  return params.s_len;
#endif
}

// Dot products of `x` with tile rows first .. first + 3.
fn dots4(
  x: ptr<function, array<vec4<f32>, DV>>,
  tile: u32,
  first: u32,
) -> vec4<f32> {
  var d0 = vec4<f32>(0.0);
  var d1 = vec4<f32>(0.0);
  var d2 = vec4<f32>(0.0);
  var d3 = vec4<f32>(0.0);
  for (var c = 0u; c < DV; c++) {
    let xc = (*x)[c];
    d0 = fma(xc, tiles[tile + (first + 0u) * DV + c], d0);
    d1 = fma(xc, tiles[tile + (first + 1u) * DV + c], d1);
    d2 = fma(xc, tiles[tile + (first + 2u) * DV + c], d2);
    d3 = fma(xc, tiles[tile + (first + 3u) * DV + c], d3);
  }
  let ones = vec4<f32>(1.0);
  return vec4<f32>(dot(d0, ones), dot(d1, ones), dot(d2, ones), dot(d3, ones));
}

// acc[c] += Σ_{i<4} w[i] · tile[first + i, c] for every c.
fn accumulate4(
  acc: ptr<function, array<vec4<f32>, DV>>,
  w: vec4<f32>,
  tile: u32,
  first: u32,
) {
  for (var c = 0u; c < DV; c++) {
    var a = fma(vec4<f32>(w.x), tiles[tile + (first + 0u) * DV + c], (*acc)[c]);
    a = fma(vec4<f32>(w.y), tiles[tile + (first + 1u) * DV + c], a);
    a = fma(vec4<f32>(w.z), tiles[tile + (first + 2u) * DV + c], a);
    (*acc)[c] = fma(vec4<f32>(w.w), tiles[tile + (first + 3u) * DV + c], a);
  }
}

// Δ = dO · O for one query row (vec4 index `base`).
fn row_delta(base: u32) -> f32 {
  var d = vec4<f32>(0.0);
  for (var c = 0u; c < DV; c++) {
    if (c < params.dv) {
      d = fma(d_o[base + c], o[base + c], d);
    }
  }
  return dot(d, vec4<f32>(1.0));
}

#ifdef DQ_PASS
@compute @workgroup_size(WG)
fn dq_pass(
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
  let block_limit = key_limit((min(wid.x * WG + WG, rows) - 1u) / params.group, key_len);

  let base = q_index(b, t, h);
  var q_row: array<vec4<f32>, DV>;
  var do_row: array<vec4<f32>, DV>;
  var acc: array<vec4<f32>, DV>;
  for (var c = 0u; c < DV; c++) {
    var qv = vec4<f32>(0.0);
    var dov = vec4<f32>(0.0);
    if (row_valid && c < params.dv) {
      qv = q[base + c] * params.scale_log2;
      dov = d_o[base + c];
    }
    q_row[c] = qv;
    do_row[c] = dov;
    acc[c] = vec4<f32>(0.0);
  }
  let delta = row_delta(base);
  let lse2 = lse[(b * params.hq + h) * params.t_len + t] * LOG2E;

  for (var kb = 0u; kb < block_limit; kb += TILE) {
    for (var e = lid; e < TILE * DV; e += WG) {
      let key = kb + e / DV;
      let c = e % DV;
      var kv = vec4<f32>(0.0);
      var vv = vec4<f32>(0.0);
      if (key < block_limit && c < params.dv) {
        kv = k[kv_index(b, key, kvh) + c];
        vv = v[kv_index(b, key, kvh) + c];
      }
      tiles[TILE_A + e] = kv;
      tiles[TILE_B + e] = vv;
    }
    workgroupBarrier();
    for (var first = 0u; first < TILE; first += 4u) {
      let keys = vec4<u32>(kb + first) + vec4<u32>(0u, 1u, 2u, 3u);
      let s = dots4(&q_row, TILE_A, first);
      let p = select(vec4<f32>(0.0), exp2(s - vec4<f32>(lse2)), keys < vec4<u32>(limit));
      let dp = dots4(&do_row, TILE_B, first);
      accumulate4(&acc, p * (dp - vec4<f32>(delta)), TILE_A, first);
    }
    workgroupBarrier();
  }

  if (row_valid) {
    for (var c = 0u; c < DV; c++) {
      if (c < params.dv) {
        dq[base + c] = acc[c] * params.scale;
      }
    }
  }
}
#endif

#ifdef DKV_PASS
var<workgroup> lse_tile: array<f32, TILE>;   // L · log2 e of the tile's query rows
var<workgroup> delta_tile: array<f32, TILE>; // Δ of the tile's query rows
var<workgroup> limit_tile: array<u32, TILE>; // key limit of the tile's query rows (0 past the end)

@compute @workgroup_size(WG)
fn dkv_pass(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let b = wid.z;
  let kvh = wid.y;
  let j = wid.x * WG + lid;
  let key_valid = j < params.s_len;
  // Padded keys (past the sequence's key length) are never loaded: their gradients are zero.
  let key_len = sequence_keys(b);
  let key_loaded = j < key_len;
  let base = kv_index(b, min(j, params.s_len - 1u), kvh);
  var k_row: array<vec4<f32>, DV>;
  var v_row: array<vec4<f32>, DV>;
  var dk_acc: array<vec4<f32>, DV>;
  var dv_acc: array<vec4<f32>, DV>;
  for (var c = 0u; c < DV; c++) {
    var kv = vec4<f32>(0.0);
    var vv = vec4<f32>(0.0);
    if (key_loaded && c < params.dv) {
      kv = k[base + c] * params.scale_log2;
      vv = v[base + c];
    }
    k_row[c] = kv;
    v_row[c] = vv;
    dk_acc[c] = vec4<f32>(0.0);
    dv_acc[c] = vec4<f32>(0.0);
  }

  // First query that sees the workgroup's first key (limits grow with t).
  let rows = params.t_len * params.group;
  let first_key = wid.x * WG;
  var t_start = params.t_len;
  if (first_key < key_len) {
    if (first_key < params.prefix_len) {
      t_start = 0u;
    } else {
      t_start = u32(clamp(i32(first_key) - params.limit_offset + 1, 0, i32(params.t_len)));
    }
  }

  for (var rb = t_start * params.group; rb < rows; rb += TILE) {
    for (var e = lid; e < TILE * DV; e += WG) {
      let r = rb + e / DV;
      let c = e % DV;
      var qv = vec4<f32>(0.0);
      var dov = vec4<f32>(0.0);
      if (r < rows && c < params.dv) {
        let qi = q_index(b, r / params.group, kvh * params.group + r % params.group);
        qv = q[qi + c];
        dov = d_o[qi + c];
      }
      tiles[TILE_A + e] = qv;
      tiles[TILE_B + e] = dov;
    }
    for (var i = lid; i < TILE; i += WG) {
      let r = rb + i;
      var lse2 = 0.0;
      var delta = 0.0;
      var limit = 0u;
      if (r < rows) {
        let t = r / params.group;
        let h = kvh * params.group + r % params.group;
        lse2 = lse[(b * params.hq + h) * params.t_len + t] * LOG2E;
        delta = row_delta(q_index(b, t, h));
        limit = key_limit(t, key_len);
      }
      lse_tile[i] = lse2;
      delta_tile[i] = delta;
      limit_tile[i] = limit;
    }
    workgroupBarrier();
    for (var first = 0u; first < TILE; first += 4u) {
      let lse4 = vec4<f32>(lse_tile[first], lse_tile[first + 1u], lse_tile[first + 2u],
        lse_tile[first + 3u]);
      let delta4 = vec4<f32>(delta_tile[first], delta_tile[first + 1u], delta_tile[first + 2u],
        delta_tile[first + 3u]);
      let limit4 = vec4<u32>(limit_tile[first], limit_tile[first + 1u], limit_tile[first + 2u],
        limit_tile[first + 3u]);
      let s = dots4(&k_row, TILE_A, first);
      let p = select(vec4<f32>(0.0), exp2(s - lse4), vec4<u32>(j) < limit4);
      accumulate4(&dv_acc, p, TILE_B, first);
      let dp = dots4(&v_row, TILE_B, first);
      accumulate4(&dk_acc, p * (dp - delta4), TILE_A, first);
    }
    workgroupBarrier();
  }

  if (key_valid) {
    for (var c = 0u; c < DV; c++) {
      if (c < params.dv) {
        dk[base + c] = dk_acc[c] * params.scale;
        dv[base + c] = dv_acc[c];
      }
    }
  }
}
#endif
