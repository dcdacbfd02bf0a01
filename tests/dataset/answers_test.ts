/**
 * Every synthesised answer is re-derived here from the record alone (its scene graph, 3D truth and
 * question text) with geometry written independently of src/scene and src/dataset.
 */
import assert from "node:assert/strict";
import { Effect } from "effect";
import { buildRecord, scene3dOf } from "../../src/dataset/build.ts";
import { CATEGORIES } from "../../src/dataset/question.ts";
import type { StvqaRecord } from "../../src/dataset/record.ts";
import { synthesiseQuestions } from "../../src/dataset/synthesise.ts";
import { makeRng } from "../../src/domain/random.ts";
import { SceneRenderer } from "../../src/scene/render.ts";
import { sampleScene } from "../../src/scene/sampler.ts";
import { parseResponse } from "../../src/stages/parse.ts";
import { spatialThinkerReward } from "../../src/stages/reward.ts";
import { rendererRuntime } from "../scene/renderer_runtime.ts";

const scenes = Array.from({ length: 32 }, (_, i) => sampleScene(makeRng(900 + i), i));
const rendered = await rendererRuntime.runPromise(
  Effect.flatMap(SceneRenderer, (r) => r.render(scenes)),
);
const synthesised = rendered.map((r) => synthesiseQuestions(r, makeRng(r.scene.index), 6));
const records: StvqaRecord[] = rendered.flatMap((r, k) => {
  const s = synthesised[k]!;
  const image = {
    imageId: `t${r.scene.index}`,
    path: `images/${r.scene.index}.png`,
    width: 96,
    height: 96,
  };
  return s.questions.map((q) =>
    buildRecord(q, { graph: s.graph, stored: s.canonicalGraph }, image, scene3dOf(r))
  );
});

type V3 = readonly [number, number, number];
type Obj = NonNullable<StvqaRecord["scene_3d"]>["objects"][number];

const NAME = /\b(red|green|blue|yellow|purple|cyan|orange) (cube|sphere|cylinder|cone|arrow)s?\b/g;
const namesIn = (text: string): string[] => [...text.matchAll(NAME)].map((m) => `${m[1]}_${m[2]}`);
const objectNamed = (r: StvqaRecord, name: string): Obj => {
  const matches = r.scene_3d!.objects.filter((o) => o.id.startsWith(`${name}.`));
  assert.equal(matches.length, 1, `${name} must name exactly one object in ${r.image_id}`);
  return matches[0]!;
};
const answerText = (r: StvqaRecord) => r.answer_text_only;

const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: V3, b: V3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const unit = (a: V3): V3 => {
  const n = Math.hypot(...a);
  return [a[0] / n, a[1] / n, a[2] / n];
};
const cameraAxes = (r: StvqaRecord) => {
  const { eye, target } = r.scene_3d!.camera;
  const f = unit(sub(target, eye));
  const right = unit([-f[2], 0, f[0]]); // f × (0, 1, 0)
  return { eye, f, right };
};
const volume = (o: Obj) => {
  const [x, y, z] = o.size;
  const factor =
    { cube: 1, sphere: Math.PI / 6, cylinder: Math.PI / 4, cone: Math.PI / 12, arrow: 0.5 }[
      o.shape as "cube"
    ];
  return factor * x * y * z;
};
const radius = (o: Obj) =>
  ["sphere", "cylinder", "cone"].includes(o.shape)
    ? o.size[0] / 2
    : Math.hypot(o.size[0], o.size[2]) / 2;
