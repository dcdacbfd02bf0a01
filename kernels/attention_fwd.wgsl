// Fused attention forward (FlashAttention-2 style, online softmax), grouped-query heads.
//
//   O[b, t, h] = Σ_j softmax_j(scale · Q[b, t, h] · K[b, j, h / G]) V[b, j, h / G]
//   L[b, h, t] = log Σ_j exp(scale · Q · K_j)            (natural log, saved for the backward)
//
// Work split: one workgroup per (block of WG·R query rows, KV head, batch). The rows of a block are
// the (t, g) pairs of the G query heads that share the KV head (row r → t = r / G, g = r % G), so
// every row of the workgroup reads the same K/V tiles. Keys stream through workgroup memory BC at
// a time, or, with SUBGROUPS, through the lanes' registers (each lane loads one key, shuffles hand
// it to the others: no workgroup memory, no barriers; the fast path on lavapipe, ~4× the
// workgroup-memory kernel at T = 512).
// Each invocation owns R rows (rows base + i·WG + lid, i < R): their Q rows (pre-scaled by
// scale·log2 e) and output accumulators stay in private memory, and every K/V value read serves
// all R rows. The launcher picks R and WG per device (lavapipe: R = 8, WG = 8; GPUs: R = 4 and
// larger workgroups; GPUs short of registers may prefer R = 1).
// Per key step (subgroups: 8 keys; workgroup memory: a tile of BC) and row: scores s_j, new
// running max m', rescale the accumulator by 2^(m - m') once, then add p_j V_j. Keys past the workgroup's last visible key are skipped, so causal
// attention does about half the work.
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

fn max4(x: vec4<f32>) -> f32 {
  return max(max(x.x, x.y), max(x.z, x.w));
}

// Indices of keys kb + first .. kb + first + 3.
fn key_ids(kb: u32, first: u32) -> vec4<u32> {
  return vec4<u32>(kb + first) + vec4<u32>(0u, 1u, 2u, 3u);
}

#ifdef SUBGROUPS
// Row-split kernel with subgroup shuffles. Each lane loads one key's K and V rows (key kb + lane)
// and the subgroup passes them around with shuffles: no workgroup memory, no barriers.
//
// Written for CPU backends as much as for GPUs. Mesa's lavapipe runs a subgroup as the lanes of
// one SIMD register, and an invocation's array is kept in registers only if every access uses a
// constant index; a single access with a loop counter keeps the whole array in memory, where each
// access becomes a gather or a masked scatter, lane by lane (measured: 2× slower overall). Its
// compiler does not unroll loops this long, so the loops over the head dimension are spelled out:
// `all_columns(op)` calls `column(op, c)` for every c < DV with constant arguments, and inside
// `column` only the short loops over the R rows remain (those are unrolled). The per-invocation
// state lives at module scope so that `column` can reach it.

var<private> row_q: array<array<vec4<f32>, DV>, R>;   // [R, DV] query rows · scale · log2 e
var<private> row_acc: array<array<vec4<f32>, DV>, R>; // [R, DV] Σ p_j V_j (unnormalised)
var<private> row_base: array<u32, R>;                 // Q/O element offset of each row
var<private> row_valid: array<bool, R>;               // the row exists (the last block is ragged)
var<private> row_s_lo: array<vec4<f32>, R>;           // scores of keys 0-3 of the step
var<private> row_s_hi: array<vec4<f32>, R>;           // scores of keys 4-7 of the step
var<private> row_p_lo: array<vec4<f32>, R>;           // their probabilities 2^(s - m)
var<private> row_p_hi: array<vec4<f32>, R>;
var<private> row_alpha: array<f32, R>;                // accumulator rescale 2^(m_old - m_new)
var<private> row_inv_l: array<f32, R>;                // 1 / Σ p, for the output
var<private> row_limit: array<u32, R>;                // keys [0, limit) are visible to the row
var<private> row_m: array<f32, R>;                    // running max of the scores (base 2)
var<private> row_l: array<f32, R>;                    // running Σ 2^(s - m)
var<private> own_k: array<vec4<f32>, DV>;             // [DV] K row of this lane's key
var<private> own_v: array<vec4<f32>, DV>;             // [DV] V row of this lane's key
var<private> own_base: u32;                           // K/V offset of this lane's key
var<private> own_valid: bool;                         // this lane holds a visible key
var<private> src_lo: vec4<u32>;                       // lanes holding keys 0-3 of the step
var<private> src_hi: vec4<u32>;                       // lanes holding keys 4-7 of the step

