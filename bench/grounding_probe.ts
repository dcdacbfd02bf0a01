/**
 * `deno run -A bench/grounding_probe.ts CHECKPOINT [DATA] [N]`: greedy grounding answers ("Where is
 * the red cube?" → box) of a checkpoint on the first N (default 200) grounding questions of DATA's
 * validation scenes (default data/generated/stvqa-synth): mean IoU, share with IoU ≥ 0.5, median
 * centre error beside an image-centre guess (src/program/grounding_eval.ts); and the teacher-forced
 * box loss with each question's own image and with another scene's (src/program/image_probe.ts):
 * a model that looks has a higher loss with the wrong picture.
 *
 * @module
 */
import { Effect, Stream } from "effect";
import { readJsonl } from "../src/dataset/jsonl.ts";
import { StvqaRecord } from "../src/dataset/record.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { GpuRuntime } from "../src/gpu/runtime.ts";
import { Arena } from "../src/gpu/buffer_pool.ts";
import { evaluateGrounding } from "../src/program/grounding_eval.ts";
import { groundingImageDependence } from "../src/program/image_probe.ts";
import {
  cachedGroundingExamples,
  type GroundingExample,
  groundingItems,
} from "../src/stages/grounding_examples.ts";
import { modelFromCheckpoint, processorSettings } from "../src/stages/model_setup.ts";

const [checkpoint, data = "data/generated/stvqa-synth", count = "200"] = Deno.args;
if (checkpoint === undefined) {
  console.error("usage: deno run -A bench/grounding_probe.ts CHECKPOINT [DATA] [N]");
  Deno.exit(2);
}
const program = Effect.gen(function* () {
  const rt = new GpuRuntime(yield* Gpu);
  const setup = yield* modelFromCheckpoint(rt, checkpoint);
  const val = [...yield* Stream.runCollect(readJsonl(`${data}/val.jsonl`, StvqaRecord))];
  const items = groundingItems(val).slice(0, Number(count));
  const example = cachedGroundingExamples(
    items,
    data,
    setup.tokenizer,
    processorSettings(setup.preprocessor),
  );
  const examples: GroundingExample[] = [];
  for (let i = 0; i < items.length; i++) examples.push(yield* example(i));
  const summary = yield* Effect.promise(() =>
    evaluateGrounding(setup, examples, { batchSize: 8, seed: 1 })
  );
  const gap = yield* Effect.promise(() =>
    groundingImageDependence(setup, new Arena(rt.pool), examples)
  );
  console.log(
    `${checkpoint}: ${JSON.stringify(summary)}\n` +
      `box loss (nats per token, ${gap.tokens.box} tokens): own image ${gap.own.box.toFixed(4)}, ` +
      `another scene's ${gap.swapped.box.toFixed(4)}`,
  );
}).pipe(Effect.provide(Gpu.layer));
await Effect.runPromise(program);
