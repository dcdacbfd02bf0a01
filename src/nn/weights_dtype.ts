/**
 * How an inference model stores its weights on the GPU: `f32`, or 16 bits (`bf16`, `f16`) packed
 * two per u32 word and widened to f32 inside the kernels (matmul, embedding gather), which still
 * accumulate in f32. Only the matrices are 16-bit — every linear weight, the patch embedding, the
 * token embedding and the LM head (tensors of rank ≥ 2); norm weights and biases are tiny and stay
 * f32. Training keeps f32 master weights and never uses this.
 *
 * @module
 */
import { Result, Schema } from "effect";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./dtype.ts";

/** Storage dtypes of inference weights (`--weights-dtype`). */
export const WEIGHTS_DTYPES = ["f32", "bf16", "f16"] as const;

/** Storage dtype of inference weights. */
export type WeightsDtype = typeof WEIGHTS_DTYPES[number];

/** Schema of a `--weights-dtype` value. */
export const WeightsDtypeSchema = Schema.Literals(WEIGHTS_DTYPES);

/** A model cannot store its weights in the requested dtype. */
export class WeightsDtypeUnsupported extends Schema.TaggedError<WeightsDtypeUnsupported>()(
  "WeightsDtypeUnsupported",
  { tensor: Schema.String, dtype: Schema.String, reason: Schema.String },
) {
  override get message(): string {
    return `cannot store ${this.tensor} in ${this.dtype}: ${this.reason}`;
  }
}

/**
 * Whether a tensor of this shape is stored in 16 bits under a 16-bit `WeightsDtype`: matrices
 * (rank ≥ 2) are, vectors (norm weights, biases) stay f32.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storedIn16Bits } from "./weights_dtype.ts";
 * assert(storedIn16Bits([2048, 11008]) && !storedIn16Bits([2048]));
 * ```
 */
export const storedIn16Bits = (shape: ReadonlyArray<number>): boolean => shape.length >= 2;

/** The GPU dtype of a tensor of `shape` in a model whose weights are stored as `dtype`. */
export const tensorDtype = (
  dtype: WeightsDtype,
  shape: ReadonlyArray<number>,
): "f32" | "bf16" | "f16" => dtype !== "f32" && storedIn16Bits(shape) ? dtype : "f32";

/**
 * Checks that every matrix of `shapes` can be packed: two values per u32 word need an even last
 * dimension, so that no row ends inside a word (every Qwen2.5-VL dimension is even).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result } from "effect";
 * import { checkPackable } from "./weights_dtype.ts";
 * assert(Result.isSuccess(checkPackable(new Map([["w", [4, 6]]]), "bf16")));
 * assert(Result.isFailure(checkPackable(new Map([["w", [4, 5]]]), "bf16")));
 * ```
 */
export const checkPackable = (
  shapes: ReadonlyMap<string, ReadonlyArray<number>>,
  dtype: WeightsDtype,
): Result.Result<void, WeightsDtypeUnsupported> => {
  if (dtype === "f32") return Result.succeed(undefined);
  for (const [name, shape] of shapes) {
    const inner = shape.at(-1)!;
    if (storedIn16Bits(shape) && inner % 2 !== 0) {
      return Result.fail(
        new WeightsDtypeUnsupported({
          tensor: name,
          dtype,
          reason: `its inner dimension ${inner} is odd (shape [${shape.join(", ")}]); ` +
            "16-bit weights are packed two per 32-bit word — use --weights-dtype f32",
        }),
      );
    }
  }
  return Result.succeed(undefined);
};

/**
 * The storage dtype an inference model gets when none is asked for: the checkpoint's own when it
 * is 16-bit (both widen in the kernels with core WGSL — bit shifts for bf16, `unpack2x16float` for
 * f16 — so neither needs `shader-f16`), and f32 for F32 (or mixed) checkpoints and fresh models.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultWeightsDtype } from "./weights_dtype.ts";
 * assert(defaultWeightsDtype("BF16") === "bf16");
 * assert(defaultWeightsDtype("F16") === "f16");
 * assert(defaultWeightsDtype("F32") === "f32");
 * ```
 */
export const defaultWeightsDtype = (stored: "F32" | "F16" | "BF16" | undefined): WeightsDtype =>
  stored === "BF16" ? "bf16" : stored === "F16" ? "f16" : "f32";

/**
 * Rounds f32 values to 16-bit storage (round to nearest even; exact for values that came from a
 * checkpoint of the same dtype).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packWeights } from "./weights_dtype.ts";
 * assert(packWeights(new Float32Array([1, -2]), "bf16")[1] === 0xc000);
 * ```
 */
export const packWeights = (
  values: Float32Array,
  dtype: "bf16" | "f16",
): Uint16Array<ArrayBuffer> =>
  (dtype === "bf16" ? f32ToBf16(values) : f32ToF16(values)) as Uint16Array<ArrayBuffer>;

/**
 * Widens 16-bit storage back to f32 (exact).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unpackWeights } from "./weights_dtype.ts";
 * assert(unpackWeights(new Uint16Array([0x3c00]), "f16")[0] === 1);
 * ```
 */
export const unpackWeights = (
  halves: Uint16Array,
  dtype: "bf16" | "f16",
): Float32Array<ArrayBuffer> =>
  (dtype === "bf16" ? bf16ToF32(halves) : f16ToF32(halves)) as Float32Array<ArrayBuffer>;
