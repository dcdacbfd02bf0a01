/**
 * Scoring one output against one record: extract the answer, compare with the reference. The
 * result keeps the raw output and what was read from it, so every score can be audited.
 *
 * @module
 */
import {
  extractChoice,
  extractFreeForm,
  type Extraction,
  type ExtractionFailure,
  freeFormMatches,
} from "./extract.ts";
import type { EvalRecord } from "./record.ts";

/** One record's prediction and its score, as written to the scored JSONL. */
export interface ScoredPrediction {
  readonly id: string;
  readonly benchmark: string;
  readonly category: string;
  /** The reference: an option letter, or the free-form answer. */
  readonly answer: string;
  /** The raw model output; `null` when the predictions file had none for this record. */
  readonly output: string | null;
  /** The letter or normalised text read from the output, or `null` when none could be read. */
  readonly extracted: string | null;
  /** Why nothing was extracted (`missing`: no prediction at all), or `null`. */
  readonly failure: ExtractionFailure | "missing" | null;
  readonly correct: boolean;
}

/** The extraction matching the record's kind: option letter with choices, text without. */
export const extractFor = (record: EvalRecord, output: string): Extraction =>
  record.choices.length > 0 ? extractChoice(output, record.choices) : extractFreeForm(output);

/**
 * Scores `output` (or a missing prediction, `null`) against `record`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scoreOutput } from "./scoring.ts";
 * const record = {
 *   id: "1", benchmark: "stvqa", category: "relation", question: "Where is the man?",
 *   choices: ["behind the bike", "on the bike"], answer: "B", images: [],
 * };
 * assert.equal(scoreOutput(record, "<answer>(B) on the bike</answer>").correct, true);
 * assert.equal(scoreOutput(record, "<answer>next to it</answer>").failure, "no-match");
 * ```
 */
export const scoreOutput = (record: EvalRecord, output: string | null): ScoredPrediction => {
  const base = {
    id: record.id,
    benchmark: record.benchmark,
    category: record.category,
    answer: record.answer,
    output,
  };
  if (output === null) return { ...base, extracted: null, failure: "missing", correct: false };
  const e = extractFor(record, output);
  switch (e.kind) {
    case "failed":
      return { ...base, extracted: null, failure: e.reason, correct: false };
    case "choice":
      return { ...base, extracted: e.letter, failure: null, correct: e.letter === record.answer };
    case "text":
      return {
        ...base,
        extracted: e.text,
        failure: null,
        correct: freeFormMatches(e.text, record.answer),
      };
  }
};

/** The join key of a record: benchmark and id (ids repeat across CV-Bench 2D and 3D). */
export const recordKey = (r: Pick<EvalRecord, "benchmark" | "id">): string =>
  `${r.benchmark}/${r.id}`;

/** Scores every record against the outputs keyed by {@link recordKey}; absent keys are missing. */
export const scoreAll = (
  records: ReadonlyArray<EvalRecord>,
  outputs: ReadonlyMap<string, string>,
): ReadonlyArray<ScoredPrediction> =>
  records.map((r) => scoreOutput(r, outputs.get(recordKey(r)) ?? null));
