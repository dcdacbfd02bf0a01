/**
 * One scene renderer (and one GPU device) shared by every test module of a `deno test` process,
 * disposed when the process unloads.
 *
 * @module
 */
import { Layer, ManagedRuntime } from "effect";
import { Gpu } from "../../src/gpu/gpu.ts";
import { SceneRenderer } from "../../src/scene/render.ts";

/** Runs effects that need `SceneRenderer`. */
export const rendererRuntime = ManagedRuntime.make(
  SceneRenderer.layer.pipe(Layer.provide(Gpu.layer)),
);
globalThis.addEventListener("unload", () => {
  rendererRuntime.dispose();
});
