// Gradients of the softmax cross-entropy and of per-token log-probabilities with respect to the
// logits, one invocation per logit, with z = logits / temperature and p = softmax(z) rebuilt
// from the saved lse:
//
//   cross_entropy:  dlogits[n, v] = (p[n, v] − [v = target[n]]) · grad_scale / count / temperature
//                   coef = summary [2] from the forward (count = summary[1]); mean-reduced loss.
//   token_logp:     dlogits[n, v] = g[n] · ([v = target[n]] − p[n, v]) / temperature
//                   coef = g [N], the gradient of each row's log-probability.
//
// Ignored rows (target = IGNORE) get zero; a target ≥ V that is not IGNORE gives NaN.
// Grid: x over blocks of 256 vocabulary entries, y over the rows of this row block.

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

// (p − onehot) for one logit; NaN for a bad target, 0 for an ignored row.
fn softmax_minus_onehot(row: u32, v: u32) -> f32 {
  let n = params.row_base + row;
  let tgt = targets[n];
  if (tgt == IGNORE) {
    return 0.0;
  }
  if (tgt >= params.vocab) {
    return bitcast<f32>(0x7fc00000u);
  }
  let p = exp(logits[row * params.vocab + v] / params.temperature - lse[n]);
  return p - select(0.0, 1.0, v == tgt);
}

@compute @workgroup_size(256)
fn cross_entropy(@builtin(global_invocation_id) gid: vec3<u32>) {
  let v = gid.x;
  let row = gid.y;
  if (v >= params.vocab || row >= params.rows) {
    return;
  }
  let counted = coef[1];
  let scale = select(0.0, params.grad_scale / counted, counted > 0.0) / params.temperature;
  dlogits[row * params.vocab + v] = softmax_minus_onehot(row, v) * scale;
}

@compute @workgroup_size(256)
fn token_logp(@builtin(global_invocation_id) gid: vec3<u32>) {
  let v = gid.x;
  let row = gid.y;
  if (v >= params.vocab || row >= params.rows) {
    return;
  }
  let g = coef[params.row_base + row];
  dlogits[row * params.vocab + v] = -g * softmax_minus_onehot(row, v) / params.temperature;
}
