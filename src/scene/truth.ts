/**
 * Per-object ground truth from a render: tight boxes around each object's visible pixels in the id
 * pass, visible fractions against the silhouette pass, and camera depths. Pure: plain arrays in,
 * plain records out.
 *
 * @module
 */
import { toCameraFrame } from "./camera.ts";
import type { ObjectTruth, PixelBox, Scene } from "./types.ts";

/** Pixel statistics of one object id in an id image. */
export interface IdExtent {
  readonly pixels: number;
  readonly bbox: PixelBox | null;
}

/**
 * Scans an id image (`[height, width]`, 0 = background, k + 1 = object k) once and returns, for
 * each of `objectCount` objects, its pixel count and the tight box `[minX, minY, maxX + 1, maxY + 1]`.
 *
 * @example
 * ```ts
 * import { idExtents } from "./truth.ts";
 * const ids = Uint32Array.from([0, 1, 0, 1]); // a 2×2 image, object 1 in the right column
 * const [first] = idExtents(ids, 2, 2, 1);
 * if (first?.bbox?.join() !== "1,0,2,2") throw new Error("wrong box");
 * ```
 */
export const idExtents = (
  ids: Uint32Array,
  width: number,
  height: number,
  objectCount: number,
): IdExtent[] => {
  const minX = new Int32Array(objectCount).fill(width);
  const minY = new Int32Array(objectCount).fill(height);
  const maxX = new Int32Array(objectCount).fill(-1);
  const maxY = new Int32Array(objectCount).fill(-1);
  const pixels = new Int32Array(objectCount);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const id = ids[row + x]!;
      if (id === 0 || id > objectCount) continue;
      const k = id - 1;
      pixels[k]!++;
      if (x < minX[k]!) minX[k] = x;
      if (x > maxX[k]!) maxX[k] = x;
      if (y < minY[k]!) minY[k] = y;
      if (y > maxY[k]!) maxY[k] = y;
    }
  }
  return Array.from({ length: objectCount }, (_, k) => ({
    pixels: pixels[k]!,
    bbox: pixels[k]! > 0 ? [minX[k]!, minY[k]!, maxX[k]! + 1, maxY[k]! + 1] as const : null,
  }));
};

/**
 * Combines the id-pass extents with the silhouette counts (one per object, same order) into the
 * truth of every object of the scene.
 */
export const measureTruth = (
  scene: Scene,
  ids: Uint32Array,
  silhouettePixels: ArrayLike<number>,
): ObjectTruth[] => {
  const extents = idExtents(ids, scene.width, scene.height, scene.objects.length);
  return scene.objects.map((object, k) => {
    const extent = extents[k]!;
    const silhouette = silhouettePixels[k]!;
    const [dx, dy, dz] = [
      object.position[0] - scene.camera.eye[0],
      object.position[1] - scene.camera.eye[1],
      object.position[2] - scene.camera.eye[2],
    ];
    return {
      bbox: extent.bbox,
      visiblePixels: extent.pixels,
      silhouettePixels: silhouette,
      // Rasterisation differences between passes can exceed the silhouette by a pixel: clamp.
      visibleFraction: silhouette > 0 ? Math.min(1, extent.pixels / silhouette) : 0,
      depth: toCameraFrame(scene.camera, object.position)[2],
      cameraDistance: Math.hypot(dx, dy, dz),
    };
  });
};