// What `column` does to head-dimension column c (vec4 c of every row).
const LOAD_Q: u32 = 0u;   // row_q ← Q (scaled), row_acc ← 0
const LOAD_KV: u32 = 1u;  // own_k, own_v ← this lane's key
const SCORES: u32 = 2u;   // row_s_lo, row_s_hi += q · k of the step's eight keys
const UPDATE: u32 = 3u;   // row_acc ← row_acc · alpha + Σ p_j v_j over the step's eight keys
const STORE_O: u32 = 4u;  // O ← row_acc / l

fn column(op: u32, c: u32) {
  // Columns past D (head dims below the DV capacity) hold zeros and are never stored.
  let in_head = c < params.dv;
  switch op {
    case LOAD_Q: {
      for (var i = 0u; i < R; i++) {
        let value = q[row_base[i] + c] * params.scale_log2;
        row_q[i][c] = select(vec4<f32>(0.0), value, row_valid[i] && in_head);
        row_acc[i][c] = vec4<f32>(0.0);
      }
    }
    case LOAD_KV: {
      own_k[c] = select(vec4<f32>(0.0), k[own_base + c], own_valid && in_head);
      own_v[c] = select(vec4<f32>(0.0), v[own_base + c], own_valid && in_head);
    }
    case SCORES: {
      let k0 = subgroupShuffle(own_k[c], src_lo.x);
      let k1 = subgroupShuffle(own_k[c], src_lo.y);
      let k2 = subgroupShuffle(own_k[c], src_lo.z);
      let k3 = subgroupShuffle(own_k[c], src_lo.w);
      let k4 = subgroupShuffle(own_k[c], src_hi.x);
      let k5 = subgroupShuffle(own_k[c], src_hi.y);
      let k6 = subgroupShuffle(own_k[c], src_hi.z);
      let k7 = subgroupShuffle(own_k[c], src_hi.w);
      for (var i = 0u; i < R; i++) {
        let qc = row_q[i][c];
        // One scalar accumulator per (row, key): a vec4 per pair would need 4× the registers.
        row_s_lo[i] = vec4<f32>(
          dot_acc(qc, k0, row_s_lo[i].x),
          dot_acc(qc, k1, row_s_lo[i].y),
          dot_acc(qc, k2, row_s_lo[i].z),
          dot_acc(qc, k3, row_s_lo[i].w),
        );
        row_s_hi[i] = vec4<f32>(
          dot_acc(qc, k4, row_s_hi[i].x),
          dot_acc(qc, k5, row_s_hi[i].y),
          dot_acc(qc, k6, row_s_hi[i].z),
          dot_acc(qc, k7, row_s_hi[i].w),
        );
      }
    }
    case UPDATE: {
      let v0 = subgroupShuffle(own_v[c], src_lo.x);
      let v1 = subgroupShuffle(own_v[c], src_lo.y);
      let v2 = subgroupShuffle(own_v[c], src_lo.z);
      let v3 = subgroupShuffle(own_v[c], src_lo.w);
      let v4 = subgroupShuffle(own_v[c], src_hi.x);
      let v5 = subgroupShuffle(own_v[c], src_hi.y);
      let v6 = subgroupShuffle(own_v[c], src_hi.z);
      let v7 = subgroupShuffle(own_v[c], src_hi.w);
      for (var i = 0u; i < R; i++) {
        let lo = row_p_lo[i];
        let hi = row_p_hi[i];
        var a = fma(vec4<f32>(lo.x), v0, row_acc[i][c] * row_alpha[i]);
        a = fma(vec4<f32>(lo.y), v1, a);
        a = fma(vec4<f32>(lo.z), v2, a);
        a = fma(vec4<f32>(lo.w), v3, a);
        a = fma(vec4<f32>(hi.x), v4, a);
        a = fma(vec4<f32>(hi.y), v5, a);
        a = fma(vec4<f32>(hi.z), v6, a);
        row_acc[i][c] = fma(vec4<f32>(hi.w), v7, a);
      }
    }
    case STORE_O, default: {
      for (var i = 0u; i < R; i++) {
        if (row_valid[i] && in_head) {
          o[row_base[i] + c] = row_acc[i][c] * row_inv_l[i];
        }
      }
    }
  }
}

