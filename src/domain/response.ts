/**
 * A policy response (or a ground-truth string) as read by the `parse` stage: the contents of the
 * four tags, the scene graph when it could be read, and every format rule that failed.
 *
 * @module
 */
import { Schema } from "effect";
import { SceneGraphStructure } from "./scene_graph.ts";

/**
 * The format rules of the official `format_reward`. All must hold for format = 1.
 *
 * - `observe-tag`, `scene-tag`, `think-tag`, `answer-tag`: `<x>…</x>` occurs and the opening tag
 *   `<x>` is written exactly once (order and text outside the tags are not checked).
 * - `scene-json`: the scene text is JSON; `scene-object`: it is a non-empty JSON object.
 * - `objects-list`, `relationships-list`: those keys, when present, hold arrays.
 * - `object-keys`: each object is a JSON object with exactly the keys `id` and `bbox`.
 * - `object-id`: each object id is a string matching `^[a-zA-Z_]+\.\d+$`.
 * - `object-bbox`: each bbox is an array of exactly four finite numbers.
 * - `relation-keys`: each relation is a JSON object with `subject`, `predicate`, `object`
 *   (more keys allowed); `relation-predicate`: the predicate is a string;
 *   `relation-id`: subject and object are valid ids (they need not name listed objects).
 * - `unique-ids`: no object id repeats.
 */
export const FormatRule = Schema.Literals([
  "observe-tag",
  "scene-tag",
  "think-tag",
  "answer-tag",
  "scene-json",
  "scene-object",
  "objects-list",
  "relationships-list",
  "object-keys",
  "object-id",
  "object-bbox",
  "relation-keys",
  "relation-predicate",
  "relation-id",
  "unique-ids",
]);
/** One of the {@link FormatRule} names. */
export type FormatRule = typeof FormatRule.Type;

/** A rule that failed and why, e.g. `object-id` / `objects[1].id: Expected … got "t-shirt.1"`. */
export const FormatFailure = Schema.Struct({ rule: FormatRule, detail: Schema.String });
/** A decoded {@link FormatFailure}. */
export type FormatFailure = typeof FormatFailure.Type;

/**
 * What a response says. Each tag field holds the trimmed text of the first `<x>…</x>` pair, or is
 * `undefined` when there is none. `scene` is the scene graph when the `<scene>` text is a JSON
 * object whose objects and relations have the right structure (ids not checked against the id
 * pattern, extra keys ignored), so that ablations without format gating can still score it.
 */
export const Response = Schema.Struct({
  observe: Schema.optional(Schema.String),
  scene: Schema.optional(SceneGraphStructure),
  think: Schema.optional(Schema.String),
  answer: Schema.optional(Schema.String),
});
/** A decoded {@link Response}. */
export type Response = typeof Response.Type;

/** The result of parsing one response or ground-truth string. Never an exception. */
export const ParsedResponse = Schema.Struct({
  response: Response,
  /** Broken format rules in a fixed order; empty ⇔ the official format reward is 1. */
  failures: Schema.Array(FormatFailure),
  /**
   * Whether the scene JSON has an `objects` array. The official `count_reward` gives 0 when it has
   * not, although the format check treats a missing `objects` key as an empty list.
   */
  sceneListsObjects: Schema.Boolean,
  /**
   * Whether the whole text is `<think>…</think>`, optional whitespace, `<answer>…</answer>`: the
   * format rule of the vanilla-GRPO baseline (`r1v`).
   */
  thinkAnswerLayout: Schema.Boolean,
});
/** A decoded {@link ParsedResponse}. */
export type ParsedResponse = typeof ParsedResponse.Type;
