// Fused attention backward, two passes that recompute the probabilities from Q, K and the saved
// log-sum-exp L (no T×S matrix is stored), with Δ_i = Σ_c dO[i, c] · O[i, c]:
//   P_ij = exp(scale · Q_i·K_j − L_i),  dP_ij = dO_i·V_j,  dS_ij = P_ij (dP_ij − Δ_i)
//   dQ_i = scale Σ_j dS_ij K_j                        (entry point `dq_pass`: R query rows each)
//   dK_j = scale Σ_i dS_ij Q_i,  dV_j = Σ_i P_ij dO_i  (entry point `dkv_pass`: R keys each)
// The dkv pass loops over every query row of every query head sharing the KV head, so grouped-query
// gradients are summed in registers without atomics. Each pass is its own module (define DQ_PASS or
// DKV_PASS) so that every declared binding is used.
//
// Query rows are ordered as in the forward: row r of KV head kvh is (t = r / G, h = kvh·G + r % G).
// Scores are kept in base 2 (scaled by scale·log2 e) so that P = exp2(s − L·log2 e).
// As in the forward, each invocation owns R rows (rows base + i·WG + lid) so that every value
// read from a workgroup tile serves R rows; the tile's rows are handled four at a time. With
// SUBGROUPS the streamed rows go through lane registers and shuffles instead of workgroup memory.

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

// Rows of the streamed tile (dq: keys, dkv: query rows); fixed, processed four at a time.
const TILE: u32 = 16u;

// Two streamed tiles side by side (naga cannot pass workgroup pointers to functions, so helpers
// take the tile's start instead): A = dq: K rows, dkv: Q rows; B = dq: V rows, dkv: dO rows.
var<workgroup> tiles: array<vec4<f32>, 2u * TILE * DV>; // [2, TILE, DV]
const TILE_A: u32 = 0u;
const TILE_B: u32 = TILE * DV;

alias Rows = array<array<vec4<f32>, DV>, R>;

fn sequence_keys(b: u32) -> u32 {
#ifdef KEY_LENGTHS
  return min(params.s_len, key_lengths[b]);
#else
  return params.s_len;
#endif
}

// d[i][n] = x[i] · tile[first + n] for the R rows of x and four tile rows (as vec4 per row i).
fn dots(x: ptr<function, Rows>, tile: u32, first: u32) -> array<vec4<f32>, R> {
  var d = array<array<vec4<f32>, 4>, R>();
  for (var c = 0u; c < DV; c++) {
    let t0 = tiles[tile + (first + 0u) * DV + c];
    let t1 = tiles[tile + (first + 1u) * DV + c];
    let t2 = tiles[tile + (first + 2u) * DV + c];
    let t3 = tiles[tile + (first + 3u) * DV + c];
    for (var i = 0u; i < R; i++) {
      let xc = (*x)[i][c];
      d[i][0] = fma(xc, t0, d[i][0]);
      d[i][1] = fma(xc, t1, d[i][1]);
      d[i][2] = fma(xc, t2, d[i][2]);
      d[i][3] = fma(xc, t3, d[i][3]);
    }
  }
  var out: array<vec4<f32>, R>;
  let ones = vec4<f32>(1.0);
  for (var i = 0u; i < R; i++) {
    out[i] = vec4<f32>(dot(d[i][0], ones), dot(d[i][1], ones), dot(d[i][2], ones),
      dot(d[i][3], ones));
  }
  return out;
}

// acc[i][c] += Σ_{n<4} w[i][n] · tile[first + n, c] for every row i and c.
fn accumulate(acc: ptr<function, Rows>, w: array<vec4<f32>, R>, tile: u32, first: u32) {
  for (var c = 0u; c < DV; c++) {
    let t0 = tiles[tile + (first + 0u) * DV + c];
    let t1 = tiles[tile + (first + 1u) * DV + c];
    let t2 = tiles[tile + (first + 2u) * DV + c];
    let t3 = tiles[tile + (first + 3u) * DV + c];
    for (var i = 0u; i < R; i++) {
      var a = fma(vec4<f32>(w[i].x), t0, (*acc)[i][c]);
      a = fma(vec4<f32>(w[i].y), t1, a);
      a = fma(vec4<f32>(w[i].z), t2, a);
      (*acc)[i][c] = fma(vec4<f32>(w[i].w), t3, a);
    }
  }
}

