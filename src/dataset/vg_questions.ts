/**
 * Questions from 2D scene graphs (Visual Genome): the categories that boxes and annotated
 * relations can answer — relation (annotated predicates with a clear opposite, checked against the
 * boxes where the predicate is vertical or lateral), size (apparent size in the image),
 * instance_location (box centre) and count (annotated instances, as the paper's auto-correction
 * does). Depth, distance, orientation, reach and existence need 3D truth or negative evidence
 * that annotations do not give; they are reported as skipped.
 *
 * @module
 */
import type { Rng } from "../domain/random.ts";
import type { SceneObject as GraphObject } from "../domain/scene_graph.ts";
import type { VgScene } from "../scene/visual_genome.ts";
import { evidenceReason } from "./ambiguity.ts";
import { GRID_REGIONS } from "./categories/instance_location.ts";
import { type Category, finaliseDraft, type Question, type QuestionDraft } from "./question.ts";

/** Categories the 2D importer can answer. */
export const VG_CATEGORIES: ReadonlyArray<Category> = [
  "relation",
  "size",
  "instance_location",
  "count",
];

/** Categories the 2D importer skips, with the reason printed in its summary. */
export const VG_SKIPPED: Readonly<Partial<Record<Category, string>>> = {
  depth: "needs camera distances (no depth in 2D annotations)",
  distance: "needs 3D positions",
  orientation: "needs object headings",
  reach: "unannotated contact is not evidence of no contact",
  existence: "a missing annotation is not evidence of absence",
};

/** Annotated predicates with a clearly exclusive opposite, and how boxes must agree. */
const OPPOSITES: Record<
  string,
  { readonly opposite: string; readonly axis?: "up" | "down" | "left" | "right" }
> = {
  "above": { opposite: "below", axis: "up" },
  "over": { opposite: "below", axis: "up" },
  "below": { opposite: "above", axis: "down" },
  "under": { opposite: "above", axis: "down" },
  "beneath": { opposite: "above", axis: "down" },
  "underneath": { opposite: "above", axis: "down" },
  "on top of": { opposite: "under", axis: "up" },
  "behind": { opposite: "in front of" },
  "in front of": { opposite: "behind" },
  "left of": { opposite: "right of", axis: "left" },
  "to the left of": { opposite: "to the right of", axis: "left" },
  "right of": { opposite: "left of", axis: "right" },
  "to the right of": { opposite: "to the left of", axis: "right" },
};

/** Box centres must differ by this fraction of the image side along a predicate's axis. */
const AXIS_MARGIN = 0.02;
const GRID_MARGIN = 0.04;
const LOG_AREA_MARGIN = Math.log(2);

const centre = (b: GraphObject["bbox"]) => [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2] as const;
const area = (b: GraphObject["bbox"]) => (b[2] - b[0]) * (b[3] - b[1]);

/** English plural of a VG name ("bus" → "buses", "pony" → "ponies"). */
export const plural = (name: string): string =>
  /(s|x|z|ch|sh)$/.test(name)
    ? `${name}es`
    : /[^aeiou]y$/.test(name)
    ? `${name.slice(0, -1)}ies`
    : `${name}s`;