const gap = (a: Obj, b: Obj) => {
  const h = Math.hypot(a.position[0] - b.position[0], a.position[2] - b.position[2]) - radius(a) -
    radius(b);
  const bottom = (o: Obj) => o.position[1] - o.size[1] / 2,
    top = (o: Obj) => o.position[1] + o.size[1] / 2;
  return Math.max(0, h, bottom(a) - top(b), bottom(b) - top(a));
};
/** Signed angle of the horizontal direction (dx, dz) from the object's front, positive to its right. */
const angleFromFront = (o: Obj, dx: number, dz: number) => {
  const front: V3 = [Math.sin(o.yaw), 0, Math.cos(o.yaw)];
  const right: V3 = [-front[2], 0, front[0]];
  return Math.atan2(dot([dx, 0, dz], right), dot([dx, 0, dz], front));
};
const quadrant = (angle: number, names: readonly [string, string, string, string]) => {
  const a = Math.abs(angle);
  return a < Math.PI / 4
    ? names[0]
    : a > 3 * Math.PI / 4
    ? names[1]
    : angle > 0
    ? names[2]
    : names[3];
};
const INVERSE: Record<string, string> = {
  "left of": "right of",
  "right of": "left of",
  "in front of": "behind",
  "behind": "in front of",
  "on top of": "below",
  "above": "below",
  "below": "above",
};
/** Whether the stored (canonical) scene graph implies `a —p→ b`. */
const implied = (r: StvqaRecord, a: string, p: string, b: string) =>
  r.scene_graph.relationships.some((x) =>
    (x.subject === a && x.predicate === p && x.object === b) ||
    (x.subject === b && x.object === a &&
      (x.predicate === INVERSE[p] || (p === "below" && x.predicate === "on top of")))
  );

const rederive = (r: StvqaRecord): string => {
  const q = r.question_only;
  const names = namesIn(q);
  const plural = r.category === "count" || (r.category === "existence" && !/ of the /.test(q));
  const objs = plural ? [] : names.map((n) => objectNamed(r, n));
  const nameOf = (o: Obj) => o.id.replace(/\.\d+$/, "").replace("_", " ");
  switch (r.category) {
    case "relation": {
      const [a, b] = objs as [Obj, Obj];
      for (const option of r.options) {
        const holds = implied(r, a.id, option, b.id);
        if (option === answerText(r)) {
          assert.ok(holds, `${a.id} ${option} ${b.id} not in the graph`);
        }
      }
      const lateral = dot(sub(a.position, b.position), cameraAxes(r).right);
      if (answerText(r) === "left of") assert.ok(lateral < 0);
      if (answerText(r) === "right of") assert.ok(lateral > 0);
      return answerText(r);
    }
    case "depth": {
      const { eye } = cameraAxes(r);
      const d = (o: Obj) => Math.hypot(...sub(o.position, eye));
      const sorted = [...objs].sort((x, y) => d(x) - d(y));
      if (/^Is the/.test(q)) return d(objs[0]!) < d(objs[1]!) ? "yes" : "no";
      if (/farther/.test(q)) return nameOf(sorted[sorted.length - 1]!);
      return nameOf(sorted[0]!);
    }
    case "size": {
      const sorted = [...objs].sort((x, y) => volume(y) - volume(x));
      if (/bigger or smaller/.test(q)) {
        return volume(objs[0]!) > volume(objs[1]!) ? "bigger" : "smaller";
      }
      if (/smaller, the/.test(q)) return nameOf(sorted[sorted.length - 1]!);
      return nameOf(sorted[0]!);
    }
    case "distance": {
      const [ref, a, b] = objs as [Obj, Obj, Obj];
      const closer = gap(ref, a) < gap(ref, b) ? a : b, farther = closer === a ? b : a;
      return nameOf(/closer/.test(q) ? closer : farther);
    }
    case "count": {
      const colour = q.match(/\b(red|green|blue|yellow|purple|cyan|orange)\b/)?.[1];
      const shape = q.match(/\b(cube|sphere|cylinder|cone|arrow)s\b/)?.[1];
      return String(
        r.scene_3d!.objects.filter((o) =>
          (colour === undefined || o.colour === colour) &&
          (shape === undefined || o.shape === shape)
        ).length,
      );
    }
    case "existence": {
      if (/to the (left|right) of/.test(q)) {
        const [a, b] = objs as [Obj, Obj];
        const lateral = dot(sub(a.position, b.position), cameraAxes(r).right);
        return (/to the left/.test(q) ? lateral < 0 : lateral > 0) ? "yes" : "no";
      }
      return r.scene_3d!.objects.some((o) => o.id.startsWith(`${names[0]}.`)) ? "yes" : "no";
    }
    case "instance_location": {
      const box = r.scene_graph.objects.find((o) => o.id === objs[0]!.id)!.bbox;
      const cx = (box[0] + box[2]) / 2, cy = (box[1] + box[3]) / 2;
      if (/half/.test(q)) return cx < r.width / 2 ? "left half" : "right half";
      const col = ["left", "center", "right"][Math.min(2, Math.floor(cx / (r.width / 3)))]!;
      const row = ["top", "middle", "bottom"][Math.min(2, Math.floor(cy / (r.height / 3)))]!;
      return row === "middle" && col === "center" ? "center" : `${row} ${col}`;
    }
    case "orientation": {
      const [ref, other] = objs as [Obj, Obj | undefined];
      if (/facing the/.test(q)) {
        const a = angleFromFront(
          ref,
          other!.position[0] - ref.position[0],
          other!.position[2] - ref.position[2],
        );
        return Math.abs(a) <= 25 * Math.PI / 180 ? "yes" : "no";
      }
      if (other !== undefined) {
        return quadrant(
          angleFromFront(
            ref,
            other.position[0] - ref.position[0],
            other.position[2] - ref.position[2],
          ),
          ["in front of it", "behind it", "to its right", "to its left"],
        );
      }
      // Heading in the image: the front in the camera's horizontal axes.
      const { f, right } = cameraAxes(r);
      const front: V3 = [Math.sin(ref.yaw), 0, Math.cos(ref.yaw)];
      const along = dot(front, unit([f[0], 0, f[2]]));
      return quadrant(Math.atan2(dot(front, right), along), [
        "away from the camera",
        "toward the camera",
        "to the right",
        "to the left",
      ]);
    }
    case "reach": {
      const [a, b] = objs as [Obj, Obj];
      const touching = gap(a, b) < 0.02;
      if (/touching the|contact with|reach the/.test(q)) return touching ? "yes" : "no";
      if (a.supported_by === b.id) return "resting on it";
      if (b.supported_by === a.id) return "supporting it";
      return touching ? "touching its side" : "not touching it";
    }
  }
};

