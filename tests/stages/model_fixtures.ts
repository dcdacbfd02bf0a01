/**
 * Shared test data for tests that run the tiny model: the synthetic STVQA record fixture and a
 * prompt example for it over a seeded noise image.
 *
 * @module
 */
import { Schema } from "effect";
import { StvqaRecord } from "../../src/dataset/record.ts";
import { makeRng } from "../../src/domain/random.ts";
import { processImage } from "../../src/nn/image_processor.ts";
import { type PromptExample, promptText } from "../../src/stages/examples.ts";
import { type ModelSetup, processorSettings } from "../../src/stages/model_setup.ts";
import { singleImagePrompt } from "../../src/text/chat_template.ts";

/** `data/fixtures/stvqa/synthetic_record.json`, decoded. */
export const fixtureRecord: StvqaRecord = Schema.decodeUnknownSync(StvqaRecord)(
  JSON.parse(
    Deno.readTextFileSync(
      new URL("../../data/fixtures/stvqa/synthetic_record.json", import.meta.url),
    ),
  ),
);

/** The record's compact prompt over a 96×96 image of seeded noise, ready for `setup`'s model. */
export const noiseImageExample = (
  setup: ModelSetup,
  record: StvqaRecord = fixtureRecord,
  seed = 2,
): PromptExample => {
  const rng = makeRng(seed);
  const image = processImage(
    {
      width: 96,
      height: 96,
      data: Uint8Array.from({ length: 96 * 96 * 3 }, () => rng.int(0, 255)),
    },
    processorSettings(setup.preprocessor),
  );
  const text = singleImagePrompt(promptText(record, "compact"), image.imageTokens);
  return { record, image, promptTokens: setup.tokenizer.encode(text) };
};
