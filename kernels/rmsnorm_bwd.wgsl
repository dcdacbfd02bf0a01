// RMSNorm backward. With y = x·r·w and r = (mean(x²) + eps)^(-1/2):
//   dx[r, k] = r · (w[k]·dy[r, k] − x[r, k] · r² · mean_j(dy[r, j]·w[j]·x[r, j]))
//   dw[j]    = Σ_r dy[r, j] · x[r, j] · r
// Three variants of this file, chosen by define:
//   DX          TPR invocations per row, tree reduction of dy·w·x, then dx.
//   DW_PARTIAL  one invocation per (block of rows, column): sums its block's rows in order.
//   DW_REDUCE   one invocation per column: sums the blocks in order into dw.
// dw is summed without float atomics (WGSL has none) and in a fixed order, so it is deterministic.

struct Params {
  rows: u32,
  dim: u32,
  // DW_PARTIAL: rows per block. DW_REDUCE: number of blocks.
  block: u32,
  // DW_REDUCE: 1 adds into dw (gradient accumulation), 0 overwrites it.
  accumulate: u32,
}

#ifdef DX
@group(0) @binding(0) var<storage, read> x: array<f32>;         // [rows, dim]
@group(0) @binding(1) var<storage, read> w: array<f32>;         // [dim]
@group(0) @binding(2) var<storage, read> dy: array<f32>;        // [rows, dim]
@group(0) @binding(3) var<storage, read> rstd: array<f32>;      // [rows]
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;  // [rows, dim]
@group(0) @binding(5) var<uniform> params: Params;

const WG: u32 = 256u;
// Invocations per row (a power of two ≤ WG); 256 / TPR rows per workgroup, as in the forward.
override TPR: u32 = 256u;
var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = lid % TPR;
  let row = (wid.x + wid.y * groups.x) * (WG / TPR) + lid / TPR;
  let valid = row < params.rows;
  let base = row * params.dim;
  var dot = 0.0;
  if (valid) {
    for (var j = lane; j < params.dim; j += TPR) {
      dot = fma(dy[base + j] * w[j], x[base + j], dot);
    }
  }
  partial[lid] = dot;
  workgroupBarrier();
  for (var stride = TPR / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      partial[lid] += partial[lid + stride];
    }
    workgroupBarrier();
  }
  if (!valid) {
    return;
  }
  let r = rstd[row];
  let c = r * r * partial[lid - lane] / f32(params.dim);
  for (var j = lane; j < params.dim; j += TPR) {
    dx[base + j] = r * (w[j] * dy[base + j] - x[base + j] * c);
  }
}
#endif

#ifdef DW_PARTIAL
@group(0) @binding(0) var<storage, read> x: array<f32>;             // [rows, dim]
@group(0) @binding(1) var<storage, read> dy: array<f32>;            // [rows, dim]
@group(0) @binding(2) var<storage, read> rstd: array<f32>;          // [rows]
@group(0) @binding(3) var<storage, read_write> blocks: array<f32>;  // [ceil(rows / block), dim]
@group(0) @binding(4) var<uniform> params: Params;

// Adjacent invocations take adjacent columns, so each row read is contiguous.
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  let blk = gid.y;
  if (col >= params.dim) {
    return;
  }
  let first = blk * params.block;
  let last = min(first + params.block, params.rows);
  var acc = 0.0;
  for (var r = first; r < last; r++) {
    let i = r * params.dim + col;
    acc = fma(dy[i] * x[i], rstd[r], acc);
  }
  blocks[blk * params.dim + col] = acc;
}
#endif

#ifdef DW_REDUCE
@group(0) @binding(0) var<storage, read> blocks: array<f32>;    // [block, dim]
@group(0) @binding(1) var<storage, read_write> dw: array<f32>;  // [dim]
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  if (col >= params.dim) {
    return;
  }
  var acc = 0.0;
  for (var b = 0u; b < params.block; b++) {
    acc += blocks[b * params.dim + col];
  }
  if (params.accumulate == 1u) {
    acc += dw[col];
  }
  dw[col] = acc;
}
#endif
