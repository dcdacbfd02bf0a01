/**
 * The per-category summary table printed at the end of `deno task data`.
 *
 * @module
 */
import { SPLITS } from "./balance.ts";
import type { BlindScore } from "./blind_baseline.ts";
import type { DatasetSummary } from "./generate.ts";
import { CATEGORIES, type Category } from "./question.ts";

const pad = (s: string, n: number, right = false) => right ? s.padStart(n) : s.padEnd(n);

const percent = (x: number) => `${(100 * x).toFixed(0)}%`;

const blind = (score: BlindScore | undefined) =>
  score === undefined ? "-" : `${percent(score.accuracy)}/${percent(score.chance)}`;

const accuracy = (score: BlindScore | undefined) =>
  score === undefined ? "-" : percent(score.accuracy);

/**
 * A plain-text table: records per category and split, each category's share of all records, how
 * many drafts the ambiguity filter dropped, and the held-out (val and test) accuracy of the
 * option-prior ("blind") baseline beside chance, and of the question-aware baseline.
 */
export const formatSummary = (summary: DatasetSummary): string => {
  const total = SPLITS.reduce(
    (n, s) => n + CATEGORIES.reduce((m, c) => m + summary.records[s][c], 0),
    0,
  );
  const header = [
    pad("category", 18),
    ...SPLITS.map((s) => pad(s, 7, true)),
    pad("share", 7, true),
    pad("drafts", 8, true),
    pad("ambiguous", 10, true),
    pad("blind/chance", 13, true),
    pad("+question", 10, true),
  ].join(" ");
  const rows = CATEGORIES.map((c) => {
    const all = SPLITS.reduce((n, s) => n + summary.records[s][c], 0);
    const drafts = summary.proposed[c];
    return [
      pad(c, 18),
      ...SPLITS.map((s) => pad(String(summary.records[s][c]), 7, true)),
      pad(`${(100 * all / Math.max(1, total)).toFixed(1)}%`, 7, true),
      pad(String(drafts), 8, true),
      pad(`${(100 * summary.ambiguous[c] / Math.max(1, drafts)).toFixed(1)}%`, 10, true),
      pad(blind(summary.blindBaseline.heldOut.perCategory[c]), 13, true),
      pad(accuracy(summary.questionAwareBaseline.heldOut.perCategory[c]), 10, true),
    ].join(" ");
  });
  const totals = [
    pad("total", 18),
    ...SPLITS.map((s) =>
      pad(String(CATEGORIES.reduce((m, c) => m + summary.records[s][c], 0)), 7, true)
    ),
    pad("100%", 7, true),
    pad("", 8 + 1 + 10, true),
    pad(blind(summary.blindBaseline.heldOut.overall), 13, true),
    pad(accuracy(summary.questionAwareBaseline.heldOut.overall), 10, true),
  ].join(" ");
  const scenes = `scenes: ${SPLITS.map((s) => `${s} ${summary.scenes[s]}`).join(", ")}`;
  const levels = `levels: ${
    Object.entries(summary.levels).map(([k, v]) => `${k} ${v}`).join(", ")
  }; answer letters: ${
    Object.entries(summary.answerLetters).map(([k, v]) => `${k} ${v}`).join(", ")
  }`;
  return [
    header,
    "-".repeat(header.length),
    ...rows,
    "-".repeat(header.length),
    totals,
    scenes,
    levels,
  ]
    .join("\n");
};

/** Records per category and split, one line per category with a non-zero total. */
export const formatCounts = (
  records: Readonly<Record<string, Readonly<Record<Category, number>>>>,
): string => {
  const splits = Object.keys(records);
  const header = [pad("category", 18), ...splits.map((s) => pad(s, 7, true))].join(" ");
  const rows = CATEGORIES
    .filter((c) => splits.some((s) => records[s]![c] > 0))
    .map((c) => [pad(c, 18), ...splits.map((s) => pad(String(records[s]![c]), 7, true))].join(" "));
  return [header, "-".repeat(header.length), ...rows].join("\n");
};
