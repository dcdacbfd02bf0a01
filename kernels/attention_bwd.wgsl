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
// SUBGROUPS the streamed rows go through lane registers and shuffles instead of workgroup memory;
// with STEP_8 as well (the launcher's choice on CPU adapters), through kernels spelled out for
// lavapipe, 8 streamed rows a step (lavapipe, T = 512, D = 64: 3.1–3.2× faster than the generic
// subgroup kernels, whose loop-indexed arrays it keeps in memory).

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
#ifndef STEP_8
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
#endif

#ifdef STEP_8
// Spelled-out subgroup kernels (define STEP_8 with SUBGROUPS; the default on CPU adapters). As in
// attention_fwd.wgsl: lavapipe keeps an invocation's array in registers only if every access uses
// a constant index (one loop-indexed access sends the whole array to memory, where every access
// runs lane by lane), and it does not unroll loops this long. So each pass keeps its per-invocation
// state at module scope, `all_columns(op)` calls the pass's `column(op, c)` for every c < DV with
// constant arguments, and only the short loops over the R rows remain inside `column` (unrolled).
// The streamed rows (dq: keys; dkv: query rows) go through the lanes 8 at a time: lanes 0 .. 7
// each load one, shuffles hand them to every lane; wider subgroups leave their other lanes idle,
// narrower or ragged ones mask the missing rows.

// Streamed rows per step: a fixed count keeps each step's code free of inner loops.
const STEP: u32 = 8u;
const OFFSETS_LO = vec4<u32>(0u, 1u, 2u, 3u);
const OFFSETS_HI = vec4<u32>(4u, 5u, 6u, 7u);

var<private> src_lo: vec4<u32>; // lanes holding streamed rows 0-3 of the step
var<private> src_hi: vec4<u32>; // lanes holding streamed rows 4-7 of the step

// Points src_lo, src_hi at the lanes of a step of `step` ≤ 8 loaded rows (offsets past the step
// repeat the last lane; the caller masks them).
fn set_sources(step: u32) {
  src_lo = min(OFFSETS_LO, vec4<u32>(step - 1u));
  src_hi = min(OFFSETS_HI, vec4<u32>(step - 1u));
}

#include "attention_columns.wgsl"

// Σ_n w[n] · x_n + acc over the eight shuffled rows x0 .. x7.
fn weighted8(
  acc: vec4<f32>,
  lo: vec4<f32>,
  hi: vec4<f32>,
  x: array<vec4<f32>, 8>,
) -> vec4<f32> {
  var a = fma(vec4<f32>(lo.x), x[0], acc);
  a = fma(vec4<f32>(lo.y), x[1], a);
  a = fma(vec4<f32>(lo.z), x[2], a);
  a = fma(vec4<f32>(lo.w), x[3], a);
  a = fma(vec4<f32>(hi.x), x[4], a);
  a = fma(vec4<f32>(hi.y), x[5], a);
  a = fma(vec4<f32>(hi.z), x[6], a);
  return fma(vec4<f32>(hi.w), x[7], a);
}

