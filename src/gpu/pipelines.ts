/**
 * Compute pipelines cached by kernel file, entry point, defines and override constants. Pipeline
 * creation is synchronous in Deno (1–15 ms each on lavapipe), so models build every pipeline they
 * need before the first step.
 *
 * @module
 */
import { preprocess, readKernelFile, type ShaderDefines } from "./kernel_source.ts";

/** What identifies one pipeline. */
export interface PipelineSpec {
  /** File under kernels/, e.g. "matmul.wgsl". */
  readonly kernel: string;
  readonly entryPoint?: string;
  readonly defines?: ShaderDefines;
  /** Pipeline-overridable constants (`override` declarations), e.g. tile sizes. */
  readonly constants?: Readonly<Record<string, number>>;
}

const keyOf = (spec: PipelineSpec): string => {
  const sorted = (r: Readonly<Record<string, unknown>> | undefined) =>
    Object.entries(r ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([
    spec.kernel,
    spec.entryPoint ?? "main",
    sorted(spec.defines),
    sorted(spec.constants),
  ]);
};

/** One cache per device. */
export class PipelineCache {
  readonly #device: GPUDevice;
  readonly #defaults: ShaderDefines;
  readonly #modules = new Map<string, GPUShaderModule>();
  readonly #pipelines = new Map<string, GPUComputePipeline>();

  /** `defaults` are defines every kernel sees (e.g. SUBGROUPS from device features). */
  constructor(device: GPUDevice, defaults: ShaderDefines = {}) {
    this.#device = device;
    this.#defaults = defaults;
  }

  /** Number of pipelines built so far. */
  get size(): number {
    return this.#pipelines.size;
  }

  /** The pipeline for `spec`, built on first use. */
  get(spec: PipelineSpec): GPUComputePipeline {
    const key = keyOf(spec);
    const cached = this.#pipelines.get(key);
    if (cached !== undefined) return cached;
    const defines = { ...this.#defaults, ...spec.defines };
    const code = preprocess(readKernelFile(spec.kernel), defines);
    const moduleKey = `${spec.kernel}|${JSON.stringify(Object.entries(defines).sort())}`;
    let module = this.#modules.get(moduleKey);
    if (module === undefined) {
      module = this.#device.createShaderModule({ label: spec.kernel, code });
      this.#modules.set(moduleKey, module);
    }
    const pipeline = this.#device.createComputePipeline({
      label: `${spec.kernel}:${spec.entryPoint ?? "main"}`,
      layout: "auto",
      compute: {
        module,
        entryPoint: spec.entryPoint ?? "main",
        ...(spec.constants ? { constants: { ...spec.constants } } : {}),
      },
    });
    this.#pipelines.set(key, pipeline);
    return pipeline;
  }
}
