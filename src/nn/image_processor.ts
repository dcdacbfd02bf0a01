/**
 * Qwen2.5-VL's image processor, as Hugging Face's `Qwen2VLImageProcessor` computes it:
 * `smartResize` (sides multiples of 28, pixel budget), PIL-exact bicubic resampling on 8-bit
 * pixels, rescale and CLIP normalisation, and patchification in the upstream order (a still image
 * repeated to fill the temporal patch; 2×2 merge groups contiguous; each row (C, t, y, x)).
 *
 * Pure functions over plain arrays; decoding files lives elsewhere.
 *
 * @module
 */

/** An 8-bit RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** The preprocessor settings of a checkpoint (`preprocessor_config.json`). */
export interface ImageProcessorConfig {
  readonly patchSize: number;
  readonly temporalPatchSize: number;
  readonly mergeSize: number;
  readonly minPixels: number;
  readonly maxPixels: number;
  readonly imageMean: readonly [number, number, number];
  readonly imageStd: readonly [number, number, number];
}

/** The published Qwen2.5-VL preprocessor settings. */
export const QWEN25VL_IMAGE_PROCESSOR: ImageProcessorConfig = {
  patchSize: 14,
  temporalPatchSize: 2,
  mergeSize: 2,
  minPixels: 3136,
  maxPixels: 12845056,
  imageMean: [0.48145466, 0.4578275, 0.40821073],
  imageStd: [0.26862954, 0.26130258, 0.27577711],
};

/** Python's `round`: halves go to the even neighbour (182 / 28 = 6.5 → 6, not 7). */
export const roundHalfEven = (x: number): number => {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
};

/** Why an image cannot be processed. */
export class ImageSizeError extends RangeError {
  override readonly name = "ImageSizeError";
}

/**
 * The resized (height, width): multiples of `factor`, area within [minPixels, maxPixels], aspect
 * kept as closely as possible.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { smartResize } from "./image_processor.ts";
 * const [h, w] = smartResize(182, 300);
 * assert(h === 168 && w === 308); // 182/28 = 6.5 rounds to 6, half to even
 * ```
 */
export const smartResize = (
  height: number,
  width: number,
  factor = 28,
  minPixels = QWEN25VL_IMAGE_PROCESSOR.minPixels,
  maxPixels = QWEN25VL_IMAGE_PROCESSOR.maxPixels,
): [number, number] => {
  if (height < 10 || width < 10) {
    throw new ImageSizeError(`image of ${width}×${height} px: both sides must be at least 10 px`);
  }
  if (Math.max(height, width) / Math.min(height, width) > 200) {
    throw new ImageSizeError(`image of ${width}×${height} px: aspect ratio must be at most 200`);
  }
  let h = roundHalfEven(height / factor) * factor;
  let w = roundHalfEven(width / factor) * factor;
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = Math.max(factor, Math.floor(height / beta / factor) * factor);
    w = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return [h, w];
};

// PIL's bicubic kernel (a = -0.5) and its fixed-point arithmetic for 8-bit images
// (Pillow src/libImaging/Resample.c): coefficients are normalised, scaled by 2^22 and rounded
// away from zero; each pass accumulates in integers with a half-unit bias and clips to 0..255.
const BICUBIC_SUPPORT = 2;
const PRECISION_BITS = 32 - 8 - 2;

const bicubic = (x: number): number => {
  const a = -0.5;
  const ax = Math.abs(x);
  if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
  if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
  return 0;
};

interface ResampleCoefficients {
  /** First input index of each output pixel's window. */
  readonly start: Int32Array;
  /** Window length of each output pixel. */
  readonly length: Int32Array;
  /** Fixed-point weights, `kernelSize` per output pixel. */
  readonly weights: Int32Array;
  readonly kernelSize: number;
}

const coefficients = (inSize: number, outSize: number): ResampleCoefficients => {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = BICUBIC_SUPPORT * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const length = new Int32Array(outSize);
  const weights = new Int32Array(outSize * kernelSize);
  const raw = new Float64Array(kernelSize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      raw[x] = bicubic((x + xmin - center + 0.5) / filterScale);
      total += raw[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? raw[x]! / total : raw[x]!;
      weights[xx * kernelSize + x] = w < 0
        ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS))
        : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    start[xx] = xmin;
    length[xx] = xmax;
  }
  return { start, length, weights, kernelSize };
};

const clip8 = (acc: number): number => {
  const v = Math.floor(acc / (1 << PRECISION_BITS));
  return v < 0 ? 0 : v > 255 ? 255 : v;
};

