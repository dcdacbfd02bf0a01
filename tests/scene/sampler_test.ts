import assert from "node:assert/strict";
import { boxCorners, projectToPixel } from "../../src/scene/camera.ts";
import { makeRng } from "../../src/domain/random.ts";
import { horizontalGap } from "../../src/scene/relations.ts";
import { DEFAULT_SAMPLER_OPTIONS, sampleScene } from "../../src/scene/sampler.ts";

const scenes = Array.from({ length: 200 }, (_, i) => sampleScene(makeRng(1000 + i), i));

Deno.test("the sampler gives the same scene for the same seed", () => {
  assert.deepEqual(sampleScene(makeRng(5), 0), sampleScene(makeRng(5), 0));
  assert.notDeepEqual(sampleScene(makeRng(5), 0), sampleScene(makeRng(6), 0));
});

Deno.test("every scene holds 3 to 8 objects with ids matching the reward's id pattern", () => {
  for (const scene of scenes) {
    assert.ok(scene.objects.length >= 3 && scene.objects.length <= 8);
    const ids = scene.objects.map((o) => o.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, /^[a-zA-Z_]+\.\d+$/);
  }
});

Deno.test("ground objects never interpenetrate and stacked objects rest on their support", () => {
  let stacked = 0, touching = 0;
  for (const scene of scenes) {
    scene.objects.forEach((a, i) => {
      if (a.supportedBy !== null) {
        stacked++;
        const support = scene.objects[a.supportedBy]!;
        assert.ok(
          Math.abs(a.position[1] - a.size[1] / 2 - (support.position[1] + support.size[1] / 2)) <
            1e-9,
        );
        return;
      }
      assert.ok(Math.abs(a.position[1] - a.size[1] / 2) < 1e-9, "ground objects stand on y = 0");
      scene.objects.forEach((b, j) => {
        if (j <= i || b.supportedBy !== null) return;
        const gap = horizontalGap(a, b);
        assert.ok(gap > -1e-9, `${a.id} and ${b.id} overlap`);
        if (gap < 1e-6) touching++;
        else assert.ok(gap >= DEFAULT_SAMPLER_OPTIONS.minGap - 1e-9);
      });
    });
  }
  assert.ok(stacked > 0, "some objects are stacked");
  assert.ok(touching > 0, "some objects are in side contact");
});

Deno.test("every object projects inside the image", () => {
  for (const scene of scenes) {
    for (const o of scene.objects) {
      for (const corner of boxCorners(o)) {
        const [x, y] = projectToPixel(scene.camera, scene.width, scene.height, corner);
        assert.ok(x >= 0 && x <= scene.width && y >= 0 && y <= scene.height);
      }
    }
  }
});

Deno.test("all five shapes and an object with a front appear", () => {
  const shapes = new Set(scenes.flatMap((s) => s.objects.map((o) => o.shape)));
  assert.deepEqual([...shapes].sort(), ["arrow", "cone", "cube", "cylinder", "sphere"]);
});

Deno.test("options that leave no room for the minimum object count fail loudly", () => {
  assert.throws(
    () =>
      sampleScene(makeRng(1), 0, {
        ...DEFAULT_SAMPLER_OPTIONS,
        minObjects: 12,
        maxObjects: 12,
        placementRadius: 0.3,
      }),
    RangeError,
  );
});
