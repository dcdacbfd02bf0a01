import assert from "node:assert/strict";
import {
  accuracyTable,
  formatAccuracyTable,
  formatComparisonTable,
} from "../../src/eval/metrics.ts";
import type { EvalRecord } from "../../src/eval/record.ts";
import { recordKey, scoreAll, scoreOutput } from "../../src/eval/scoring.ts";

const mcq = (id: string, category: string, answer: string): EvalRecord => ({
  id,
  benchmark: "stvqa",
  category,
  question: "q",
  choices: ["left", "right"],
  answer,
  images: [],
});

Deno.test("scoreOutput marks an unmatched answer wrong and says why", () => {
  const s = scoreOutput(mcq("1", "relation", "A"), "<answer>somewhere</answer>");
  assert.deepEqual([s.correct, s.extracted, s.failure], [false, null, "no-match"]);
});

Deno.test("scoreOutput marks a missing prediction wrong as missing", () => {
  const s = scoreOutput(mcq("1", "relation", "A"), null);
  assert.deepEqual([s.correct, s.failure, s.output], [false, "missing", null]);
});

Deno.test("scoreOutput scores a free-form record by normalised text", () => {
  const record = { ...mcq("9", "count", "3"), choices: [] };
  assert.equal(scoreOutput(record, "<answer>Three</answer>").correct, true);
  assert.equal(scoreOutput(record, "<answer>4</answer>").correct, false);
});

Deno.test("accuracyTable gives per-benchmark and per-category accuracy with binomial SE", () => {
  const records = [
    mcq("1", "relation", "A"),
    mcq("2", "relation", "B"),
    mcq("3", "depth", "A"),
    mcq("4", "depth", "A"),
  ];
  const outputs = new Map([
    [recordKey(records[0]!), "(A)"],
    [recordKey(records[1]!), "(A)"],
    [recordKey(records[2]!), "(A) left"],
  ]);
  const cells = accuracyTable(scoreAll(records, outputs));
  assert.deepEqual(cells.map((c) => [c.category, c.n, c.correct, c.missing]), [
    ["all", 4, 2, 1],
    ["depth", 2, 1, 1],
    ["relation", 2, 1, 0],
  ]);
  assert.equal(cells[0]!.accuracy, 0.5);
  assert.equal(cells[0]!.standardError, Math.sqrt(0.25 / 4));
  assert.match(formatAccuracyTable(cells), /\| stvqa \| all \| 4 \| 50\.0 \| 25\.0 \| 0 \| 1 \|/);
});

Deno.test("formatComparisonTable puts systems side by side and marks absent rows", () => {
  const ours = accuracyTable(scoreAll([mcq("1", "relation", "A")], new Map([["stvqa/1", "(A)"]])));
  const theirs = accuracyTable(
    scoreAll([{ ...mcq("1", "x", "A"), benchmark: "mmvp" }], new Map([["mmvp/1", "(B)"]])),
  );
  const table = formatComparisonTable([{ name: "ours", cells: ours }, {
    name: "gpt",
    cells: theirs,
  }]);
  assert.match(table, /\| benchmark \| category \| n \| ours \| gpt \|/);
  assert.match(table, /\| stvqa \| all \| 1 \| 100\.0 ± 0\.0 \| – \|/);
  assert.match(table, /\| mmvp \| all \| 1 \| – \| 0\.0 ± 0\.0 \|/);
});
