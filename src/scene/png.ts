/**
 * PNG encoding of rendered images with a pure-JS codec (fast-png), deterministic byte for byte.
 *
 * @module
 */
import { decode, encode } from "fast-png";

/** Encodes `[height, width, 4]` RGBA bytes as an 8-bit RGB PNG (the alpha channel is opaque). */
export const encodeRgbPng = (rgba: Uint8Array, width: number, height: number): Uint8Array => {
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) {
    rgb[q] = rgba[p]!;
    rgb[q + 1] = rgba[p + 1]!;
    rgb[q + 2] = rgba[p + 2]!;
  }
  return encode({ width, height, data: rgb, channels: 3, depth: 8 });
};

/** A decoded image: `[height, width, channels]` bytes. */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Uint8Array;
}

/** Decodes an 8-bit PNG (for tests and loaders). */
export const decodePng = (bytes: Uint8Array): DecodedImage => {
  const image = decode(bytes);
  if (image.depth !== 8) throw new RangeError(`expected an 8-bit PNG, got depth ${image.depth}`);
  return {
    width: image.width,
    height: image.height,
    channels: image.channels,
    data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength),
  };
};
