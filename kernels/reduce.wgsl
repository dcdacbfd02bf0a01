// Reductions (deterministic: fixed work assignment, tree sums in workgroup memory, no atomics).
//   sum_rows:       dst[r] = Σ_j src[r·n + j]                  one workgroup per row
//   partial_sum:    dst[offset + w] = Σ of workgroup w's share of src[0..n)
//   partial_sumsq:  the same with src[i]²
//   combine_sum:    dst[0] = Σ src[0..n)                        one workgroup
//   clip_stats:     s = scale² · Σ src[0..n) (partial sums of squares of the unscaled gradients),
//                   norm = √s, dst[0..3) = (s, norm, min(1, max_norm / (norm + 1e-6)))   one workgroup
// Workgroup w of a partial pass reduces its own contiguous share of src (see `share`).

const WG: u32 = 256u;

struct Params {
  n: u32,
  offset: u32,
  groups: u32,
  rows: u32,
  max_norm: f32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> partial: array<f32, WG>;

// Sums `value` over the workgroup; every invocation gets the total.
fn workgroup_sum(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var width = WG / 2u; width > 0u; width /= 2u) {
    if (lid < width) {
      partial[lid] += partial[lid + width];
    }
    workgroupBarrier();
  }
  return partial[0];
}

@compute @workgroup_size(WG)
fn sum_rows(
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let row = wid.x + wid.y * groups.x;
  if (row >= p.rows) { return; }
  var acc = 0.0;
  for (var j = lid.x; j < p.n; j += WG) {
    acc += src[row * p.n + j];
  }
  let total = workgroup_sum(lid.x, acc);
  if (lid.x == 0u) { dst[row] = total; }
}

// The contiguous range of src that workgroup w of a partial pass reduces: ⌈n / groups⌉ rounded
// up to whole rows of WG elements. Contiguous ranges keep a CPU adapter's caches warm (one thread
// runs the workgroup's invocations one SIMD batch after another); on GPUs they stay coalesced.
fn share(w: u32) -> vec2<u32> {
  let per = ((p.n + p.groups - 1u) / p.groups + WG - 1u) / WG * WG;
  return vec2<u32>(w * per, min((w + 1u) * per, p.n));
}

@compute @workgroup_size(WG)
fn partial_sum(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let range = share(wid.x);
  var acc = 0.0;
  for (var i = range.x + lid.x; i < range.y; i += WG) {
    acc += src[i];
  }
  let total = workgroup_sum(lid.x, acc);
  if (lid.x == 0u) { dst[p.offset + wid.x] = total; }
}

@compute @workgroup_size(WG)
fn partial_sumsq(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let range = share(wid.x);
  var acc = 0.0;
  for (var i = range.x + lid.x; i < range.y; i += WG) {
    let v = src[i];
    acc = fma(v, v, acc);
  }
  let total = workgroup_sum(lid.x, acc);
  if (lid.x == 0u) { dst[p.offset + wid.x] = total; }
}

fn sum_all(lid: u32) -> f32 {
  var acc = 0.0;
  for (var i = lid; i < p.n; i += WG) {
    acc += src[i];
  }
  return workgroup_sum(lid, acc);
}

@compute @workgroup_size(WG)
fn combine_sum(@builtin(local_invocation_id) lid: vec3<u32>) {
  let total = sum_all(lid.x);
  if (lid.x == 0u) { dst[0] = total; }
}

@compute @workgroup_size(WG)
fn clip_stats(@builtin(local_invocation_id) lid: vec3<u32>) {
  let sumsq = p.scale * p.scale * sum_all(lid.x);
  if (lid.x == 0u) {
    let norm = sqrt(sumsq);
    dst[0] = sumsq;
    dst[1] = norm;
    dst[2] = min(1.0, p.max_norm / (norm + 1e-6));
  }
}
