/**
 * `deno run -A bench/observation_probe.ts CHECKPOINT [DATA] [N]`: teacher-forced accuracy on the
 * SFT observation's object names over the first N (default 160) validation records of DATA
 * (default data/generated/stvqa-synth) — whether a checkpoint reads the question
 * (src/program/observation_probe.ts).
 *
 * @module
 */
import { Effect, Stream } from "effect";
import { readJsonl } from "../src/dataset/jsonl.ts";
import { StvqaRecord } from "../src/dataset/record.ts";
import { Arena } from "../src/gpu/buffer_pool.ts";
import { Gpu } from "../src/gpu/gpu.ts";
import { GpuRuntime } from "../src/gpu/runtime.ts";
import { observationAccuracy } from "../src/program/observation_probe.ts";
import { type PromptExample, promptExample } from "../src/stages/examples.ts";
import { modelFromCheckpoint, processorSettings } from "../src/stages/model_setup.ts";

const [checkpoint, data = "data/generated/stvqa-synth", count = "160"] = Deno.args;
if (checkpoint === undefined) {
  console.error("usage: deno run -A bench/observation_probe.ts CHECKPOINT [DATA] [N]");
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
  const result = yield* Effect.promise(() =>
    observationAccuracy(setup, new Arena(rt.pool), examples)
  );
  console.log(
    `${checkpoint}: observation tokens ${(100 * result.accuracy).toFixed(1)} % of ` +
      `${result.tokens}, object-name tokens ${(100 * result.nameAccuracy).toFixed(1)} % of ` +
      `${result.nameTokens} (${records.length} val records of ${data})`,
  );
}).pipe(Effect.provide(Gpu.layer));
await Effect.runPromise(program);
