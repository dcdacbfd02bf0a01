// Elementwise forward ops, 1-D gridded (256 invocations per workgroup, the grid folded into y past
// 65535 workgroups). With VEC4 every invocation handles one vec4 (the element count, and the row
// length of a broadcast row, are multiples of 4); otherwise one f32. `count` and `row` are in
// units of V.
//   add:        out = a + b                        (residual connections)
//   add_row:    out[r, j] = a[r, j] + row[j]       (bias / broadcast row vector)
//   swiglu:     out = silu(gate) · up              (gated MLP, Qwen2)
//   scale:      y = alpha · x
//   add_scaled: y += alpha · x                     (in-place residual add, gradient accumulation)
//   silu:       y = x · sigmoid(x)

#ifdef VEC4
alias V = vec4<f32>;
#else
alias V = f32;
#endif

struct Params {
  count: u32,
  row: u32,
  alpha: f32,
}

// Binary ops: two inputs, one output.
@group(0) @binding(0) var<storage, read> in0: array<V>;
@group(0) @binding(1) var<storage, read> in1: array<V>;
@group(0) @binding(2) var<storage, read_write> out: array<V>;
@group(0) @binding(3) var<uniform> p3: Params;

// Unary ops: one input, one output (read-write for add_scaled).
@group(0) @binding(0) var<storage, read> x: array<V>;
@group(0) @binding(1) var<storage, read_write> y: array<V>;
@group(0) @binding(2) var<uniform> p2: Params;

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

fn silu(v: V) -> V {
  return v / (1.0 + exp(-v));
}

@compute @workgroup_size(256)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i < p3.count) { out[i] = in0[i] + in1[i]; }
}

@compute @workgroup_size(256)
fn add_row(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i < p3.count) { out[i] = in0[i] + in1[i % p3.row]; }
}

@compute @workgroup_size(256)
fn swiglu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i < p3.count) { out[i] = silu(in0[i]) * in1[i]; }
}

@compute @workgroup_size(256)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i < p2.count) { y[i] = p2.alpha * x[i]; }
}

@compute @workgroup_size(256)
fn add_scaled(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i < p2.count) { y[i] = y[i] + p2.alpha * x[i]; }
}

@compute @workgroup_size(256)
fn silu_fwd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i < p2.count) { y[i] = silu(x[i]); }
}
