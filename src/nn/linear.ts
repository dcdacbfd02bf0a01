/**
 * A linear layer with Hugging Face's weight layout W [out, in]: y = x·Wᵀ + b.
 * Forward is an NT matmul; the backward is dx = dy·W (NN), dW += dyᵀ·x (TN), db += Σ_rows dy.
 *
 * @module
 */
import { biasGrad, matmul } from "../gpu/ops/matmul.ts";
import type { CommandRecorder } from "../gpu/recorder.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { Parameters } from "./parameters.ts";
import { rowSlice } from "./views.ts";

/** A layer's weight [out, in] and optional bias [out], with their gradient tensors. */
export interface LinearWeights {
  readonly weight: Tensor;
  readonly weightGrad: Tensor;
  readonly bias?: { readonly value: Tensor; readonly grad: Tensor };
}

/**
 * The layer `prefix` (`prefix.weight`, and `prefix.bias` when `bias`). Gradients are read only
 * when a backward uses them, so a forward never allocates them (see `Parameters`).
 */
export const linearWeights = (params: Parameters, prefix: string, bias: boolean): LinearWeights => {
  const w = params.get(`${prefix}.weight`);
  const b = bias ? params.get(`${prefix}.bias`) : undefined;
  return {
    weight: w.value,
    get weightGrad() {
      return w.grad;
    },
    ...(b
      ? {
        bias: {
          value: b.value,
          get grad() {
            return b.grad;
          },
        },
      }
      : {}),
  };
};

/** Output rows [start, start + count) of a layer, as a layer of its own (no copy). */
export const sliceOutputs = (
  rt: GpuRuntime,
  layer: LinearWeights,
  start: number,
  count: number,
): LinearWeights => {
  const bias = layer.bias;
  return {
    weight: rowSlice(rt, layer.weight, start, count),
    get weightGrad() {
      return rowSlice(rt, layer.weightGrad, start, count);
    },
    ...(bias
      ? {
        bias: {
          value: rowSlice(rt, bias.value, start, count),
          get grad() {
            return rowSlice(rt, bias.grad, start, count);
          },
        },
      }
      : {}),
  };
};

/** Records y [rows, out] = x [rows, in] · Wᵀ (+ b). */
export const linearForward = (
  rec: CommandRecorder,
  layer: LinearWeights,
  x: Tensor,
  y: Tensor,
): void => {
  if (layer.bias) matmul(rec, x, layer.weight, y, { layout: "NT", bias: layer.bias.value });
  else matmul(rec, x, layer.weight, y, { layout: "NT" });
};

/**
 * Records the backward of `linearForward`: accumulates dW (and db) into the gradients and writes
 * dx, or adds it into dx when `accumulateDx` (several layers reading the same input). dx may be
 * omitted when the input needs no gradient (pixel patches).
 */
export const linearBackward = (
  rec: CommandRecorder,
  layer: LinearWeights,
  x: Tensor,
  dy: Tensor,
  dx: Tensor | undefined,
  { accumulateDx = false }: { readonly accumulateDx?: boolean } = {},
): void => {
  matmul(rec, dy, x, layer.weightGrad, { layout: "TN", accumulate: true });
  if (layer.bias) biasGrad(rec, dy, layer.bias.grad, { accumulate: true });
  if (dx !== undefined) {
    matmul(rec, dy, layer.weight, dx, { layout: "NN", accumulate: accumulateDx });
  }
};
