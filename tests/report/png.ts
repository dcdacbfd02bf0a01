/**
 * Test helper: decodes PNG bytes (failing the test on anything that is not a valid PNG) and reads
 * pixels.
 *
 * @module
 */
import assert from "node:assert/strict";
import { decode } from "fast-png";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A decoded 8-bit PNG with a pixel reader returning `[r, g, b]`. */
export interface DecodedPng {
  readonly width: number;
  readonly height: number;
  readonly rgb: (x: number, y: number) => readonly [number, number, number];
}

/** Decodes `bytes`, asserting the PNG signature and that the image is 8-bit. */
export const decodePng = (bytes: Uint8Array): DecodedPng => {
  assert.deepEqual([...bytes.subarray(0, 8)], SIGNATURE, "PNG signature");
  const png = decode(bytes);
  assert.equal(png.depth, 8);
  return {
    width: png.width,
    height: png.height,
    rgb: (x, y) => {
      const i = (y * png.width + x) * png.channels;
      return [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
    },
  };
};

/** `#rrggbb` as `[r, g, b]`. */
export const hexRgb = (hex: string): readonly [number, number, number] => [
  parseInt(hex.slice(1, 3), 16),
  parseInt(hex.slice(3, 5), 16),
  parseInt(hex.slice(5, 7), 16),
];
