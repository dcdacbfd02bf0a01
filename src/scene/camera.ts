/**
 * Camera and transform math for the scene renderer: 4×4 matrices stored column-major (the
 * layout WGSL's `mat4x4<f32>` reads), WebGPU clip space (z in [0, 1]), and the camera basis used
 * by the relation rules (left/right and depth are judged in the camera's frame).
 *
 * @module
 */
import type { Camera, PlacedObject, Vec3 } from "./types.ts";

/** A 4×4 matrix, column-major: element (row r, column c) is at `c * 4 + r`. */
export type Mat4 = Float64Array;

/** Near and far clip planes (the scenes span a few units around the origin). */
const NEAR = 0.1;
const FAR = 60;

const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Vec3, b: Vec3): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
const normalise = (a: Vec3): Vec3 => {
  const n = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / n, a[1] / n, a[2] / n];
};

/** The camera's orthonormal basis: `forward` looks at the target, `right` is image-right. */
export interface CameraBasis {
  readonly forward: Vec3;
  readonly right: Vec3;
  readonly up: Vec3;
}

/** Computes the camera basis (world up is +y). */
export const cameraBasis = (camera: Camera): CameraBasis => {
  const forward = normalise(sub(camera.target, camera.eye));
  const right = normalise(cross(forward, [0, 1, 0]));
  const up = cross(right, forward);
  return { forward, right, up };
};

/** A point in camera coordinates: `x` to the image right, `y` up, `z` depth along the view. */
export const toCameraFrame = (camera: Camera, point: Vec3): Vec3 => {
  const { forward, right, up } = cameraBasis(camera);
  const d = sub(point, camera.eye);
  return [dot(d, right), dot(d, up), dot(d, forward)];
};

/** Multiplies two column-major 4×4 matrices: `a · b`. */
export const multiply = (a: Mat4, b: Mat4): Mat4 => {
  const out = new Float64Array(16);
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 4; r++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[k * 4 + r]! * b[c * 4 + k]!;
      out[c * 4 + r] = s;
    }
  }
  return out;
};

/** World-to-view matrix (right-handed view space, camera looks down −z). */
export const viewMatrix = (camera: Camera): Mat4 => {
  const { forward: f, right: s, up: u } = cameraBasis(camera);
  const e = camera.eye;
  // Column-major: each line is one column.
  // deno-fmt-ignore
  return Float64Array.from([
    s[0], u[0], -f[0], 0,
    s[1], u[1], -f[1], 0,
    s[2], u[2], -f[2], 0,
    -dot(s, e), -dot(u, e), dot(f, e), 1,
  ]);
};

/** Perspective projection to WebGPU clip space (depth 0 at the near plane, 1 at the far). */
export const projectionMatrix = (fovY: number, aspect: number): Mat4 => {
  const f = 1 / Math.tan(fovY / 2);
  const rangeInv = 1 / (NEAR - FAR);
  // Column-major: each line is one column.
  // deno-fmt-ignore
  return Float64Array.from([
    f / aspect, 0, 0, 0,
    0, f, 0, 0,
    0, 0, FAR * rangeInv, -1,
    0, 0, NEAR * FAR * rangeInv, 0,
  ]);
};

/** Model matrix `T(position) · Ry(yaw) · S(size)` for a unit mesh spanning [−0.5, 0.5]³. */
export const modelMatrix = (object: Pick<PlacedObject, "position" | "yaw" | "size">): Mat4 => {
  const c = Math.cos(object.yaw), s = Math.sin(object.yaw);
  const [sx, sy, sz] = object.size;
  const [tx, ty, tz] = object.position;
  // Ry maps local +z (the front) to (sin yaw, 0, cos yaw).
  // Column-major: each line is one column.
  // deno-fmt-ignore
  return Float64Array.from([
    c * sx, 0, -s * sx, 0,
    0, sy, 0, 0,
    s * sz, 0, c * sz, 0,
    tx, ty, tz, 1,
  ]);
};

/** Transforms a point by a column-major matrix and returns homogeneous `[x, y, z, w]`. */
export const transformPoint = (m: Mat4, p: Vec3): [number, number, number, number] => {
  const out: [number, number, number, number] = [0, 0, 0, 0];
  for (let r = 0; r < 4; r++) {
    out[r] = m[r]! * p[0] + m[4 + r]! * p[1] + m[8 + r]! * p[2] + m[12 + r]!;
  }
  return out;
};

/** The camera's view-projection matrix for an image of the given aspect ratio. */
export const viewProjection = (camera: Camera, aspect: number): Mat4 =>
  multiply(projectionMatrix(camera.fovY, aspect), viewMatrix(camera));

/** Projects a world point to pixel coordinates (origin top-left, y down). */
export const projectToPixel = (
  camera: Camera,
  width: number,
  height: number,
  point: Vec3,
): [number, number] => {
  const [x, y, , w] = transformPoint(viewProjection(camera, width / height), point);
  return [((x / w + 1) / 2) * width, ((1 - y / w) / 2) * height];
};

/** The eight corners of an object's oriented bounding box, in world coordinates. */
export const boxCorners = (object: Pick<PlacedObject, "position" | "yaw" | "size">): Vec3[] => {
  const m = modelMatrix(object);
  const corners: Vec3[] = [];
  for (const x of [-0.5, 0.5]) {
    for (const y of [-0.5, 0.5]) {
      for (const z of [-0.5, 0.5]) {
        const [wx, wy, wz] = transformPoint(m, [x, y, z]);
        corners.push([wx, wy, wz]);
      }
    }
  }
  return corners;
};
