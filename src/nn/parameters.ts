/**
 * The model's parameters on the GPU: one tensor per Hugging Face name, each with a gradient tensor
 * of the same shape, allocated on first use so that inference (generation) holds only the
 * weights (a 3B model's f32 gradients would be another 15 GB). Upload from and download to host
 * maps of Float32Arrays (checkpoints).
 *
 * An inference model may store its matrices in 16 bits (`weightsDtype` "bf16" or "f16", see
 * weights_dtype.ts): values are rounded on upload and widened on download; gradients are f32.
 *
 * @module
 */
import { Result } from "effect";
import { fill } from "../gpu/ops/fill.ts";
import type { CommandRecorder } from "../gpu/recorder.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import { type DType, numel, type Tensor } from "../gpu/tensor.ts";
import { hostTensorToF32 } from "./checkpoint.ts";
import type { Dtype } from "./dtype.ts";
import type { HostTensor } from "./safetensors.ts";
import {
  checkPackable,
  packWeights,
  tensorDtype,
  unpackWeights,
  type WeightsDtype,
} from "./weights_dtype.ts";

/** A parameter and its gradient. */
export interface Parameter {
  readonly name: string;
  readonly value: Tensor;
  readonly grad: Tensor;
}

/** Options of `Parameters`. */
export interface ParametersOptions {
  /** Storage of the matrices; default "f32" (training always uses f32). */
  readonly weightsDtype?: WeightsDtype;
}

/** The GPU storage dtype whose bits equal a checkpoint dtype's. */
const STORAGE_OF_FILE_DTYPE: Partial<Record<Dtype, DType>> = {
  F32: "f32",
  F16: "f16",
  BF16: "bf16",
};

/** Host f32 values in a tensor's storage dtype. */
const stored = (t: Tensor, host: Float32Array<ArrayBuffer>): ArrayBufferView<ArrayBuffer> =>
  t.dtype === "bf16" || t.dtype === "f16" ? packWeights(host, t.dtype) : host;

/** All parameters of a model, in a fixed order (the order of `shapes`). */
export class Parameters {
  readonly #byName = new Map<string, Parameter>();
  /** How the matrices are stored on the GPU. */
  readonly weightsDtype: WeightsDtype;

  /**
   * Allocates every tensor of `shapes` and uploads `values` (which must hold exactly those names
   * with matching element counts). Without `values` every tensor starts zero-filled, for the
   * caller to fill tensor by tensor (`loadStored`, `load`). With a 16-bit `weightsDtype` every
   * matrix needs an even last dimension (`WeightsDtypeUnsupported` otherwise; callers check with
   * `checkPackable` first).
   */
  constructor(
    rt: GpuRuntime,
    shapes: ReadonlyMap<string, ReadonlyArray<number>>,
    values: ReadonlyMap<string, Float32Array<ArrayBuffer>> | undefined,
    { weightsDtype = "f32" }: ParametersOptions = {},
  ) {
    this.weightsDtype = weightsDtype;
    const packable = checkPackable(shapes, weightsDtype);
    if (Result.isFailure(packable)) throw packable.failure;
    for (const [name, shape] of shapes) {
      const host = values?.get(name);
      if (values !== undefined && host === undefined) {
        throw new Error(`Parameters: no value for ${name}`);
      }
      if (host !== undefined && host.length !== numel(shape)) {
        throw new Error(`Parameters: ${name} has ${host.length} values for shape [${shape}]`);
      }
      let grad: Tensor | undefined;
      const value = rt.createTensor(shape, tensorDtype(weightsDtype, shape));
      if (host !== undefined) rt.write(value, stored(value, host));
      this.#byName.set(name, {
        name,
        value,
        // New buffers are zero-filled, as a gradient before its first step must be.
        get grad() {
          return grad ??= rt.createTensor(shape, "f32");
        },
      });
    }
    for (const name of values?.keys() ?? []) {
      if (!shapes.has(name)) throw new Error(`Parameters: unexpected tensor ${name}`);
    }
  }

  /** The parameter `name`; a missing name is a bug in the model code. */
  get(name: string): Parameter {
    const p = this.#byName.get(name);
    if (p === undefined) throw new Error(`Parameters: no tensor ${name}`);
    return p;
  }

  /** The value tensor of `name`. */
  value(name: string): Tensor {
    return this.get(name).value;
  }

  /** The gradient tensor of `name`. */
  grad(name: string): Tensor {
    return this.get(name).grad;
  }

  /** Every parameter, in order. */
  all(): ReadonlyArray<Parameter> {
    return [...this.#byName.values()];
  }

  /** Number of scalar parameters. */
  get count(): number {
    return this.all().reduce((total, p) => total + numel(p.value.shape), 0);
  }

  /** GPU bytes allocated for the values (the buffers' sizes; gradients not included). */
  get valueBytes(): number {
    return this.all().reduce((total, p) => total + p.value.buffer.size, 0);
  }

  /** Records zeroing every gradient (before a step's first micro-batch). */
  zeroGrads(rec: CommandRecorder): void {
    for (const p of this.#byName.values()) fill(rec, p.grad, 0);
  }

  /** Schedules a readback of every value (or gradient); pair with `collect` after the submit. */
  read(rec: CommandRecorder, which: "value" | "grad" = "value"): void {
    for (const p of this.#byName.values()) rec.read(which === "value" ? p.value : p.grad);
  }

  /**
   * Names the arrays of a readback made with `read` (in the same order), as f32: 16-bit values
   * are widened (gradients are always f32).
   */
  collect(arrays: ReadonlyArray<ArrayLike<number>>): Map<string, Float32Array<ArrayBuffer>> {
    const out = new Map<string, Float32Array<ArrayBuffer>>();
    [...this.#byName.values()].forEach((p, i) => {
      const array = arrays[i]!;
      const dtype = p.value.dtype;
      out.set(
        p.name,
        array instanceof Uint16Array && (dtype === "bf16" || dtype === "f16")
          ? unpackWeights(array, dtype)
          : Float32Array.from(array),
      );
    });
    return out;
  }

  /**
   * Uploads one tensor as a checkpoint stores it (F32, F16 or BF16 bytes) into `name`, queued
   * before the next submit; returns the bytes uploaded. Bits already in the tensor's storage
   * dtype (BF16 into bf16, F16 into f16, F32 into f32) are copied as they are; anything else is
   * widened to f32 first (and rounded to 16 bits if the tensor is 16-bit). The shape was checked
   * against the config when the checkpoint was opened; a wrong element count is a bug.
   */
  loadStored(rt: GpuRuntime, name: string, tensor: HostTensor): number {
    const value = this.value(name);
    if (numel(tensor.shape) !== numel(value.shape)) {
      throw new Error(`Parameters: ${name} is [${tensor.shape}], expected [${value.shape}]`);
    }
    const asIs = STORAGE_OF_FILE_DTYPE[tensor.dtype] === value.dtype;
    const data = asIs
      ? tensor.data as Uint8Array<ArrayBuffer>
      : stored(value, hostTensorToF32(tensor));
    rt.write(value, data);
    return data.byteLength;
  }

  /** Replaces every value with host data (a checkpoint), queued before the next submit. */
  load(rt: GpuRuntime, values: ReadonlyMap<string, Float32Array<ArrayBuffer>>): void {
    for (const [name, host] of values) {
      const value = this.value(name);
      rt.write(value, stored(value, host));
    }
  }
}