#include "attention_columns.wgsl"

// Keys per step of the key loop: lanes 0 .. KEY_STEP - 1 each load one key, and the step goes
// through the online softmax at once (one rescale per 8 keys; against 4: lavapipe, T = 512, full
// −15%). A fixed count rather than the subgroup width keeps the step's code spelled out with no
// inner loop (an inner loop over the width's groups of keys cost 30% on lavapipe); wider subgroups
// leave their other lanes' keys unused, narrower or ragged ones mask the missing keys.
const KEY_STEP: u32 = 8u;

// Keys kb .. kb + 7 of a step with `step` ≤ 8 loaded keys: scores, online softmax update (one
// rescale per step), accumulation.
fn key_step(kb: u32, step: u32) {
  let offsets_lo = vec4<u32>(0u, 1u, 2u, 3u);
  let offsets_hi = vec4<u32>(4u, 5u, 6u, 7u);
  // Offsets past the step (a narrow or ragged subgroup) hold no key: masked below.
  src_lo = min(offsets_lo, vec4<u32>(step - 1u));
  src_hi = min(offsets_hi, vec4<u32>(step - 1u));
  for (var i = 0u; i < R; i++) {
    row_s_lo[i] = vec4<f32>(0.0);
    row_s_hi[i] = vec4<f32>(0.0);
  }
  all_columns(SCORES);
  for (var i = 0u; i < R; i++) {
    // Offsets visible to row i: below the step and below the row's limit.
    let end = vec4<u32>(min(step, row_limit[i] - min(row_limit[i], kb)));
    let visible_lo = offsets_lo < end;
    let visible_hi = offsets_hi < end;
    let s_lo = select(vec4<f32>(NEG_BIG), row_s_lo[i], visible_lo);
    let s_hi = select(vec4<f32>(NEG_BIG), row_s_hi[i], visible_hi);
    let m_new = max(row_m[i], max4(max(s_lo, s_hi)));
    row_alpha[i] = exp2(row_m[i] - m_new);
    row_p_lo[i] = select(vec4<f32>(0.0), exp2(s_lo - vec4<f32>(m_new)), visible_lo);
    row_p_hi[i] = select(vec4<f32>(0.0), exp2(s_hi - vec4<f32>(m_new)), visible_hi);
    row_l[i] = row_l[i] * row_alpha[i] + dot(row_p_lo[i] + row_p_hi[i], vec4<f32>(1.0));
    row_m[i] = m_new;
  }
  all_columns(UPDATE);
}

