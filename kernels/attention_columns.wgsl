// Shared by the spelled-out subgroup kernels of attention_fwd.wgsl (SUBGROUPS) and
// attention_bwd.wgsl (STEP_8). The includer defines `column(op, c)`, one step of operation `op`
// on head-dimension column c; `all_columns(op)` calls it for every c < DV with constant arguments,
// so lavapipe keeps the per-invocation arrays that `column` indexes by c in registers.

fn columns8(op: u32, c0: u32) {
  column(op, c0);
  column(op, c0 + 1u);
  column(op, c0 + 2u);
  column(op, c0 + 3u);
  column(op, c0 + 4u);
  column(op, c0 + 5u);
  column(op, c0 + 6u);
  column(op, c0 + 7u);
}

// `column(op, c)` for c = 0 .. DV - 1, every c a constant after inlining.
fn all_columns(op: u32) {
  columns8(op, 0u);
#ifndef HEAD_DIM_32
  columns8(op, 8u);
#endif
#ifdef HEAD_DIM_96
  columns8(op, 16u);
#endif
#ifdef HEAD_DIM_128
  columns8(op, 16u);
  columns8(op, 24u);
#endif
}

// acc + a · b as one chain of fma.
fn dot_acc(a: vec4<f32>, b: vec4<f32>, acc: f32) -> f32 {
  return fma(a.w, b.w, fma(a.z, b.z, fma(a.y, b.y, fma(a.x, b.x, acc))));
}
