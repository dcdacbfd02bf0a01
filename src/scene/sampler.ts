/**
 * Seeded scene sampler: 3–8 objects on a ground plane with colours, three size classes, no
 * interpenetration, optional stacking and side contact, and a perspective camera with small random
 * variation. Every object is placed so that its whole bounding box projects inside the image.
 *
 * @module
 */
import { boxCorners, transformPoint, viewProjection } from "./camera.ts";
import type { Rng } from "../domain/random.ts";
import {
  type Camera,
  type Colour,
  COLOURS,
  type PlacedObject,
  type Scene,
  type Shape,
  SHAPES,
  SIZE_CLASSES,
  type SizeClass,
  type Vec3,
} from "./types.ts";

/** Knobs of the sampler; {@link DEFAULT_SAMPLER_OPTIONS} gives the values used for the data set. */
export interface SamplerOptions {
  readonly width: number;
  readonly height: number;
  readonly minObjects: number;
  readonly maxObjects: number;
  /** Probability that an object is stacked on a flat-topped larger one when possible. */
  readonly stackProbability: number;
  /** Probability that a round object is placed in side contact with another round one. */
  readonly contactProbability: number;
  /** Smallest gap between footprints of objects that do not touch (keeps "touching" unambiguous). */
  readonly minGap: number;
  /** Half-extent of the square region object centres are drawn from. */
  readonly placementRadius: number;
}

/** Defaults: 96×96 images for the CPU model, 3–8 objects. */
export const DEFAULT_SAMPLER_OPTIONS: SamplerOptions = {
  width: 96,
  height: 96,
  minObjects: 3,
  maxObjects: 8,
  stackProbability: 0.3,
  contactProbability: 0.35,
  minGap: 0.25,
  placementRadius: 2.3,
};

/** Redraws of a whole scene before the options are declared unsatisfiable. */
const MAX_SCENE_ATTEMPTS = 100;

/** Unit-box proportions per shape (multiplied by the size class scale). */
const PROPORTIONS: Record<Shape, Vec3> = {
  cube: [1, 1, 1],
  sphere: [1, 1, 1],
  cylinder: [0.9, 1.1, 0.9],
  cone: [1, 1.25, 1],
  arrow: [0.9, 0.55, 1.4],
};

/** Shapes whose ground footprint is a circle of radius size.x / 2. */
const ROUND: ReadonlySet<Shape> = new Set(["sphere", "cylinder", "cone"]);
/** Shapes that touch a neighbour's side at ground level when their footprint circles touch. */
const UPRIGHT_ROUND: ReadonlySet<Shape> = new Set(["cylinder", "cone"]);
/** Shapes with a flat top that can carry another object. */
const FLAT_TOP: ReadonlySet<Shape> = new Set(["cube", "cylinder"]);

/** Radius of the circle that encloses an object's ground footprint. */
export const footprintRadius = (object: Pick<PlacedObject, "shape" | "size">): number =>
  ROUND.has(object.shape) ? object.size[0] / 2 : Math.hypot(object.size[0], object.size[2]) / 2;

/** Radius of the largest circle inside the object's top face (where a stacked object may sit). */
const topInnerRadius = (object: PlacedObject): number =>
  Math.min(object.size[0], object.size[2]) / 2;

const horizontalDistance = (a: Vec3, b: Vec3): number => Math.hypot(a[0] - b[0], a[2] - b[2]);

const sampleCamera = (rng: Rng): Camera => {
  const distance = rng.uniform(5.6, 6.6);
  const elevation = rng.uniform(28, 38) * Math.PI / 180;
  const azimuth = rng.uniform(-10, 10) * Math.PI / 180;
  const target: Vec3 = [rng.uniform(-0.2, 0.2), 0.4, rng.uniform(-0.2, 0.2)];
  return {
    eye: [
      target[0] + distance * Math.sin(azimuth) * Math.cos(elevation),
      target[1] + distance * Math.sin(elevation),
      target[2] + distance * Math.cos(azimuth) * Math.cos(elevation),
    ],
    target,
    fovY: rng.uniform(44, 50) * Math.PI / 180,
  };
};

/** True when all corners of the object's box project inside the image with a small border. */
const insideImage = (camera: Camera, aspect: number, object: PlacedObject): boolean => {
  const vp = viewProjection(camera, aspect);
  return boxCorners(object).every((corner) => {
    const [x, y, , w] = transformPoint(vp, corner);
    return w > 0 && Math.abs(x / w) < 0.94 && Math.abs(y / w) < 0.94;
  });
};

interface Draft {
  readonly shape: Shape;
  readonly colour: Colour;
  readonly sizeClass: SizeClass;
  readonly size: Vec3;
  readonly yaw: number;
}

const draftObject = (rng: Rng): Draft => {
  const shape = rng.pick(SHAPES);
  const sizeClass = rng.pick(Object.keys(SIZE_CLASSES) as SizeClass[]);
  const scale = SIZE_CLASSES[sizeClass];
  const p = PROPORTIONS[shape];
  return {
    shape,
    colour: rng.pick(Object.keys(COLOURS) as Colour[]),
    sizeClass,
    size: [p[0] * scale, p[1] * scale, p[2] * scale],
    yaw: rng.uniform(0, 2 * Math.PI),
  };
};

/** Ground objects only: stacked ones lie inside their support's footprint. */
const clearOfOthers = (
  placed: ReadonlyArray<PlacedObject>,
  candidate: PlacedObject,
  minGap: number,
  touching: number | null,
): boolean =>
  placed.every((other, k) => {
    if (other.supportedBy !== null) return true;
    const gap = horizontalDistance(other.position, candidate.position) -
      footprintRadius(other) - footprintRadius(candidate);
    return k === touching ? gap > -1e-9 : gap >= minGap;
  });

