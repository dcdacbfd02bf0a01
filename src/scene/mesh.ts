/**
 * Unit triangle meshes for the scene shapes, each spanning [−0.5, 0.5]³ and convex, wound
 * counter-clockwise seen from outside (so back-face culling leaves exactly one surface per pixel,
 * which the silhouette pass relies on). Vertices interleave position and normal: 6 floats each.
 *
 * @module
 */
import type { Shape, Vec3 } from "./types.ts";

/** Floats per vertex: position xyz, normal xyz. */
export const VERTEX_FLOATS = 6;

/** Segments around the circle of round shapes; enough for a smooth outline at 448 px. */
const SEGMENTS = 32;

type Triangle = readonly [Vec3, Vec3, Vec3];

const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const cross = (a: Vec3, b: Vec3): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
const normalise = (a: Vec3): Vec3 => {
  const n = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / n, a[1] / n, a[2] / n];
};

/** Flips triangles whose face normal points towards the origin (an interior point). */
const outward = (t: Triangle): Triangle => {
  const n = cross(sub(t[1], t[0]), sub(t[2], t[0]));
  const c: Vec3 = [
    (t[0][0] + t[1][0] + t[2][0]) / 3,
    (t[0][1] + t[1][1] + t[2][1]) / 3,
    (t[0][2] + t[1][2] + t[2][2]) / 3,
  ];
  return n[0] * c[0] + n[1] * c[1] + n[2] * c[2] >= 0 ? t : [t[0], t[2], t[1]];
};

/** Packs triangles, using `smooth(p)` for the normal when given and the face normal otherwise. */
const pack = (
  triangles: ReadonlyArray<Triangle>,
  smooth?: (p: Vec3, face: Vec3) => Vec3,
): Float32Array<ArrayBuffer> => {
  const out = new Float32Array(triangles.length * 3 * VERTEX_FLOATS);
  let o = 0;
  for (const raw of triangles) {
    const t = outward(raw);
    const face = normalise(cross(sub(t[1], t[0]), sub(t[2], t[0])));
    for (const p of t) {
      const n = smooth ? smooth(p, face) : face;
      out.set([p[0], p[1], p[2], n[0], n[1], n[2]], o);
      o += VERTEX_FLOATS;
    }
  }
  return out;
};

const quad = (a: Vec3, b: Vec3, c: Vec3, d: Vec3): Triangle[] => [[a, b, c], [a, c, d]];

const cube = (): Float32Array<ArrayBuffer> => {
  const h = 0.5;
  const v = (x: number, y: number, z: number): Vec3 => [x * h, y * h, z * h];
  return pack([
    ...quad(v(-1, -1, 1), v(1, -1, 1), v(1, 1, 1), v(-1, 1, 1)),
    ...quad(v(-1, -1, -1), v(-1, 1, -1), v(1, 1, -1), v(1, -1, -1)),
    ...quad(v(1, -1, -1), v(1, 1, -1), v(1, 1, 1), v(1, -1, 1)),
    ...quad(v(-1, -1, -1), v(-1, -1, 1), v(-1, 1, 1), v(-1, 1, -1)),
    ...quad(v(-1, 1, -1), v(-1, 1, 1), v(1, 1, 1), v(1, 1, -1)),
    ...quad(v(-1, -1, -1), v(1, -1, -1), v(1, -1, 1), v(-1, -1, 1)),
  ]);
};

const ring = (radius: number, y: number): Vec3[] =>
  Array.from({ length: SEGMENTS }, (_, i) => {
    const a = (i / SEGMENTS) * 2 * Math.PI;
    return [radius * Math.cos(a), y, radius * Math.sin(a)] as Vec3;
  });

