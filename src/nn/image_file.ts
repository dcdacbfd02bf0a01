/**
 * Reading an image file (PNG or JPEG) into the 8-bit RGB the image processor takes. Alpha is
 * composited on white, grey and palette PNGs are expanded, 16-bit samples are reduced to 8 bits.
 *
 * @module
 */
import { Effect, Schema } from "effect";
import { decode as decodePng } from "fast-png";
import jpeg from "jpeg-js";
import type { RgbImage } from "./image_processor.ts";

/** The file could not be read or is not a PNG/JPEG image this reader supports. */
export class ImageUnreadable extends Schema.TaggedError<ImageUnreadable>()("ImageUnreadable", {
  file: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `cannot read image ${this.file}: ${this.reason}`;
  }
}

const isPng = (b: Uint8Array) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
const isJpeg = (b: Uint8Array) => b[0] === 0xff && b[1] === 0xd8;

/** Decodes PNG or JPEG bytes to RGB; throws on anything else (wrapped by `readImage`). */
export const decodeImage = (bytes: Uint8Array): RgbImage => {
  if (isJpeg(bytes)) {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    return fromChannels(img.width, img.height, img.data, 4, 8);
  }
  if (isPng(bytes)) {
    const png = decodePng(bytes);
    const palette = png.palette;
    if (palette !== undefined) {
      const rgb = new Uint8Array(png.width * png.height * 3);
      for (let i = 0; i < png.width * png.height; i++) {
        const entry = palette[png.data[i]!]!;
        rgb.set([entry[0]!, entry[1]!, entry[2]!], i * 3);
      }
      return { width: png.width, height: png.height, data: rgb };
    }
    return fromChannels(png.width, png.height, png.data, png.channels, png.depth);
  }
  throw new Error("not a PNG or JPEG file");
};

const fromChannels = (
  width: number,
  height: number,
  data: ArrayLike<number>,
  channels: number,
  depth: number,
): RgbImage => {
  const max = 2 ** depth - 1;
  const to8 = (v: number) => depth === 8 ? v : Math.round((v / max) * 255);
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const px = (k: number) => to8(data[i * channels + k]!);
    const [r, g, b] = channels >= 3 ? [px(0), px(1), px(2)] : [px(0), px(0), px(0)];
    const alpha = channels === 4 || channels === 2 ? px(channels - 1) / 255 : 1;
    // Composite on white, as transformers' convert_to_rgb does before the processor.
    rgb[i * 3] = Math.round(r * alpha + 255 * (1 - alpha));
    rgb[i * 3 + 1] = Math.round(g * alpha + 255 * (1 - alpha));
    rgb[i * 3 + 2] = Math.round(b * alpha + 255 * (1 - alpha));
  }
  return { width, height, data: rgb };
};

/** Reads and decodes an image file, failing with `ImageUnreadable` naming the file. */
export const readImage = (file: string): Effect.Effect<RgbImage, ImageUnreadable> =>
  Effect.tryPromise({
    try: async () => decodeImage(await Deno.readFile(file)),
    catch: (cause) =>
      new ImageUnreadable({ file, reason: cause instanceof Error ? cause.message : String(cause) }),
  });