const withPlacement = (draft: Draft, position: Vec3, supportedBy: number | null): PlacedObject => ({
  id: "",
  ...draft,
  position,
  supportedBy,
});

/** Tries to stack the draft on a larger flat-topped ground object. */
const tryStack = (
  rng: Rng,
  placed: ReadonlyArray<PlacedObject>,
  draft: Draft,
  fits: (o: PlacedObject) => boolean,
): PlacedObject | null => {
  const radius = footprintRadius(draft);
  const supports = placed
    .map((o, k) => [o, k] as const)
    .filter(([o]) =>
      o.supportedBy === null && FLAT_TOP.has(o.shape) && topInnerRadius(o) >= radius * 1.05 &&
      !placed.some((other) => other.supportedBy !== null && placed[other.supportedBy] === o)
    );
  if (supports.length === 0) return null;
  const [support, k] = rng.pick(supports);
  const slack = topInnerRadius(support) - radius;
  const angle = rng.uniform(0, 2 * Math.PI);
  const offset = rng.uniform(0, slack * 0.8);
  const top = support.position[1] + support.size[1] / 2;
  const candidate = withPlacement(draft, [
    support.position[0] + offset * Math.cos(angle),
    top + draft.size[1] / 2,
    support.position[2] + offset * Math.sin(angle),
  ], k);
  return fits(candidate) ? candidate : null;
};

/** Tries to place a round upright draft in side contact with a round upright ground object. */
const tryContact = (
  rng: Rng,
  placed: ReadonlyArray<PlacedObject>,
  draft: Draft,
  options: SamplerOptions,
  fits: (o: PlacedObject) => boolean,
): PlacedObject | null => {
  if (!UPRIGHT_ROUND.has(draft.shape)) return null;
  const partners = placed
    .map((o, k) => [o, k] as const)
    .filter(([o]) => o.supportedBy === null && UPRIGHT_ROUND.has(o.shape));
  if (partners.length === 0) return null;
  const [partner, k] = rng.pick(partners);
  const distance = footprintRadius(partner) + footprintRadius(draft);
  for (let attempt = 0; attempt < 12; attempt++) {
    const angle = rng.uniform(0, 2 * Math.PI);
    const candidate = withPlacement(draft, [
      partner.position[0] + distance * Math.cos(angle),
      draft.size[1] / 2,
      partner.position[2] + distance * Math.sin(angle),
    ], null);
    if (fits(candidate) && clearOfOthers(placed, candidate, options.minGap, k)) return candidate;
  }
  return null;
};

const tryGround = (
  rng: Rng,
  placed: ReadonlyArray<PlacedObject>,
  draft: Draft,
  options: SamplerOptions,
  fits: (o: PlacedObject) => boolean,
): PlacedObject | null => {
  const r = options.placementRadius;
  for (let attempt = 0; attempt < 60; attempt++) {
    const candidate = withPlacement(
      draft,
      [rng.uniform(-r, r), draft.size[1] / 2, rng.uniform(-r, r)],
      null,
    );
    if (fits(candidate) && clearOfOthers(placed, candidate, options.minGap, null)) return candidate;
  }
  return null;
};

/** Gives every object its id `colour_shape.N` in placement order. */
const assignIds = (objects: ReadonlyArray<PlacedObject>): PlacedObject[] => {
  const counts = new Map<string, number>();
  return objects.map((o) => {
    const base = `${o.colour}_${o.shape}`;
    const n = (counts.get(base) ?? 0) + 1;
    counts.set(base, n);
    return { ...o, id: `${base}.${n}` };
  });
};

/**
 * Samples one scene. Objects that cannot be placed after bounded retries are left out, so a scene
 * may hold fewer objects than drawn, but never fewer than `minObjects` (the sampler redraws, and
 * throws a `RangeError` when options make that impossible).
 *
 * @example
 * ```ts
 * import { makeRng } from "../domain/random.ts";
 * import { sampleScene } from "./sampler.ts";
 * const scene = sampleScene(makeRng(1), 0);
 * if (scene.objects.length < 3) throw new Error("too few objects");
 * ```
 */
export const sampleScene = (
  rng: Rng,
  index: number,
  options: SamplerOptions = DEFAULT_SAMPLER_OPTIONS,
): Scene => {
  const aspect = options.width / options.height;
  for (let attempt = 0; attempt < MAX_SCENE_ATTEMPTS; attempt++) {
    const camera = sampleCamera(rng);
    const fits = (o: PlacedObject) => insideImage(camera, aspect, o);
    const target = rng.int(options.minObjects, options.maxObjects);
    const placed: PlacedObject[] = [];
    for (let i = 0; i < target; i++) {
      const draft = draftObject(rng);
      const placedObject =
        (rng.next() < options.stackProbability ? tryStack(rng, placed, draft, fits) : null) ??
          (rng.next() < options.contactProbability
            ? tryContact(rng, placed, draft, options, fits)
            : null) ??
          tryGround(rng, placed, draft, options, fits);
      if (placedObject !== null) placed.push(placedObject);
    }
    if (placed.length >= options.minObjects) {
      return {
        index,
        width: options.width,
        height: options.height,
        camera,
        objects: assignIds(placed),
      };
    }
  }
  // Only options that leave no room for minObjects get here: a configuration error.
  throw new RangeError(
    `sampleScene: could not place ${options.minObjects} objects in ${MAX_SCENE_ATTEMPTS} attempts; ` +
      "lower minObjects or widen placementRadius",
  );
};