@compute @workgroup_size(WG)
fn main(
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
    row_base[i] = q_index(b, t, kvh * params.group + clamped % params.group);
    row_valid[i] = row < rows;
    row_limit[i] = select(0u, key_limit(t, key_len), row < rows);
    row_m[i] = NEG_BIG;
    row_l[i] = 0.0;
  }
  all_columns(LOAD_Q);

  // Keys per step: the lanes actually running in this subgroup (fewer than sg_size when the
  // workgroup is smaller than a subgroup or not a multiple of it; active lanes are 0 .. n - 1),
  // at most KEY_STEP.
  let step = min(subgroupAdd(1u), KEY_STEP);
  for (var kb = 0u; kb < block_limit; kb += step) {
    let own_key = kb + lane;
    own_base = kv_index(b, min(own_key, block_limit - 1u), kvh);
    own_valid = lane < step && own_key < block_limit;
    all_columns(LOAD_KV);
    key_step(kb, step);
  }

  for (var i = 0u; i < R; i++) {
    let l = row_l[i];
    row_inv_l[i] = select(0.0, 1.0 / l, l > 0.0);
    let row = first_row + i * WG + lid;
    if (row < rows) {
      let t = row / params.group;
      let h = kvh * params.group + row % params.group;
      let lse_index = (b * params.hq + h) * params.t_len + t;
      lse[lse_index] = select(bitcast<f32>(0xff800000u), (row_m[i] + log2(l)) * LN2, l > 0.0);
    }
  }
  all_columns(STORE_O);
}
#else

// Row-split kernel with workgroup memory: keys stream through K/V tiles, BC at a time.

// Keys per tile (fixed: a tile's scores are four vec4s per row).
const BC: u32 = 16u;

