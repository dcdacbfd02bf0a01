/**
 * The policy being trained, shared by the `reason` and `update` stages: the model, its frozen
 * reference copy for the KL term, and the optimizer. A service so that a program builds it once
 * (from a checkpoint, or a preset) and both GPU stages use the same weights.
 *
 * @module
 */
import { Context, Effect, Layer } from "effect";
import { Gpu } from "../gpu/gpu.ts";
import { GpuRuntime } from "../gpu/runtime.ts";
import type { PresetName } from "../nn/config.ts";
import { AdamW, type AdamWSettings } from "../nn/optimizer.ts";
import { Vlm } from "../nn/vlm.ts";
import { CommandRecorder } from "../gpu/recorder.ts";
import { modelFromCheckpoint, modelFromPreset, type ModelSetup } from "./model_setup.ts";

/** What the policy service holds. */
export interface PolicyShape {
  readonly setup: ModelSetup;
  /** Frozen copy of the starting weights (absent when the KL coefficient is 0). */
  readonly reference: Vlm | undefined;
  readonly optimizer: AdamW;
}

/** Where the policy's weights come from. */
export type PolicySource =
  | { readonly kind: "checkpoint"; readonly dir: string }
  | { readonly kind: "preset"; readonly preset: PresetName; readonly seed: number };

/** Reads the current weights of `vlm` back into a frozen copy (one readback, at start-up). */
const frozenCopy = (vlm: Vlm) =>
  Effect.promise(async () => {
    const rec = new CommandRecorder(vlm.runtime, "reference");
    vlm.params.read(rec);
    const { arrays } = await rec.submit().resolve();
    return new Vlm(vlm.runtime, vlm.config, vlm.params.collect(arrays));
  });

/** The policy as an Effect service. */
export class Policy
  extends Context.Service<Policy, PolicyShape>()("spatial-thinker/stages/Policy") {
  /** Builds the policy on the program's GPU. */
  static readonly layer = (
    source: PolicySource,
    optimizer: AdamWSettings,
    options: { readonly withReference: boolean },
  ) =>
    Layer.effect(
      Policy,
      Effect.gen(function* () {
        const rt = new GpuRuntime(yield* Gpu);
        const setup = source.kind === "checkpoint"
          ? yield* modelFromCheckpoint(rt, source.dir)
          : yield* modelFromPreset(rt, source.preset, source.seed);
        const reference = options.withReference ? yield* frozenCopy(setup.vlm) : undefined;
        return Policy.of({
          setup,
          reference,
          optimizer: new AdamW(rt, setup.vlm.params, optimizer),
        });
      }),
    );
}
