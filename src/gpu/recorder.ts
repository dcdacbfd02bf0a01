/**
 * The command recorder: a whole step (hundreds of dispatches) goes into one command encoder and one
 * compute pass, and is submitted once. Small per-dispatch parameters go into one uniform buffer
 * uploaded at submit. Readbacks are explicit: `read()` snapshots a tensor into a staging buffer,
 * `submit()` returns one `Readback` that waits for all of them at once (each wait costs ≥ 10 ms in
 * Deno).
 *
 * Binding convention for every kernel: storage buffers at @group(0) @binding(0..n-1) in the order
 * given, and, when `params` is passed, a uniform struct at @binding(n).
 *
 * @module
 */
import { Effect } from "effect";
import { GpuDeviceLost, TensorTooLarge } from "./errors.ts";
import type { GpuRuntime } from "./runtime.ts";
import { byteLength, type DType, numel, type Tensor } from "./tensor.ts";

/** One dispatch's work-group counts. */
export type Workgroups = readonly [number, number?, number?];

const UNIFORM_CHUNK = 64 * 1024;

interface ScheduledRead {
  readonly tensor: Tensor;
  readonly staging: GPUBuffer;
}

type HostArray = Float32Array | Uint32Array | Int32Array | Uint16Array;

const viewAs = (dtype: DType, bytes: ArrayBuffer, offset: number, length: number): HostArray => {
  switch (dtype) {
    case "f32":
      return new Float32Array(bytes, offset, length);
    case "u32":
      return new Uint32Array(bytes, offset, length);
    case "i32":
      return new Int32Array(bytes, offset, length);
    case "f16":
    case "bf16":
      return new Uint16Array(bytes, offset, length);
  }
};

/** Host copies of the tensors read in one submit, available after `resolve`. */
export class Readback {
  /** GPU waits (readbacks) made by this process: how programs are held to their budget. */
  static waits = 0;

  readonly #reads: ReadonlyArray<ScheduledRead>;
  readonly #timestamps: { buffer: GPUBuffer; labels: ReadonlyArray<string> } | undefined;

  constructor(
    reads: ReadonlyArray<ScheduledRead>,
    timestamps?: { buffer: GPUBuffer; labels: ReadonlyArray<string> },
  ) {
    this.#reads = reads;
    this.#timestamps = timestamps;
  }

  /**
   * Waits once for the GPU and returns every scheduled read, in the order `read()` was called,
   * plus the duration in nanoseconds of each timed section.
   */
  async resolve(): Promise<{ arrays: HostArray[]; timings: Map<string, number> }> {
    const arrays: HostArray[] = [];
    const timings = new Map<string, number>();
    // All maps wait concurrently: one ~10 ms poll round in Deno, not one per buffer.
    const maps = this.#reads.map(({ staging }) => staging.mapAsync(GPUMapMode.READ));
    if (this.#timestamps) maps.push(this.#timestamps.buffer.mapAsync(GPUMapMode.READ));
    if (maps.length > 0) Readback.waits++;
    await Promise.all(maps);
    for (const { tensor, staging } of this.#reads) {
      arrays.push(viewAs(tensor.dtype, staging.getMappedRange().slice(0), 0, numel(tensor.shape)));
      staging.unmap();
      staging.destroy();
    }
    if (this.#timestamps) {
      const ticks = new BigUint64Array(this.#timestamps.buffer.getMappedRange().slice(0));
      this.#timestamps.labels.forEach((label, i) => {
        const ns = Number(ticks[2 * i + 1]! - ticks[2 * i]!);
        timings.set(label, (timings.get(label) ?? 0) + ns);
      });
      this.#timestamps.buffer.unmap();
      this.#timestamps.buffer.destroy();
    }
    return { arrays, timings };
  }
}

/** Records dispatches, copies and reads for one submit. */
export class CommandRecorder {
  readonly runtime: GpuRuntime;
  readonly #encoder: GPUCommandEncoder;
  #pass: GPUComputePassEncoder | undefined;
  readonly #uniformChunks: { buffer: GPUBuffer; data: Uint8Array<ArrayBuffer>; used: number }[] =
    [];
  readonly #reads: ScheduledRead[] = [];
  readonly #timedLabels: string[] = [];
  #querySet: GPUQuerySet | undefined;
  #dispatches = 0;
  #submitted = false;

  constructor(runtime: GpuRuntime, label = "step") {
    this.runtime = runtime;
    this.#encoder = runtime.device.createCommandEncoder({ label });
  }

  /** Dispatches recorded so far. */
  get dispatchCount(): number {
    return this.#dispatches;
  }