var<workgroup> k_tile: array<vec4<f32>, BC * DV>; // [BC, DV]
var<workgroup> v_tile: array<vec4<f32>, BC * DV>; // [BC, DV]

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let b = wid.z;
  let kvh = wid.y;
  let rows = params.t_len * params.group;
  let first_row = wid.x * WG * R;
  let key_len = sequence_keys(b);
  // The block's last row has the largest limit (limits grow with t).
  let block_limit = key_limit((min(first_row + WG * R, rows) - 1u) / params.group, key_len);

  var q_rows: array<array<vec4<f32>, DV>, R>;
  var acc: array<array<vec4<f32>, DV>, R>;
  var m: array<f32, R>;
  var l: array<f32, R>;
  var limit: array<u32, R>;
  for (var i = 0u; i < R; i++) {
    let row = first_row + i * WG + lid;
    let clamped = min(row, rows - 1u);
    let t = clamped / params.group;
    let base = q_index(b, t, kvh * params.group + clamped % params.group);
    limit[i] = select(0u, key_limit(t, key_len), row < rows);
    for (var c = 0u; c < DV; c++) {
      var value = vec4<f32>(0.0);
      if (row < rows && c < params.dv) {
        value = q[base + c] * params.scale_log2;
      }
      q_rows[i][c] = value;
      acc[i][c] = vec4<f32>(0.0);
    }
    m[i] = NEG_BIG;
    l[i] = 0.0;
  }

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

    // Scores s[i][g] of keys 4g .. 4g+3 (base 2; NEG_BIG where masked). Each K value loaded
    // serves all R rows.
    var s: array<array<vec4<f32>, 4>, R>;
    for (var g = 0u; g < 4u; g++) {
      // Explicitly zeroed each pass: naga initialises loop-local vars without an initializer
      // only once.
      var d = array<array<vec4<f32>, 4>, R>();
      for (var c = 0u; c < DV; c++) {
        let k0 = k_tile[(4u * g + 0u) * DV + c];
        let k1 = k_tile[(4u * g + 1u) * DV + c];
        let k2 = k_tile[(4u * g + 2u) * DV + c];
        let k3 = k_tile[(4u * g + 3u) * DV + c];
        for (var i = 0u; i < R; i++) {
          let qc = q_rows[i][c];
          d[i][0] = fma(qc, k0, d[i][0]);
          d[i][1] = fma(qc, k1, d[i][1]);
          d[i][2] = fma(qc, k2, d[i][2]);
          d[i][3] = fma(qc, k3, d[i][3]);
        }
      }
      let ones = vec4<f32>(1.0);
      for (var i = 0u; i < R; i++) {
        let scores = vec4<f32>(
          dot(d[i][0], ones),
          dot(d[i][1], ones),
          dot(d[i][2], ones),
          dot(d[i][3], ones),
        );
        s[i][g] = select(vec4<f32>(NEG_BIG), scores, key_ids(kb, 4u * g) < vec4<u32>(limit[i]));
      }
    }

    // Online softmax update: p = 2^(s - m'), accumulator and sum rescaled by 2^(m - m').
    var p: array<array<vec4<f32>, 4>, R>;
    var alpha: array<f32, R>;
    for (var i = 0u; i < R; i++) {
      let tile_max = max(max(max4(s[i][0]), max4(s[i][1])), max(max4(s[i][2]), max4(s[i][3])));
      let m_new = max(m[i], tile_max);
      alpha[i] = exp2(m[i] - m_new);
      var sum = vec4<f32>(0.0);
      for (var g = 0u; g < 4u; g++) {
        let visible = key_ids(kb, 4u * g) < vec4<u32>(limit[i]);
        p[i][g] = select(vec4<f32>(0.0), exp2(s[i][g] - vec4<f32>(m_new)), visible);
        sum += p[i][g];
      }
      l[i] = l[i] * alpha[i] + dot(sum, vec4<f32>(1.0));
      m[i] = m_new;
    }

    // acc += P V; each V value loaded serves all R rows.
    for (var c = 0u; c < DV; c++) {
      for (var g = 0u; g < 4u; g++) {
        let v0 = v_tile[(4u * g + 0u) * DV + c];
        let v1 = v_tile[(4u * g + 1u) * DV + c];
        let v2 = v_tile[(4u * g + 2u) * DV + c];
        let v3 = v_tile[(4u * g + 3u) * DV + c];
        for (var i = 0u; i < R; i++) {
          var a = select(acc[i][c], acc[i][c] * alpha[i], g == 0u);
          a = fma(vec4<f32>(p[i][g].x), v0, a);
          a = fma(vec4<f32>(p[i][g].y), v1, a);
          a = fma(vec4<f32>(p[i][g].z), v2, a);
          acc[i][c] = fma(vec4<f32>(p[i][g].w), v3, a);
        }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < R; i++) {
    let row = first_row + i * WG + lid;
    if (row < rows) {
      let t = row / params.group;
      let h = kvh * params.group + row % params.group;
      let base = q_index(b, t, h);
      let inv_l = select(0.0, 1.0 / l[i], l[i] > 0.0);
      for (var c = 0u; c < DV; c++) {
        if (c < params.dv) {
          o[base + c] = acc[i][c] * inv_l;
        }
      }
      let lse_index = (b * params.hq + h) * params.t_len + t;
      lse[lse_index] = select(bitcast<f32>(0xff800000u), (m[i] + log2(l[i])) * LN2, l[i] > 0.0);
    }
  }
}
#endif

// Decoding variant (entry point `decode`): all R ≥ T·G query rows of a KV head in one workgroup,
// keys spread over the invocations (key j goes to invocation j mod WG). With a handful of query
// rows the row-per-invocation split above would leave most invocations idle while each streams
// every key; here every invocation does useful work on its share of the keys, keeping a running
// max, sum and accumulator per row, and the WG partial softmax states of a row are merged at the
// end through workgroup memory (tree reductions).

var<workgroup> part_m: array<f32, WG>;
var<workgroup> part_l: array<f32, WG>;
var<workgroup> part_acc: array<vec4<f32>, WG * DV>; // [WG, DV]

// Tree reduction of part_m (max) over the workgroup; every invocation gets the result.
fn workgroup_max(lid: u32) -> f32 {
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      part_m[lid] = max(part_m[lid], part_m[lid + stride]);
    }
    workgroupBarrier();
  }
  let result = part_m[0];
  workgroupBarrier();
  return result;
}

