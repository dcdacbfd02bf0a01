// Token sampling from logit rows. TPR invocations per row (a power of two ≤ 256; 256 / TPR rows
// per workgroup); reductions run within each row's TPR slots of workgroup memory. Two entry points:
//
//   sample_tokens  temperature + top-p (nucleus) sampling with a counter-based RNG:
//     1. m = max logit, sums of exp for the raw logits and for z = logits / temperature.
//     2. Nucleus without sorting: the kept set is {v : z_v ≥ θ} with θ the largest logit value
//        whose upper set still holds top_p of the mass. θ is found by an 8-ary search over the
//        order-preserving u32 keys of f32 values (11 passes, each measuring the mass above 7
//        candidate keys), so θ is exactly one of the row's values. Ties at θ are all kept.
//        top_p ≥ 1 skips the search.
//     3. u ∈ [0, 1) from Philox-4x32-10 with key (seed_lo, seed_hi) and counter
//        (row_offset + row, step, 0, 0): the same seed and counters give the same u on every
//        device. The kept mass is split into TPR contiguous segments; a serial scan of the segment
//        sums finds the segment holding u · total and its invocation walks it. Deterministic for a
//        given device.
//     Outputs: token, its log-prob under the sampling distribution (temperature + renormalised
//     nucleus) and under the unmodified logits (log_softmax at temperature 1).
//   argmax  greedy decoding: the first index of the maximum; logp (sampling) = 0, logp_raw as above.
//
// `row_base` is the first row of this dispatch (logits bound in row blocks).

struct Params {
  rows: u32,
  vocab: u32,
  row_base: u32,
  temperature: f32,
  top_p: f32,
  seed_lo: u32,
  seed_hi: u32,
  step: u32,
  // Added to the row index in the RNG counter.
  row_offset: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;           // [rows, V] (this block)
@group(0) @binding(1) var<storage, read_write> tokens: array<u32>;     // [N]
@group(0) @binding(2) var<storage, read_write> logp: array<f32>;       // [N]
@group(0) @binding(3) var<storage, read_write> logp_raw: array<f32>;   // [N]
@group(0) @binding(4) var<uniform> params: Params;

const WG: u32 = 256u;
const LOWEST: f32 = -3.4028234663852886e38;
const NONE: u32 = 0xffffffffu;
// Invocations per row: a power of two ≤ WG.
override TPR: u32 = 256u;

var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_u: array<u32, WG>;
var<workgroup> red_v: array<vec4<f32>, WG>;
// Per row slot (lid / TPR): the segment to walk, the offset into it, the kept mass, the token.
var<workgroup> chosen_lane: array<u32, WG>;
var<workgroup> chosen_offset: array<f32, WG>;
var<workgroup> kept_mass: array<f32, WG>;
var<workgroup> chosen_token: array<u32, WG>;

// Reductions over the TPR invocations of a row (lid − lane is the row's first slot).
fn row_max(lid: u32, lane: u32, value: f32) -> f32 {
  red_f[lid] = value;
  workgroupBarrier();
  for (var stride = TPR / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      red_f[lid] = max(red_f[lid], red_f[lid + stride]);
    }
    workgroupBarrier();
  }
  let result = red_f[lid - lane];
  workgroupBarrier();
  return result;
}

fn row_sum(lid: u32, lane: u32, value: f32) -> f32 {
  red_f[lid] = value;
  workgroupBarrier();
  for (var stride = TPR / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      red_f[lid] += red_f[lid + stride];
    }
    workgroupBarrier();
  }
  let result = red_f[lid - lane];
  workgroupBarrier();
  return result;
}

fn row_sum4(lid: u32, lane: u32, value: vec4<f32>) -> vec4<f32> {
  red_v[lid] = value;
  workgroupBarrier();
  for (var stride = TPR / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      red_v[lid] += red_v[lid + stride];
    }
    workgroupBarrier();
  }
  let result = red_v[lid - lane];
  workgroupBarrier();
  return result;
}

// Order-preserving map of f32 to u32: a < b ⇔ key(a) < key(b) (for non-NaN values).
fn key_of(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  return select(bits | 0x80000000u, ~bits, (bits & 0x80000000u) != 0u);
}

