import assert from "node:assert/strict";
import { Effect } from "effect";
import jpeg from "jpeg-js";
import { loadRecordImage } from "../../src/dataset/images.ts";
import { encodeRgbPng } from "../../src/scene/png.ts";

const root = await Deno.makeTempDir({ prefix: "images_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
Deno.mkdirSync(`${root}/images`);

const rgba = new Uint8Array(4 * 3 * 4).map((_, i) => (i % 4 === 3 ? 255 : i * 5));
Deno.writeFileSync(`${root}/images/a.png`, encodeRgbPng(rgba, 4, 3));
Deno.writeFileSync(
  `${root}/images/b.jpg`,
  jpeg.encode({ data: rgba, width: 4, height: 3 }, 100).data,
);
Deno.writeTextFileSync(`${root}/images/c.png`, "not an image");

const load = (image: string, width = 4, height = 3) =>
  Effect.runPromise(Effect.result(loadRecordImage(root, { image, width, height })));

Deno.test("a PNG record image loads as RGB bytes equal to what was rendered", async () => {
  const result = await load("images/a.png");
  assert.ok(result._tag === "Success");
  assert.equal(result.success.rgb.length, 4 * 3 * 3);
  assert.deepEqual([...result.success.rgb.subarray(0, 6)], [0, 5, 10, 20, 25, 30]);
});

Deno.test("a JPEG record image loads with its size", async () => {
  const result = await load("images/b.jpg");
  assert.ok(result._tag === "Success" && result.success.width === 4 && result.success.height === 3);
});

Deno.test("an image whose size differs from the record's is a typed error", async () => {
  const result = await load("images/a.png", 8, 3);
  assert.ok(
    result._tag === "Failure" && /is 4×3 but the record says 8×3/.test(result.failure.message),
  );
});

Deno.test("unsafe, missing and undecodable images are typed errors naming the path", async () => {
  for (
    const [image, pattern] of [
      ["../outside.png", /must be relative/],
      ["/etc/passwd", /must be relative/],
      ["images/missing.png", /missing\.png: cannot read image/],
      ["images/c.png", /c\.png: cannot decode image/],
    ] as const
  ) {
    const result = await load(image);
    assert.ok(result._tag === "Failure" && result.failure._tag === "DatasetIoError", image);
    assert.match(result.failure.message, pattern);
  }
});
