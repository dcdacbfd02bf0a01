/**
 * Does an SFT model read the question? Teacher-forced next-token accuracy on the observation of
 * the SFT target ("<observe>I see the red cube and the blue cone.</observe>"), whose object names
 * can only come from the question: a model that ignores the prompt scores about the base rate of
 * its favourite name, one that copies scores near 100 %. Cheaper and less noisy than decoding.
 *
 * @module
 */
import type { Arena } from "../gpu/buffer_pool.ts";
import { type PromptExample, type SceneRelations, sftSample } from "../stages/examples.ts";
import type { ModelSetup } from "../stages/model_setup.ts";
import { visitResponseLogits } from "./teacher_forced.ts";

/** Accuracy over the observation's tokens, and over its object-name tokens alone. */
export interface ObservationAccuracy {
  readonly tokens: number;
  readonly accuracy: number;
  readonly nameTokens: number;
  readonly nameAccuracy: number;
}

const OPENING = "<observe>I see";
const FILLER = new Set([" the", " and", "."]);

/**
 * Which response tokens (indices into `pieces`, the decoded response tokens) lie in the
 * observation after its fixed opening, and which of those name objects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { observationTokens } from "./observation_probe.ts";
 * const pieces = ["<observe>", "I", " see", " the", " red", " cube", ".", "</observe>", "<scene>"];
 * assert.deepEqual(observationTokens(pieces), { all: [3, 4, 5, 6], names: [4, 5] });
 * ```
 */
export const observationTokens = (
  pieces: ReadonlyArray<string>,
): { readonly all: number[]; readonly names: number[] } => {
  const text = pieces.join("");
  const end = text.indexOf("</observe>");
  const all: number[] = [];
  let offset = 0;
  pieces.forEach((piece, i) => {
    if (offset >= OPENING.length && offset < end) all.push(i);
    offset += piece.length;
  });
  return { all, names: all.filter((i) => !FILLER.has(pieces[i]!)) };
};

/**
 * Teacher-forced observation accuracy of `setup`'s model on `examples` (their SFT targets with
 * `relations`), `batchSize` sequences per forward. One readback per batch.
 */
export const observationAccuracy = async (
  setup: ModelSetup,
  arena: Arena,
  examples: ReadonlyArray<PromptExample>,
  { batchSize = 8, relations = "cited" }: {
    readonly batchSize?: number;
    readonly relations?: SceneRelations;
  } = {},
): Promise<ObservationAccuracy> => {
  const imEnd = setup.generation.eos_token_id[0]!;
  const V = setup.config.vocab_size;
  let tokens = 0, hits = 0, nameTokens = 0, nameHits = 0;
  const samples = examples.map((e) => sftSample(e, setup.tokenizer, imEnd, { relations }));
  await visitResponseLogits(setup, arena, samples, batchSize, (s, logits) => {
    const response = s.tokens.slice(s.responseStart);
    const { all, names } = observationTokens(response.map((id) => setup.tokenizer.decode([id])));
    const named = new Set(names);
    for (const k of all) {
      const { z, offset } = logits(k);
      let best = 0;
      for (let v = 1; v < V; v++) if (z[offset + v]! > z[offset + best]!) best = v;
      const correct = best === response[k];
      tokens++;
      if (correct) hits++;
      if (named.has(k)) {
        nameTokens++;
        if (correct) nameHits++;
      }
    }
  });
  return {
    tokens,
    accuracy: hits / Math.max(1, tokens),
    nameTokens,
    nameAccuracy: nameHits / Math.max(1, nameTokens),
  };
};
