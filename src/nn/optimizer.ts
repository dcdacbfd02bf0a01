/**
 * AdamW over all of a model's parameters with global gradient-norm clipping, recorded on the GPU
 * without readbacks: one reduction writes [Σg², ‖g‖, clip scale], each parameter's update reads
 * the clip scale from that buffer.
 *
 * @module
 */
import type { Arena } from "../gpu/buffer_pool.ts";
import { adamw } from "../gpu/ops/adamw.ts";
import { gradClipStats, reductionScratchElements } from "../gpu/ops/reduce.ts";
import type { CommandRecorder } from "../gpu/recorder.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { Parameters } from "./parameters.ts";

/** AdamW hyper-parameters that stay fixed over a run. */
export interface AdamWSettings {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Global gradient-norm clip. */
  readonly maxGradNorm: number;
}

/** The optimizer: first and second moments per parameter, and the step count. */
export class AdamW {
  readonly settings: AdamWSettings;
  readonly #params: Parameters;
  readonly #m = new Map<string, Tensor>();
  readonly #v = new Map<string, Tensor>();
  /** Optimizer steps taken (the next step is `step + 1`). */
  step = 0;

  constructor(rt: GpuRuntime, params: Parameters, settings: AdamWSettings) {
    this.settings = settings;
    this.#params = params;
    // Moments start at zero: new WebGPU buffers are zero-initialised.
    for (const p of params.all()) {
      this.#m.set(
        p.name,
        rt.createTensor(p.value.shape),
      );
      this.#v.set(
        p.name,
        rt.createTensor(p.value.shape),
      );
    }
  }

  /** Records the global gradient norm: a [3] tensor [Σg², ‖g‖, clip scale] from `arena`. */
  gradientNorm(rec: CommandRecorder, arena: Arena): Tensor {
    const grads = this.#params.all().map((p) => p.grad);
    const scratch = arena.alloc([reductionScratchElements(rec.runtime, grads)]);
    const stats = arena.alloc([3]);
    gradClipStats(rec, grads, scratch, stats, { maxNorm: this.settings.maxGradNorm });
    return stats;
  }

  /** Records one AdamW update of every parameter at `lr`, gradients scaled by `clipStats`. */
  update(rec: CommandRecorder, clipStats: Tensor, lr: number): void {
    this.step++;
    const { beta1, beta2, eps, weightDecay } = this.settings;
    for (const p of this.#params.all()) {
      adamw(rec, p.value, p.grad, this.#m.get(p.name)!, this.#v.get(p.name)!, {
        lr,
        step: this.step,
        beta1,
        beta2,
        eps,
        weightDecay,
        clipStats,
      });
    }
  }

  /** Schedules a readback of both moments (`collect` names them after the submit). */
  read(rec: CommandRecorder): void {
    for (const p of this.#params.all()) rec.read(this.#m.get(p.name)!);
    for (const p of this.#params.all()) rec.read(this.#v.get(p.name)!);
  }

  /** Names the arrays of a `read` readback: first moments, then second moments. */
  collect(arrays: ReadonlyArray<ArrayLike<number>>) {
    const names = this.#params.all().map((p) => p.name);
    const m = new Map<string, Float32Array<ArrayBuffer>>();
    const v = new Map<string, Float32Array<ArrayBuffer>>();
    names.forEach((name, i) => {
      m.set(name, Float32Array.from(arrays[i]!));
      v.set(name, Float32Array.from(arrays[names.length + i]!));
    });
    return { m, v };
  }

  /** Restores moments and the step count from a checkpoint. */
  load(
    rt: GpuRuntime,
    state: {
      readonly m: ReadonlyMap<string, Float32Array>;
      readonly v: ReadonlyMap<string, Float32Array>;
      readonly step: number;
    },
  ): void {
    for (const [name, values] of state.m) rt.write(this.#m.get(name)!, Float32Array.from(values));
    for (const [name, values] of state.v) rt.write(this.#v.get(name)!, Float32Array.from(values));
    this.step = state.step;
  }
}
