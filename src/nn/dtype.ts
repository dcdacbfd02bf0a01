/**
 * Tensor element types of the safetensors format and exact conversions between the 16-bit float
 * formats and f32 (round to nearest, ties to even, as PyTorch's `.to(torch.float16/bfloat16)`).
 *
 * @module
 */

/** Element types a checkpoint may hold (safetensors spelling). */
export type Dtype = "F32" | "F16" | "BF16" | "I64" | "I32" | "U8";

/** Every supported dtype, for validation. */
export const DTYPES: ReadonlyArray<Dtype> = ["F32", "F16", "BF16", "I64", "I32", "U8"];

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<Dtype, number>> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  U8: 1,
};

/** The floating-point dtypes model weights may be stored in. */
export const FLOAT_DTYPES: ReadonlyArray<Dtype> = ["F32", "F16", "BF16"];

/**
 * Whether `value` names a supported dtype.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDtype } from "./dtype.ts";
 * assert(isDtype("BF16") && !isDtype("F64"));
 * ```
 */
export const isDtype = (value: string): value is Dtype =>
  (DTYPES as ReadonlyArray<string>).includes(value);

/**
 * Number of elements of a tensor of this shape (1 for a scalar `[]`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { elementCount } from "./dtype.ts";
 * assert(elementCount([2, 3, 4]) === 24);
 * ```
 */
export const elementCount = (shape: ReadonlyArray<number>): number =>
  shape.reduce((product, dim) => product * dim, 1);

// Shared scratch to reinterpret f32 bits without allocating per element.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/**
 * Rounds f32 values to IEEE half precision (round to nearest even; overflow to ±Inf; NaN kept).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { f16ToF32, f32ToF16 } from "./dtype.ts";
 * const halves = f32ToF16(new Float32Array([1, 65504, 1e-8]));
 * assert(f16ToF32(halves)[1] === 65504);
 * ```
 */
export const f32ToF16 = (values: Float32Array): Uint16Array => {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    scratchF32[0] = values[i]!;
    const bits = scratchU32[0]!;
    const sign = (bits >>> 16) & 0x8000;
    const exponent = (bits >>> 23) & 0xff;
    let mantissa = bits & 0x7fffff;
    if (exponent === 0xff) {
      // Inf stays Inf; NaN keeps a quiet payload bit so it stays NaN.
      out[i] = sign | 0x7c00 | (mantissa !== 0 ? 0x200 | (mantissa >>> 13) : 0);
      continue;
    }
    const halfExponent = exponent - 127 + 15;
    if (halfExponent >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (halfExponent <= 0) {
      // Subnormal half (or zero): shift the full significand, round to nearest even.
      if (halfExponent < -10) {
        out[i] = sign;
        continue;
      }
      mantissa |= 0x800000;
      const shift = 14 - halfExponent;
      const half = mantissa >>> shift;
      const remainder = mantissa & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      const rounded = remainder > halfway || (remainder === halfway && (half & 1) === 1)
        ? half + 1
        : half;
      out[i] = sign | rounded;
      continue;
    }
    const half = (halfExponent << 10) | (mantissa >>> 13);
    const remainder = mantissa & 0x1fff;
    // A carry out of the mantissa correctly bumps the exponent (up to Inf).
    const rounded = remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)
      ? half + 1
      : half;
    out[i] = sign | rounded;
  }
  return out;
};

/**
 * Widens IEEE half-precision values to f32 (exact).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { f16ToF32 } from "./dtype.ts";
 * assert(f16ToF32(new Uint16Array([0x3c00]))[0] === 1);
 * ```
 */
export const f16ToF32 = (halves: Uint16Array): Float32Array => {
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i]!;
    const sign = (h & 0x8000) << 16;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) {
      // Zero or subnormal: value = mantissa * 2^-24.
      const magnitude = mantissa * 5.960464477539063e-8;
      out[i] = sign !== 0 ? -magnitude : magnitude;
    } else if (exponent === 0x1f) {
      scratchU32[0] = sign | 0x7f800000 | (mantissa << 13);
      out[i] = scratchF32[0]!;
    } else {
      scratchU32[0] = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
      out[i] = scratchF32[0]!;
    }
  }
  return out;
};

/**
 * Rounds f32 values to bfloat16 (round to nearest even; NaN stays NaN).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bf16ToF32, f32ToBf16 } from "./dtype.ts";
 * assert(bf16ToF32(f32ToBf16(new Float32Array([1.5])))[0] === 1.5);
 * ```
 */
export const f32ToBf16 = (values: Float32Array): Uint16Array => {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    scratchF32[0] = values[i]!;
    const bits = scratchU32[0]!;
    if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) {
      out[i] = (bits >>> 16) | 0x40;
      continue;
    }
    const roundingBias = 0x7fff + ((bits >>> 16) & 1);
    out[i] = ((bits + roundingBias) >>> 16) & 0xffff;
  }
  return out;
};

/**
 * Widens bfloat16 values to f32 (exact: bf16 is the top half of an f32).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bf16ToF32 } from "./dtype.ts";
 * assert(bf16ToF32(new Uint16Array([0x3f80]))[0] === 1);
 * ```
 */
export const bf16ToF32 = (halves: Uint16Array): Float32Array => {
  const bits = new Uint32Array(halves.length);
  for (let i = 0; i < halves.length; i++) bits[i] = halves[i]! << 16;
  return new Float32Array(bits.buffer);
};