// (hi, lo) 32-bit halves of the 64-bit product a·b.
fn mul_hi_lo(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  let hi = a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
  return vec2<u32>(hi, a * b);
}

// Philox-4x32-10 (Salmon et al., SC'11), the Random123 reference constants.
fn philox4x32(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    let p0 = mul_hi_lo(0xD2511F53u, c.x);
    let p1 = mul_hi_lo(0xCD9E8D57u, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    k = k + vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}

// This invocation's row in the dispatch (may be ≥ rows in the last workgroup).
fn row_of(wid: vec3<u32>, groups: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * groups.x) * (WG / TPR) + lid / TPR;
}

@compute @workgroup_size(WG)
fn sample_tokens(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = lid % TPR;
  let slot = lid / TPR;
  let row = row_of(wid, groups, lid);
  let valid = row < params.rows;
  // Invocations of rows past the end take part in the barriers with empty loops.
  let vocab = select(0u, params.vocab, valid);
  let base = row * params.vocab;
  let temperature = params.temperature;

  var m = LOWEST;
  for (var v = lane; v < vocab; v += TPR) {
    m = max(m, logits[base + v]);
  }
  let m_raw = row_max(lid, lane, m);
  // Division by a positive number is monotone, so this is the maximum of z exactly.
  let m_z = m_raw / temperature;
  var s_raw = 0.0;
  var s_z = 0.0;
  for (var v = lane; v < vocab; v += TPR) {
    let l = logits[base + v];
    s_raw += exp(l - m_raw);
    s_z += exp(l / temperature - m_z);
  }
  let sum_raw = row_sum(lid, lane, s_raw);
  let sum_z = row_sum(lid, lane, s_z);

  // Nucleus threshold: the largest key whose upper set holds ≥ top_p of the mass. An 8-ary
  // search: each pass measures the mass above 7 evenly spaced candidate keys at once and keeps
  // the eighth of [lo, hi] that holds the answer, so 11 passes cover the 2³² keys.
  var lo = 0u;
  if (params.top_p < 1.0) {
    let wanted = params.top_p * sum_z;
    var hi = key_of(m_z);
    for (var it = 0u; it < 11u; it++) {
      let span = hi - lo;
      let q = span / 8u;
      let r = span % 8u;
      let j_lo = vec4<u32>(1u, 2u, 3u, 4u);
      let j_hi = vec4<u32>(5u, 6u, 7u, 7u);
      let c_lo = vec4<u32>(lo) + j_lo * q + min(j_lo, vec4<u32>(r));
      let c_hi = vec4<u32>(lo) + j_hi * q + min(j_hi, vec4<u32>(r));
      var a = vec4<f32>(0.0);
      var b = vec4<f32>(0.0);
      for (var v = lane; v < vocab; v += TPR) {
        let z = logits[base + v] / temperature;
        let k = key_of(z);
        if (k >= c_lo.x) {
          let e = vec4<f32>(exp(z - m_z));
          a += select(vec4<f32>(0.0), e, vec4<u32>(k) >= c_lo);
          b += select(vec4<f32>(0.0), e, vec4<u32>(k) >= c_hi);
        }
      }
      let mass_lo = row_sum4(lid, lane, a);
      let mass_hi = row_sum4(lid, lane, b);
      if (span > 0u) {
        // Masses fall as the candidate rises: take the last candidate still holding `wanted`.
        var new_lo = lo;
        var new_hi = c_lo.x - 1u;
        if (mass_lo.x >= wanted) { new_lo = c_lo.x; new_hi = c_lo.y - 1u; }
        if (mass_lo.y >= wanted) { new_lo = c_lo.y; new_hi = c_lo.z - 1u; }
        if (mass_lo.z >= wanted) { new_lo = c_lo.z; new_hi = c_lo.w - 1u; }
        if (mass_lo.w >= wanted) { new_lo = c_lo.w; new_hi = c_hi.x - 1u; }
        if (mass_hi.x >= wanted) { new_lo = c_hi.x; new_hi = c_hi.y - 1u; }
        if (mass_hi.y >= wanted) { new_lo = c_hi.y; new_hi = c_hi.z - 1u; }
        if (mass_hi.z >= wanted) { new_lo = c_hi.z; new_hi = hi; }
        lo = new_lo;
        hi = new_hi;
      }
    }
  }
  let threshold = lo;

  // Kept mass per contiguous segment of the row.
  let seg = (params.vocab + TPR - 1u) / TPR;
  let seg_start = min(lane * seg, vocab);
  let seg_end = min(seg_start + seg, vocab);
  var part = 0.0;
  for (var v = seg_start; v < seg_end; v++) {
    let z = logits[base + v] / temperature;
    if (key_of(z) >= threshold) {
      part += exp(z - m_z);
    }
  }
  red_f[lid] = part;
  workgroupBarrier();
  if (valid && lane == 0u) {
    var total = 0.0;
    for (var j = 0u; j < TPR; j++) {
      total += red_f[lid + j];
    }
    let n = params.row_base + row;
    let key = vec2<u32>(params.seed_lo, params.seed_hi);
    let bits = philox4x32(vec4<u32>(params.row_offset + n, params.step, 0u, 0u), key);
    let goal = f32(bits.x >> 8u) * (1.0 / 16777216.0) * total;
    // Rounding can leave goal ≥ the running sum at the end: the last non-empty segment is used.
    var prefix = 0.0;
    var segment = 0u;
    var offset = 0.0;
    var found = false;
    for (var j = 0u; j < TPR; j++) {
      let here = red_f[lid + j];
      if (!found && here > 0.0) {
        segment = j;
        offset = goal - prefix;
        found = prefix + here > goal;
      }
      prefix += here;
    }
    chosen_lane[slot] = segment;
    chosen_offset[slot] = offset;
    kept_mass[slot] = total;
  }
  workgroupBarrier();
  if (valid && lane == chosen_lane[slot]) {
    var cum = 0.0;
    var pick = seg_start;
    for (var v = seg_start; v < seg_end; v++) {
      let z = logits[base + v] / temperature;
      let e = exp(z - m_z);
      // Zero-probability tokens (−inf logits: masked vocabulary) are never picked, not even by
      // the rounding fallback.
      if (key_of(z) >= threshold && e > 0.0) {
        pick = v;
        if (cum + e > chosen_offset[slot]) {
          break;
        }
        cum += e;
      }
    }
    chosen_token[slot] = pick;
  }
  workgroupBarrier();
  if (valid && lane == 0u) {
    let n = params.row_base + row;
    let tok = chosen_token[slot];
    let l = logits[base + tok];
    tokens[n] = tok;
    logp[n] = (l / temperature - m_z) - log(kept_mass[slot]);
    logp_raw[n] = (l - m_raw) - log(sum_raw);
  }
}

