// SwiGLU backward: with s = σ(g), silu(g) = g·s and silu'(g) = s·(1 + g·(1 − s)),
// dgate = dout ⊙ up ⊙ silu'(gate), dup = dout ⊙ silu(gate).

struct Params {
  count: u32,
}

@group(0) @binding(0) var<storage, read> gate: array<f32>;
@group(0) @binding(1) var<storage, read> up: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> dgate: array<f32>;
@group(0) @binding(4) var<storage, read_write> dup: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i < params.count) {
    let g = gate[i];
    let s = 1.0 / (1.0 + exp(-g));
    let d = dout[i];
    dgate[i] = d * up[i] * s * (1.0 + g * (1.0 - s));
    dup[i] = d * g * s;
  }
}
