/**
 * The per-device runtime every op uses: device, buffer pool, pipeline cache and the defines that
 * pick kernel variants from device facts.
 *
 * @module
 */
import { BufferPool, TENSOR_USAGE } from "./buffer_pool.ts";
import type { GpuFeatures, GpuShape } from "./gpu.ts";
import { PipelineCache } from "./pipelines.ts";
import { byteLength, type DType, type Tensor } from "./tensor.ts";

/** Device, memory and pipelines, shared by every recorder of one program. */
export class GpuRuntime {
  readonly device: GPUDevice;
  readonly features: GpuFeatures;
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;

  constructor(gpu: Pick<GpuShape, "device" | "features">) {
    this.device = gpu.device;
    this.features = gpu.features;
    this.pool = new BufferPool(gpu.device);
    this.pipelines = new PipelineCache(gpu.device, { SUBGROUPS: gpu.features.subgroups });
  }

  /** Largest byte range one storage binding may cover on this device. */
  get maxBindingBytes(): number {
    return this.device.limits.maxStorageBufferBindingSize;
  }

  /** A long-lived tensor in its own buffer (weights, optimizer state), optionally filled. */
  createTensor(
    shape: ReadonlyArray<number>,
    dtype: DType = "f32",
    data?: ArrayBufferView<ArrayBuffer>,
  ): Tensor {
    const bytes = byteLength({ shape, dtype });
    const buffer = this.device.createBuffer({
      size: Math.max(16, Math.ceil(bytes / 4) * 4),
      usage: TENSOR_USAGE,
    });
    const tensor = { shape, dtype, buffer, offset: 0 };
    if (data !== undefined) this.write(tensor, data);
    return tensor;
  }

  /** Uploads host data into a tensor (queued before the next submit). */
  write(t: Tensor, data: ArrayBufferView<ArrayBuffer>): void {
    const bytes = byteLength(t);
    if (data.byteLength !== bytes) {
      throw new RangeError(`write: ${data.byteLength} bytes given for a tensor of ${bytes} bytes`);
    }
    const padded = bytes % 4 === 0 ? data : (() => {
      const copy = new Uint8Array(Math.ceil(bytes / 4) * 4);
      copy.set(new Uint8Array(data.buffer, data.byteOffset, bytes));
      return copy;
    })();
    this.device.queue.writeBuffer(
      t.buffer,
      t.offset,
      padded.buffer,
      padded.byteOffset,
      padded.byteLength,
    );
  }
}
