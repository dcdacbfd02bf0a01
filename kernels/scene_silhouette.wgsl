// Silhouette pass: every object drawn alone-equivalent (no depth test, back faces culled, so a
// convex mesh covers each of its pixels once) and counted per object with an atomic. With the
// visible-pixel count from the id pass this gives each object's visible fraction.

struct Instance {
  mvp: mat4x4<f32>,
  model: mat4x4<f32>,
  normal_matrix: mat3x3<f32>,
  colour: vec4<f32>,
  tags: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> instances: array<Instance>;
@group(0) @binding(1) var<storage, read_write> counts: array<atomic<u32>>;

struct VertexOut {
  @builtin(position) clip: vec4<f32>,
  @location(0) @interpolate(flat) instance: u32,
}

@vertex
fn vs_main(
  @location(0) position: vec3<f32>,
  @builtin(instance_index) instance: u32,
) -> VertexOut {
  var out: VertexOut;
  out.clip = instances[instance].mvp * vec4<f32>(position, 1.0);
  out.instance = instance;
  return out;
}

@fragment
fn fs_main(in: VertexOut) {
  atomicAdd(&counts[instances[in.instance].tags.y], 1u);
}
