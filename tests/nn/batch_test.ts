import assert from "node:assert/strict";
import { IGNORE_TARGET, packBatch } from "../../src/nn/batch.ts";
import { micro, samples } from "./micro.ts";

Deno.test("packBatch pads, masks prompt targets and continues text positions after the image", () => {
  const [a, b] = samples();
  const batch = packBatch(micro, [a!, b!], 0);
  assert.equal(batch.length, a!.tokens.length);
  assert.deepEqual([...batch.lengths], [a!.tokens.length, b!.tokens.length]);
  // Targets only from the response on: row t predicts token t + 1.
  const T = batch.length;
  for (let t = 0; t < T; t++) {
    const expected = t + 1 < a!.tokens.length && t + 1 >= a!.responseStart
      ? a!.tokens[t + 1]
      : IGNORE_TARGET;
    assert.equal(batch.targets[t], expected);
  }
  assert.equal(batch.imageRows.length, 8); // 4 pad tokens per sequence
});

Deno.test("packBatch treats an image pad the model wrote in its response as plain text", () => {
  const [a] = samples();
  const withPad = { ...a!, tokens: [...a!.tokens, micro.image_token_id, 9] };
  const batch = packBatch(micro, [withPad], 0);
  assert.equal(batch.imageRows.length, 4); // only the prompt's pads take image features
  const T = batch.length;
  const t = withPad.tokens.length - 2;
  // Positions keep counting on all three axes through the response.
  for (let axis = 0; axis < 3; axis++) {
    assert.equal(batch.positions[axis * T + t + 1]! - batch.positions[axis * T + t]!, 1);
  }
});
