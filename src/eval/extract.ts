/**
 * Answer extraction: from a model's raw output to the option letter (or free-form text) it
 * chose. Follows the paper's harness in where it looks (the last `<answer>…</answer>`, else text
 * after "Answer:", else the whole output) but not in its bug: an answer that matches no option,
 * or matches several, is a typed failure and scores as wrong — never a silent "A".
 *
 * @module
 */
import { OPTION_LETTERS } from "./record.ts";

/** Why no answer could be read from an output. */
export type ExtractionFailure =
  /** Nothing (or only whitespace) where the answer should be. */
  | "empty"
  /** The answer names no option. */
  | "no-match"
  /** The answer names more than one option, or its letter and text disagree. */
  | "ambiguous";

/** What an output answered. */
export type Extraction =
  | { readonly kind: "choice"; readonly letter: string }
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "failed"; readonly reason: ExtractionFailure };

/**
 * The part of an output that holds the answer: the content of the last complete
 * `<answer>…</answer>`; else the text before a lone `</answer>` or after a lone `<answer>`; else
 * the text after the last "Answer:"; else the whole output. Trimmed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerSpan } from "./extract.ts";
 * assert.equal(answerSpan("<think>x</think><answer>(A) no</answer> <answer> (B) yes </answer>"), "(B) yes");
 * assert.equal(answerSpan("Reasoning... Answer: C"), "C");
 * ```
 */
