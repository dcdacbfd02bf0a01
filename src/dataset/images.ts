/**
 * Loading a record's image for training or evaluation: the path is checked again (relative, no
 * `..`), resolved against the data set folder, decoded (PNG with fast-png, JPEG with jpeg-js) to
 * RGB bytes, and its size compared with the record's `width` × `height`, which the reward uses to
 * normalise boxes.
 *
 * @module
 */
import { Effect } from "effect";
import jpeg from "jpeg-js";
import { decodePng } from "../scene/png.ts";
import { DatasetIoError, isSafeImagePath } from "./record.ts";

/** An RGB image: `[height, width, 3]` bytes, row-major. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}

const toRgb = (data: Uint8Array, channels: number, width: number, height: number): Uint8Array => {
  if (channels === 3) return data;
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = data[p * channels + (channels < 3 ? 0 : c)]!;
  }
  return rgb;
};

const decode = (bytes: Uint8Array): RgbImage => {
  if (bytes[0] === 0x89 && bytes[1] === 0x50) {
    const png = decodePng(bytes);
    return {
      width: png.width,
      height: png.height,
      rgb: toRgb(png.data, png.channels, png.width, png.height),
    };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const image = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxMemoryUsageInMB: 1024,
    });
    return {
      width: image.width,
      height: image.height,
      rgb: toRgb(image.data, 4, image.width, image.height),
    };
  }
  throw new TypeError("neither a PNG nor a JPEG file");
};

/**
 * Loads the image of a record from the data set folder `root`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect";
 * import { loadRecordImage } from "./images.ts";
 * const result = await Effect.runPromise(Effect.result(
 *   loadRecordImage("data", { image: "../etc/passwd", width: 1, height: 1 }),
 * ));
 * if (result._tag !== "Failure") throw new Error("paths leaving the data set must be refused");
 * ```
 */
export const loadRecordImage = Effect.fn("loadRecordImage")(function* (
  root: string,
  record: { readonly image: string; readonly width: number; readonly height: number },
): Effect.fn.Return<RgbImage, DatasetIoError> {
  if (!isSafeImagePath(record.image)) {
    return yield* new DatasetIoError({
      path: record.image,
      reason: "image path must be relative and stay inside the data set folder",
    });
  }
  const path = `${root}/${record.image}`;
  const bytes = yield* Effect.tryPromise({
    try: () => Deno.readFile(path),
    catch: (cause) => new DatasetIoError({ path, reason: `cannot read image: ${String(cause)}` }),
  });
  const image = yield* Effect.try({
    try: () => decode(bytes),
    catch: (cause) => new DatasetIoError({ path, reason: `cannot decode image: ${String(cause)}` }),
  });
  if (image.width !== record.width || image.height !== record.height) {
    return yield* new DatasetIoError({
      path,
      reason: `image is ${image.width}×${image.height} but the record says ` +
        `${record.width}×${record.height}; boxes would be normalised by the wrong size`,
    });
  }
  return image;
});