#ifdef SUBGROUPS
// Subgroup variants of `dots` and `accumulate`: the four streamed rows are in the registers of
// lanes src.x .. src.w (each lane loaded one row) and reach every lane by shuffles, instead of
// through workgroup memory.
fn dots_sg(x: ptr<function, Rows>, reg: ptr<function, array<vec4<f32>, DV>>, src: vec4<u32>)
    -> array<vec4<f32>, R> {
  var d = array<array<vec4<f32>, 4>, R>();
  for (var c = 0u; c < DV; c++) {
    let t0 = subgroupShuffle((*reg)[c], src.x);
    let t1 = subgroupShuffle((*reg)[c], src.y);
    let t2 = subgroupShuffle((*reg)[c], src.z);
    let t3 = subgroupShuffle((*reg)[c], src.w);
    for (var i = 0u; i < R; i++) {
      let xc = (*x)[i][c];
      d[i][0] = fma(xc, t0, d[i][0]);
      d[i][1] = fma(xc, t1, d[i][1]);
      d[i][2] = fma(xc, t2, d[i][2]);
      d[i][3] = fma(xc, t3, d[i][3]);
    }
  }
  var out: array<vec4<f32>, R>;
  let ones = vec4<f32>(1.0);
  for (var i = 0u; i < R; i++) {
    out[i] = vec4<f32>(dot(d[i][0], ones), dot(d[i][1], ones), dot(d[i][2], ones),
      dot(d[i][3], ones));
  }
  return out;
}

fn accumulate_sg(
  acc: ptr<function, Rows>,
  w: array<vec4<f32>, R>,
  reg: ptr<function, array<vec4<f32>, DV>>,
  src: vec4<u32>,
) {
  for (var c = 0u; c < DV; c++) {
    let t0 = subgroupShuffle((*reg)[c], src.x);
    let t1 = subgroupShuffle((*reg)[c], src.y);
    let t2 = subgroupShuffle((*reg)[c], src.z);
    let t3 = subgroupShuffle((*reg)[c], src.w);
    for (var i = 0u; i < R; i++) {
      var a = fma(vec4<f32>(w[i].x), t0, (*acc)[i][c]);
      a = fma(vec4<f32>(w[i].y), t1, a);
      a = fma(vec4<f32>(w[i].z), t2, a);
      (*acc)[i][c] = fma(vec4<f32>(w[i].w), t3, a);
    }
  }
}

fn shuffle4(x: f32, src: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(subgroupShuffle(x, src.x), subgroupShuffle(x, src.y),
    subgroupShuffle(x, src.z), subgroupShuffle(x, src.w));
}
#endif

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
#ifdef SUBGROUPS
  @builtin(subgroup_invocation_id) lane: u32,
#endif
) {
  let b = wid.z;
  let kvh = wid.y;
  let rows = params.t_len * params.group;
  let first_row = wid.x * WG * R;
  let key_len = sequence_keys(b);
  let block_limit = key_limit((min(first_row + WG * R, rows) - 1u) / params.group, key_len);

  var q_rows: Rows;
  var do_rows: Rows;
  var acc: Rows;
  var delta: array<f32, R>;
  var lse2: array<f32, R>;
  var limit: array<u32, R>;
  for (var i = 0u; i < R; i++) {
    let row = first_row + i * WG + lid;
    let clamped = min(row, rows - 1u);
    let t = clamped / params.group;
    let h = kvh * params.group + clamped % params.group;
    let base = q_index(b, t, h);
    for (var c = 0u; c < DV; c++) {
      var qv = vec4<f32>(0.0);
      var dov = vec4<f32>(0.0);
      if (row < rows && c < params.dv) {
        qv = q[base + c] * params.scale_log2;
        dov = d_o[base + c];
      }
      q_rows[i][c] = qv;
      do_rows[i][c] = dov;
      acc[i][c] = vec4<f32>(0.0);
    }
    delta[i] = row_delta(base);
    lse2[i] = lse[(b * params.hq + h) * params.t_len + t] * LOG2E;
    limit[i] = select(0u, key_limit(t, key_len), row < rows);
  }

#ifdef SUBGROUPS
  // Keys stream through the lanes' registers (one key per lane) instead of workgroup memory; see
  // attention_fwd.wgsl. Active lanes are 0 .. width - 1.
  let width = subgroupAdd(1u);
  var k_reg: array<vec4<f32>, DV>;
  var v_reg: array<vec4<f32>, DV>;
  for (var kb = 0u; kb < block_limit; kb += width) {
    let own_key = kb + lane;
    let own_base = kv_index(b, min(own_key, block_limit - 1u), kvh);
    for (var c = 0u; c < DV; c++) {
      var kv = vec4<f32>(0.0);
      var vv = vec4<f32>(0.0);
      if (own_key < block_limit && c < params.dv) {
        kv = k[own_base + c];
        vv = v[own_base + c];
      }
      k_reg[c] = kv;
      v_reg[c] = vv;
    }
    for (var first = 0u; first < width; first += 4u) {
      let offsets = vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u);
      let src = min(offsets, vec4<u32>(width - 1u));
      let keys = vec4<u32>(kb) + offsets;
      let s = dots_sg(&q_rows, &k_reg, src);
      let dp = dots_sg(&do_rows, &v_reg, src);
      var ds: array<vec4<f32>, R>;
      for (var i = 0u; i < R; i++) {
        let visible = (offsets < vec4<u32>(width)) & (keys < vec4<u32>(limit[i]));
        let p = select(vec4<f32>(0.0), exp2(s[i] - vec4<f32>(lse2[i])), visible);
        ds[i] = p * (dp[i] - vec4<f32>(delta[i]));
      }
      accumulate_sg(&acc, ds, &k_reg, src);
    }
  }
