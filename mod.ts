/**
 * SpatialThinker on WebGPU: spatial-reasoning RL for vision-language models in TypeScript, with
 * hand-written WGSL kernels running through Deno's WebGPU.
 *
 * This module only re-exports. Every stage of the training step is an Effect service that a user
 * program can provide or replace.
 *
 * @example Acquire the GPU
 * ```ts
 * import { Effect } from "effect";
 * import { Gpu } from "./mod.ts";
 *
 * const adapter = await Effect.runPromise(
 *   Effect.provide(Gpu.useSync((gpu) => gpu.adapterDescription), Gpu.layer),
 * );
 * console.log(adapter);
 * ```
 *
 * @module
 */
export { Gpu, type GpuFeatures, type GpuShape } from "./src/gpu/gpu.ts";
export { GpuDeviceLost, GpuUnavailable, ShapeMismatch, TensorTooLarge } from "./src/gpu/errors.ts";
