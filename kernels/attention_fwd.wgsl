// Fused attention forward (FlashAttention-2 style, online softmax), grouped-query heads.
//
//   O[b, t, h] = Σ_j softmax_j(scale · Q[b, t, h] · K[b, j, h / G]) V[b, j, h / G]
//   L[b, h, t] = log Σ_j exp(scale · Q · K_j)            (natural log, saved for the backward)
//
// Work split: one workgroup per (block of WG·R query rows, KV head, batch). The rows of a block are
// the (t, g) pairs of the G query heads that share the KV head (row r → t = r / G, g = r % G), so
// every row of the workgroup reads the same K/V tiles. Keys stream through workgroup memory BC at
// a time, or, with SUBGROUPS, through the lanes' registers (each lane loads one key, shuffles hand
// it to the others: no workgroup memory, no barriers; ~1.7× faster on lavapipe).
// Each invocation owns R rows (rows base + i·WG + lid, i < R): their Q rows (pre-scaled by
// scale·log2 e) and output accumulators stay in private memory, and every K/V value read from the
// tile serves all R rows. Loads from the tile are what costs most on lavapipe; R = 4 is the default
// there (R = 1 was ~2× slower, R = 8 ~10% faster but slower to compile); GPUs short of registers
// may prefer R = 1.
// Per tile and row: scores s_j, new running max m', rescale the accumulator by 2^(m - m') once,
// then add p_j V_j. Tiles past the workgroup's last visible key are skipped, so causal attention
// does about half the work.
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

// Keys per tile (fixed: a tile's scores are four vec4s per row).
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

// Indices of keys kb + first .. kb + first + 3.
fn key_ids(kb: u32, first: u32) -> vec4<u32> {
  return vec4<u32>(kb + first) + vec4<u32>(0u, 1u, 2u, 3u);
}

@compute @workgroup_size(WG)
fn main(
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

#ifdef SUBGROUPS
  // Subgroup variant: no workgroup memory, no barriers. Each lane loads one key's K and V rows
  // (key kb + lane) into registers and the subgroup passes them around with shuffles, so a key
  // costs one load per lane instead of one workgroup-memory load per use. Keys go four at a
  // time through the online softmax (one rescale per four keys).
  var k_reg: array<vec4<f32>, DV>;
  var v_reg: array<vec4<f32>, DV>;
  // Lanes actually running in this subgroup (fewer than sg_size when the workgroup is smaller
  // than a subgroup or not a multiple of it); active lanes are 0 .. width - 1.
  let width = subgroupAdd(1u);
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
      // Lanes past the subgroup (widths not a multiple of 4) hold no key: masked below.
      let src = min(vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(width - 1u));
      var d = array<array<vec4<f32>, 4>, R>();
      for (var c = 0u; c < DV; c++) {
        let k0 = subgroupShuffle(k_reg[c], src.x);
        let k1 = subgroupShuffle(k_reg[c], src.y);
        let k2 = subgroupShuffle(k_reg[c], src.z);
        let k3 = subgroupShuffle(k_reg[c], src.w);
        for (var i = 0u; i < R; i++) {
          let qc = q_rows[i][c];
          d[i][0] = fma(qc, k0, d[i][0]);
          d[i][1] = fma(qc, k1, d[i][1]);
          d[i][2] = fma(qc, k2, d[i][2]);
          d[i][3] = fma(qc, k3, d[i][3]);
        }
      }
      let in_subgroup = vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(width);
      var p: array<vec4<f32>, R>;
      var alpha: array<f32, R>;
      let ones = vec4<f32>(1.0);
      for (var i = 0u; i < R; i++) {
        let visible = in_subgroup & (key_ids(kb, first) < vec4<u32>(limit[i]));
        let scores = vec4<f32>(
          dot(d[i][0], ones),
          dot(d[i][1], ones),
          dot(d[i][2], ones),
          dot(d[i][3], ones),
        );
        let s = select(vec4<f32>(NEG_BIG), scores, visible);
        let m_new = max(m[i], max4(s));
        alpha[i] = exp2(m[i] - m_new);
        p[i] = select(vec4<f32>(0.0), exp2(s - vec4<f32>(m_new)), visible);
        l[i] = l[i] * alpha[i] + dot(p[i], ones);
        m[i] = m_new;
      }
      for (var c = 0u; c < DV; c++) {
        let v0 = subgroupShuffle(v_reg[c], src.x);
        let v1 = subgroupShuffle(v_reg[c], src.y);
        let v2 = subgroupShuffle(v_reg[c], src.z);
        let v3 = subgroupShuffle(v_reg[c], src.w);
        for (var i = 0u; i < R; i++) {
          var a = fma(vec4<f32>(p[i].x), v0, acc[i][c] * alpha[i]);
          a = fma(vec4<f32>(p[i].y), v1, a);
          a = fma(vec4<f32>(p[i].z), v2, a);
          acc[i][c] = fma(vec4<f32>(p[i].w), v3, a);
        }
      }
    }
  }
#else
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
#endif

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
