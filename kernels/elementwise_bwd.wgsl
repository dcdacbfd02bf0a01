// Elementwise backward ops, gridded like elementwise_fwd.wgsl (VEC4: one vec4 per invocation).
//   silu_bwd:   dx = dy · silu'(x),  silu'(x) = s·(1 + x·(1 − s)),  s = sigmoid(x)
//   swiglu_bwd: y = silu(gate)·up  ⇒  dgate = dy · up · silu'(gate),  dup = dy · silu(gate)

#ifdef VEC4
alias V = vec4<f32>;
#else
alias V = f32;
#endif

struct Params {
  count: u32,
}

// silu_bwd bindings.
@group(0) @binding(0) var<storage, read> x: array<V>;
@group(0) @binding(1) var<storage, read> dy: array<V>;
@group(0) @binding(2) var<storage, read_write> dx: array<V>;
@group(0) @binding(3) var<uniform> p3: Params;

// swiglu_bwd bindings.
@group(0) @binding(0) var<storage, read> gate: array<V>;
@group(0) @binding(1) var<storage, read> up: array<V>;
@group(0) @binding(2) var<storage, read> dy_out: array<V>;
@group(0) @binding(3) var<storage, read_write> dgate: array<V>;
@group(0) @binding(4) var<storage, read_write> dup: array<V>;
@group(0) @binding(5) var<uniform> p5: Params;

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

fn sigmoid(v: V) -> V {
  return 1.0 / (1.0 + exp(-v));
}

fn silu_grad(v: V) -> V {
  let s = sigmoid(v);
  return s * (1.0 + v * (1.0 - s));
}

@compute @workgroup_size(256)
fn silu_bwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i < p3.count) { dx[i] = dy[i] * silu_grad(x[i]); }
}

@compute @workgroup_size(256)
fn swiglu_bwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i < p5.count) {
    let g = gate[i];
    let d = dy_out[i];
    let s = sigmoid(g);
    dgate[i] = d * up[i] * s * (1.0 + g * (1.0 - s));
    dup[i] = d * g * s;
  }
}
