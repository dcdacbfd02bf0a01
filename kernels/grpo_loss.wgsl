// The GRPO actor loss per token, its gradient with respect to the policy log-prob, and the batch
// statistics, in two variants by define (the float64 reference is src/rl/grpo_loss.ts):
//
//   TOKENS  one invocation per 16 tokens n of [N]; for masked-in tokens (mask[n] ≠ 0):
//             ρ      = exp(clamp(logp − oldLogp, −20, 20))
//             L_pg   = A < 0 ? min(L_clip, −A·c) : L_clip,  L_clip = max(−A·ρ, −A·clamp(ρ, lo, hi))
//             k      = the KL estimator of (logp, refLogp)             (when use_kl)
//             L      = L_pg + kl_coef · k
//             token_loss[n] = L,  dlogp[n] = w[n] · dL/dlogp   (0 where a clamp holds L fixed)
//           Masked-out tokens get token_loss = dlogp = 0. Each workgroup reduces its tokens'
//           statistics into one row of partials [groups, NSTAT].
//   FINISH  one workgroup: stats[k] = Σ over the partial rows (min / max for the ratio extremes),
//           written, or combined with what stats holds when `accumulate` is set (micro-batches).
//
// Both reductions use a fixed work assignment and tree order, so results are bit-for-bit
// deterministic (no float atomics).
//
// Statistic slots (src/gpu/ops/grpo_loss.ts GRPO_STATS mirrors them):
//   0 Σ w·L   1 Σ w·L_pg   2 Σ w·k   3 tokens   4 clipped high   5 clipped low   6 dual-clipped
//   7 Σ ρ   8 min ρ   9 max ρ   10 Σ k   11 Σ entropy        (counts and sums over masked-in tokens)

const WG: u32 = 256u;
const NSTAT: u32 = 12u;
const RATIO_MIN: u32 = 8u;
const RATIO_MAX: u32 = 9u;
// Identity of min / max for a workgroup without tokens (finite, so min(a, b) never sees inf − inf).
const HUGE: f32 = 3.4028234663852886e38;

// Merges two partial values of statistic slot j: sums, except the ratio extremes.
fn combine(j: u32, a: f32, b: f32) -> f32 {
  return select(select(a + b, min(a, b), j == RATIO_MIN), max(a, b), j == RATIO_MAX);
}

#ifdef TOKENS
const LOG_RATIO_CLAMP: f32 = 20.0;
const K3_INPUT_CLAMP: f32 = 20.0;
const K3_OUTPUT_CLAMP: f32 = 10.0;
// Below this |x| the exp(x) − x − 1 of k3 and its derivative use a Taylor polynomial: in f32 the
// subtraction cancels catastrophically near 0 (20% error at |x| = 1e-3), where the KL usually is.
const SERIES_BELOW: f32 = 0.25;
// Tokens per invocation: the statistics' workgroup reduction is paid once per WG·16 tokens
// (grpoLossPartialRows in src/gpu/ops/grpo_loss.ts mirrors it).
const PER_INVOCATION: u32 = 16u;

const EST_KL: u32 = 0u;
const EST_ABS: u32 = 1u;
const EST_MSE: u32 = 2u;

struct Params {
  count: u32,
  groups: u32,
  kl_estimator: u32,  // EST_* or 3 for low_var_kl (k3)
  use_kl: u32,        // 0: ref_logp is a placeholder binding, k = 0
  use_entropy: u32,   // 0: entropy is a placeholder binding, slot 11 stays 0
  ratio_low: f32,     // 1 − ε_low
  ratio_high: f32,    // 1 + ε_high
  dual_clip: f32,     // c
  kl_coef: f32,
}

@group(0) @binding(0) var<storage, read> logp: array<f32>;            // [N] log π_θ
@group(0) @binding(1) var<storage, read> old_logp: array<f32>;        // [N] log π_old
@group(0) @binding(2) var<storage, read> ref_logp: array<f32>;        // [N] log π_ref
@group(0) @binding(3) var<storage, read> advantage: array<f32>;       // [N]
@group(0) @binding(4) var<storage, read> mask: array<f32>;            // [N] 1 learned, 0 not
@group(0) @binding(5) var<storage, read> weight: array<f32>;          // [N] aggregation weights
@group(0) @binding(6) var<storage, read> entropy: array<f32>;         // [N] for logging only
@group(0) @binding(7) var<storage, read_write> dlogp: array<f32>;     // [N]
@group(0) @binding(8) var<storage, read_write> token_loss: array<f32>;  // [N]
@group(0) @binding(9) var<storage, read_write> partials: array<f32>;  // [groups, NSTAT]
@group(0) @binding(10) var<uniform> params: Params;

var<workgroup> part: array<array<f32, NSTAT>, WG>;

struct Surrogate {
  ratio: f32,
  loss: f32,
  grad: f32,     // dL_pg / dlogp
  branch: u32,   // 0 none, 1 high, 2 low, 3 dual (counted in slots 4, 5, 6)
}

// The dual-clip PPO surrogate of src/rl/policy_loss.ts.
fn surrogate(lp: f32, old: f32, a: f32) -> Surrogate {
  let log_ratio = lp - old;
  let clamped = clamp(log_ratio, -LOG_RATIO_CLAMP, LOG_RATIO_CLAMP);
  let ratio = exp(clamped);
  // dρ/dlogp = ρ, except where the safety clamp holds log ρ fixed.
  let d_ratio = select(0.0, ratio, clamped == log_ratio);
  if (a == 0.0) {
    return Surrogate(ratio, 0.0, 0.0, 0u);
  }
  if (a > 0.0 && ratio > params.ratio_high) {
    return Surrogate(ratio, -a * params.ratio_high, 0.0, 1u);
  }
  if (a < 0.0 && ratio < params.ratio_low) {
    return Surrogate(ratio, -a * params.ratio_low, 0.0, 2u);
  }
  if (a < 0.0 && ratio > params.dual_clip) {
    return Surrogate(ratio, -a * params.dual_clip, 0.0, 3u);
  }
  return Surrogate(ratio, -a * ratio, -a * d_ratio, 0u);
}