export const answerSpan = (output: string): string => {
  const tagged = [...output.matchAll(/<answer>([\s\S]*?)<\/answer>/gi)];
  if (tagged.length > 0) return tagged[tagged.length - 1]![1]!.trim();
  const close = output.search(/<\/answer>/i);
  if (close >= 0) {
    const before = output.slice(0, close);
    const open = before.toLowerCase().lastIndexOf("<answer>");
    return (open >= 0 ? before.slice(open + "<answer>".length) : before).trim();
  }
  const open = output.toLowerCase().lastIndexOf("<answer>");
  if (open >= 0) return output.slice(open + "<answer>".length).trim();
  const cues = [...output.matchAll(/answer\s*:/gi)];
  if (cues.length > 0) {
    const last = cues[cues.length - 1]!;
    return output.slice(last.index! + last[0].length).trim();
  }
  return output.trim();
};

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Lower case, no surrounding quotes/braces/punctuation, single spaces. */
export const normalizeText = (s: string): string =>
  s.toLowerCase().replace(/[{}]/g, "").replace(/\s+/g, " ").trim()
    .replace(/^["'`“‘\s]+|["'`”’.!,;:\s]+$/g, "");

const letterIndex = (letter: string, count: number): number => {
  const i = OPTION_LETTERS.indexOf(letter.toUpperCase() as "A");
  return i >= 0 && i < count ? i : -1;
};

/** Indices of the choices whose text occurs in `text` as whole words, minus those inside another. */
const choicesMentioned = (text: string, choices: ReadonlyArray<string>): Array<number> => {
  const found = choices.flatMap((c, i) => {
    const n = normalizeText(c);
    if (n === "") return [];
    const re = new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegExp(n)}($|[^\\p{L}\\p{N}])`, "u");
    return re.test(text) ? [i] : [];
  });
  const texts = found.map((i) => normalizeText(choices[i]!));
  return found.filter((_, k) =>
    !texts.some((t, j) => j !== k && t !== texts[k] && t.includes(texts[k]!))
  );
};

const single = (indices: ReadonlyArray<number>): Extraction | undefined => {
  const distinct = [...new Set(indices)];
  if (distinct.length === 1) return { kind: "choice", letter: OPTION_LETTERS[distinct[0]!]! };
  if (distinct.length > 1) return { kind: "failed", reason: "ambiguous" };
  return undefined;
};

/**
 * The option an output chose among `choices` (texts without letters). Reads, in order: a
 * leading letter ("(B)", "B)", "B.", "(b) behind"; its text, if any, must not name a different
 * option); the exact text of one option; one distinct "(X)" inside the sentence; a cue such as
 * "the answer is B"; one option's text mentioned inside the sentence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extractChoice } from "./extract.ts";
 * const choices = ["behind", "in front of"];
 * assert.deepEqual(extractChoice("<answer>(B) in front of</answer>", choices), { kind: "choice", letter: "B" });
 * assert.deepEqual(extractChoice("<answer>beside</answer>", choices), { kind: "failed", reason: "no-match" });
 * ```
 */
export const extractChoice = (output: string, choices: ReadonlyArray<string>): Extraction => {
  const span = answerSpan(output).replace(/[{}]/g, "").trim();
  if (span === "") return { kind: "failed", reason: "empty" };
  const n = choices.length;
  const lead = /^\(([A-Za-z])\)\s*[.:]?\s*([\s\S]*)$/.exec(span) ??
    /^([A-Za-z])\)\s*([\s\S]*)$/.exec(span) ??
    /^([A-Z])(?:[.:](?:\s+([\s\S]*))?)?$/.exec(span) ??
    /^([a-z])\.?$/.exec(span);
  if (lead !== null) {
    const i = letterIndex(lead[1]!, n);
    if (i >= 0) {
      const rest = normalizeText(lead[2] ?? "");
      const named = choices.findIndex((c) => normalizeText(c) === rest);
      const otherLetters = [...(lead[2] ?? "").matchAll(/\(([A-Za-z])\)/g)]
        .map((m) => letterIndex(m[1]!, n)).filter((j) => j >= 0 && j !== i);
      return (rest !== "" && named >= 0 && named !== i) || otherLetters.length > 0
        ? { kind: "failed", reason: "ambiguous" }
        : { kind: "choice", letter: OPTION_LETTERS[i]! };
    }
  }
  const text = normalizeText(span);
  const exact = choices.flatMap((c, i) => normalizeText(c) === text ? [i] : []);
  const exactMatch = single(exact);
  if (exactMatch !== undefined) return exactMatch;
  const parenthesised = [...span.matchAll(/\(([A-Za-z])\)/g)]
    .map((m) => letterIndex(m[1]!, n)).filter((i) => i >= 0);
  const byParen = single(parenthesised);
  if (byParen !== undefined) return byParen;
  const cued = [
    ...span.matchAll(/\b(?:answer|option|choice)\s*(?:is|:)?\s*([A-Z])(?![\p{L}\p{N}])/giu),
  ]
    .map((m) => letterIndex(m[1]!, n)).filter((i) => i >= 0);
  const byCue = single(cued);
  if (byCue !== undefined) return byCue;
  return single(choicesMentioned(text, choices)) ?? { kind: "failed", reason: "no-match" };
};

const NUMBER_WORDS = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
  "twenty",
];

/** Free-form normal form: {@link normalizeText}, number words as digits. */
export const normalizeFreeForm = (s: string): string =>
  normalizeText(s).split(" ").map((w) => {
    const i = NUMBER_WORDS.indexOf(w);
    return i >= 0 ? String(i) : w;
  }).join(" ");

/**
 * The free-form answer of an output (questions without options), normalised.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extractFreeForm } from "./extract.ts";
 * assert.deepEqual(extractFreeForm("<answer> Three. </answer>"), { kind: "text", text: "3" });
 * ```
 */
export const extractFreeForm = (output: string): Extraction => {
  const text = normalizeFreeForm(answerSpan(output));
  return text === "" ? { kind: "failed", reason: "empty" } : { kind: "text", text };
};

/**
 * Whether a free-form answer matches the reference: equal after normalisation, or, for a
 * one-word reference (yes/no, a count), equal to the answer's first word ("Yes, it is." = yes).
 */
export const freeFormMatches = (answer: string, reference: string): boolean => {
  const ref = normalizeFreeForm(reference);
  if (answer === ref) return true;
  if (ref.includes(" ")) return false;
  const first = answer.split(/[^\p{L}\p{N}.]+/u)[0]?.replace(/\.$/, "");
  return first === ref;
};
