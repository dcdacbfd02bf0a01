/**
 * A pool of storage buffers reused across steps, and an arena that hands out tensors for one step
 * and returns them all at once. Buffers are bucketed by size class so that a step with the same
 * shapes as the last one allocates nothing.
 *
 * @module
 */
import { TensorTooLarge } from "./errors.ts";
import { byteLength, type DType, type Tensor } from "./tensor.ts";

/** Usage of every tensor buffer: bindable as storage, copyable both ways. */
export const TENSOR_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

/** Rounds up to the next size class: powers of two split into four steps (≤ 25% waste). */
export const sizeClass = (bytes: number): number => {
  const min = 256;
  if (bytes <= min) return min;
  const pow = 2 ** Math.floor(Math.log2(bytes - 1));
  const step = pow / 4;
  return Math.ceil(bytes / step) * step;
};

/** Free buffers by size class. */
export class BufferPool {
  readonly #device: GPUDevice;
  readonly #free = new Map<number, GPUBuffer[]>();
  #allocatedBytes = 0;

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** Total bytes of GPU memory this pool has created. */
  get allocatedBytes(): number {
    return this.#allocatedBytes;
  }

  /** A buffer of at least `bytes` bytes, reused when one is free. */
  acquire(bytes: number, op = "alloc"): GPUBuffer {
    const size = sizeClass(bytes);
    const limit = this.#device.limits.maxBufferSize;
    if (size > limit) throw new TensorTooLarge({ op, bytes, limit });
    const reused = this.#free.get(size)?.pop();
    if (reused !== undefined) return reused;
    this.#allocatedBytes += size;
    return this.#device.createBuffer({ size, usage: TENSOR_USAGE });
  }

  /** Returns a buffer for reuse. The caller must not use it afterwards. */
  release(buffer: GPUBuffer): void {
    const list = this.#free.get(buffer.size);
    if (list) list.push(buffer);
    else this.#free.set(buffer.size, [buffer]);
  }

  /** Destroys every free buffer. */
  trim(): void {
    for (const list of this.#free.values()) {
      for (const b of list) {
        this.#allocatedBytes -= b.size;
        b.destroy();
      }
    }
    this.#free.clear();
  }
}

/** Tensors for one step; `reset()` returns all of them to the pool. */
export class Arena {
  readonly #pool: BufferPool;
  readonly #live: GPUBuffer[] = [];

  constructor(pool: BufferPool) {
    this.#pool = pool;
  }

  /** A fresh tensor (contents undefined: reused memory is not cleared). */
  alloc(shape: ReadonlyArray<number>, dtype: DType = "f32"): Tensor {
    const buffer = this.#pool.acquire(Math.max(4, byteLength({ shape, dtype })));
    this.#live.push(buffer);
    return { shape, dtype, buffer, offset: 0 };
  }

  /** Hands every tensor of this arena back to the pool. */
  reset(): void {
    for (const b of this.#live) this.#pool.release(b);
    this.#live.length = 0;
  }
}
