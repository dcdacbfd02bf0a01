/**
 * The `parse` stage: model output text (or a ground-truth string such as
 * `<scene>{json}</scene>\n<answer>(A) behind</answer>`) → a typed {@link Response} plus every
 * format rule of the official `format_reward` that failed.
 *
 * It never throws and runs in linear time whatever the text: tags are found with `indexOf`
 * (no backtracking regex), the scene with `JSON.parse`, and its contents are validated with
 * Effect Schemas. Python's `json.loads` would also accept `NaN`, `Infinity` and numbers that
 * overflow to infinity (`1e999`); we reject non-finite coordinates, which would make the reward NaN.
 *
 * @module
 */
import { Context, Effect, Layer, Schema, SchemaIssue } from "effect";
import { Box } from "../domain/box.ts";
import { type FormatFailure, FormatRule, type ParsedResponse } from "../domain/response.ts";
import { duplicateObjectIds, ObjectId, type SceneGraph } from "../domain/scene_graph.ts";

/** The four tags of the SpatialThinker output format, in the order failures are listed. */
export const RESPONSE_TAGS = ["observe", "scene", "think", "answer"] as const;
/** One of {@link RESPONSE_TAGS}. */
export type ResponseTag = typeof RESPONSE_TAGS[number];

/**
 * The text of the first `<tag>…</tag>` pair (like Python's `re.search(r"<tag>(.*?)</tag>", DOTALL)`)
 * and how often the opening tag occurs (like `str.count`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTag } from "./parse.ts";
 * assert.deepEqual(readTag("x <answer> (A) left </answer>", "answer"), {
 *   content: " (A) left ",
 *   openings: 1,
 * });
 * ```
 */
export const readTag = (
  text: string,
  tag: string,
): { readonly content: string | undefined; readonly openings: number } => {
  const open = `<${tag}>`;
  const close = `</${tag}>`;
  const start = text.indexOf(open);
  if (start < 0) return { content: undefined, openings: 0 };
  // If the first opening tag has no closing tag after it, no later one has either.
  const end = text.indexOf(close, start + open.length);
  let openings = 0;
  for (let at = start; at >= 0; at = text.indexOf(open, at + open.length)) openings++;
  return { content: end < 0 ? undefined : text.slice(start + open.length, end), openings };
};

const WHITESPACE_RUN = /\s*/y;

/**
 * Whether the whole text is `<think>…</think>`, optional whitespace, `<answer>…</answer>`: Python's
 * `re.fullmatch(r"<think>.*?</think>\s*<answer>.*?</answer>", text, re.DOTALL)` of the `r1v`
 * baseline reward, decided in linear time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasThinkAnswerLayout } from "./parse.ts";
 * assert.ok(hasThinkAnswerLayout("<think>a</think>\n<answer>b</answer>"));
 * assert.ok(!hasThinkAnswerLayout("<observe>o</observe><think>a</think><answer>b</answer>"));
 * ```
 */
export const hasThinkAnswerLayout = (text: string): boolean => {
  const n = text.length;
  if (!text.startsWith("<think>") || !text.endsWith("</answer>")) return false;
  for (let p = text.indexOf("</think>", 7); p >= 0; p = text.indexOf("</think>", p + 1)) {
    WHITESPACE_RUN.lastIndex = p + 8;
    WHITESPACE_RUN.exec(text);
    const q = WHITESPACE_RUN.lastIndex;
    if (q + 8 <= n - 9 && text.startsWith("<answer>", q)) return true;
  }
  return false;
};

// Extra keys are allowed on the scene and on relations (the official checks ignore them), but
// not on objects; a rest record lets us decode with `onExcessProperty: "error"` throughout, which
// also keeps boxes from silently dropping a fifth number.
const ExtraKeys = [Schema.Record(Schema.String, Schema.Unknown)] as const;
const sceneSchema = <O extends Schema.Top, R extends Schema.Top>(object: O, relation: R) =>
  Schema.StructWithRest(
    Schema.Struct({
      objects: Schema.optionalKey(Schema.Array(object)),
      relationships: Schema.optionalKey(Schema.Array(relation)),
    }),
    ExtraKeys,
  );
