/**
 * `deno run -A bench/image_probe.ts CHECKPOINT [DATA] [N]`: does a checkpoint look at the image?
 * Teacher-forced loss on the SFT targets of the first N (default 64) validation records of DATA
 * (default data/generated/stvqa-synth), with each record's own image and with another scene's
 * (src/program/image_probe.ts). A model that reads the image has a higher box loss with the wrong
 * one.
 *
 * @module
 */
import { Effect, Stream } from "effect";
import { readJsonl } from "../src/dataset/jsonl.ts";
import { StvqaRecord } from "../src/dataset/record.ts";
import { Arena } from "../src/gpu/buffer_pool.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { GpuRuntime } from "../src/gpu/runtime.ts";
import { imageDependence } from "../src/program/image_probe.ts";
import { type PromptExample, promptExample } from "../src/stages/examples.ts";
import { modelFromCheckpoint, processorSettings } from "../src/stages/model_setup.ts";

const [checkpoint, data = "data/generated/stvqa-synth", count = "64"] = Deno.args;
if (checkpoint === undefined) {
  console.error("usage: deno run -A bench/image_probe.ts CHECKPOINT [DATA] [N]");
  Deno.exit(2);
}
const program = Effect.gen(function* () {
  const rt = new GpuRuntime(yield* Gpu);
  const setup = yield* modelFromCheckpoint(rt, checkpoint);
  const records = [...yield* Stream.runCollect(readJsonl(`${data}/val.jsonl`, StvqaRecord))]
    .slice(0, Number(count));
  const examples: PromptExample[] = [];
  for (const record of records) {
    examples.push(
      yield* promptExample(
        record,
        data,
        setup.tokenizer,
        processorSettings(setup.preprocessor),
        "compact",
      ),
    );
  }
  const r = yield* Effect.promise(() => imageDependence(setup, new Arena(rt.pool), examples));
  const row = (kind: "box" | "scene" | "text") =>
    `${kind.padEnd(5)} ${r.own[kind].toFixed(5)}  ${r.swapped[kind].toFixed(5)}  ` +
    `${(r.swapped[kind] - r.own[kind]).toFixed(5)}  (${r.tokens[kind]} tokens)`;
  console.log(
    `${checkpoint}: nats per token over ${r.examples} val records of ${data}\n` +
      `kind  own image  other image  difference\n${row("box")}\n${row("scene")}\n${row("text")}`,
  );
}).pipe(Effect.provide(Gpu.layer));
await Effect.runPromise(program);
