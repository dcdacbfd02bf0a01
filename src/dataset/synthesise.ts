/**
 * Question synthesis for one rendered scene: runs the nine category modules, drops ambiguous
 * drafts, removes repeated questions and finalises the rest into multiple-choice questions.
 *
 * @module
 */
import { fullSceneGraph, isClear } from "../scene/graph.ts";
import type { Rng } from "../domain/random.ts";
import type { SceneGraph } from "../domain/scene_graph.ts";
import type { ObjectTruth, RenderedScene } from "../scene/types.ts";
import { ambiguityReason } from "./ambiguity.ts";
import { countQuestions } from "./categories/count.ts";
import { depthQuestions } from "./categories/depth.ts";
import { distanceQuestions } from "./categories/distance.ts";
import { existenceQuestions } from "./categories/existence.ts";
import { instanceLocationQuestions } from "./categories/instance_location.ts";
import { orientationQuestions } from "./categories/orientation.ts";
import { reachQuestions } from "./categories/reach.ts";
import { relationQuestions } from "./categories/relation.ts";
import { sizeQuestions } from "./categories/size.ts";
import {
  CATEGORIES,
  type Category,
  type CategoryGenerator,
  finaliseDraft,
  type Question,
  type SceneContext,
} from "./question.ts";

/** The module behind each category. */
export const CATEGORY_GENERATORS: Record<Category, CategoryGenerator> = {
  relation: relationQuestions,
  reach: reachQuestions,
  size: sizeQuestions,
  orientation: orientationQuestions,
  instance_location: instanceLocationQuestions,
  depth: depthQuestions,
  distance: distanceQuestions,
  count: countQuestions,
  existence: existenceQuestions,
};

/** The questions of one scene and what the ambiguity filter removed. */
export interface SceneQuestions {
  /** Every relation in both directions (question subgraphs are cut from it). */
  readonly graph: SceneGraph;
  /** The same relations, each pair once (stored in records). */
  readonly canonicalGraph: SceneGraph;
  readonly questions: ReadonlyArray<Question>;
  /** Drafts proposed per category. */
  readonly proposed: Readonly<Record<Category, number>>;
  /** Drafts dropped as ambiguous per category. */
  readonly ambiguous: Readonly<Record<Category, number>>;
}

/** How many questions per category one scene may contribute (keeps scenes diverse). */
export const DEFAULT_PER_SCENE_LIMIT = 4;

const zeroCounts = (): Record<Category, number> =>
  Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;

/**
 * Synthesises up to `perCategory` unambiguous questions of each category for a rendered scene.
 * Every category draws from its own child stream of `rng`, so adding questions to one category
 * never changes another's.
 */
export const synthesiseQuestions = (
  rendered: RenderedScene,
  rng: Rng,
  perCategory: number = DEFAULT_PER_SCENE_LIMIT,
): SceneQuestions => {
  const { scene, truth } = rendered;
  const graph = fullSceneGraph(rendered);
  const context: SceneContext = {
    rendered,
    graph,
    clear: truth.map((t) => isClear(t, scene.width, scene.height)),
  };
  const truthById = new Map<string, ObjectTruth>(scene.objects.map((o, k) => [o.id, truth[k]!]));
  const proposed = zeroCounts(), ambiguous = zeroCounts();
  const questions: Question[] = [];
  CATEGORIES.forEach((category, c) => {
    const stream = rng.fork(c);
    const drafts = CATEGORY_GENERATORS[category](context, stream);
    proposed[category] = drafts.length;
    const seen = new Set<string>();
    const kept = drafts.filter((draft) => {
      if (ambiguityReason(draft, rendered) !== null) {
        ambiguous[category]++;
        return false;
      }
      if (seen.has(draft.question)) return false;
      seen.add(draft.question);
      return true;
    });
    for (const draft of stream.shuffle(kept).slice(0, perCategory)) {
      questions.push(finaliseDraft(draft, truthById, stream));
    }
  });
  return { graph, canonicalGraph: fullSceneGraph(rendered, true), questions, proposed, ambiguous };
};