@compute @workgroup_size(WG)
fn decode(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let b = wid.z;
  let kvh = wid.y;
  let rows = params.t_len * params.group;
  let key_len = sequence_keys(b);

  var q_rows: array<array<vec4<f32>, DV>, R>;
  var acc: array<array<vec4<f32>, DV>, R>;
  var m: array<f32, R>;
  var l: array<f32, R>;
  var limit: array<u32, R>;
  var keys_end = 0u;
  for (var i = 0u; i < R; i++) {
    let clamped = min(i, rows - 1u);
    let t = clamped / params.group;
    let base = q_index(b, t, kvh * params.group + clamped % params.group);
    limit[i] = select(0u, key_limit(t, key_len), i < rows);
    keys_end = max(keys_end, limit[i]);
    for (var c = 0u; c < DV; c++) {
      var value = vec4<f32>(0.0);
      if (i < rows && c < params.dv) {
        value = q[base + c] * params.scale_log2;
      }
      q_rows[i][c] = value;
      acc[i][c] = vec4<f32>(0.0);
    }
    m[i] = NEG_BIG;
    l[i] = 0.0;
  }

  for (var j = lid; j < keys_end; j += WG) {
    let kv_base = kv_index(b, j, kvh);
    var d = array<vec4<f32>, R>();
    for (var c = 0u; c < DV; c++) {
      var kc = vec4<f32>(0.0);
      if (c < params.dv) {
        kc = k[kv_base + c];
      }
      for (var i = 0u; i < R; i++) {
        d[i] = fma(q_rows[i][c], kc, d[i]);
      }
    }
    var alpha: array<f32, R>;
    var p: array<f32, R>;
    for (var i = 0u; i < R; i++) {
      let visible = j < limit[i];
      let score = select(NEG_BIG, dot(d[i], vec4<f32>(1.0)), visible);
      let m_new = max(m[i], score);
      alpha[i] = exp2(m[i] - m_new);
      p[i] = select(0.0, exp2(score - m_new), visible);
      l[i] = l[i] * alpha[i] + p[i];
      m[i] = m_new;
    }
    for (var c = 0u; c < DV; c++) {
      var vc = vec4<f32>(0.0);
      if (c < params.dv) {
        vc = v[kv_base + c];
      }
      for (var i = 0u; i < R; i++) {
        acc[i][c] = fma(vec4<f32>(p[i]), vc, acc[i][c] * alpha[i]);
      }
    }
  }

  // Merge the partial states of each row: M = max m, L = Σ l·2^(m-M), O = Σ acc·2^(m-M) / L.
  for (var i = 0u; i < R; i++) {
    part_m[lid] = m[i];
    workgroupBarrier();
    let row_max = workgroup_max(lid);
    let weight = exp2(m[i] - row_max);
    part_l[lid] = l[i] * weight;
    for (var c = 0u; c < DV; c++) {
      part_acc[lid * DV + c] = acc[i][c] * weight;
    }
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
      if (lid < stride) {
        part_l[lid] += part_l[lid + stride];
        for (var c = 0u; c < DV; c++) {
          part_acc[lid * DV + c] += part_acc[(lid + stride) * DV + c];
        }
      }
      workgroupBarrier();
    }
    let row_sum = part_l[0];
    if (i < rows) {
      let t = i / params.group;
      let h = kvh * params.group + i % params.group;
      let base = q_index(b, t, h);
      let inv_l = select(0.0, 1.0 / row_sum, row_sum > 0.0);
      for (var c = lid; c < params.dv; c += WG) {
        o[base + c] = part_acc[c] * inv_l;
      }
      if (lid == 0u) {
        let lse_index = (b * params.hq + h) * params.t_len + t;
        lse[lse_index] = select(bitcast<f32>(0xff800000u), (row_max + log2(row_sum)) * LN2,
          row_sum > 0.0);
      }
    }
    workgroupBarrier();
  }
}