#else
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
      let s = dots(&q_rows, TILE_A, first);
      let dp = dots(&do_rows, TILE_B, first);
      var ds: array<vec4<f32>, R>;
      for (var i = 0u; i < R; i++) {
        let p = select(vec4<f32>(0.0), exp2(s[i] - vec4<f32>(lse2[i])), keys < vec4<u32>(limit[i]));
        ds[i] = p * (dp[i] - vec4<f32>(delta[i]));
      }
      accumulate(&acc, ds, TILE_A, first);
    }
    workgroupBarrier();
  }
#endif

  for (var i = 0u; i < R; i++) {
    let row = first_row + i * WG + lid;
    if (row < rows) {
      let base = q_index(b, row / params.group, kvh * params.group + row % params.group);
      for (var c = 0u; c < DV; c++) {
        if (c < params.dv) {
          dq[base + c] = acc[i][c] * params.scale;
        }
      }
    }
  }
}
#endif

#ifdef DKV_PASS
var<workgroup> lse_tile: array<f32, TILE>;   // L · log2 e of the tile's query rows
var<workgroup> delta_tile: array<f32, TILE>; // Δ of the tile's query rows
var<workgroup> limit_tile: array<u32, TILE>; // key limit of the tile's query rows (0 past the end)

// Four entries of a per-row tile array as a vector.
fn tile4(which: u32, first: u32) -> vec4<f32> {
  if (which == 0u) {
    return vec4<f32>(lse_tile[first], lse_tile[first + 1u], lse_tile[first + 2u],
      lse_tile[first + 3u]);
  }
  return vec4<f32>(delta_tile[first], delta_tile[first + 1u], delta_tile[first + 2u],
    delta_tile[first + 3u]);
}