Deno.test("every category produces questions on a few dozen scenes", () => {
  assert.ok(records.length > 500, `only ${records.length} records`);
  for (const c of CATEGORIES) assert.ok(records.some((r) => r.category === c), `no ${c} question`);
});

Deno.test("every answer is re-derived from the record by an independent check", () => {
  for (const r of records) {
    assert.equal(answerText(r), rederive(r), `${r.image_id}: ${r.question_with_options}`);
  }
});

Deno.test("answers, letters and option lists agree in every record field", () => {
  for (const r of records) {
    const k = r.options.indexOf(r.answer_text_only);
    assert.ok(k >= 0 && r.options.length >= 2 && r.options.length <= 4);
    assert.equal(new Set(r.options).size, r.options.length);
    const letter = "ABCD"[k]!;
    assert.equal(r.answer_only, letter);
    assert.equal(r.answer_option_text_only, `(${letter}) ${r.answer_text_only}`);
    assert.ok(r.answer.endsWith(`\n<answer>${letter}</answer>`));
    assert.ok(
      r.answer_option_text.endsWith(`\n<answer>(${letter}) ${r.answer_text_only}</answer>`),
    );
    assert.ok(r.question_with_options.startsWith(`${r.question_only}\nOptions:\n(A) `));
    assert.ok(r.problem.endsWith(`\nQ. ${r.question_with_options}`));
    assert.match(r.problem, /Image size: \(96 x 96\)/);
  }
});

Deno.test("ground-truth strings carry the question's objects and parse with the reward's parser", () => {
  for (const r of records) {
    const parsed = parseResponse(`<observe>x</observe><think>y</think>${r.answer_option_text}`);
    assert.deepEqual(parsed.failures, [], r.answer_option_text);
    const scene = parsed.response.scene!;
    const names = namesIn(r.question_only);
    for (const o of scene.objects) {
      // Count and plain existence questions carry every object of the class they ask about.
      const o3 = r.scene_3d!.objects.find((x) => x.id === o.id)!;
      const counted = r.category === "count" &&
        (r.question_only.includes(` ${o3.colour} `) || r.question_only.includes(` ${o3.shape}s`));
      assert.ok(
        counted || names.some((n) => o.id.startsWith(`${n}.`)),
        `${o.id} is not named in "${r.question_only}"`,
      );
      assert.deepEqual(o.bbox, r.scene_graph.objects.find((g) => g.id === o.id)!.bbox);
    }
    for (const rel of scene.relationships) {
      assert.ok(scene.objects.some((o) => o.id === rel.subject));
      assert.ok(scene.objects.some((o) => o.id === rel.object));
    }
  }
});