/**
 * Resizes with PIL's `Image.resize((w, h), BICUBIC)` semantics on 8-bit RGB: horizontal pass, then
 * vertical, each rounded to 8 bits, antialiased when downscaling.
 */
export const resizeBicubic = (image: RgbImage, outWidth: number, outHeight: number): RgbImage => {
  const { width, height, data } = image;
  let current = data;
  let currentWidth = width;
  if (outWidth !== width) {
    const c = coefficients(width, outWidth);
    const out = new Uint8Array(outWidth * height * 3);
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < outWidth; xx++) {
        const s = c.start[xx]!;
        const n = c.length[xx]!;
        for (let ch = 0; ch < 3; ch++) {
          let acc = 1 << (PRECISION_BITS - 1);
          for (let x = 0; x < n; x++) {
            acc += data[(y * width + s + x) * 3 + ch]! * c.weights[xx * c.kernelSize + x]!;
          }
          out[(y * outWidth + xx) * 3 + ch] = clip8(acc);
        }
      }
    }
    current = out;
    currentWidth = outWidth;
  }
  if (outHeight === height) return { width: currentWidth, height, data: current };
  const c = coefficients(height, outHeight);
  const out = new Uint8Array(currentWidth * outHeight * 3);
  for (let yy = 0; yy < outHeight; yy++) {
    const s = c.start[yy]!;
    const n = c.length[yy]!;
    for (let x = 0; x < currentWidth; x++) {
      for (let ch = 0; ch < 3; ch++) {
        let acc = 1 << (PRECISION_BITS - 1);
        for (let y = 0; y < n; y++) {
          acc += current[((s + y) * currentWidth + x) * 3 + ch]! *
            c.weights[yy * c.kernelSize + y]!;
        }
        out[(yy * currentWidth + x) * 3 + ch] = clip8(acc);
      }
    }
  }
  return { width: currentWidth, height: outHeight, data: out };
};

/** What the vision tower consumes for one image. */
export interface ProcessedImage {
  /** [gridT·gridH·gridW, C·temporalPatchSize·patchSize²] normalised pixels, upstream row order. */
  readonly pixelValues: Float32Array;
  /** Patches along time, height and width (`image_grid_thw`). */
  readonly grid: readonly [number, number, number];
  /** How many `<|image_pad|>` tokens stand for this image in the prompt. */
  readonly imageTokens: number;
  /** The size the image was resized to. */
  readonly resized: { readonly width: number; readonly height: number };
}

/**
 * Resize, rescale, normalise and patchify one still image.
 *
 * Rows follow the upstream permutation (gt, gh/m, gw/m, m, m) so that each 2×2 merge group is
 * contiguous; each row holds (channel, frame, y, x) with the image repeated over the frames.
 */
export const processImage = (
  image: RgbImage,
  config: ImageProcessorConfig = QWEN25VL_IMAGE_PROCESSOR,
): ProcessedImage => {
  const p = config.patchSize;
  const tps = config.temporalPatchSize;
  const m = config.mergeSize;
  const [h, w] = smartResize(image.height, image.width, p * m, config.minPixels, config.maxPixels);
  const resized = (h === image.height && w === image.width) ? image : resizeBicubic(image, w, h);
  const gh = h / p;
  const gw = w / p;
  const rowLength = 3 * tps * p * p;
  const pixelValues = new Float32Array(gh * gw * rowLength);
  let row = 0;
  for (let bh = 0; bh < gh / m; bh++) {
    for (let bw = 0; bw < gw / m; bw++) {
      for (let mh = 0; mh < m; mh++) {
        for (let mw = 0; mw < m; mw++) {
          const py = (bh * m + mh) * p;
          const px = (bw * m + mw) * p;
          let k = row * rowLength;
          for (let ch = 0; ch < 3; ch++) {
            const mean = Math.fround(config.imageMean[ch]!);
            const std = Math.fround(config.imageStd[ch]!);
            for (let t = 0; t < tps; t++) {
              for (let y = 0; y < p; y++) {
                for (let x = 0; x < p; x++) {
                  // Upstream: rescale in float64, cast to float32, normalise in float32.
                  const v = Math.fround(resized.data[((py + y) * w + px + x) * 3 + ch]! / 255);
                  pixelValues[k++] = Math.fround(v - mean) / std;
                }
              }
            }
          }
          row++;
        }
      }
    }
  }
  return {
    pixelValues,
    grid: [1, gh, gw],
    imageTokens: (gh * gw) / (m * m),
    resized: { width: w, height: h },
  };
};