/** Every rule on objects and relations. */
const StrictScene = sceneSchema(
  Schema.Struct({ id: ObjectId, bbox: Box }),
  Schema.StructWithRest(
    Schema.Struct({ subject: ObjectId, predicate: Schema.String, object: ObjectId }),
    ExtraKeys,
  ),
);
/** Only what the reward needs to compute with: ids need not match the pattern, extra keys pass. */
const StructuralScene = sceneSchema(
  Schema.StructWithRest(Schema.Struct({ id: Schema.String, bbox: Box }), ExtraKeys),
  Schema.StructWithRest(
    Schema.Struct({ subject: Schema.String, predicate: Schema.String, object: Schema.String }),
    ExtraKeys,
  ),
);
const PARSE_OPTIONS = { onExcessProperty: "error", errors: "all" } as const;
const decodeStrict = Schema.decodeUnknownResult(StrictScene, PARSE_OPTIONS);
const decodeStructural = Schema.decodeUnknownResult(StructuralScene, {
  onExcessProperty: "error",
});

/** Drops extra keys: the domain scene graph holds exactly its fields. */
const toSceneGraph = (decoded: typeof StructuralScene.Type): SceneGraph => ({
  objects: (decoded.objects ?? []).map(({ id, bbox }) => ({ id, bbox: [...bbox] })),
  relationships: (decoded.relationships ?? []).map(({ subject, predicate, object }) => ({
    subject,
    predicate,
    object,
  })),
});

const hasStrictTypes = Schema.is(StrictScene);

/**
 * Whether a scene JSON value passes every rule on objects and relations (not the non-empty and
 * unique-id rules). The same verdict as decoding with the strict schema and
 * `onExcessProperty: "error"`, about four times faster: the type guard checks types and id
 * patterns but ignores excess keys and elements, so exact object keys and box lengths are
 * checked here. Responses that pass skip the decode; the others get it, for the failure details.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { passesItemRules } from "./parse.ts";
 * assert.ok(passesItemRules({ objects: [{ id: "cube.1", bbox: [1, 2, 3, 4] }] }));
 * assert.ok(!passesItemRules({ objects: [{ id: "cube.1", bbox: [1, 2, 3, 4], score: 1 }] }));
 * ```
 */
export const passesItemRules = (json: unknown): json is typeof StrictScene.Type => {
  if (!hasStrictTypes(json)) return false;
  for (const object of json.objects ?? []) {
    if (Object.keys(object).length !== 2 || object.bbox.length !== 4) return false;
  }
  return true;
};

/** A leaf of a Schema issue tree with the path that leads to it. */
interface IssueLeaf {
  readonly path: ReadonlyArray<PropertyKey>;
  readonly issue: SchemaIssue.Issue;
}

const issueLeaves = (issue: SchemaIssue.Issue, path: ReadonlyArray<PropertyKey>): IssueLeaf[] => {
  switch (issue._tag) {
    case "Pointer":
      return issueLeaves(issue.issue, [...path, ...issue.path]);
    case "Composite":
      return issue.issues.flatMap((child) => issueLeaves(child, path));
    default:
      return [{ path, issue }];
  }
};

/** Which rule a Schema issue at `path` breaks. */
const ruleOf = ({ path, issue }: IssueLeaf): FormatRule => {
  const keyProblem = issue._tag === "MissingKey" || issue._tag === "UnexpectedKey";
  if (path[0] === "objects") {
    if (path.length === 1) return "objects-list";
    if (path.length === 2) return "object-keys";
    if (path.length > 3 || path[2] === "bbox" && !keyProblem) return "object-bbox";
    return keyProblem ? "object-keys" : "object-id";
  }
  if (path[0] === "relationships") {
    if (path.length === 1) return "relationships-list";
    if (path.length === 2 || keyProblem) return "relation-keys";
    return path[2] === "predicate" ? "relation-predicate" : "relation-id";
  }
  return "scene-object";
};

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((key, k) =>
    typeof key === "number" ? `[${key}]` : k === 0 ? String(key) : `.${String(key)}`
  )
    .join("");

const describe = (leaf: IssueLeaf): string =>
  `${formatPath(leaf.path)}: ${SchemaIssue.makeFormatterDefault()(leaf.issue)}`;

/** One failure per rule: the first instance, and how many more there were. */
const failuresOf = (leaves: ReadonlyArray<IssueLeaf>): FormatFailure[] => {
  const byRule = new Map<FormatRule, { first: IssueLeaf; count: number }>();
  for (const leaf of leaves) {
    const rule = ruleOf(leaf);
    const seen = byRule.get(rule);
    if (seen === undefined) byRule.set(rule, { first: leaf, count: 1 });
    else seen.count++;
  }
  return [...byRule].map(([rule, { first, count }]) => ({
    rule,
    detail: describe(first) + (count > 1 ? ` (and ${count - 1} more)` : ""),
  }));
};