@compute @workgroup_size(WG)
fn argmax(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = lid % TPR;
  let row = row_of(wid, groups, lid);
  let valid = row < params.rows;
  let vocab = select(0u, params.vocab, valid);
  let base = row * params.vocab;
  var best = LOWEST;
  var best_index = NONE;
  for (var v = lane; v < vocab; v += TPR) {
    let l = logits[base + v];
    if (l > best || best_index == NONE) {
      best = l;
      best_index = v;
    }
  }
  red_f[lid] = best;
  red_u[lid] = best_index;
  workgroupBarrier();
  for (var stride = TPR / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      let other = red_f[lid + stride];
      let other_index = red_u[lid + stride];
      // The lower index wins ties; empty slots (index NONE) never win.
      let better = other > red_f[lid] || (other == red_f[lid] && other_index < red_u[lid]);
      if (other_index != NONE && (better || red_u[lid] == NONE)) {
        red_f[lid] = other;
        red_u[lid] = other_index;
      }
    }
    workgroupBarrier();
  }
  let m_raw = red_f[lid - lane];
  let tok = red_u[lid - lane];
  workgroupBarrier();
  var s = 0.0;
  for (var v = lane; v < vocab; v += TPR) {
    s += exp(logits[base + v] - m_raw);
  }
  let sum_raw = row_sum(lid, lane, s);
  if (valid && lane == 0u) {
    let n = params.row_base + row;
    tokens[n] = tok;
    logp[n] = 0.0;
    logp_raw[n] = -log(sum_raw);
  }
}
