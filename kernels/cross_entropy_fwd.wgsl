// Softmax statistics of logit rows and the mean cross-entropy, two variants by define:
//
//   ROW_STATS  TPR invocations per row of logits [rows, V], with z = logits / temperature:
//                lse[n]     = log Σ_v exp(z[n, v])
//                logp[n]    = z[n, target[n]] − lse[n]        (0 where target = IGNORE)
//                entropy[n] = lse[n] − Σ_v p[n, v] · z[n, v]  (Shannon entropy of softmax(z))
//              Each invocation keeps an online (max, Σ e^(z−max), Σ e^(z−max)·z) over a strided
//              slice, merged by a tree reduction over the row's TPR slots: one pass over the row.
//              A target ≥ V that is not IGNORE gives NaN, so a bad id cannot pass silently.
//   MEAN_LOSS  one workgroup: summary = [mean over non-ignored rows of −logp, count of those rows]
//              (mean 0 when every row is ignored). Fixed reduction order: deterministic.
//
// `row_base` is the first row of this dispatch: large logits are bound in row blocks while
// targets and the per-row outputs stay bound whole.

const IGNORE: u32 = 0xffffffffu;  // ("target" is a reserved word in WGSL, hence "tgt")
const WG: u32 = 256u;
// Lowest finite f32: an empty slice's running max, so exp(max_a − max_b) never sees −inf − −inf.
const LOWEST: f32 = -3.4028234663852886e38;

#ifdef ROW_STATS
struct Params {
  rows: u32,
  vocab: u32,
  row_base: u32,
  temperature: f32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;          // [rows, V] (this block)
@group(0) @binding(1) var<storage, read> targets: array<u32>;         // [N]
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;       // [N]
@group(0) @binding(3) var<storage, read_write> logp: array<f32>;      // [N]
@group(0) @binding(4) var<storage, read_write> entropy: array<f32>;   // [N]
@group(0) @binding(5) var<uniform> params: Params;

// Invocations per row (a power of two ≤ WG); 256 / TPR rows per workgroup.
override TPR: u32 = 256u;

var<workgroup> wmax: array<f32, WG>;
var<workgroup> wsum: array<f32, WG>;
var<workgroup> wdot: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = lid % TPR;
  let row = (wid.x + wid.y * groups.x) * (WG / TPR) + lid / TPR;
  let valid = row < params.rows;
  let base = row * params.vocab;
  var m = LOWEST;
  var s = 0.0;  // Σ e^(z − m)
  var t = 0.0;  // Σ e^(z − m) · z
  if (valid) {
    for (var v = lane; v < params.vocab; v += TPR) {
      let z = logits[base + v] / params.temperature;
      if (z > m) {
        let a = exp(m - z);
        s = s * a + 1.0;
        t = t * a + z;
        m = z;
      } else {
        let e = exp(z - m);
        if (e > 0.0) {
          s += e;
          t = fma(e, z, t);
        }
      }
    }
  }
  wmax[lid] = m;
  wsum[lid] = s;
  wdot[lid] = t;
  workgroupBarrier();
  for (var stride = TPR / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      let m1 = wmax[lid];
      let m2 = wmax[lid + stride];
      let mm = max(m1, m2);
      let a = exp(m1 - mm);
      let b = exp(m2 - mm);
      wmax[lid] = mm;
      wsum[lid] = wsum[lid] * a + wsum[lid + stride] * b;
      wdot[lid] = wdot[lid] * a + wdot[lid + stride] * b;
    }
    workgroupBarrier();
  }
  if (valid && lane == 0u) {
    let n = params.row_base + row;
    let total = wsum[lid];
    let row_lse = wmax[lid] + log(total);
    lse[n] = row_lse;
    entropy[n] = row_lse - wdot[lid] / total;
    let tgt = targets[n];
    var lp = 0.0;
    if (tgt != IGNORE) {
      if (tgt < params.vocab) {
        lp = logits[base + tgt] / params.temperature - row_lse;
      } else {
        lp = bitcast<f32>(0x7fc00000u);
      }
    }
    logp[n] = lp;
  }
}
#endif

#ifdef MEAN_LOSS
struct Params {
  count: u32,
}

@group(0) @binding(0) var<storage, read> targets: array<u32>;        // [N]
@group(0) @binding(1) var<storage, read> logp: array<f32>;           // [N]
@group(0) @binding(2) var<storage, read_write> summary: array<f32>;  // [2]: mean loss, rows counted
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> wsum: array<f32, WG>;
var<workgroup> wcount: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  var c = 0u;
  for (var n = lid; n < params.count; n += WG) {
    if (targets[n] != IGNORE) {
      s -= logp[n];
      c += 1u;
    }
  }
  wsum[lid] = s;
  wcount[lid] = c;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      wsum[lid] += wsum[lid + stride];
      wcount[lid] += wcount[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let counted = f32(wcount[0]);
    summary[0] = select(0.0, wsum[0] / counted, wcount[0] > 0u);
    summary[1] = counted;
  }
}
#endif
