/**
 * The tfjs-webgpu peer: @tensorflow/tfjs-backend-webgpu 4.22.0 in this Deno process. It requests
 * its own device from `navigator.gpu`, so it runs on the same adapter and driver as our kernels,
 * and its `tf.time` reports GPU-timestamp kernel time, like ours.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-webgpu";
import { type MatmulCase, median, type TimingOptions } from "../lib.ts";

/** tfjs on its WebGPU backend, or why it could not start. */
export type TfjsPeer =
  | { readonly ok: true; readonly tf: typeof tf }
  | { readonly ok: false; readonly reason: string };

let peer: Promise<TfjsPeer> | undefined;

/** Starts tfjs's WebGPU backend once per process. */
export const tfjsWebgpu = (): Promise<TfjsPeer> => {
  peer ??= (async (): Promise<TfjsPeer> => {
    try {
      if (!(await tf.setBackend("webgpu"))) return { ok: false, reason: "setBackend failed" };
      await tf.ready();
      return { ok: true, tf };
    } catch (cause) {
      return { ok: false, reason: `tfjs-webgpu failed to start: ${String(cause)}` };
    }
  })();
  return peer;
};

/**
 * Median GPU kernel milliseconds of `tf.matMul` for one case (operands stored as in the case's
 * layout and passed with tfjs's transpose flags), after `warmup` untimed calls.
 */
export const timeTfjsMatmul = async (
  t: typeof tf,
  c: MatmulCase,
  { warmup = 1, reps = 5 }: TimingOptions = {},
): Promise<number> => {
  const lead = c.batch > 1 ? [c.batch] : [];
  const a = t.randomUniform([...lead, ...(c.layout === "TN" ? [c.k, c.m] : [c.m, c.k])]);
  const b = t.randomUniform([
    ...(c.broadcastB ? [] : lead),
    ...(c.layout === "NT" ? [c.n, c.k] : [c.k, c.n]),
  ]);
  const run = () => t.matMul(a, b, c.layout === "TN", c.layout === "NT");
  try {
    for (let i = 0; i < warmup; i++) {
      const out = run();
      await out.data();
      out.dispose();
    }
    const samples: number[] = [];
    for (let i = 0; i < reps; i++) {
      let out: tf.Tensor | undefined;
      const info = await t.time(() => {
        out = run();
      });
      await out?.data();
      out?.dispose();
      samples.push(info.kernelMs as number);
    }
    return median(samples);
  } finally {
    a.dispose();
    b.dispose();
  }
};
