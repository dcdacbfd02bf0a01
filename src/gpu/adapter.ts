/**
 * Finding a WebGPU adapter. Kept apart from the device service so that the preflight can probe
 * without creating a device.
 *
 * @module
 */
import { Effect } from "effect";
import { GpuUnavailable } from "./errors.ts";

/** wgpu's Vulkan loader warns when XDG_RUNTIME_DIR is unset; give it a private folder. */
const ensureRuntimeDir = (): void => {
  if (Deno.env.get("XDG_RUNTIME_DIR")) return;
  const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/xdg-runtime-${Deno.uid() ?? "user"}`;
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  Deno.env.set("XDG_RUNTIME_DIR", dir);
};

/** Requests the high-performance adapter, failing with `GpuUnavailable` when there is none. */
export const requestAdapter: Effect.Effect<GPUAdapter, GpuUnavailable> = Effect.gen(function* () {
  ensureRuntimeDir();
  if (typeof navigator === "undefined" || navigator.gpu === undefined) {
    return yield* new GpuUnavailable({ reason: "this runtime has no navigator.gpu" });
  }
  const adapter = yield* Effect.tryPromise({
    try: () => navigator.gpu.requestAdapter({ powerPreference: "high-performance" }),
    catch: (cause) => new GpuUnavailable({ reason: `requestAdapter failed: ${String(cause)}` }),
  });
  if (adapter === null) {
    return yield* new GpuUnavailable({ reason: "requestAdapter() returned null" });
  }
  return adapter;
});

/** One line naming the adapter: vendor, architecture, device and description. */
export const describeAdapter = (adapter: GPUAdapter): string => {
  const info = adapter.info;
  return [info.vendor, info.architecture, info.device, info.description]
    .filter((part) => part.length > 0)
    .join(" / ");
};

/**
 * Whether the device is a CPU rasteriser (Mesa lavapipe/llvmpipe, SwiftShader). There one thread
 * runs a whole workgroup, so a few large workgroups beat many small ones, and strided reads along
 * K are expensive (see `matmul`'s NT path).
 */
export const isCpuAdapter = (device: GPUDevice): boolean => {
  const info = device.adapterInfo;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  return /llvmpipe|lavapipe|swiftshader|software/i.test(text);
};
