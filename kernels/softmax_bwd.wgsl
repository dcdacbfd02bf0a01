// Row softmax backward over the last axis. With y = softmax(scale * x):
//   dx[r, c] = scale * y[r, c] * (dy[r, c] - sum_k dy[r, k] * y[r, k]).
// One workgroup per row; a workgroup tree reduction gives the row's dot product.

struct Params {
  rows: u32,
  cols: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// Invocations per row; a power of two.
override WG: u32 = 64u;

var<workgroup> partial: array<f32, WG>;

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
  var local_dot = 0.0;
  for (var c = lid; c < params.cols; c += WG) {
    local_dot += dy[base + c] * y[base + c];
  }
  partial[lid] = local_dot;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      partial[lid] = partial[lid] + partial[lid + stride];
    }
    workgroupBarrier();
  }
  let row_dot = partial[0];
  for (var c = lid; c < params.cols; c += WG) {
    dx[base + c] = params.scale * y[base + c] * (dy[base + c] - row_dot);
  }
}
