// Scene renderer, one draw per object: Lambert-shaded colour plus a flat object id in a second
// colour target, depth-tested. The ground carries a checkerboard so perspective (converging
// lines, shrinking squares) is visible in the image.

struct Instance {
  mvp: mat4x4<f32>,
  model: mat4x4<f32>,
  normal_matrix: mat3x3<f32>,
  colour: vec4<f32>,
  // x: object id (0 for the ground), y: silhouette counter slot, z: 1 for the ground.
  tags: vec4<u32>,
}

@group(0) @binding(0) var<storage, read> instances: array<Instance>;

struct VertexOut {
  @builtin(position) clip: vec4<f32>,
  @location(0) normal: vec3<f32>,
  @location(1) world: vec3<f32>,
  @location(2) @interpolate(flat) instance: u32,
}

@vertex
fn vs_main(
  @location(0) position: vec3<f32>,
  @location(1) normal: vec3<f32>,
  @builtin(instance_index) instance: u32,
) -> VertexOut {
  let inst = instances[instance];
  var out: VertexOut;
  out.clip = inst.mvp * vec4<f32>(position, 1.0);
  out.normal = inst.normal_matrix * normal;
  out.world = (inst.model * vec4<f32>(position, 1.0)).xyz;
  out.instance = instance;
  return out;
}

struct FragmentOut {
  @location(0) colour: vec4<f32>,
  @location(1) id: u32,
}

const LIGHT_DIR = vec3<f32>(-0.40, 0.82, 0.41);
const AMBIENT = 0.38;

@fragment
fn fs_main(in: VertexOut) -> FragmentOut {
  let inst = instances[in.instance];
  var albedo = inst.colour.rgb;
  if (inst.tags.z == 1u) {
    let cell = (i32(floor(in.world.x)) + i32(floor(in.world.z))) & 1;
    albedo = select(vec3<f32>(0.62, 0.62, 0.60), vec3<f32>(0.50, 0.50, 0.48), cell == 1);
  }
  let lambert = max(dot(normalize(in.normal), normalize(LIGHT_DIR)), 0.0);
  var out: FragmentOut;
  out.colour = vec4<f32>(albedo * (AMBIENT + (1.0 - AMBIENT) * lambert), 1.0);
  out.id = inst.tags.x;
  return out;
}
