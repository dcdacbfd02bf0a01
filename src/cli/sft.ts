/**
 * `deno task sft`: supervised fine-tuning of a preset model (default `tiny`) on dataset records.
 *
 * ```
 * deno task sft                                   # tiny preset, data/generated/stvqa-synth
 * deno task sft --steps 300 --out runs/sft-tiny --seed 1
 * deno task sft --resume --out runs/sft-tiny      # continue from the latest checkpoint
 * ```
 *
 * Every flag is a key of `SftOptions` (`--batch-size 16`, `--prompt-style paper`, …); the run
 * writes `<out>/sft_options.json`, `<out>/sft_metrics.jsonl`, `<out>/checkpoints/step-N/` and
 * `<out>/sft_eval.json`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Cause, Effect, Schema } from "effect";
import { Gpu } from "../gpu/gpu.ts";
import { runSft, SFT_DEFAULTS, SftOptions } from "../program/sft.ts";

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Parses `--kebab-case value` flags over the defaults and validates them with the schema. */
export const parseSftArgs = (args: ReadonlyArray<string>): SftOptions => {
  const options = Object.fromEntries(
    Object.entries(SFT_DEFAULTS).map(([key, value]) => [
      kebab(key),
      { type: typeof value === "boolean" ? "boolean" as const : "string" as const },
    ]),
  );
  options["init"] = { type: "string" };
  const { values } = parseArgs({ args: [...args], options, strict: true, allowPositionals: false });
  const merged: Record<string, unknown> = { ...SFT_DEFAULTS };
  for (const key of [...Object.keys(SFT_DEFAULTS), "init"]) {
    const raw = values[kebab(key)];
    if (raw === undefined) continue;
    const base = (SFT_DEFAULTS as Record<string, unknown>)[key];
    merged[key] = typeof base === "number" ? Number(raw) : raw;
  }
  return Schema.decodeUnknownSync(SftOptions)(merged);
};

if (import.meta.main) {
  const program = Effect.gen(function* () {
    const options = parseSftArgs(Deno.args);
    const result = yield* runSft(options);
    console.log(JSON.stringify(result, null, 2));
  }).pipe(Effect.provide(Gpu.layer));
  const exit = await Effect.runPromiseExit(program);
  if (exit._tag === "Failure") {
    const error = Cause.squash(exit.cause);
    console.error(`sft: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