  #computePass(): GPUComputePassEncoder {
    this.#pass ??= this.#encoder.beginComputePass();
    return this.#pass;
  }

  #endPass(): void {
    this.#pass?.end();
    this.#pass = undefined;
  }

  #uniform(params: ArrayBufferView): { buffer: GPUBuffer; offset: number; size: number } {
    const align = this.runtime.device.limits.minUniformBufferOffsetAlignment;
    const size = Math.max(16, Math.ceil(params.byteLength / 16) * 16);
    let chunk = this.#uniformChunks.at(-1);
    const alignedEnd = chunk ? Math.ceil(chunk.used / align) * align : 0;
    if (chunk === undefined || alignedEnd + size > chunk.data.byteLength) {
      const bytes = Math.max(UNIFORM_CHUNK, size);
      chunk = {
        buffer: this.runtime.device.createBuffer({
          size: bytes,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        }),
        data: new Uint8Array(bytes),
        used: 0,
      };
      this.#uniformChunks.push(chunk);
    }
    const offset = Math.ceil(chunk.used / align) * align;
    chunk.data.set(new Uint8Array(params.buffer, params.byteOffset, params.byteLength), offset);
    chunk.used = offset + size;
    return { buffer: chunk.buffer, offset, size };
  }

  /**
   * Records one dispatch. `bindings` are the storage buffers in binding order; `params`, if given,
   * is bound as a uniform after them.
   */
  dispatch(
    pipeline: GPUComputePipeline,
    bindings: ReadonlyArray<Tensor>,
    workgroups: Workgroups,
    params?: ArrayBufferView,
  ): void {
    const limit = this.runtime.maxBindingBytes;
    const entries: GPUBindGroupEntry[] = bindings.map((t, binding) => {
      const size = Math.max(4, Math.ceil(byteLength(t) / 4) * 4);
      if (size > limit) {
        throw new TensorTooLarge({ op: pipeline.label, bytes: size, limit });
      }
      return { binding, resource: { buffer: t.buffer, offset: t.offset, size } };
    });
    if (params !== undefined) {
      const u = this.#uniform(params);
      entries.push({
        binding: bindings.length,
        resource: { buffer: u.buffer, offset: u.offset, size: u.size },
      });
    }
    const bindGroup = this.runtime.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries,
    });
    const pass = this.#computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = workgroups;
    if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
    this.#dispatches++;
  }

  /**
   * Records `body`'s dispatches in a pass of its own whose GPU duration is reported under `label`
   * by `Readback.resolve` (needs the `timestamp-query` feature; otherwise just runs `body`).
   */
  timed(label: string, body: () => void): void {
    if (!this.runtime.features.timestamps) return body();
    this.#endPass();
    this.#querySet ??= this.runtime.device.createQuerySet({ type: "timestamp", count: 2 * 256 });
    const index = this.#timedLabels.length;
    if (index >= 256) throw new RangeError("timed: at most 256 timed sections per submit");
    this.#timedLabels.push(label);
    this.#pass = this.#encoder.beginComputePass({
      timestampWrites: {
        querySet: this.#querySet,
        beginningOfPassWriteIndex: 2 * index,
        endOfPassWriteIndex: 2 * index + 1,
      },
    });
    body();
    this.#endPass();
  }

  /** Copies `src` into `dst` (same byte length). */
  copy(src: Tensor, dst: Tensor): void {
    const bytes = byteLength(src);
    if (bytes !== byteLength(dst)) {
      throw new RangeError(`copy: ${bytes} bytes into ${byteLength(dst)}`);
    }
    this.#endPass();
    this.#encoder.copyBufferToBuffer(
      src.buffer,
      src.offset,
      dst.buffer,
      dst.offset,
      Math.ceil(bytes / 4) * 4,
    );
  }

  /** Schedules a readback of `t` as it is after everything recorded so far. */
  read(t: Tensor): void {
    this.#endPass();
    const bytes = Math.ceil(byteLength(t) / 4) * 4;
    const staging = this.runtime.device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.#encoder.copyBufferToBuffer(t.buffer, t.offset, staging, 0, bytes);
    this.#reads.push({ tensor: t, staging });
  }

  /** Finishes the encoder and submits it; the returned `Readback` holds the scheduled reads. */
  submit(): Readback {
    if (this.#submitted) throw new Error("CommandRecorder: submitted twice");
    this.#submitted = true;
    this.#endPass();
    const device = this.runtime.device;
    let timestamps: { buffer: GPUBuffer; labels: ReadonlyArray<string> } | undefined;
    if (this.#querySet && this.#timedLabels.length > 0) {
      const count = 2 * this.#timedLabels.length;
      const resolved = device.createBuffer({
        size: count * 8,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      const mapped = device.createBuffer({
        size: count * 8,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      this.#encoder.resolveQuerySet(this.#querySet, 0, count, resolved, 0);
      this.#encoder.copyBufferToBuffer(resolved, 0, mapped, 0, count * 8);
      timestamps = { buffer: mapped, labels: [...this.#timedLabels] };
    }
    for (const chunk of this.#uniformChunks) {
      device.queue.writeBuffer(chunk.buffer, 0, chunk.data.buffer, 0, chunk.used);
    }
    device.queue.submit([this.#encoder.finish()]);
    for (const chunk of this.#uniformChunks) chunk.buffer.destroy();
    this.#querySet?.destroy();
    return new Readback(this.#reads, timestamps);
  }
}

/**
 * Waits for a readback, failing with `GpuDeviceLost` instead of hanging if the device is lost.
 */
export const awaitReadback = (
  readback: Readback,
  lost: Effect.Effect<never, GpuDeviceLost>,
) =>
  Effect.raceFirst(
    Effect.promise(() => readback.resolve()),
    lost,
  );
