// AdamW step for one parameter tensor (decoupled weight decay, bias-corrected moments), PyTorch's
// formulation:
//   g  = grad · grad_scale · clip          (clip = stats[2] from reduce.wgsl's clip_stats, CLIP)
//   p ← p · (1 − lr·wd)
//   m ← β1·m + (1 − β1)·g        v ← β2·v + (1 − β2)·g²
//   p ← p − (lr / bc1) · m / (√v / √bc2 + ε),   bc1 = 1 − β1ᵗ, bc2 = 1 − β2ᵗ
// The bias corrections are computed from the step count t on the host in float64 (1 − 0.999ᵗ in
// f32 loses ~4 digits at t = 1) and passed as inv_bc1 = 1/bc1 and inv_sqrt_bc2 = 1/√bc2; likewise
// 1 − β (as PyTorch does: the Python float is rounded once, not 1 − f32(β)).
// VEC4: one vec4 per invocation (element count a multiple of 4).

#ifdef VEC4
alias V = vec4<f32>;
#else
alias V = f32;
#endif

struct Params {
  count: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  one_minus_beta1: f32,
  one_minus_beta2: f32,
  eps: f32,
  weight_decay: f32,
  inv_bc1: f32,
  inv_sqrt_bc2: f32,
  grad_scale: f32,
}

@group(0) @binding(0) var<storage, read_write> param: array<V>;
@group(0) @binding(1) var<storage, read> grad: array<V>;
@group(0) @binding(2) var<storage, read_write> m: array<V>;
@group(0) @binding(3) var<storage, read_write> v: array<V>;
#ifdef CLIP
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;
#else
@group(0) @binding(4) var<uniform> p: Params;
#endif

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= p.count) { return; }
#ifdef CLIP
  let g = grad[i] * (p.grad_scale * stats[2]);
#else
  let g = grad[i] * p.grad_scale;
#endif
  let m_new = p.beta1 * m[i] + p.one_minus_beta1 * g;
  let v_new = p.beta2 * v[i] + p.one_minus_beta2 * g * g;
  m[i] = m_new;
  v[i] = v_new;
  let decayed = param[i] * (1.0 - p.lr * p.weight_decay);
  param[i] = decayed - (p.lr * p.inv_bc1) * m_new / (sqrt(v_new) * p.inv_sqrt_bc2 + p.eps);
}
