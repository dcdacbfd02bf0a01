/**
 * The `Gpu` service: one WebGPU device with the limits and features this project needs, acquired
 * in a scope and destroyed on release.
 *
 * @module
 */
import { Context, Effect, Layer, type Scope } from "effect";
import { describeAdapter, requestAdapter } from "./adapter.ts";
import { GpuDeviceLost, GpuUnavailable } from "./errors.ts";

/** Optional device capabilities that select kernel variants. */
export interface GpuFeatures {
  /** `shader-f16`: f16 storage and arithmetic in WGSL (`enable f16;`). */
  readonly f16: boolean;
  /** Subgroup builtins (Vulkan; hidden from `adapter.features` in Deno but accepted). */
  readonly subgroups: boolean;
  /** `timestamp-query`: GPU timing of compute passes, for benchmarks. */
  readonly timestamps: boolean;
}

/** What every GPU-using module receives. */
export interface GpuShape {
  readonly device: GPUDevice;
  readonly adapterDescription: string;
  readonly features: GpuFeatures;
  /** Fails with `GpuDeviceLost` once the device is lost; never succeeds. Race waits against it. */
  readonly lost: Effect.Effect<never, GpuDeviceLost>;
}

/** Limits we raise to the adapter's maximum (Deno otherwise hands out WebGPU defaults). */
const RAISED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "maxBindGroups",
  "maxUniformBufferBindingSize",
  "maxColorAttachmentBytesPerSample",
  "maxTextureDimension2D",
] as const;

/** Alignment limits are better when smaller: ask for the adapter's. */
const ALIGNMENT_LIMITS = [
  "minStorageBufferOffsetAlignment",
  "minUniformBufferOffsetAlignment",
] as const;

const requiredLimitsOf = (adapter: GPUAdapter): Record<string, number> => {
  const limits: Record<string, number> = {};
  for (const name of [...RAISED_LIMITS, ...ALIGNMENT_LIMITS]) limits[name] = adapter.limits[name];
  return limits;
};

const tryRequestDevice = (adapter: GPUAdapter, features: ReadonlyArray<string>) =>
  Effect.tryPromise({
    try: () =>
      adapter.requestDevice({
        requiredFeatures: features as GPUFeatureName[],
        requiredLimits: requiredLimitsOf(adapter),
      }),
    catch: (cause) => new GpuUnavailable({ reason: `requestDevice failed: ${String(cause)}` }),
  });

/** Requests a device with every useful feature the adapter has, trying subgroups first. */
const requestDevice = (adapter: GPUAdapter) => {
  const standard = (["shader-f16", "timestamp-query"] as const).filter((f) =>
    adapter.features.has(f)
  );
  return tryRequestDevice(adapter, [...standard, "subgroups"]).pipe(
    Effect.map((device) => ({ device, subgroups: true })),
    Effect.catch(() =>
      tryRequestDevice(adapter, standard).pipe(
        Effect.map((device) => ({ device, subgroups: false })),
      )
    ),
  );
};

/** Acquires the adapter and device; the device is destroyed when the scope closes. */
export const makeGpu: Effect.Effect<GpuShape, GpuUnavailable, Scope.Scope> = Effect
  .gen(function* () {
    const adapter = yield* requestAdapter;
    const { device, subgroups } = yield* Effect.acquireRelease(
      requestDevice(adapter),
      ({ device }) => Effect.sync(() => device.destroy()),
    );
    // A validation error means a bug in our kernels or launchers: never let it pass silently.
    device.addEventListener("uncapturederror", (event) => {
      console.error(`WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
    });
    const lostInfo = device.lost;
    const lost = Effect.promise(() => lostInfo).pipe(
      Effect.flatMap((info) =>
        Effect.fail(new GpuDeviceLost({ reason: String(info.reason), detail: info.message }))
      ),
    );
    return {
      device,
      adapterDescription: describeAdapter(adapter),
      features: {
        f16: device.features.has("shader-f16"),
        subgroups,
        timestamps: device.features.has("timestamp-query"),
      },
      lost,
    };
  });

/**
 * The WebGPU device as an Effect service.
 *
 * @example Run a program with a GPU
 * ```ts
 * import { Effect } from "effect";
 * import { Gpu } from "./gpu.ts";
 *
 * const program = Effect.gen(function* () {
 *   const gpu = yield* Gpu;
 *   return gpu.device.limits.maxStorageBufferBindingSize;
 * });
 * const bytes = await Effect.runPromise(Effect.provide(program, Gpu.layer));
 * if (bytes < 128 * 1024 * 1024) throw new Error("binding limit not raised");
 * ```
 */
export class Gpu extends Context.Service<Gpu, GpuShape>()("spatial-thinker/gpu/Gpu") {
  /** A scoped layer: one device for the lifetime of the program. */
  static readonly layer: Layer.Layer<Gpu, GpuUnavailable> = Layer.effect(Gpu, makeGpu);
}
