/**
 * Spatial relations derived from scene geometry with explicit margins. Each predicate family has a
 * dead band: a pair whose measured difference is under the margin gets no predicate of that family,
 * so every relation in a scene graph is clear from the image.
 *
 * Conventions: left/right and in front/behind are judged in the camera's frame (as a viewer of the
 * image would); gaps are between footprint circles on the ground (see `footprintRadius`) and
 * between vertical extents.
 *
 * @module
 */
import { toCameraFrame } from "./camera.ts";
import { footprintRadius } from "./sampler.ts";
import type { Relationship } from "../domain/scene_graph.ts";
import type { Camera, PlacedObject } from "./types.ts";

/** Thresholds of the relation rules (world units unless stated). */
export interface RelationMargins {
  /** Smallest camera-frame horizontal offset for "left of" / "right of". */
  readonly lateral: number;
  /** Smallest camera-depth difference for "in front of" / "behind". */
  readonly depth: number;
  /** Smallest clearance for "above" / "below" between vertical extents. */
  readonly vertical: number;
  /** Largest gap that counts as "touching". */
  readonly touching: number;
  /** Largest gap for "next to" (objects on the same level). */
  readonly nextTo: number;
  /** Largest gap for "near". */
  readonly near: number;
  /** Smallest gap for "far from". */
  readonly far: number;
  /** Smallest volume ratio for "larger than" / "smaller than". */
  readonly sizeRatio: number;
  /** Smallest difference of camera distance for "closer to / farther from the camera than". */
  readonly cameraDistance: number;
  /** Largest angle (radians) between an object's front and the direction to another for "facing". */
  readonly facingAngle: number;
}

/** The margins used for the data set. */
export const DEFAULT_RELATION_MARGINS: RelationMargins = {
  lateral: 0.45,
  depth: 0.5,
  vertical: 0.05,
  touching: 0.02,
  nextTo: 0.6,
  near: 1.3,
  far: 2.6,
  sizeRatio: 1.6,
  cameraDistance: 0.5,
  facingAngle: 25 * Math.PI / 180,
};

/** Every predicate this module can emit. */
export const PREDICATES = [
  "left of",
  "right of",
  "in front of",
  "behind",
  "on top of",
  "above",
  "below",
  "touching",
  "next to",
  "near",
  "far from",
  "larger than",
  "smaller than",
  "closer to the camera than",
  "farther from the camera than",
  "facing",
  "facing away from",
] as const;
/** One of {@link PREDICATES}. */
export type Predicate = typeof PREDICATES[number];

/** Volume of the shape inside the object's box (used for size comparisons). */
export const objectVolume = (o: Pick<PlacedObject, "shape" | "size">): number => {
  const [x, y, z] = o.size;
  switch (o.shape) {
    case "cube":
      return x * y * z;
    case "sphere":
      return Math.PI / 6 * x * y * z;
    case "cylinder":
      return Math.PI / 4 * x * y * z;
    case "cone":
      return Math.PI / 12 * x * y * z;
    case "arrow":
      return 0.5 * x * y * z;
  }
};

const bottom = (o: PlacedObject): number => o.position[1] - o.size[1] / 2;
const top = (o: PlacedObject): number => o.position[1] + o.size[1] / 2;

/** Clearance between the footprint circles of two objects (negative when they overlap in plan). */
export const horizontalGap = (a: PlacedObject, b: PlacedObject): number =>
  Math.hypot(a.position[0] - b.position[0], a.position[2] - b.position[2]) -
  footprintRadius(a) - footprintRadius(b);

/** Clearance between the vertical extents of two objects (negative when they overlap in height). */
export const verticalGap = (a: PlacedObject, b: PlacedObject): number =>
  Math.max(bottom(a) - top(b), bottom(b) - top(a));

/** Gap between two objects: the larger of the horizontal and vertical clearances, at least 0. */
export const surfaceGap = (a: PlacedObject, b: PlacedObject): number =>
  Math.max(0, horizontalGap(a, b), verticalGap(a, b));

