/**
 * Scene graphs as the SpatialThinker model writes them inside `<scene>…</scene>` and as the
 * dataset stores them in ground-truth strings: objects with an id `name.N` and a pixel box, and
 * `subject —predicate→ object` relations between ids.
 *
 * @module
 */
import { Schema } from "effect";
import { Box } from "./box.ts";

/** The official id rule (`is_valid_id_format`): letters or `_`, a dot, digits. `red_cube.1`. */
export const OBJECT_ID_PATTERN: RegExp = /^[a-zA-Z_]+\.\d+$/;

/** An object id that satisfies {@link OBJECT_ID_PATTERN}. `traffic light.1` and `t-shirt.1` fail. */
export const ObjectId = Schema.String.check(Schema.isPattern(OBJECT_ID_PATTERN));

/** One object: exactly an id and a box `[x1, y1, x2, y2]` in pixels of the original image. */
export const SceneObject = Schema.Struct({ id: ObjectId, bbox: Box });
/** A decoded {@link SceneObject}. */
export type SceneObject = typeof SceneObject.Type;

/** One relation triplet. The predicate is free text ("behind", "left of"). */
export const Relationship = Schema.Struct({
  subject: ObjectId,
  predicate: Schema.String,
  object: ObjectId,
});
/** A decoded {@link Relationship}. */
export type Relationship = typeof Relationship.Type;

/**
 * Ids that occur more than once, each listed once, in order of first repetition.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { duplicateObjectIds } from "./scene_graph.ts";
 * assert.deepEqual(duplicateObjectIds([{ id: "a.1" }, { id: "b.1" }, { id: "a.1" }]), ["a.1"]);
 * ```
 */
export const duplicateObjectIds = (objects: ReadonlyArray<{ readonly id: string }>): string[] => {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const { id } of objects) {
    if (seen.has(id)) repeated.add(id);
    else seen.add(id);
  }
  return [...repeated];
};

/**
 * A scene graph with unique object ids. Relations may name ids that are not among the objects
 * (the official reward allows it). Use this schema to validate scene graphs that the data
 * pipeline writes; model outputs go through the `parse` stage, which reports each broken rule.
 */
export const SceneGraph = Schema.Struct({
  objects: Schema.Array(SceneObject),
  relationships: Schema.Array(Relationship),
}).check(Schema.makeFilter((scene) => {
  const repeated = duplicateObjectIds(scene.objects);
  return repeated.length === 0 ||
    { path: ["objects"], issue: `object ids must be unique; repeated: ${repeated.join(", ")}` };
}));
/** A decoded {@link SceneGraph}. */
export type SceneGraph = typeof SceneGraph.Type;

/**
 * The structure of a scene graph without the rules on ids (pattern, uniqueness): what a parsed
 * response holds, since the reward can compute with any such graph. Same type as
 * {@link SceneGraph}.
 */
export const SceneGraphStructure = Schema.Struct({
  objects: Schema.Array(Schema.Struct({ id: Schema.String, bbox: Box })),
  relationships: Schema.Array(
    Schema.Struct({ subject: Schema.String, predicate: Schema.String, object: Schema.String }),
  ),
});

/** The empty scene graph: no objects, no relations. */
export const EMPTY_SCENE: SceneGraph = { objects: [], relationships: [] };

/**
 * The label of an id, as the official reward compares labels: the text before the first `.`,
 * `_` and `-` turned into spaces, trimmed, lower-cased (`refine_node_edge` after
 * `split('.')[0]`). Also applied to predicates, which rarely contain a dot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cleanLabel } from "./scene_graph.ts";
 * assert.equal(cleanLabel("Red_Cube.2"), "red cube");
 * assert.equal(cleanLabel("fire-hydrant.1"), "fire hydrant");
 * ```
 */
export const cleanLabel = (label: string): string => {
  const dot = label.indexOf(".");
  const name = dot < 0 ? label : label.slice(0, dot);
  return name.replaceAll("_", " ").replaceAll("-", " ").trim().toLowerCase();
};
