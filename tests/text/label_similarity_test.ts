import assert from "node:assert/strict";
import {
  labelSimilarity,
  labelTokens,
  makeLabelSimilarity,
} from "../../src/text/label_similarity.ts";
import { makeWordVectors } from "../../src/text/word_vectors.ts";

const toy = makeLabelSimilarity(
  makeWordVectors(["red", "cube", "ball", "down"], new Float32Array([1, 0, 0, 1, 0, 3, -2, 0]), 2),
);

Deno.test("labelSimilarity is the cosine of the mean word vectors", () => {
  // mean(red, cube) = (0.5, 0.5) against cube = (0, 1): cos = 1/√2.
  assert.ok(Math.abs(toy("red_cube.1", "cube.2") - Math.SQRT1_2) < 1e-12);
  assert.equal(toy("cube.1", "ball.1"), 1, "parallel vectors");
  assert.equal(toy("red.1", "down.1"), -1, "opposite vectors");
  assert.equal(toy("red.1", "cube.1"), 0, "orthogonal vectors");
});

Deno.test("identical cleaned labels score 1 even when out of vocabulary", () => {
  assert.equal(toy("Purple_Thing.1", "purple-thing.7"), 1);
  assert.equal(toy("", ""), 1);
});

Deno.test("a label without any known word scores 0", () => {
  assert.equal(toy("purple.1", "cube.1"), 0);
  assert.equal(toy("cube.1", "zorp.2"), 0);
});

Deno.test("out-of-vocabulary words count as zero vectors in the mean", () => {
  // (cube + zorp)/2 is parallel to cube.
  assert.ok(Math.abs(toy("zorp cube", "cube") - 1) < 1e-12);
});

Deno.test("labelTokens splits words from punctuation and clitics like spaCy", () => {
  assert.deepEqual(labelTokens("man's hat"), ["man", "'s", "hat"]);
  assert.deepEqual(labelTokens("  next   to "), ["next", "to"]);
  assert.deepEqual(labelTokens("left/right"), ["left", "/", "right"]);
});

Deno.test("labelSimilarity with the wink vectors reproduces known GloVe cosines", () => {
  const close = (a: string, b: string, expected: number) =>
    assert.ok(
      Math.abs(labelSimilarity(a, b) - expected) < 2e-3,
      `${a}/${b}: ${labelSimilarity(a, b)}`,
    );
  close("car.1", "automobile.1", 0.683);
  close("cube.1", "box.3", 0.349);
  close("left", "right", 0.768);
  assert.equal(labelSimilarity("red_cube.1", "Red-Cube.9"), 1);
  assert.equal(labelSimilarity("qwxzvk.1", "cube.1"), 0);
});

Deno.test("labelSimilarity is symmetric and within [-1, 1]", () => {
  const labels = ["man.1", "bike.1", "bicycle.2", "traffic_light.1", "red cube", "behind"];
  for (const a of labels) {
    for (const b of labels) {
      const s = labelSimilarity(a, b);
      assert.equal(s, labelSimilarity(b, a));
      assert.ok(s >= -1 && s <= 1);
    }
  }
});

Deno.test("very long labels are scored like short ones", () => {
  const long = "cube ".repeat(200) + "ball";
  // Mean of 200 cubes and one ball: both (0, 1)-parallel, so the cosine with "cube" is 1.
  assert.ok(Math.abs(toy(long, "cube.1") - 1) < 1e-12);
  assert.equal(toy(long, long), 1);
});