/** Angle (radians, 0..π) between an object's front and the horizontal direction to a point. */
export const frontAngle = (a: PlacedObject, point: readonly [number, number, number]): number => {
  const fx = Math.sin(a.yaw), fz = Math.cos(a.yaw);
  const dx = point[0] - a.position[0], dz = point[2] - a.position[2];
  const cos = (fx * dx + fz * dz) / Math.max(Math.hypot(dx, dz), 1e-9);
  return Math.acos(Math.min(1, Math.max(-1, cos)));
};

/** Shapes with a visible front. */
export const hasFront = (o: Pick<PlacedObject, "shape">): boolean => o.shape === "arrow";

/** Predicates that hold from `objects[i]` to `objects[j]` (i is the subject). */
export const pairPredicates = (
  camera: Camera,
  objects: ReadonlyArray<PlacedObject>,
  i: number,
  j: number,
  margins: RelationMargins = DEFAULT_RELATION_MARGINS,
): Predicate[] => {
  const a = objects[i]!, b = objects[j]!;
  const out: Predicate[] = [];
  const ca = toCameraFrame(camera, a.position), cb = toCameraFrame(camera, b.position);
  const dx = ca[0] - cb[0], dz = ca[2] - cb[2];
  if (dx <= -margins.lateral) out.push("left of");
  if (dx >= margins.lateral) out.push("right of");
  if (dz <= -margins.depth) out.push("in front of");
  if (dz >= margins.depth) out.push("behind");

  const overlapInPlan = horizontalGap(a, b) < 0;
  const aOnB = a.supportedBy === j;
  const bOnA = b.supportedBy === i;
  if (aOnB) out.push("on top of");
  else if (overlapInPlan && bottom(a) - top(b) >= margins.vertical) out.push("above");
  if (bOnA || (overlapInPlan && bottom(b) - top(a) >= margins.vertical)) out.push("below");

  const gap = surfaceGap(a, b);
  const sameLevel = a.supportedBy === null && b.supportedBy === null;
  if (gap <= margins.touching) out.push("touching");
  else if (gap <= margins.nextTo && sameLevel) out.push("next to");
  else if (gap <= margins.near) out.push("near");
  else if (gap >= margins.far) out.push("far from");

  const ratio = objectVolume(a) / objectVolume(b);
  if (ratio >= margins.sizeRatio) out.push("larger than");
  if (ratio <= 1 / margins.sizeRatio) out.push("smaller than");

  const da = distance(camera.eye, a.position), db = distance(camera.eye, b.position);
  if (da <= db - margins.cameraDistance) out.push("closer to the camera than");
  if (da >= db + margins.cameraDistance) out.push("farther from the camera than");

  if (hasFront(a)) {
    const angle = frontAngle(a, b.position);
    if (angle <= margins.facingAngle) out.push("facing");
    if (angle >= Math.PI - margins.facingAngle) out.push("facing away from");
  }
  return out;
};

const distance = (p: readonly number[], q: readonly number[]): number =>
  Math.hypot(p[0]! - q[0]!, p[1]! - q[1]!, p[2]! - q[2]!);

/** Predicates that describe only their subject's own heading, so they have no inverse. */
const DIRECTIONAL_ONLY: ReadonlySet<Predicate> = new Set(["facing", "facing away from"]);

/**
 * All relations among the given objects, subject first, in object order. `include` selects which
 * objects take part (e.g. only the visible ones). With `canonical`, each pair is described once,
 * from the earlier object to the later one (the reverse direction follows by inverting the
 * predicate), plus the later object's own facing predicates, which have no inverse.
 */
export const sceneRelations = (
  camera: Camera,
  objects: ReadonlyArray<PlacedObject>,
  include: (index: number) => boolean = () => true,
  options: { readonly canonical?: boolean; readonly margins?: RelationMargins } = {},
): Relationship[] => {
  const margins = options.margins ?? DEFAULT_RELATION_MARGINS;
  const out: Relationship[] = [];
  objects.forEach((a, i) => {
    if (!include(i)) return;
    objects.forEach((b, j) => {
      if (i === j || !include(j)) return;
      for (const predicate of pairPredicates(camera, objects, i, j, margins)) {
        if (options.canonical && i > j && !DIRECTIONAL_ONLY.has(predicate)) continue;
        out.push({ subject: a.id, predicate, object: b.id });
      }
    });
  });
  return out;
};