// (e^x − 1 − x, e^x − 1) without cancellation near 0.
fn exp_minus_linear(x: f32) -> vec2<f32> {
  if (abs(x) < SERIES_BELOW) {
    // e^x − 1 − x = x² Σ_{j≥0} x^j / (j + 2)!, truncated after x^8 (error < 1e-10 relative).
    let tail = 1.0 / 2.0 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x * (1.0 / 720.0 +
      x * (1.0 / 5040.0 + x * (1.0 / 40320.0 + x * (1.0 / 362880.0)))))));
    let k = x * x * tail;
    return vec2<f32>(k, k + x);
  }
  let em1 = exp(x) - 1.0;
  return vec2<f32>(em1 - x, em1);
}

// (k, dk/dlogp) of the estimator in params, as src/rl/kl.ts.
fn kl_term(lp: f32, ref_lp: f32) -> vec2<f32> {
  let d = lp - ref_lp;
  switch (params.kl_estimator) {
    case EST_KL: {
      return vec2<f32>(d, 1.0);
    }
    case EST_ABS: {
      return vec2<f32>(abs(d), sign(d));
    }
    case EST_MSE: {
      return vec2<f32>(0.5 * d * d, d);
    }
    default: {
      // low_var_kl (k3) with x = log π_ref − log π_θ: dk3/dlogp = −(e^x − 1) unless a clamp bites.
      let x = -d;
      let xc = clamp(x, -K3_INPUT_CLAMP, K3_INPUT_CLAMP);
      let e = exp_minus_linear(xc);
      let value = clamp(e.x, -K3_OUTPUT_CLAMP, K3_OUTPUT_CLAMP);
      let free = xc == x && value == e.x;
      return vec2<f32>(value, select(0.0, -e.y, free));
    }
  }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let group = wid.x + wid.y * groups.x;
  // Folded grids have spare workgroups past the last; the whole workgroup leaves together.
  if (group >= params.groups) {
    return;
  }
  var s: array<f32, NSTAT>;
  s[RATIO_MIN] = HUGE;
  s[RATIO_MAX] = -HUGE;
  // Invocation lid takes tokens first + lid + j·WG (coalesced loads), in a fixed order.
  let first = group * WG * PER_INVOCATION;
  for (var j = 0u; j < PER_INVOCATION; j++) {
    let n = first + j * WG + lid;
    if (n >= params.count) {
      continue;
    }
    var loss = 0.0;
    var grad = 0.0;
    if (mask[n] != 0.0) {
      let lp = logp[n];
      let w = weight[n];
      let pg = surrogate(lp, old_logp[n], advantage[n]);
      var k = vec2<f32>(0.0, 0.0);
      if (params.use_kl != 0u) {
        k = kl_term(lp, ref_logp[n]);
      }
      loss = pg.loss + params.kl_coef * k.x;
      grad = w * (pg.grad + params.kl_coef * k.y);
      s[0] += w * loss;
      s[1] += w * pg.loss;
      s[2] += w * k.x;
      s[3] += 1.0;
      // Constant indices only: a dynamic one would put s in addressable memory.
      s[4] += select(0.0, 1.0, pg.branch == 1u);
      s[5] += select(0.0, 1.0, pg.branch == 2u);
      s[6] += select(0.0, 1.0, pg.branch == 3u);
      s[7] += pg.ratio;
      s[RATIO_MIN] = min(s[RATIO_MIN], pg.ratio);
      s[RATIO_MAX] = max(s[RATIO_MAX], pg.ratio);
      s[10] += k.x;
      if (params.use_entropy != 0u) {
        s[11] += entropy[n];
      }
    }
    token_loss[n] = loss;
    dlogp[n] = grad;
  }
  part[lid] = s;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      for (var j = 0u; j < NSTAT; j++) {
        part[lid][j] = combine(j, part[lid][j], part[lid + stride][j]);
      }
    }
    workgroupBarrier();
  }
  if (lid < NSTAT) {
    partials[group * NSTAT + lid] = part[0][lid];
  }
}
#endif

#ifdef FINISH
struct Params {
  groups: u32,
  accumulate: u32,  // 1: combine with the current stats (next micro-batch), 0: overwrite
}

@group(0) @binding(0) var<storage, read> partials: array<f32>;       // [groups, NSTAT]
@group(0) @binding(1) var<storage, read_write> stats: array<f32>;    // [NSTAT]
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> part: array<array<f32, NSTAT>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var s: array<f32, NSTAT>;
  s[RATIO_MIN] = HUGE;
  s[RATIO_MAX] = -HUGE;
  for (var g = lid; g < params.groups; g += WG) {
    for (var j = 0u; j < NSTAT; j++) {
      s[j] = combine(j, s[j], partials[g * NSTAT + j]);
    }
  }
  part[lid] = s;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      for (var j = 0u; j < NSTAT; j++) {
        part[lid][j] = combine(j, part[lid][j], part[lid + stride][j]);
      }
    }
    workgroupBarrier();
  }
  if (lid < NSTAT) {
    let total = part[0][lid];
    stats[lid] = select(total, combine(lid, stats[lid], total), params.accumulate != 0u);
  }
}
#endif
