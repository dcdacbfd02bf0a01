// Embedding backward: dtable[v, :] (+)= Σ_{n : ids[n] = v} dout[n, :], without float atomics
// (WGSL has none) and in a fixed order (ascending n), so the result is deterministic.
// A stable counting sort of token positions by id, then TPR invocations per table row sum its
// tokens' gradient rows. Tokens are split into chunks of `chunk` positions:
//   HISTOGRAM    hist[c, v] = #tokens of chunk c with id v              (u32 atomics: exact)
//   COLUMN_SCAN  hist[c, v] ← Σ_{c' < c} hist[c', v]; offsets[v] = total count of v
//   SCAN         offsets ← exclusive prefix sum (one workgroup); offsets[V] = tokens placed
//   PLACE        perm[offsets[v] + hist[c, v] + #earlier tokens of v in chunk c] = n
//   ACCUMULATE   dtable[v, j] (+)= Σ_{k ∈ [offsets[v], offsets[v+1])} dout[perm[k], j]
// Ids ≥ vocab are skipped (the forward made their rows NaN).
// Cost: O(N·chunk) for the ranks, O(V·N/chunk) for the column scan, O(V·dim + N·dim) to sum.

#ifdef HISTOGRAM
struct Params {
  tokens: u32,
  vocab: u32,
  chunk: u32,
}

@group(0) @binding(0) var<storage, read> ids: array<u32>;                  // [N]
@group(0) @binding(1) var<storage, read_write> hist: array<atomic<u32>>;   // [chunks, V], zeroed
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let n = gid.x + gid.y * groups.x * 256u;
  if (n >= params.tokens) {
    return;
  }
  let id = ids[n];
  if (id < params.vocab) {
    atomicAdd(&hist[(n / params.chunk) * params.vocab + id], 1u);
  }
}
#endif

#ifdef COLUMN_SCAN
struct Params {
  vocab: u32,
  chunks: u32,
}

@group(0) @binding(0) var<storage, read_write> hist: array<u32>;      // [chunks, V]
@group(0) @binding(1) var<storage, read_write> offsets: array<u32>;   // [V + 1]
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let v = gid.x + gid.y * groups.x * 256u;
  if (v >= params.vocab) {
    return;
  }
  var running = 0u;
  for (var c = 0u; c < params.chunks; c++) {
    let i = c * params.vocab + v;
    let here = hist[i];
    hist[i] = running;
    running += here;
  }
  offsets[v] = running;
}
#endif

#ifdef SCAN
struct Params {
  vocab: u32,
}

@group(0) @binding(0) var<storage, read_write> offsets: array<u32>;   // [V + 1]
@group(0) @binding(1) var<uniform> params: Params;

const WG: u32 = 256u;
var<workgroup> sums: array<u32, WG>;

// Each invocation owns a contiguous segment; segment totals are scanned in workgroup memory.
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  let seg = (params.vocab + WG - 1u) / WG;
  let first = min(lid * seg, params.vocab);
  let last = min(first + seg, params.vocab);
  var total = 0u;
  for (var v = first; v < last; v++) {
    total += offsets[v];
  }
  sums[lid] = total;
  workgroupBarrier();
  // Hillis–Steele inclusive scan of the segment totals.
  for (var stride = 1u; stride < WG; stride <<= 1u) {
    var add = 0u;
    if (lid >= stride) {
      add = sums[lid - stride];
    }
    workgroupBarrier();
    sums[lid] += add;
    workgroupBarrier();
  }
  var running = sums[lid] - total;
  for (var v = first; v < last; v++) {
    let here = offsets[v];
    offsets[v] = running;
    running += here;
  }
  if (lid == WG - 1u) {
    offsets[params.vocab] = sums[WG - 1u];
  }
}
#endif

#ifdef PLACE
struct Params {
  tokens: u32,
  vocab: u32,
  chunk: u32,
}

@group(0) @binding(0) var<storage, read> ids: array<u32>;             // [N]
@group(0) @binding(1) var<storage, read> hist: array<u32>;            // [chunks, V], scanned
@group(0) @binding(2) var<storage, read> offsets: array<u32>;         // [V + 1]
@group(0) @binding(3) var<storage, read_write> perm: array<u32>;      // [N]
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let n = gid.x + gid.y * groups.x * 256u;
  if (n >= params.tokens) {
    return;
  }
  let id = ids[n];
  if (id >= params.vocab) {
    return;
  }
  let c = n / params.chunk;
  var rank = 0u;
  for (var k = c * params.chunk; k < n; k++) {
    rank += select(0u, 1u, ids[k] == id);
  }
  perm[offsets[id] + hist[c * params.vocab + id] + rank] = n;
}
#endif

#ifdef ACCUMULATE
struct Params {
  dim: u32,
  row_base: u32,
  rows: u32,
  accumulate: u32,
}

@group(0) @binding(0) var<storage, read> dout: array<f32>;             // [N, dim]
@group(0) @binding(1) var<storage, read> perm: array<u32>;             // [N]
@group(0) @binding(2) var<storage, read> offsets: array<u32>;          // [V + 1]
@group(0) @binding(3) var<storage, read_write> dtable: array<f32>;     // [rows, dim] (this block)
@group(0) @binding(4) var<uniform> params: Params;

const WG: u32 = 256u;
// Invocations per table row (a power of two ≤ WG): 256 / TPR rows per workgroup, no barriers.
override TPR: u32 = 64u;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let lane = lid % TPR;
  let row = (wid.x + wid.y * groups.x) * (WG / TPR) + lid / TPR;
  if (row >= params.rows) {
    return;
  }
  let v = params.row_base + row;
  let start = offsets[v];
  let end = offsets[v + 1u];
  for (var j = lane; j < params.dim; j += TPR) {
    var acc = 0.0;
    for (var k = start; k < end; k++) {
      acc += dout[perm[k] * params.dim + j];
    }
    let at = row * params.dim + j;
    if (params.accumulate == 1u) {
      acc += dtable[at];
    }
    dtable[at] = acc;
  }
}
#endif
