// Row softmax forward over the last axis: y[r, :] = softmax(scale * x[r, :]).
// Numerically stable (the row maximum is subtracted before exponentiating). One workgroup per
// row: invocations stride over the row, then a workgroup tree reduction gives the maximum and the
// sum of exponentials. Rows beyond 65535 work-groups fold into the y dimension of the grid.

struct Params {
  rows: u32,
  cols: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// Invocations per row; a power of two.
override WG: u32 = 64u;

var<workgroup> partial: array<f32, WG>;

fn reduce_max(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      partial[lid] = max(partial[lid], partial[lid + stride]);
    }
    workgroupBarrier();
  }
  let result = partial[0];
  workgroupBarrier();
  return result;
}

fn reduce_sum(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      partial[lid] = partial[lid] + partial[lid + stride];
    }
    workgroupBarrier();
  }
  let result = partial[0];
  workgroupBarrier();
  return result;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row = wid.x + wid.y * groups.x;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.cols;
  var local_max = -3.0e38;
  for (var c = lid; c < params.cols; c += WG) {
    local_max = max(local_max, params.scale * x[base + c]);
  }
  let row_max = reduce_max(lid, local_max);
  var local_sum = 0.0;
  for (var c = lid; c < params.cols; c += WG) {
    local_sum += exp(params.scale * x[base + c] - row_max);
  }
  let inv_sum = 1.0 / reduce_sum(lid, local_sum);
  for (var c = lid; c < params.cols; c += WG) {
    y[base + c] = exp(params.scale * x[base + c] - row_max) * inv_sum;
  }
}
