// Gradients of the softmax cross-entropy and of per-token log-probabilities with respect to the
// logits, with z = logits / temperature and p = softmax(z) rebuilt from the saved lse:
//
//   cross_entropy:  dlogits[n, v] = (p[n, v] − [v = target[n]]) · grad_scale / count / temperature
//                   coef = summary [2] from the forward (count = summary[1]); mean-reduced loss.
//   token_logp:     dlogits[n, v] = g[n] · ([v = target[n]] − p[n, v]) / temperature
//                   coef = g [N], the gradient of each row's log-probability.
//
// Ignored rows (target = IGNORE) get zero; a target ≥ V that is not IGNORE gives NaN.

const IGNORE: u32 = 0xffffffffu;

struct Params {
  rows: u32,
  vocab: u32,
  row_base: u32,
  temperature: f32,
  grad_scale: f32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;          // [rows, V] (this block)
@group(0) @binding(1) var<storage, read> targets: array<u32>;         // [N]
@group(0) @binding(2) var<storage, read> lse: array<f32>;             // [N]
@group(0) @binding(3) var<storage, read> coef: array<f32>;            // [2] or [N], see above
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;   // [rows, V] (this block)
@group(0) @binding(5) var<uniform> params: Params;

// Invocations per row (a power of two ≤ 256): 256 / TPR rows per workgroup; each invocation
// reads its row's target, lse and coefficient once and strides over the row.
override TPR: u32 = 256u;

// Writes coef_row · (p − onehot) / temperature over this invocation's slice of one row; NaN for a
// bad target, 0 for an ignored row.
fn write_row(row: u32, lane: u32, coef_row: f32) {
  let n = params.row_base + row;
  let tgt = targets[n];
  let base = row * params.vocab;
  if (tgt == IGNORE) {
    for (var v = lane; v < params.vocab; v += TPR) {
      dlogits[base + v] = 0.0;
    }
    return;
  }
  let bad = tgt >= params.vocab;
  let row_lse = lse[n];
  let scale = coef_row / params.temperature;
  for (var v = lane; v < params.vocab; v += TPR) {
    let p = exp(logits[base + v] / params.temperature - row_lse);
    var g = (p - select(0.0, 1.0, v == tgt)) * scale;
    if (bad) {
      g = bitcast<f32>(0x7fc00000u);
    }
    dlogits[base + v] = g;
  }
}

fn row_and_lane(wid: vec3<u32>, groups: vec3<u32>, lid: u32) -> vec2<u32> {
  return vec2<u32>((wid.x + wid.y * groups.x) * (256u / TPR) + lid / TPR, lid % TPR);
}

@compute @workgroup_size(256)
fn cross_entropy(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let at = row_and_lane(wid, groups, lid);
  if (at.x >= params.rows) {
    return;
  }
  let counted = coef[1];
  write_row(at.x, at.y, select(0.0, params.grad_scale / counted, counted > 0.0));
}

@compute @workgroup_size(256)
fn token_logp(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let at = row_and_lane(wid, groups, lid);
  if (at.x >= params.rows) {
    return;
  }
  // d logp / d logits = onehot − p: the negative of the cross-entropy direction.
  write_row(at.x, at.y, -coef[params.row_base + at.x]);
}
