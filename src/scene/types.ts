/**
 * Plain data types of a synthetic 3D scene: the sampled objects and camera, and the per-object
 * ground truth measured from a render. The 2D scene graph (ids, pixel boxes, relations) that the
 * reward compares against is `SceneGraph` of `src/domain/scene_graph.ts`.
 *
 * World frame: y up, the ground is the plane y = 0, lengths in metres-like units.
 *
 * @module
 */

/** Primitive shapes. `arrow` is a wedge whose tip marks its front, for orientation questions. */
export const SHAPES = ["cube", "sphere", "cylinder", "cone", "arrow"] as const;
/** One of {@link SHAPES}. */
export type Shape = typeof SHAPES[number];

/** Object colours, chosen to stay distinct after Lambert shading at 96×96. */
export const COLOURS = {
  red: [0.86, 0.16, 0.14],
  green: [0.18, 0.66, 0.22],
  blue: [0.16, 0.32, 0.9],
  yellow: [0.95, 0.82, 0.12],
  purple: [0.58, 0.22, 0.76],
  cyan: [0.12, 0.78, 0.82],
  orange: [0.98, 0.52, 0.1],
} as const satisfies Record<string, readonly [number, number, number]>;
/** A key of {@link COLOURS}. */
export type Colour = keyof typeof COLOURS;

/** Size classes and their scale (the edge length of the object's unit box). */
export const SIZE_CLASSES = { small: 0.55, medium: 0.8, large: 1.15 } as const;
/** A key of {@link SIZE_CLASSES}. */
export type SizeClass = keyof typeof SIZE_CLASSES;

/** A 3-vector `[x, y, z]`. */
export type Vec3 = readonly [number, number, number];

/** One object of a scene, in world coordinates. */
export interface PlacedObject {
  /** Scene-graph id `colour_shape.N`, N counting objects of the same colour and shape from 1. */
  readonly id: string;
  readonly shape: Shape;
  readonly colour: Colour;
  readonly sizeClass: SizeClass;
  /** Full extents along the object's local x, y, z axes. */
  readonly size: Vec3;
  /** Centre of the object's bounding box. */
  readonly position: Vec3;
  /** Rotation about +y in radians; the local front is +z, so the front points to (sin yaw, 0, cos yaw). */
  readonly yaw: number;
  /** Index of the object this one rests on, or null when it stands on the ground. */
  readonly supportedBy: number | null;
}

/** A pinhole camera. */
export interface Camera {
  readonly eye: Vec3;
  readonly target: Vec3;
  /** Vertical field of view in radians. */
  readonly fovY: number;
}

/** A sampled scene: what the renderer draws. */
export interface Scene {
  /** Zero-based index within the generated data set; names the image file. */
  readonly index: number;
  readonly width: number;
  readonly height: number;
  readonly camera: Camera;
  readonly objects: ReadonlyArray<PlacedObject>;
}

/** An axis-aligned pixel box `[x1, y1, x2, y2]`; x2, y2 are exclusive pixel edges. */
export type PixelBox = readonly [number, number, number, number];

/** Ground truth of one object measured from the render. */
export interface ObjectTruth {
  /** Tight box around the object's visible pixels in the id pass, or null when none is visible. */
  readonly bbox: PixelBox | null;
  /** Pixels where this object is the nearest surface. */
  readonly visiblePixels: number;
  /** Pixels the object would cover with nothing in front of it. */
  readonly silhouettePixels: number;
  /** visiblePixels / silhouettePixels (0 when the silhouette is empty). */
  readonly visibleFraction: number;
  /** Distance of the object's centre along the camera's viewing direction. */
  readonly depth: number;
  /** Euclidean distance from the camera to the object's centre. */
  readonly cameraDistance: number;
}

/** A rendered scene: the RGBA image and the truth for every object (same order as `objects`). */
export interface RenderedScene {
  readonly scene: Scene;
  /** `[height, width, 4]` RGBA bytes, row-major. */
  readonly rgba: Uint8Array;
  /** `[height, width]` object ids: 0 for ground and sky, k + 1 for `objects[k]`. */
  readonly ids: Uint32Array;
  readonly truth: ReadonlyArray<ObjectTruth>;
}