@compute @workgroup_size(WG)
fn dkv_pass(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
#ifdef SUBGROUPS
  @builtin(subgroup_invocation_id) lane: u32,
#endif
) {
  let b = wid.z;
  let kvh = wid.y;
  let first_key = wid.x * WG * R;
  let key_len = sequence_keys(b);
  var k_rows: Rows;
  var v_rows: Rows;
  var dk_acc: Rows;
  var dv_acc: Rows;
  for (var i = 0u; i < R; i++) {
    let j = first_key + i * WG + lid;
    // Padded keys (past the sequence's key length) are never loaded: their gradients are zero.
    let base = kv_index(b, min(j, params.s_len - 1u), kvh);
    for (var c = 0u; c < DV; c++) {
      var kv = vec4<f32>(0.0);
      var vv = vec4<f32>(0.0);
      if (j < key_len && c < params.dv) {
        kv = k[base + c] * params.scale_log2;
        vv = v[base + c];
      }
      k_rows[i][c] = kv;
      v_rows[i][c] = vv;
      dk_acc[i][c] = vec4<f32>(0.0);
      dv_acc[i][c] = vec4<f32>(0.0);
    }
  }

  // First query that sees the workgroup's first key (limits grow with t).
  let rows = params.t_len * params.group;
  var t_start = params.t_len;
  if (first_key < key_len) {
    if (first_key < params.prefix_len) {
      t_start = 0u;
    } else {
      t_start = u32(clamp(i32(first_key) - params.limit_offset + 1, 0, i32(params.t_len)));
    }
  }

#ifdef SUBGROUPS
  // Query rows stream through the lanes' registers (one row per lane), with their L, Δ and key
  // limit; see attention_fwd.wgsl. Active lanes are 0 .. width - 1.
  let width = subgroupAdd(1u);
  var q_reg: array<vec4<f32>, DV>;
  var do_reg: array<vec4<f32>, DV>;
  for (var rb = t_start * params.group; rb < rows; rb += width) {
    let r = rb + lane;
    let t = min(r, rows - 1u) / params.group;
    let h = kvh * params.group + min(r, rows - 1u) % params.group;
    let qi = q_index(b, t, h);
    for (var c = 0u; c < DV; c++) {
      var qv = vec4<f32>(0.0);
      var dov = vec4<f32>(0.0);
      if (r < rows && c < params.dv) {
        qv = q[qi + c];
        dov = d_o[qi + c];
      }
      q_reg[c] = qv;
      do_reg[c] = dov;
    }
    var own_lse2 = 0.0;
    var own_delta = 0.0;
    var own_limit = 0u;
    if (r < rows) {
      own_lse2 = lse[(b * params.hq + h) * params.t_len + t] * LOG2E;
      own_delta = row_delta(qi);
      own_limit = key_limit(t, key_len);
    }
    for (var first = 0u; first < width; first += 4u) {
      let offsets = vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u);
      let src = min(offsets, vec4<u32>(width - 1u));
      let lse4 = shuffle4(own_lse2, src);
      let delta4 = shuffle4(own_delta, src);
      let limit4 = select(
        vec4<u32>(0u),
        vec4<u32>(subgroupShuffle(own_limit, src.x), subgroupShuffle(own_limit, src.y),
          subgroupShuffle(own_limit, src.z), subgroupShuffle(own_limit, src.w)),
        offsets < vec4<u32>(width),
      );
      let s = dots_sg(&k_rows, &q_reg, src);
      let dp = dots_sg(&v_rows, &do_reg, src);
      var p: array<vec4<f32>, R>;
      var ds: array<vec4<f32>, R>;
      for (var i = 0u; i < R; i++) {
        let j = first_key + i * WG + lid;
        p[i] = select(vec4<f32>(0.0), exp2(s[i] - lse4), vec4<u32>(j) < limit4);
        ds[i] = p[i] * (dp[i] - delta4);
      }
      accumulate_sg(&dv_acc, p, &do_reg, src);
      accumulate_sg(&dk_acc, ds, &q_reg, src);
    }
  }
#else
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
    for (var n = lid; n < TILE; n += WG) {
      let r = rb + n;
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
      lse_tile[n] = lse2;
      delta_tile[n] = delta;
      limit_tile[n] = limit;
    }
    workgroupBarrier();
    for (var first = 0u; first < TILE; first += 4u) {
      let lse4 = tile4(0u, first);
      let delta4 = tile4(1u, first);
      let limit4 = vec4<u32>(limit_tile[first], limit_tile[first + 1u], limit_tile[first + 2u],
        limit_tile[first + 3u]);
      let s = dots(&k_rows, TILE_A, first);
      let dp = dots(&v_rows, TILE_B, first);
      var p: array<vec4<f32>, R>;
      var ds: array<vec4<f32>, R>;
      for (var i = 0u; i < R; i++) {
        let j = first_key + i * WG + lid;
        p[i] = select(vec4<f32>(0.0), exp2(s[i] - lse4), vec4<u32>(j) < limit4);
        ds[i] = p[i] * (dp[i] - delta4);
      }
      accumulate(&dv_acc, p, TILE_B, first);
      accumulate(&dk_acc, ds, TILE_A, first);
    }
    workgroupBarrier();
  }
#endif

  for (var i = 0u; i < R; i++) {
    let j = first_key + i * WG + lid;
    if (j < params.s_len) {
      let base = kv_index(b, j, kvh);
      for (var c = 0u; c < DV; c++) {
        if (c < params.dv) {
          dk[base + c] = dk_acc[i][c] * params.scale;
          dv[base + c] = dv_acc[i][c];
        }
      }
    }
  }
}
#endif
