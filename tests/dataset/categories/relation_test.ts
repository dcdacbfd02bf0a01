import assert from "node:assert/strict";
import {
  ALIGNED_OFFSET,
  HORIZONTAL_RELATIONS,
  oppositeOf,
  type PairRelation,
  RELATION_ANSWERS,
  type RelationAnswer,
  relationOptions,
} from "../../../src/dataset/categories/relation.ts";
import { makeRng } from "../../../src/domain/random.ts";
import { toCameraFrame } from "../../../src/scene/camera.ts";
import { pairPredicates } from "../../../src/scene/relations.ts";
import { sampleScene } from "../../../src/scene/sampler.ts";

/** Every ordered pair of objects of 150 sampled scenes, as the relation module sees it. */
const pairs: PairRelation[] = Array.from(
  { length: 150 },
  (_, s) => sampleScene(makeRng(500 + s), s),
)
  .flatMap((scene) =>
    scene.objects.flatMap((a, i) =>
      scene.objects.flatMap((b, j) => {
        if (i === j) return [];
        const ca = toCameraFrame(scene.camera, a.position);
        const cb = toCameraFrame(scene.camera, b.position);
        return [{
          holding: pairPredicates(scene.camera, scene.objects, i, j),
          alignedLateral: Math.abs(ca[0] - cb[0]) <= ALIGNED_OFFSET,
          alignedDepth: Math.abs(ca[2] - cb[2]) <= ALIGNED_OFFSET,
          otherRestsOnThis: b.supportedBy === i,
        }];
      })
    )
  );

const rng = makeRng(3);
const chosen = pairs.map((pair) => ({ pair, options: relationOptions(pair, rng) }));

/** Whether `p` is clearly false for the pair: its opposite holds, or its axis is aligned. */
const clearlyFalse = (pair: PairRelation, p: RelationAnswer): boolean => {
  if (pair.holding.includes(p)) return false;
  if (p === "left of" || p === "right of") {
    return pair.alignedLateral || pair.holding.includes(oppositeOf(p, false));
  }
  if (p === "in front of" || p === "behind") {
    return pair.alignedDepth || pair.holding.includes(oppositeOf(p, false));
  }
  // Vertical: the object is below (the other rests on it or is clearly above) or on top/above.
  const up = pair.holding.includes("on top of") || pair.holding.includes("above");
  return p === "below" ? up : pair.holding.includes("below");
};

Deno.test("relationOptions answers with a holding predicate whenever one holds", () => {
  for (const { pair, options } of chosen) {
    const holds = RELATION_ANSWERS.some((p) => pair.holding.includes(p));
    assert.equal(options !== null, holds);
    if (options !== null) assert.ok(pair.holding.includes(options.correct));
  }
  assert.ok(chosen.filter((c) => c.options !== null).length > 1000);
});

Deno.test("every relation distractor is clearly false and the answer is offered exactly once", () => {
  for (const { pair, options } of chosen) {
    if (options === null) continue;
    const all = [options.correct, ...options.distractors];
    assert.equal(new Set(all).size, all.length);
    for (const d of options.distractors) {
      assert.ok(clearlyFalse(pair, d), `${d} offered with ${pair.holding.join(", ")}`);
    }
  }
});

Deno.test("every option list goes with each of its options as the answer", () => {
  // An option that is never the answer of its list would give itself away as a distractor.
  const answersByList = new Map<string, Set<string>>();
  for (const { options } of chosen) {
    if (options === null) continue;
    const list = [options.correct, ...options.distractors].sort().join(" | ");
    answersByList.set(list, (answersByList.get(list) ?? new Set()).add(options.correct));
  }
  assert.ok(answersByList.has([...HORIZONTAL_RELATIONS].sort().join(" | ")));
  for (const [list, answers] of answersByList) {
    assert.equal(answers.size, list.split(" | ").length, `${list}: answers ${[...answers]}`);
  }
});

Deno.test("relationOptions offers all four horizontal predicates only for an aligned pair", () => {
  const four = chosen.filter((c) => c.options?.distractors.length === 3);
  assert.ok(four.length > 0);
  for (const { pair, options } of four) {
    const lateral = options!.correct === "left of" || options!.correct === "right of";
    assert.ok(lateral ? pair.alignedDepth : pair.alignedLateral);
  }
});

Deno.test("relationOptions is deterministic per seed", () => {
  const again = makeRng(3);
  assert.deepEqual(pairs.map((pair) => relationOptions(pair, again)), chosen.map((c) => c.options));
});

Deno.test("the opposite of below is on top of when the other object rests on this one", () => {
  assert.equal(oppositeOf("below", true), "on top of");
  assert.equal(oppositeOf("below", false), "above");
  assert.equal(oppositeOf("on top of", false), "below");
  assert.equal(oppositeOf("left of", false), "right of");
});
