/**
 * Scene graphs from rendered scenes: which objects are clear enough to ask about, the full graph
 * (visible objects and their relations), the question-relevant subgraph, and the serialisation the
 * SpatialThinker reward parses (Python `json.dumps` style: ", " and ": " separators, ASCII only).
 *
 * @module
 */
import { sceneRelations } from "./relations.ts";
import type { SceneGraph, SceneObject as GraphObject } from "../domain/scene_graph.ts";
import type { ObjectTruth, RenderedScene } from "./types.ts";

/** When an object is clear enough to be named in a question. */
export interface VisibilityRule {
  /** Smallest visible fraction (heavily occluded objects are left out of questions). */
  readonly minVisibleFraction: number;
  /** Smallest visible area as a fraction of the image (tiny objects are unreadable at 96×96). */
  readonly minAreaFraction: number;
}

/** Defaults: at least 60% visible and 0.35% of the image (about 32 pixels at 96×96). */
export const DEFAULT_VISIBILITY: VisibilityRule = {
  minVisibleFraction: 0.6,
  minAreaFraction: 0.0035,
};

/** True when the object can be named in a question. */
export const isClear = (
  truth: ObjectTruth,
  width: number,
  height: number,
  rule: VisibilityRule = DEFAULT_VISIBILITY,
): boolean =>
  truth.bbox !== null && truth.visibleFraction >= rule.minVisibleFraction &&
  truth.visiblePixels >= rule.minAreaFraction * width * height;

/**
 * The full scene graph: every object with at least one visible pixel, and every relation among
 * them; with `canonical`, each pair once (see `sceneRelations`), which halves the size of stored
 * records.
 */
export const fullSceneGraph = (rendered: RenderedScene, canonical = false): SceneGraph => {
  const { scene, truth } = rendered;
  const visible = (k: number) => truth[k]!.bbox !== null;
  const objects: GraphObject[] = [];
  scene.objects.forEach((o, k) => {
    const bbox = truth[k]!.bbox;
    if (bbox !== null) objects.push({ id: o.id, bbox });
  });
  return {
    objects,
    relationships: sceneRelations(scene.camera, scene.objects, visible, { canonical }),
  };
};

/**
 * The question-relevant subgraph over `ids` (in the order the question names them): those objects,
 * and the relations between them directed along that order (subject named before object), so that
 * "Where is the A with respect to the B?" carries `A —left of→ B` and not also its inverse.
 * `graph` must hold both directions (not canonical).
 */
export const subgraph = (graph: SceneGraph, ids: ReadonlyArray<string>): SceneGraph => {
  const rank = new Map(ids.map((id, k) => [id, k]));
  return {
    objects: graph.objects.filter((o) => rank.has(o.id)),
    relationships: graph.relationships.filter((r) => {
      const s = rank.get(r.subject), o = rank.get(r.object);
      return s !== undefined && o !== undefined && s < o;
    }),
  };
};

const pythonString = (s: string): string =>
  JSON.stringify(s).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );

/**
 * Serialises plain JSON data exactly as Python's `json.dumps` does with default arguments
 * (separators ", " and ": ", `ensure_ascii=True`), keeping key order.
 *
 * @example
 * ```ts
 * import { pythonJson } from "./graph.ts";
 * const text = pythonJson({ id: "red_cube.1", bbox: [1, 2, 3, 4] });
 * if (text !== '{"id": "red_cube.1", "bbox": [1, 2, 3, 4]}') throw new Error(text);
 * ```
 */
export const pythonJson = (value: unknown): string => {
  if (value === null) return "null";
  if (typeof value === "string") return pythonString(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RangeError(`cannot serialise ${value}`);
    return Number.isInteger(value) && !Object.is(value, -0) ? String(value) : JSON.stringify(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(", ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${pythonString(k)}: ${pythonJson(v)}`);
    return `{${entries.join(", ")}}`;
  }
  throw new TypeError(`cannot serialise a ${typeof value}`);
};

/** `{"objects": [...], "relationships": [...]}` with only the keys the reward accepts. */
export const serialiseSceneGraph = (graph: SceneGraph): string =>
  pythonJson({
    objects: graph.objects.map((o) => ({ id: o.id, bbox: [...o.bbox] })),
    relationships: graph.relationships.map((r) => ({
      subject: r.subject,
      predicate: r.predicate,
      object: r.object,
    })),
  });