Deno.test("options are shuffled: the correct answer is not always in one position", () => {
  const letters = new Set(records.map((r) => r.answer_only));
  assert.deepEqual([...letters].sort(), ["A", "B", "C", "D"]);
});

Deno.test("no question names an object that is heavily occluded", () => {
  for (const r of records) {
    for (const name of namesIn(r.question_only)) {
      const o = r.scene_3d!.objects.find((x) => x.id.startsWith(`${name}.`));
      if (o !== undefined) assert.ok(o.visible_fraction >= 0.6, `${o.id} in "${r.question_only}"`);
    }
  }
});

Deno.test("orientation questions are only asked about objects with a front large enough to read", () => {
  const orientation = records.filter((r) => r.category === "orientation");
  assert.ok(orientation.length > 0);
  for (const r of orientation) {
    const ref = objectNamed(r, namesIn(r.question_only)[0]!);
    assert.equal(ref.shape, "arrow");
    assert.ok(
      ref.visible_pixels >= 0.012 * r.width * r.height,
      `${ref.id}: ${ref.visible_pixels} px`,
    );
  }
});

Deno.test("the ambiguity filter drops drafts, and every kept question clears all its margins", () => {
  const dropped = synthesised.reduce(
    (n, s) => n + Object.values(s.ambiguous).reduce((a, b) => a + b, 0),
    0,
  );
  assert.ok(dropped > 0);
  for (const c of ["depth", "distance", "size", "orientation", "instance_location"] as const) {
    assert.ok(synthesised.some((s) => s.ambiguous[c] > 0), `nothing dropped for ${c}`);
  }
  for (const q of synthesised.flatMap((s) => s.questions)) {
    for (const e of q.evidence) {
      assert.ok(Math.abs(e.value) >= e.margin, `${q.question}: ${e.quantity}`);
    }
  }
});

Deno.test("the reward gives a response that reproduces the ground truth the full score", () => {
  for (const r of records.filter((_, k) => k % 7 === 0)) {
    const scene = r.answer_option_text.match(/<scene>(.*?)<\/scene>/s)![1]!;
    const response = `<observe>o</observe>\n<scene>${scene}</scene>\n<think>t</think>\n` +
      `<answer>${r.answer_option_text_only}</answer>`;
    const reward = spatialThinkerReward({
      response,
      groundTruth: r.answer_option_text,
      problem: r.problem,
    });
    assert.equal(reward.format, 1);
    assert.equal(reward.accuracy, 1);
    assert.ok(reward.overall > 0.9999, `${r.question_only}: ${JSON.stringify(reward)}`);
  }
});

Deno.test("no relation distractor holds in the record's scene graph", () => {
  const relation = records.filter((r) => r.category === "relation");
  assert.ok(relation.some((r) => r.options.length === 4));
  for (const r of relation) {
    const [a, b] = namesIn(r.question_only).map((n) => objectNamed(r, n)) as [Obj, Obj];
    for (const option of r.options.filter((o) => o !== answerText(r))) {
      assert.ok(!implied(r, a.id, option, b.id), `${r.image_id}: ${r.question_with_options}`);
    }
  }
});

Deno.test("count options are four consecutive counts from 0 to 4, zero included", () => {
  const count = records.filter((r) => r.category === "count");
  assert.ok(count.some((r) => answerText(r) === "0"));
  for (const r of count) {
    const values = r.options.map(Number).sort((x, y) => x - y);
    assert.ok(values[0]! >= 0 && values[3]! <= 4, r.question_with_options);
    values.forEach((v, k) => assert.equal(v, values[0]! + k));
  }
});