// Column c of the step's eight streamed rows, from the lanes holding them.
fn shuffle8(x: vec4<f32>) -> array<vec4<f32>, 8> {
  return array<vec4<f32>, 8>(
    subgroupShuffle(x, src_lo.x),
    subgroupShuffle(x, src_lo.y),
    subgroupShuffle(x, src_lo.z),
    subgroupShuffle(x, src_lo.w),
    subgroupShuffle(x, src_hi.x),
    subgroupShuffle(x, src_hi.y),
    subgroupShuffle(x, src_hi.z),
    subgroupShuffle(x, src_hi.w),
  );
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
#ifdef STEP_8
// dq pass, spelled out (see STEP_8 above): R query rows per invocation, keys streamed 8 a step.

var<private> row_q: array<array<vec4<f32>, DV>, R>;   // [R, DV] Q rows · scale · log2 e
var<private> row_do: array<array<vec4<f32>, DV>, R>;  // [R, DV] dO rows
var<private> row_acc: array<array<vec4<f32>, DV>, R>; // [R, DV] Σ_j dS_ij K_j
var<private> row_base: array<u32, R>;                 // Q/dO/dQ offset of each row
var<private> row_valid: array<bool, R>;               // the row exists (the last block is ragged)
var<private> row_limit: array<u32, R>;                // keys [0, limit) are visible to the row
var<private> row_lse2: array<f32, R>;                 // L · log2 e
var<private> row_dsum: array<vec4<f32>, R>;           // Δ = dO · O, as partial sums per vec4 lane
var<private> row_s_lo: array<vec4<f32>, R>;           // scores of keys 0-3 of the step, then dS
var<private> row_s_hi: array<vec4<f32>, R>;           // scores of keys 4-7 of the step, then dS
var<private> row_dp_lo: array<vec4<f32>, R>;          // dP of keys 0-3 of the step
var<private> row_dp_hi: array<vec4<f32>, R>;          // dP of keys 4-7 of the step
var<private> own_k: array<vec4<f32>, DV>;             // [DV] K row of this lane's key
var<private> own_v: array<vec4<f32>, DV>;             // [DV] V row of this lane's key
var<private> own_base: u32;                           // K/V offset of this lane's key
var<private> own_valid: bool;                         // this lane holds a visible key

// What `column` does to head-dimension column c (vec4 c of every row).
const LOAD_ROWS: u32 = 0u; // row_q, row_do ← Q (scaled), dO; row_acc ← 0; row_dsum += dO · O
const LOAD_KEY: u32 = 1u;  // own_k, own_v ← this lane's key
const SCORES: u32 = 2u;    // row_s += q · k of the step's eight keys
const DPROBS: u32 = 3u;    // row_dp += dO · v of the step's eight keys
const UPDATE: u32 = 4u;    // row_acc += Σ dS_j k_j over the step's eight keys
const STORE: u32 = 5u;     // dQ ← row_acc · scale

fn column(op: u32, c: u32) {
  // Columns past D (head dims below the DV capacity) hold zeros and are never stored.
  let in_head = c < params.dv;
  switch op {
    case LOAD_ROWS: {
      for (var i = 0u; i < R; i++) {
        let load = row_valid[i] && in_head;
        let dov = select(vec4<f32>(0.0), d_o[row_base[i] + c], load);
        row_q[i][c] = select(vec4<f32>(0.0), q[row_base[i] + c] * params.scale_log2, load);
        row_do[i][c] = dov;
        row_acc[i][c] = vec4<f32>(0.0);
        row_dsum[i] = fma(dov, select(vec4<f32>(0.0), o[row_base[i] + c], load), row_dsum[i]);
      }
    }
    case LOAD_KEY: {
      own_k[c] = select(vec4<f32>(0.0), k[own_base + c], own_valid && in_head);
      own_v[c] = select(vec4<f32>(0.0), v[own_base + c], own_valid && in_head);
    }
    case SCORES: {
      let x = shuffle8(own_k[c]);
      for (var i = 0u; i < R; i++) {
        let qc = row_q[i][c];
        // One scalar accumulator per (row, key): a vec4 per pair would need 4× the registers.
        row_s_lo[i] = vec4<f32>(dot_acc(qc, x[0], row_s_lo[i].x), dot_acc(qc, x[1], row_s_lo[i].y),
          dot_acc(qc, x[2], row_s_lo[i].z), dot_acc(qc, x[3], row_s_lo[i].w));
        row_s_hi[i] = vec4<f32>(dot_acc(qc, x[4], row_s_hi[i].x), dot_acc(qc, x[5], row_s_hi[i].y),
          dot_acc(qc, x[6], row_s_hi[i].z), dot_acc(qc, x[7], row_s_hi[i].w));
      }
    }
    case DPROBS: {
      let x = shuffle8(own_v[c]);
      for (var i = 0u; i < R; i++) {
        let dc = row_do[i][c];
        row_dp_lo[i] = vec4<f32>(dot_acc(dc, x[0], row_dp_lo[i].x),
          dot_acc(dc, x[1], row_dp_lo[i].y), dot_acc(dc, x[2], row_dp_lo[i].z),
          dot_acc(dc, x[3], row_dp_lo[i].w));
        row_dp_hi[i] = vec4<f32>(dot_acc(dc, x[4], row_dp_hi[i].x),
          dot_acc(dc, x[5], row_dp_hi[i].y), dot_acc(dc, x[6], row_dp_hi[i].z),
          dot_acc(dc, x[7], row_dp_hi[i].w));
      }
    }
    case UPDATE: {
      let x = shuffle8(own_k[c]);
      for (var i = 0u; i < R; i++) {
        row_acc[i][c] = weighted8(row_acc[i][c], row_s_lo[i], row_s_hi[i], x);
      }
    }
    case STORE, default: {
      for (var i = 0u; i < R; i++) {
        if (row_valid[i] && in_head) {
          dq[row_base[i] + c] = row_acc[i][c] * params.scale;
        }
      }
    }
  }
}

// Keys kb .. kb + 7 of a step with `step` ≤ 8 loaded keys: scores and dP, then dS (in row_s),
// then dQ's accumulation.
fn key_step(kb: u32, step: u32) {
  for (var i = 0u; i < R; i++) {
    row_s_lo[i] = vec4<f32>(0.0);
    row_s_hi[i] = vec4<f32>(0.0);
    row_dp_lo[i] = vec4<f32>(0.0);
    row_dp_hi[i] = vec4<f32>(0.0);
  }
  all_columns(SCORES);
  all_columns(DPROBS);
  for (var i = 0u; i < R; i++) {
    // Offsets visible to row i: below the step and below the row's limit.
    let end = vec4<u32>(min(step, row_limit[i] - min(row_limit[i], kb)));
    let lse2 = vec4<f32>(row_lse2[i]);
    let delta = vec4<f32>(dot(row_dsum[i], vec4<f32>(1.0)));
    let p_lo = select(vec4<f32>(0.0), exp2(row_s_lo[i] - lse2), OFFSETS_LO < end);
    let p_hi = select(vec4<f32>(0.0), exp2(row_s_hi[i] - lse2), OFFSETS_HI < end);
    row_s_lo[i] = p_lo * (row_dp_lo[i] - delta);
    row_s_hi[i] = p_hi * (row_dp_hi[i] - delta);
  }
  all_columns(UPDATE);
}

@compute @workgroup_size(WG)
fn dq_pass(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let b = wid.z;
  let kvh = wid.y;
  let rows = params.t_len * params.group;
  let first_row = wid.x * WG * R;
  let key_len = sequence_keys(b);
  // The block's last row has the largest limit (limits grow with t).
  let block_limit = key_limit((min(first_row + WG * R, rows) - 1u) / params.group, key_len);

  for (var i = 0u; i < R; i++) {
    let row = first_row + i * WG + lid;
    let clamped = min(row, rows - 1u);
    let t = clamped / params.group;
    let h = kvh * params.group + clamped % params.group;
    row_base[i] = q_index(b, t, h);
    row_valid[i] = row < rows;
    row_limit[i] = select(0u, key_limit(t, key_len), row < rows);
    row_lse2[i] = lse[(b * params.hq + h) * params.t_len + t] * LOG2E;
    row_dsum[i] = vec4<f32>(0.0);
  }
  all_columns(LOAD_ROWS);

  // Keys per step: the lanes actually running in this subgroup (active lanes are 0 .. n - 1), at
  // most STEP.
  let step = min(subgroupAdd(1u), STEP);
  set_sources(step);
  for (var kb = 0u; kb < block_limit; kb += step) {
    let own_key = kb + lane;
    own_base = kv_index(b, min(own_key, block_limit - 1u), kvh);
    own_valid = lane < step && own_key < block_limit;
    all_columns(LOAD_KEY);
    key_step(kb, step);
  }
  all_columns(STORE);
}
#else
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
#endif

#ifdef DKV_PASS
#ifdef STEP_8
// dkv pass, spelled out (see STEP_8 above): R keys per invocation, query rows streamed 8 a step.

var<private> row_k: array<array<vec4<f32>, DV>, R>;  // [R, DV] K rows · scale · log2 e
var<private> row_v: array<array<vec4<f32>, DV>, R>;  // [R, DV] V rows
var<private> row_dk: array<array<vec4<f32>, DV>, R>; // [R, DV] Σ_i dS_ij Q_i
var<private> row_dv: array<array<vec4<f32>, DV>, R>; // [R, DV] Σ_i P_ij dO_i
var<private> row_key: array<u32, R>;                 // key index j of each row
var<private> row_base: array<u32, R>;                // K/V/dK/dV offset of each key
var<private> row_loaded: array<bool, R>;             // j < the sequence's key length
var<private> row_valid: array<bool, R>;              // j < S: dK, dV are written
var<private> row_s_lo: array<vec4<f32>, R>;          // scores of query rows 0-3 of the step, then P
var<private> row_s_hi: array<vec4<f32>, R>;          // scores of query rows 4-7 of the step, then P
var<private> row_dp_lo: array<vec4<f32>, R>;         // dP of query rows 0-3 of the step, then dS
var<private> row_dp_hi: array<vec4<f32>, R>;         // dP of query rows 4-7 of the step, then dS
var<private> own_q: array<vec4<f32>, DV>;            // [DV] Q row of this lane's query row
var<private> own_do: array<vec4<f32>, DV>;           // [DV] dO row of this lane's query row
var<private> own_delta: vec4<f32>;                   // its Δ = dO · O, partial sums per vec4 lane
var<private> own_base: u32;                          // Q/dO/O offset of this lane's query row
var<private> own_valid: bool;                        // this lane holds a query row

// What `column` does to head-dimension column c (vec4 c of every row).
const LOAD_ROWS: u32 = 0u;  // row_k, row_v ← K (scaled), V; row_dk, row_dv ← 0
const LOAD_QUERY: u32 = 1u; // own_q, own_do ← this lane's query row; own_delta += dO · O
const SCORES: u32 = 2u;     // row_s += k · q of the step's eight query rows
const DPROBS: u32 = 3u;     // row_dp += v · dO of the step's eight query rows
const UPDATE_DV: u32 = 4u;  // row_dv += Σ P_i dO_i over the step's eight query rows
const UPDATE_DK: u32 = 5u;  // row_dk += Σ dS_i Q_i over the step's eight query rows
const STORE: u32 = 6u;      // dK ← row_dk · scale, dV ← row_dv

fn column(op: u32, c: u32) {
  // Columns past D (head dims below the DV capacity) hold zeros and are never stored.
  let in_head = c < params.dv;
  switch op {
    case LOAD_ROWS: {
      for (var i = 0u; i < R; i++) {
        // Padded keys (past the sequence's key length) are never used: their gradients are zero.
        let load = row_loaded[i] && in_head;
        row_k[i][c] = select(vec4<f32>(0.0), k[row_base[i] + c] * params.scale_log2, load);
        row_v[i][c] = select(vec4<f32>(0.0), v[row_base[i] + c], load);
        row_dk[i][c] = vec4<f32>(0.0);
        row_dv[i][c] = vec4<f32>(0.0);
      }
    }
    case LOAD_QUERY: {
      let load = own_valid && in_head;
      let dov = select(vec4<f32>(0.0), d_o[own_base + c], load);
      own_q[c] = select(vec4<f32>(0.0), q[own_base + c], load);
      own_do[c] = dov;
      own_delta = fma(dov, select(vec4<f32>(0.0), o[own_base + c], load), own_delta);
    }
    case SCORES: {
      let x = shuffle8(own_q[c]);
      for (var i = 0u; i < R; i++) {
        let kc = row_k[i][c];
        // One scalar accumulator per (key, query row): a vec4 per pair would need 4× the registers.
        row_s_lo[i] = vec4<f32>(dot_acc(kc, x[0], row_s_lo[i].x), dot_acc(kc, x[1], row_s_lo[i].y),
          dot_acc(kc, x[2], row_s_lo[i].z), dot_acc(kc, x[3], row_s_lo[i].w));
        row_s_hi[i] = vec4<f32>(dot_acc(kc, x[4], row_s_hi[i].x), dot_acc(kc, x[5], row_s_hi[i].y),
          dot_acc(kc, x[6], row_s_hi[i].z), dot_acc(kc, x[7], row_s_hi[i].w));
      }
    }
    case DPROBS: {
      let x = shuffle8(own_do[c]);
      for (var i = 0u; i < R; i++) {
        let vc = row_v[i][c];
        row_dp_lo[i] = vec4<f32>(dot_acc(vc, x[0], row_dp_lo[i].x),
          dot_acc(vc, x[1], row_dp_lo[i].y), dot_acc(vc, x[2], row_dp_lo[i].z),
          dot_acc(vc, x[3], row_dp_lo[i].w));
        row_dp_hi[i] = vec4<f32>(dot_acc(vc, x[4], row_dp_hi[i].x),
          dot_acc(vc, x[5], row_dp_hi[i].y), dot_acc(vc, x[6], row_dp_hi[i].z),
          dot_acc(vc, x[7], row_dp_hi[i].w));
      }
    }
    case UPDATE_DV: {
      let x = shuffle8(own_do[c]);
      for (var i = 0u; i < R; i++) {
        row_dv[i][c] = weighted8(row_dv[i][c], row_s_lo[i], row_s_hi[i], x);
      }
    }
    case UPDATE_DK: {
      let x = shuffle8(own_q[c]);
      for (var i = 0u; i < R; i++) {
        row_dk[i][c] = weighted8(row_dk[i][c], row_dp_lo[i], row_dp_hi[i], x);
      }
    }
    case STORE, default: {
      for (var i = 0u; i < R; i++) {
        if (row_valid[i] && in_head) {
          dk[row_base[i] + c] = row_dk[i][c] * params.scale;
          dv[row_base[i] + c] = row_dv[i][c];
        }
      }
    }
  }
}

// Four lanes' values of a scalar.
fn shuffle4(x: f32, src: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(subgroupShuffle(x, src.x), subgroupShuffle(x, src.y),
    subgroupShuffle(x, src.z), subgroupShuffle(x, src.w));
}

fn shuffle4u(x: u32, src: vec4<u32>) -> vec4<u32> {
  return vec4<u32>(subgroupShuffle(x, src.x), subgroupShuffle(x, src.y),
    subgroupShuffle(x, src.z), subgroupShuffle(x, src.w));
}

// The step's query rows (`step` ≤ 8 loaded, with L · log2 e, Δ and key limit in each lane): scores
// and dP, then P (in row_s) and dS (in row_dp), then the dV and dK accumulations.
fn query_step(step: u32, lse2: f32, delta: f32, limit: u32) {
  for (var i = 0u; i < R; i++) {
    row_s_lo[i] = vec4<f32>(0.0);
    row_s_hi[i] = vec4<f32>(0.0);
    row_dp_lo[i] = vec4<f32>(0.0);
    row_dp_hi[i] = vec4<f32>(0.0);
  }
  all_columns(SCORES);
  all_columns(DPROBS);
  let lse_lo = shuffle4(lse2, src_lo);
  let lse_hi = shuffle4(lse2, src_hi);
  let delta_lo = shuffle4(delta, src_lo);
  let delta_hi = shuffle4(delta, src_hi);
  // Offsets past the step hold no query row: a limit of 0 hides every key from them.
  let limit_lo = select(vec4<u32>(0u), shuffle4u(limit, src_lo), OFFSETS_LO < vec4<u32>(step));
  let limit_hi = select(vec4<u32>(0u), shuffle4u(limit, src_hi), OFFSETS_HI < vec4<u32>(step));
  for (var i = 0u; i < R; i++) {
    let j = vec4<u32>(row_key[i]);
    let p_lo = select(vec4<f32>(0.0), exp2(row_s_lo[i] - lse_lo), j < limit_lo);
    let p_hi = select(vec4<f32>(0.0), exp2(row_s_hi[i] - lse_hi), j < limit_hi);
    row_s_lo[i] = p_lo;
    row_s_hi[i] = p_hi;
    row_dp_lo[i] = p_lo * (row_dp_lo[i] - delta_lo);
    row_dp_hi[i] = p_hi * (row_dp_hi[i] - delta_hi);
  }
  all_columns(UPDATE_DV);
  all_columns(UPDATE_DK);
}

@compute @workgroup_size(WG)
fn dkv_pass(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let b = wid.z;
  let kvh = wid.y;
  let first_key = wid.x * WG * R;
  let key_len = sequence_keys(b);
  for (var i = 0u; i < R; i++) {
    let j = first_key + i * WG + lid;
    row_key[i] = j;
    row_base[i] = kv_index(b, min(j, params.s_len - 1u), kvh);
    row_loaded[i] = j < key_len;
    row_valid[i] = j < params.s_len;
  }
  all_columns(LOAD_ROWS);

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

  // Query rows per step: the lanes actually running in this subgroup (active lanes are
  // 0 .. n - 1), at most STEP.
  let step = min(subgroupAdd(1u), STEP);
  set_sources(step);
  for (var rb = t_start * params.group; rb < rows; rb += step) {
    let r = rb + lane;
    let clamped = min(r, rows - 1u);
    let t = clamped / params.group;
    let h = kvh * params.group + clamped % params.group;
    own_base = q_index(b, t, h);
    own_valid = lane < step && r < rows;
    own_delta = vec4<f32>(0.0);
    all_columns(LOAD_QUERY);
    let lse2 = select(0.0, lse[(b * params.hq + h) * params.t_len + t] * LOG2E, own_valid);
    let limit = select(0u, key_limit(t, key_len), own_valid);
    query_step(step, lse2, dot(own_delta, vec4<f32>(1.0)), limit);
  }
  all_columns(STORE);
}
#else
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
#endif
