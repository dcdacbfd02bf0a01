import assert from "node:assert/strict";
import { Effect } from "effect";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { packBatch } from "../../src/nn/batch.ts";
import { AdamW } from "../../src/nn/optimizer.ts";
import { recordSftLoss } from "../../src/nn/sft_loss.ts";
import { optimizerStep } from "../../src/nn/train_step.ts";
import {
  groundingImageDependence,
  imageDependence,
  swapImages,
} from "../../src/program/image_probe.ts";
import {
  groundingItems,
  groundingQuestion,
  groundingSample,
} from "../../src/stages/grounding_examples.ts";
import { singleImagePrompt } from "../../src/text/chat_template.ts";
import { type PromptExample, sftSample } from "../../src/stages/examples.ts";
import { modelFromPreset } from "../../src/stages/model_setup.ts";
import { gpuTest } from "../gpu/harness.ts";
import { fixtureRecord, noiseImageExample } from "../stages/model_fixtures.ts";

/** The fixture record with its boxes moved and another image file: same prompt, other target. */
const movedRecord = {
  ...fixtureRecord,
  image: "images/000001.png",
  answer_option_text: fixtureRecord.answer_option_text
    .replace("[30, 25, 49, 54]", "[70, 61, 89, 90]")
    .replace("[16, 54, 36, 74]", "[56, 8, 76, 28]"),
};

Deno.test("swapImages pairs each example with another scene's image and skips orphans", () => {
  const example = (image: string, id: number) =>
    ({
      record: { ...fixtureRecord, image },
      promptTokens: [id],
      image: { pixelValues: new Float32Array([id]), grid: [1, 6, 6], imageTokens: 9 },
    }) as unknown as PromptExample;
  const a = example("a.png", 1), a2 = example("a.png", 2), b = example("b.png", 3);
  const { own, swapped } = swapImages([a, a2, b], (e) => e.record.image);
  assert.deepEqual(own.map((e) => e.promptTokens[0]), [1, 2, 3]);
  assert.deepEqual(swapped.map((e) => e.image.pixelValues[0]), [3, 3, 1]);
  assert.deepEqual(swapImages([a, a2], (e) => e.record.image).own, []);
});

gpuTest(
  "imageDependence: a model trained on one prompt with two images and two box sets needs the image",
  async (rt) => {
    const setup = await Effect.runPromise(modelFromPreset(rt, "tiny", 5));
    const examples = [
      noiseImageExample(setup, fixtureRecord, 2),
      noiseImageExample(setup, movedRecord, 3),
    ];
    assert.deepEqual(examples[0]!.promptTokens, examples[1]!.promptTokens);
    const arena = new Arena(rt.pool);
    const before = await imageDependence(setup, arena, examples);
    assert.equal(before.examples, 2);
    assert.ok(before.tokens.box > 0 && before.tokens.text > 0);

    const optimizer = new AdamW(rt, setup.vlm.params, {
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      maxGradNorm: 1,
    });
    const imEnd = setup.generation.eos_token_id[0]!;
    const batch = packBatch(
      setup.config,
      examples.map((e) => sftSample(e, setup.tokenizer, imEnd, { relations: "cited" })),
      setup.generation.pad_token_id,
    );
    for (let step = 0; step < 90; step++) {
      await optimizerStep(setup.vlm, optimizer, arena, 1e-3, (rec) => [
        recordSftLoss(rec, arena, setup.vlm, batch),
      ]);
    }
    const after = await imageDependence(setup, arena, examples);
    // The prompts are equal, so only the image tells the two box sets apart: with the wrong image
    // the first coordinate that differs is mispredicted (teacher forcing gives away the rest).
    assert.ok(after.own.box < 0.2, `own-image box loss ${after.own.box}`);
    assert.ok(after.swapped.box - after.own.box > 0.5, JSON.stringify(after));
    assert.ok(Math.abs(after.swapped.text - after.own.text) < 0.05, JSON.stringify(after));
    assert.ok(Math.abs(before.swapped.box - before.own.box) < 0.1, JSON.stringify(before));
  },
);

gpuTest(
  "groundingImageDependence scores the box digits of grounding targets, own vs swapped",
  async (rt) => {
    const setup = await Effect.runPromise(modelFromPreset(rt, "tiny", 6));
    const [item] = groundingItems([fixtureRecord]);
    const examples = [2, 3].map((seed, i) => {
      const { image } = noiseImageExample(setup, fixtureRecord, seed);
      const scene = { ...item!, record: { ...item!.record, image: `images/${i}.png` } };
      const text = singleImagePrompt(groundingQuestion(scene), image.imageTokens);
      return { item: scene, image, promptTokens: setup.tokenizer.encode(text) };
    });
    const result = await groundingImageDependence(setup, new Arena(rt.pool), examples);
    const target = groundingSample(examples[0]!, setup.tokenizer, 0);
    const digits = target.tokens.slice(target.responseStart)
      .filter((id) => /\d/.test(setup.tokenizer.decode([id]))).length;
    assert.equal(result.examples, 2);
    assert.equal(result.tokens.box, 2 * digits);
    assert.ok(Number.isFinite(result.own.box) && Number.isFinite(result.swapped.box));
    assert.notEqual(result.own.box, result.swapped.box);
  },
);
