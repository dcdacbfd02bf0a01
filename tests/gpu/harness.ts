/**
 * Test harness for GPU kernels: one device per test file, seeded random inputs, closeness checks
 * with named tolerances, and a record-submit-read helper.
 *
 * @module
 */
import { Effect, Scope } from "effect";
import { makeGpu } from "../../src/gpu/gpu.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import { GpuRuntime } from "../../src/gpu/runtime.ts";
import type { Tensor } from "../../src/gpu/tensor.ts";

let shared: Promise<GpuRuntime> | undefined;

/** The runtime shared by all tests of this process (the device lives until the process ends). */
export const sharedRuntime = (): Promise<GpuRuntime> => {
  shared ??= (async () => {
    // The device lives until the process exits; destroying it during unload has crashed
    // lavapipe's teardown ("double free") after every test had passed.
    const gpu = await Effect.runPromise(Scope.provide(makeGpu, Scope.makeUnsafe()));
    return new GpuRuntime(gpu);
  })();
  return shared;
};

/** `Deno.test` with the shared runtime; GPU work leaves async ops behind, so sanitizers are off. */
export const gpuTest = (name: string, fn: (rt: GpuRuntime) => Promise<void>): void => {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => fn(await sharedRuntime()),
  });
};

/** mulberry32: a small seeded PRNG giving floats in [0, 1). */
export const seededRandom = (seed: number): () => number => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** `n` floats uniform in [-scale, scale). */
export const randomArray = (
  n: number,
  rng: () => number,
  scale = 1,
): Float32Array<ArrayBuffer> => {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng() * 2 - 1) * scale;
  return out;
};

/** Fails with the worst element unless |a - e| ≤ atol + rtol·|e| everywhere (NaN never passes). */
export const assertAllClose = (
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6, label = "" }: { rtol?: number; atol?: number; label?: string } = {},
): void => {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length} != expected ${expected.length}`);
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (Number.isNaN(a) || Number.isNaN(excess) || excess > worstExcess) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
      if (Number.isNaN(a)) break;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} ` +
        `(rtol ${rtol}, atol ${atol})`,
    );
  }
};

/** Records with `body`, reads back the tensors it returns, submits once and waits once. */
export const runAndRead = async (
  rt: GpuRuntime,
  body: (rec: CommandRecorder) => ReadonlyArray<Tensor>,
): Promise<Array<Float32Array | Uint32Array | Int32Array | Uint16Array>> => {
  // Validation errors (a bad shader, a binding mismatch) are otherwise only logged: fail on them.
  rt.device.pushErrorScope("validation");
  const rec = new CommandRecorder(rt, "test");
  for (const t of body(rec)) rec.read(t);
  const readback = rec.submit();
  const error = await rt.device.popErrorScope();
  if (error !== null) throw new Error(`GPU validation error: ${error.message}`);
  const { arrays } = await readback.resolve();
  return arrays;
};
