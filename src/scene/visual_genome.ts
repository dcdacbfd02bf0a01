/**
 * Visual Genome scene graphs (`scene_graphs.json` + `image_data.json`, the upstream layouts) to
 * our 2D scene graphs: ids `name.N` that satisfy the reward's id rule, pixel boxes
 * `[x, y, x + w, y + h]` clamped to the image, and relations between those ids.
 *
 * @module
 */
import { Schema } from "effect";
import type {
  Relationship,
  SceneGraph,
  SceneObject as GraphObject,
} from "../domain/scene_graph.ts";
import type { PixelBox } from "./types.ts";

/** One object of `scene_graphs.json`. */
export const VgObject = Schema.Struct({
  object_id: Schema.Int,
  x: Schema.Finite,
  y: Schema.Finite,
  w: Schema.Finite,
  h: Schema.Finite,
  names: Schema.optionalKey(Schema.Array(Schema.String)),
  name: Schema.optionalKey(Schema.String),
});
/** A decoded {@link VgObject}. */
export type VgObject = typeof VgObject.Type;

/** One relationship: by object ids, or (relationships.json style) with embedded objects. */
export const VgRelationship = Schema.Struct({
  predicate: Schema.String,
  subject_id: Schema.optionalKey(Schema.Int),
  object_id: Schema.optionalKey(Schema.Int),
  subject: Schema.optionalKey(Schema.Struct({ object_id: Schema.Int })),
  object: Schema.optionalKey(Schema.Struct({ object_id: Schema.Int })),
});
/** A decoded {@link VgRelationship}. */
export type VgRelationship = typeof VgRelationship.Type;

/** One element of `scene_graphs.json`. */
export const VgSceneGraph = Schema.Struct({
  image_id: Schema.Int,
  objects: Schema.Array(VgObject),
  relationships: Schema.Array(VgRelationship),
});
/** A decoded {@link VgSceneGraph}. */
export type VgSceneGraph = typeof VgSceneGraph.Type;

/** One element of `image_data.json` (`image_id`, or `id` in the oldest release). */
export const VgImageData = Schema.Struct({
  image_id: Schema.optionalKey(Schema.Int),
  id: Schema.optionalKey(Schema.Int),
  width: Schema.Int,
  height: Schema.Int,
  url: Schema.optionalKey(Schema.String),
});
/** A decoded {@link VgImageData}. */
export type VgImageData = typeof VgImageData.Type;

/**
 * A VG object name as an id stem: lower case, spaces and hyphens to `_`, other characters dropped
 * ("traffic light" → `traffic_light`, "t-shirt" → `t_shirt`). Empty when nothing usable is left.
 *
 * @example
 * ```ts
 * import { idStem } from "./visual_genome.ts";
 * if (idStem(" Traffic Light ") !== "traffic_light") throw new Error("wrong stem");
 * ```
 */
export const idStem = (name: string): string =>
  name.trim().toLowerCase().replace(/[\s-]+/g, "_").replace(/[^a-z_]/g, "").replace(/^_+|_+$/g, "");

/** The image's path relative to a VG image root, from its URL (`VG_100K_2/1.jpg`). */
export const vgImagePath = (imageId: number, url: string | undefined): string => {
  const match = url?.match(/\/(VG_100K(?:_2)?)\/([^/]+\.jpg)$/);
  return match ? `${match[1]}/${match[2]}` : `VG_100K/${imageId}.jpg`;
};

/** A converted VG image: its scene graph and the VG object id behind each of our ids. */
export interface VgScene {
  readonly imageId: number;
  readonly width: number;
  readonly height: number;
  readonly graph: SceneGraph;
  /** Our id → display name ("traffic light"). */
  readonly names: ReadonlyMap<string, string>;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * Converts one VG scene graph. Objects without a usable name or with an empty box are left out;
 * exact duplicates (same name, same box; VG repeats them) are merged; relations whose ends were
 * left out are dropped, as are repeated triplets.
 */
export const convertVgScene = (vg: VgSceneGraph, width: number, height: number): VgScene => {
  const counts = new Map<string, number>();
  const byVgId = new Map<number, string>();
  const byKey = new Map<string, string>();
  const names = new Map<string, string>();
  const objects: GraphObject[] = [];
  for (const o of vg.objects) {
    const raw = o.names?.[0] ?? o.name ?? "";
    const stem = idStem(raw);
    const bbox: PixelBox = [
      Math.round(clamp(o.x, 0, width)),
      Math.round(clamp(o.y, 0, height)),
      Math.round(clamp(o.x + o.w, 0, width)),
      Math.round(clamp(o.y + o.h, 0, height)),
    ];
    if (stem.length === 0 || bbox[2] <= bbox[0] || bbox[3] <= bbox[1]) continue;
    const key = `${stem}:${bbox.join(",")}`;
    const existing = byKey.get(key);
    if (existing !== undefined) {
      byVgId.set(o.object_id, existing);
      continue;
    }
    const n = (counts.get(stem) ?? 0) + 1;
    counts.set(stem, n);
    const id = `${stem}.${n}`;
    byKey.set(key, id);
    byVgId.set(o.object_id, id);
    names.set(id, stem.replaceAll("_", " "));
    objects.push({ id, bbox });
  }
  const seen = new Set<string>();
  const relationships: Relationship[] = [];
  for (const r of vg.relationships) {
    const subject = byVgId.get(r.subject_id ?? r.subject?.object_id ?? -1);
    const object = byVgId.get(r.object_id ?? r.object?.object_id ?? -1);
    const predicate = r.predicate.trim().toLowerCase().replace(/\s+/g, " ");
    if (subject === undefined || object === undefined || subject === object || predicate === "") {
      continue;
    }
    const key = `${subject}|${predicate}|${object}`;
    if (seen.has(key)) continue;
    seen.add(key);
    relationships.push({ subject, predicate, object });
  }
  return { imageId: vg.image_id, width, height, graph: { objects, relationships }, names };
};