const sphere = (): Float32Array<ArrayBuffer> => {
  const stacks = SEGMENTS / 2;
  const point = (i: number, j: number): Vec3 => {
    const theta = (i / stacks) * Math.PI;
    const phi = (j / SEGMENTS) * 2 * Math.PI;
    return [
      0.5 * Math.sin(theta) * Math.cos(phi),
      0.5 * Math.cos(theta),
      0.5 * Math.sin(theta) * Math.sin(phi),
    ];
  };
  const triangles: Triangle[] = [];
  for (let i = 0; i < stacks; i++) {
    for (let j = 0; j < SEGMENTS; j++) {
      const a = point(i, j), b = point(i + 1, j), c = point(i + 1, j + 1), d = point(i, j + 1);
      if (i > 0) triangles.push([a, b, d]);
      if (i < stacks - 1) triangles.push([b, c, d]);
    }
  }
  return pack(triangles, (p) => normalise(p));
};

const cylinder = (): Float32Array<ArrayBuffer> => {
  const bottom = ring(0.5, -0.5), top = ring(0.5, 0.5);
  const triangles: Triangle[] = [];
  for (let i = 0; i < SEGMENTS; i++) {
    const j = (i + 1) % SEGMENTS;
    triangles.push(...quad(bottom[i]!, bottom[j]!, top[j]!, top[i]!));
    triangles.push([[0, 0.5, 0], top[i]!, top[j]!], [[0, -0.5, 0], bottom[j]!, bottom[i]!]);
  }
  return pack(triangles, (p, face) => Math.abs(face[1]) > 0.99 ? face : normalise([p[0], 0, p[2]]));
};

const cone = (): Float32Array<ArrayBuffer> => {
  const base = ring(0.5, -0.5);
  const apex: Vec3 = [0, 0.5, 0];
  const triangles: Triangle[] = [];
  for (let i = 0; i < SEGMENTS; i++) {
    const j = (i + 1) % SEGMENTS;
    triangles.push([apex, base[i]!, base[j]!], [[0, -0.5, 0], base[j]!, base[i]!]);
  }
  // Side normals of a cone with radius r = 0.5 and height h = 1: n ∝ (cos θ, r / h, sin θ).
  return pack(triangles, (p, face) => {
    if (face[1] < -0.99) return face;
    const r = Math.hypot(p[0], p[2]);
    return r < 1e-6 ? face : normalise([p[0] / r, 0.5, p[2] / r]);
  });
};

/** A wedge pointing to local +z: the tip marks the front, visible from the raised camera. */
const arrow = (): Float32Array<ArrayBuffer> => {
  const outline: ReadonlyArray<readonly [number, number]> = [[0, 0.5], [0.5, -0.5], [-0.5, -0.5]];
  const at = (k: number, y: number): Vec3 => [outline[k]![0], y, outline[k]![1]];
  const triangles: Triangle[] = [
    [at(0, 0.5), at(1, 0.5), at(2, 0.5)],
    [at(0, -0.5), at(1, -0.5), at(2, -0.5)],
  ];
  for (let k = 0; k < 3; k++) {
    const n = (k + 1) % 3;
    triangles.push(...quad(at(k, -0.5), at(n, -0.5), at(n, 0.5), at(k, 0.5)));
  }
  return pack(triangles);
};

/** The ground: a large square at y = 0 facing up (drawn with an identity model matrix). */
export const groundMesh = (halfExtent: number): Float32Array<ArrayBuffer> => {
  const h = halfExtent;
  // Wound counter-clockwise seen from above; `outward` does not apply (the origin lies on it).
  const corners: Vec3[] = [[-h, 0, -h], [-h, 0, h], [h, 0, h], [-h, 0, -h], [h, 0, h], [h, 0, -h]];
  return Float32Array.from(corners.flatMap((p) => [p[0], p[1], p[2], 0, 1, 0]));
};

/** Builds the unit mesh of each shape. */
export const shapeMeshes = (): Record<Shape, Float32Array<ArrayBuffer>> => ({
  cube: cube(),
  sphere: sphere(),
  cylinder: cylinder(),
  cone: cone(),
  arrow: arrow(),
});
