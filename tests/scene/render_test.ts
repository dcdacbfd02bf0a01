import assert from "node:assert/strict";
import { Effect } from "effect";
import { boxCorners, projectToPixel } from "../../src/scene/camera.ts";
import { makeRng } from "../../src/domain/random.ts";
import { SceneRenderer } from "../../src/scene/render.ts";
import { sampleScene } from "../../src/scene/sampler.ts";
import type { RenderedScene, Scene } from "../../src/scene/types.ts";
import { rendererRuntime } from "./renderer_runtime.ts";

const render = (scenes: ReadonlyArray<Scene>): Promise<RenderedScene[]> =>
  rendererRuntime.runPromise(Effect.flatMap(SceneRenderer, (r) => r.render(scenes)));

const scenes = Array.from({ length: 12 }, (_, i) => sampleScene(makeRng(40 + i), i));
const rendered = await render(scenes);

Deno.test("each object's box is the extent of its pixels in the id pass", () => {
  for (const { scene, ids, truth } of rendered) {
    scene.objects.forEach((_, k) => {
      let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity, count = 0;
      for (let y = 0; y < scene.height; y++) {
        for (let x = 0; x < scene.width; x++) {
          if (ids[y * scene.width + x] !== k + 1) continue;
          count++;
          x1 = Math.min(x1, x),
            y1 = Math.min(y1, y),
            x2 = Math.max(x2, x + 1),
            y2 = Math.max(y2, y + 1);
        }
      }
      assert.equal(truth[k]!.visiblePixels, count);
      assert.deepEqual(truth[k]!.bbox, count === 0 ? null : [x1, y1, x2, y2]);
    });
  }
});

Deno.test("objects are visible, and visible fractions lie in [0, 1] with some occlusion", () => {
  const fractions = rendered.flatMap((r) => r.truth.map((t) => t.visibleFraction));
  assert.ok(fractions.every((f) => f >= 0 && f <= 1));
  assert.ok(fractions.filter((f) => f > 0.99).length > fractions.length / 2);
  assert.ok(fractions.some((f) => f < 0.9), "some object is partly hidden");
  for (const r of rendered) {
    for (const t of r.truth) assert.ok(t.silhouettePixels >= t.visiblePixels - 2);
  }
});

Deno.test("the image shows sky at the top, ground at the bottom and coloured objects", () => {
  for (const { scene, rgba, ids } of rendered) {
    const w = scene.width;
    const pixel = (x: number, y: number) =>
      Array.from(rgba.subarray((y * w + x) * 4, (y * w + x) * 4 + 4));
    assert.equal(pixel(0, 0)[3], 255);
    const bottomRow = Array.from({ length: w }, (_, x) => pixel(x, scene.height - 1));
    const greys = bottomRow.filter((p) => Math.abs(p[0]! - p[2]!) < 12);
    assert.ok(greys.length > w / 2, "the ground is grey");
    const objectPixel = ids.findIndex((id) => id > 0);
    assert.ok(objectPixel >= 0);
  }
});

Deno.test("rendering is deterministic and independent of the batch it is in", async () => {
  const [again] = await render([scenes[3]!]);
  assert.deepEqual(again!.rgba, rendered[3]!.rgba);
  assert.deepEqual(again!.ids, rendered[3]!.ids);
  assert.deepEqual(again!.truth, rendered[3]!.truth);
});

Deno.test("a 448-pixel render scales the boxes of the 96-pixel one", async () => {
  const big = { ...scenes[0]!, width: 448, height: 448 };
  const [large] = await render([big]);
  const small = rendered[0]!;
  large!.truth.forEach((t, k) => {
    const s = small.truth[k]!;
    if (t.bbox === null || s.bbox === null || s.visibleFraction < 0.9) return;
    const scale = 448 / 96;
    for (let c = 0; c < 4; c++) assert.ok(Math.abs(t.bbox[c]! / scale - s.bbox[c]!) <= 1.5);
  });
});

Deno.test("fully visible objects fill, and stay inside, the CPU projection of their 3D box", () => {
  let checked = 0;
  for (const { scene, truth } of rendered) {
    scene.objects.forEach((object, k) => {
      const t = truth[k]!;
      if (t.visibleFraction < 0.999 || t.bbox === null) return;
      const corners = boxCorners(object).map((c) =>
        projectToPixel(scene.camera, scene.width, scene.height, c)
      );
      const xs = corners.map((c) => c[0]), ys = corners.map((c) => c[1]);
      const hull = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
      const [x1, y1, x2, y2] = t.bbox;
      assert.ok(
        x1 >= Math.floor(hull[0]!) - 1 && y1 >= Math.floor(hull[1]!) - 1,
        `${object.id} starts outside`,
      );
      assert.ok(
        x2 <= Math.ceil(hull[2]!) + 1 && y2 <= Math.ceil(hull[3]!) + 1,
        `${object.id} ends outside`,
      );
      // The 3D box projects wider than round shapes do; a wrong transform misses far more.
      const area = (x2 - x1) * (y2 - y1), hullArea = (hull[2]! - hull[0]!) * (hull[3]! - hull[1]!);
      assert.ok(
        area >= 0.3 * hullArea,
        `${object.id}: box ${area} px vs projected ${hullArea.toFixed(0)} px`,
      );
      checked++;
    });
  }
  assert.ok(checked >= 20, `only ${checked} objects checked`);
});