const drafts = (scene: VgScene, rng: Rng): QuestionDraft[] => {
  const { graph, names, width, height } = scene;
  const stems = new Map<string, GraphObject[]>();
  for (const o of graph.objects) {
    const stem = o.id.slice(0, o.id.lastIndexOf("."));
    stems.set(stem, [...(stems.get(stem) ?? []), o]);
  }
  const unique = graph.objects.filter((o) =>
    stems.get(o.id.slice(0, o.id.lastIndexOf(".")))!.length === 1
  );
  const uniqueIds = new Set(unique.map((o) => o.id));
  const byId = new Map(graph.objects.map((o) => [o.id, o]));
  const out: QuestionDraft[] = [];

  for (const r of rng.shuffle(graph.relationships)) {
    const rule = OPPOSITES[r.predicate];
    if (rule === undefined || !uniqueIds.has(r.subject) || !uniqueIds.has(r.object)) continue;
    const contradicted = graph.relationships.some((x) =>
      x.subject === r.subject && x.object === r.object && x.predicate === rule.opposite
    );
    if (contradicted) continue;
    const [sx, sy] = centre(byId.get(r.subject)!.bbox), [ox, oy] = centre(byId.get(r.object)!.bbox);
    // Boxes must agree with the annotation along the predicate's axis: a contradicting sign
    // clamps to 0, which fails the margin.
    const evidence = rule.axis === "up"
      ? [{
        quantity: "box centre rise",
        value: Math.max(0, (oy - sy) / height),
        margin: AXIS_MARGIN,
      }]
      : rule.axis === "down"
      ? [{
        quantity: "box centre drop",
        value: Math.max(0, (sy - oy) / height),
        margin: AXIS_MARGIN,
      }]
      : rule.axis === "left"
      ? [{
        quantity: "box centre shift",
        value: Math.max(0, (ox - sx) / width),
        margin: AXIS_MARGIN,
      }]
      : rule.axis === "right"
      ? [{
        quantity: "box centre shift",
        value: Math.max(0, (sx - ox) / width),
        margin: AXIS_MARGIN,
      }]
      : [];
    out.push({
      category: "relation",
      question: `Where is the ${names.get(r.subject)} with respect to the ${names.get(r.object)}?`,
      correct: r.predicate,
      distractors: [rule.opposite],
      objectIds: [r.subject, r.object],
      evidence,
    });
  }

  const shuffled = rng.shuffle(unique);
  for (let t = 0; t + 1 < shuffled.length; t += 2) {
    const a = shuffled[t]!, b = shuffled[t + 1]!;
    const ratio = Math.log(area(a.bbox) / area(b.bbox));
    const [larger, smaller] = ratio >= 0 ? [a, b] : [b, a];
    out.push({
      category: "size",
      question: `Which appears larger in the image, the ${names.get(a.id)} or the ${
        names.get(b.id)
      }?`,
      correct: names.get(larger.id)!,
      distractors: [names.get(smaller.id)!],
      objectIds: [a.id, b.id],
      evidence: [{ quantity: "log box area ratio", value: ratio, margin: LOG_AREA_MARGIN }],
    });
  }

  for (const o of unique) {
    // A box wider or taller than about a grid cell spans several regions.
    const extent = Math.max((o.bbox[2] - o.bbox[0]) / width, (o.bbox[3] - o.bbox[1]) / height);
    if (extent > 0.4) continue;
    const [cx, cy] = centre(o.bbox);
    const col = Math.min(2, Math.floor(cx / (width / 3))),
      row = Math.min(2, Math.floor(cy / (height / 3)));
    const region = GRID_REGIONS[row * 3 + col]!;
    const line = (v: number, side: number) =>
      Math.min(Math.abs(v - side / 3), Math.abs(v - 2 * side / 3)) / side;
    out.push({
      category: "instance_location",
      question: `In which part of the image is the ${names.get(o.id)} located?`,
      correct: region,
      distractors: GRID_REGIONS.filter((x) => x !== region),
      objectIds: [o.id],
      evidence: [
        {
          quantity: "box centre to vertical grid line",
          value: line(cx, width),
          margin: GRID_MARGIN,
        },
        {
          quantity: "box centre to horizontal grid line",
          value: line(cy, height),
          margin: GRID_MARGIN,
        },
      ],
    });
  }

  for (const [stem, instances] of [...stems.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const n = instances.length;
    if (n < 1 || n > 4) continue;
    const wrong = rng.shuffle([n - 1, n + 1, n + 2, n + 3].filter((v) => v >= 1 && v !== n));
    out.push({
      category: "count",
      question: `How many ${plural(stem.replaceAll("_", " "))} are there in the image?`,
      correct: String(n),
      distractors: wrong.slice(0, 3).map(String),
      objectIds: instances.map((o) => o.id),
      evidence: [],
    });
  }
  return out;
};

/**
 * Up to `perCategory` questions of each answerable category for one VG image, after the evidence
 * filter.
 */
export const vgQuestions = (scene: VgScene, rng: Rng, perCategory = 2): Question[] => {
  const kept = drafts(scene, rng).filter((d) => evidenceReason(d) === null);
  const questions: Question[] = [];
  for (const category of VG_CATEGORIES) {
    for (const d of kept.filter((d) => d.category === category).slice(0, perCategory)) {
      questions.push(finaliseDraft(d, new Map(), rng));
    }
  }
  return questions;
};
