/**
 * Speed of the evaluation harness on the host: answer extraction and scoring of 10,000 outputs,
 * joining a 10,000-line predictions JSONL, and loading a 2,000-row CV-Bench-layout parquet file
 * with embedded images. Records per second = 10,000 (or 2,000) ÷ the reported time per
 * iteration. `deno bench -A bench/eval_bench.ts`
 */
import { Effect } from "effect";
import { parquetWriteBuffer } from "hyparquet-writer";
import { loadBenchmark } from "../src/eval/benchmarks.ts";
import { accuracyTable } from "../src/eval/metrics.ts";
import { parsePredictions } from "../src/eval/predictions.ts";
import type { EvalRecord } from "../src/eval/record.ts";
import { recordKey, scoreAll } from "../src/eval/scoring.ts";

const CHOICES = ["behind", "in front of", "left of", "right of"];
const records: Array<EvalRecord> = Array.from({ length: 10_000 }, (_, i) => ({
  id: String(i),
  benchmark: "stvqa",
  category: ["relation", "depth", "size", "count"][i % 4]!,
  question: "Where is the man with respect to the bike?",
  choices: CHOICES,
  answer: "ABCD"[i % 4]!,
  images: [],
}));
/** A realistic mix of output styles: tagged letter+text, text only, sentence, and unreadable. */
const outputText = (i: number): string => {
  const scene = '<scene>{"objects": [{"id": "man.1", "bbox": [1, 2, 30, 40]}]}</scene>';
  const think = "<think>The man stands further from the camera than the bike.</think>";
  switch (i % 4) {
    case 0:
      return `<observe>a man and a bike</observe>${scene}${think}<answer>(A) behind</answer>`;
    case 1:
      return `${scene}${think}<answer>in front of</answer>`;
    case 2:
      return `${think} So the answer is C.`;
    default:
      return `${think}<answer>near the tree</answer>`;
  }
};
const outputs = new Map(records.map((r, i) => [recordKey(r), outputText(i)]));
const predictionsJsonl = records.map((r, i) =>
  JSON.stringify({ id: r.id, prediction: outputText(i) })
).join("\n");

Deno.bench("extract + score + accuracy table, 10,000 outputs", () => {
  accuracyTable(scoreAll(records, outputs));
});

Deno.bench("join a 10,000-line predictions JSONL", () => {
  parsePredictions("bench.jsonl", predictionsJsonl, records);
});

const dir = await Deno.makeTempDir({ prefix: "eval-bench-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const rows = 2_000;
const image = new Uint8Array(4096).map((_, i) => i % 251);
await Deno.writeFile(
  `${dir}/test_2d.parquet`,
  new Uint8Array(parquetWriteBuffer({
    columnData: [
      { name: "idx", data: Array.from({ length: rows }, (_, i) => BigInt(i)) },
      { name: "type", data: Array.from({ length: rows }, () => "2D") },
      { name: "task", data: Array.from({ length: rows }, (_, i) => i % 2 ? "Count" : "Relation") },
      { name: "image", data: Array.from({ length: rows }, () => ({ bytes: image, path: null })) },
      { name: "question", data: Array.from({ length: rows }, () => "How many chairs?") },
      { name: "choices", data: Array.from({ length: rows }, () => ["1", "2", "3", "4"]) },
      { name: "answer", data: Array.from({ length: rows }, () => "(B)") },
    ],
    schema: [
      { name: "schema", num_children: 7 },
      { name: "idx", type: "INT64", repetition_type: "OPTIONAL" },
      { name: "type", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
      { name: "task", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
      { name: "image", repetition_type: "OPTIONAL", num_children: 2 },
      { name: "bytes", type: "BYTE_ARRAY", repetition_type: "OPTIONAL" },
      { name: "path", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
      { name: "question", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
      { name: "choices", repetition_type: "OPTIONAL", num_children: 1, converted_type: "LIST" },
      { name: "list", repetition_type: "REPEATED", num_children: 1 },
      { name: "element", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
      { name: "answer", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
    ],
  })),
);

Deno.bench("load 2,000 CV-Bench parquet rows with 4 KiB embedded images", async () => {
  await Effect.runPromise(loadBenchmark("cv-bench", dir));
});