interface SceneReading {
  readonly scene: SceneGraph | undefined;
  readonly listsObjects: boolean;
  readonly failures: FormatFailure[];
}

/** Reads the `<scene>` text: JSON, a non-empty object, valid objects and relations, unique ids. */
const readScene = (sceneText: string): SceneReading => {
  let json: unknown;
  try {
    json = JSON.parse(sceneText.trim());
  } catch (cause) {
    // Also catches RangeError from pathologically deep nesting.
    const detail = cause instanceof Error ? cause.message : String(cause);
    return {
      scene: undefined,
      listsObjects: false,
      failures: [{ rule: "scene-json", detail: `not JSON: ${detail.slice(0, 200)}` }],
    };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    const kind = json === null ? "null" : Array.isArray(json) ? "an array" : typeof json;
    return {
      scene: undefined,
      listsObjects: false,
      failures: [{ rule: "scene-object", detail: `the scene is ${kind}, not a JSON object` }],
    };
  }
  const failures: FormatFailure[] = [];
  if (Object.keys(json).length === 0) {
    failures.push({ rule: "scene-object", detail: "the scene is an empty JSON object" });
  }
  const listsObjects = Array.isArray((json as { objects?: unknown }).objects);
  let scene: SceneGraph | undefined;
  if (passesItemRules(json)) {
    scene = toSceneGraph(json);
  } else {
    const strict = decodeStrict(json);
    if (strict._tag === "Failure") {
      failures.push(...failuresOf(issueLeaves(strict.failure.issue, [])));
    }
    const structural = decodeStructural(json);
    if (structural._tag === "Success") scene = toSceneGraph(structural.success);
  }
  const repeated = scene === undefined ? [] : duplicateObjectIds(scene.objects);
  if (repeated.length > 0) {
    failures.push({ rule: "unique-ids", detail: `repeated object ids: ${repeated.join(", ")}` });
  }
  return { scene, listsObjects, failures };
};

/** Failures are reported in the order the domain lists the rules. */
const RULE_ORDER: ReadonlyArray<FormatRule> = FormatRule.literals;

/**
 * Parses a response or ground-truth string. Never throws; failures are data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResponse } from "./parse.ts";
 * const parsed = parseResponse(
 *   '<observe>a cube</observe><scene>{"objects": [{"id": "cube.1", "bbox": [1, 2, 3, 4]}]}</scene>' +
 *     "<think>it is left</think><answer>(A) left</answer>",
 * );
 * assert.deepEqual(parsed.failures, []);
 * assert.equal(parsed.response.answer, "(A) left");
 * ```
 */
export const parseResponse = (text: string): ParsedResponse => {
  const failures: FormatFailure[] = [];
  const contents = {} as Record<ResponseTag, string | undefined>;
  for (const tag of RESPONSE_TAGS) {
    const { content, openings } = readTag(text, tag);
    contents[tag] = content;
    if (content === undefined) {
      failures.push({ rule: `${tag}-tag`, detail: `no <${tag}>…</${tag}> pair` });
    } else if (openings !== 1) {
      failures.push({ rule: `${tag}-tag`, detail: `<${tag}> occurs ${openings} times` });
    }
  }
  const sceneReading: SceneReading = contents.scene === undefined
    ? { scene: undefined, listsObjects: false, failures: [] }
    : readScene(contents.scene);
  failures.push(...sceneReading.failures);
  failures.sort((a, b) => RULE_ORDER.indexOf(a.rule) - RULE_ORDER.indexOf(b.rule));
  return {
    response: {
      observe: contents.observe?.trim(),
      scene: sceneReading.scene,
      think: contents.think?.trim(),
      answer: contents.answer?.trim(),
    },
    failures,
    sceneListsObjects: sceneReading.listsObjects,
    thinkAnswerLayout: hasThinkAnswerLayout(text),
  };
};

/** The `parse` stage as a service, so a program can swap in its own output format. */
export class Parser extends Context.Service<Parser, {
  readonly parse: (text: string) => Effect.Effect<ParsedResponse>;
}>()("spatial-thinker/stages/Parser") {
  /** The SpatialThinker format ({@link parseResponse}). */
  static readonly layer: Layer.Layer<Parser> = Layer.succeed(
    Parser,
    Parser.of({ parse: (text) => Effect.sync(() => parseResponse(text)) }),
  );
}
