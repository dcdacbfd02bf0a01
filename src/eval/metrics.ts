/**
 * Accuracy per benchmark and per category with its binomial standard error, and the summary
 * tables (one system, or several side by side).
 *
 * @module
 */
import type { ScoredPrediction } from "./scoring.ts";

/** Accuracy of one benchmark (category `all`) or one of its categories. */
export interface AccuracyCell {
  readonly benchmark: string;
  readonly category: string;
  readonly n: number;
  readonly correct: number;
  /** correct / n (0 when n = 0). */
  readonly accuracy: number;
  /** Binomial standard error √(p(1 − p)/n). */
  readonly standardError: number;
  /** Outputs from which no answer could be extracted (counted wrong). */
  readonly unreadable: number;
  /** Records without any prediction (counted wrong). */
  readonly missing: number;
}

/**
 * Binomial standard error of an accuracy `p` measured on `n` questions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binomialStandardError } from "./metrics.ts";
 * assert.equal(binomialStandardError(0.5, 100), 0.05);
 * ```
 */
export const binomialStandardError = (p: number, n: number): number =>
  n === 0 ? 0 : Math.sqrt(p * (1 - p) / n);

const cellOf = (
  benchmark: string,
  category: string,
  items: ReadonlyArray<ScoredPrediction>,
): AccuracyCell => {
  const n = items.length;
  const correct = items.filter((s) => s.correct).length;
  const accuracy = n === 0 ? 0 : correct / n;
  return {
    benchmark,
    category,
    n,
    correct,
    accuracy,
    standardError: binomialStandardError(accuracy, n),
    unreadable: items.filter((s) => s.failure !== null && s.failure !== "missing").length,
    missing: items.filter((s) => s.failure === "missing").length,
  };
};

/** Category name of a benchmark's overall row. */
export const ALL_CATEGORIES = "all";

/**
 * One `all` row per benchmark followed by its categories (sorted), benchmarks in first-seen
 * order. A benchmark with a single category named `all` gets just the one row.
 */
export const accuracyTable = (
  scored: ReadonlyArray<ScoredPrediction>,
): ReadonlyArray<AccuracyCell> => {
  const byBenchmark = new Map<string, Array<ScoredPrediction>>();
  for (const s of scored) {
    const list = byBenchmark.get(s.benchmark);
    if (list === undefined) byBenchmark.set(s.benchmark, [s]);
    else list.push(s);
  }
  return [...byBenchmark].flatMap(([benchmark, items]) => {
    const categories = [...new Set(items.map((s) => s.category))].sort()
      .filter((c) => c !== ALL_CATEGORIES);
    return [
      cellOf(benchmark, ALL_CATEGORIES, items),
      ...categories.map((c) => cellOf(benchmark, c, items.filter((s) => s.category === c))),
    ];
  });
};

const percent = (x: number): string => (100 * x).toFixed(1);

/**
 * A Markdown table of one system's accuracies: benchmark, category, n, accuracy % ± SE,
 * unreadable and missing counts.
 */
export const formatAccuracyTable = (cells: ReadonlyArray<AccuracyCell>): string => {
  const lines = [
    "| benchmark | category | n | accuracy % | ± SE | unreadable | missing |",
    "|---|---|---:|---:|---:|---:|---:|",
    ...cells.map((c) =>
      `| ${c.benchmark} | ${c.category} | ${c.n} | ${percent(c.accuracy)} | ` +
      `${percent(c.standardError)} | ${c.unreadable} | ${c.missing} |`
    ),
  ];
  return lines.join("\n") + "\n";
};

/**
 * A Markdown table with one column per system ("acc ± SE"), rows the union of every system's
 * benchmark/category rows in first-seen order; a system without a row shows "–".
 */
export const formatComparisonTable = (
  systems: ReadonlyArray<{ readonly name: string; readonly cells: ReadonlyArray<AccuracyCell> }>,
): string => {
  const rows: Array<string> = [];
  const seen = new Set<string>();
  for (const s of systems) {
    for (const c of s.cells) {
      const key = `${c.benchmark}\u0000${c.category}`;
      if (!seen.has(key)) {
        seen.add(key);
        rows.push(key);
      }
    }
  }
  const lookup = systems.map((s) =>
    new Map(s.cells.map((c) => [`${c.benchmark}\u0000${c.category}`, c]))
  );
  const lines = [
    `| benchmark | category | n | ${systems.map((s) => s.name).join(" | ")} |`,
    `|---|---|---:|${systems.map(() => "---:").join("|")}|`,
    ...rows.map((key) => {
      const [benchmark, category] = key.split("\u0000");
      const cells = lookup.map((m) => m.get(key));
      const n = cells.find((c) => c !== undefined)?.n ?? 0;
      const values = cells.map((c) =>
        c === undefined ? "–" : `${percent(c.accuracy)} ± ${percent(c.standardError)}`
      );
      return `| ${benchmark} | ${category} | ${n} | ${values.join(" | ")} |`;
    }),
  ];
  return lines.join("\n") + "\n";
};
