import assert from "node:assert/strict";
import { exportPlan, imageExtension } from "../../src/eval/export.ts";
import type { EvalRecord } from "../../src/eval/record.ts";

Deno.test("imageExtension recognises PNG, JPEG, GIF, WebP and BMP and falls back to bin", () => {
  const bytes = (...b: Array<number>) => new Uint8Array(b);
  assert.equal(imageExtension(bytes(0x89, 0x50, 0x4e, 0x47, 13, 10)), "png");
  assert.equal(imageExtension(bytes(0xff, 0xd8, 0xff, 0xdb)), "jpg");
  assert.equal(imageExtension(bytes(0x47, 0x49, 0x46, 0x38, 0x39, 0x61)), "gif");
  const webp = new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8 ");
  assert.equal(imageExtension(webp), "webp");
  assert.equal(imageExtension(bytes(0x42, 0x4d, 0, 0)), "bmp");
  assert.equal(imageExtension(bytes(1, 2, 3)), "bin");
});

Deno.test("exportPlan keeps path images and gives embedded images unique file names", () => {
  const record = (id: string, images: EvalRecord["images"]): EvalRecord => ({
    id,
    benchmark: "realworldqa",
    category: "free-form",
    question: "How many?",
    choices: [],
    answer: "2",
    images,
  });
  const jpg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0]);
  const plan = exportPlan([
    record("a:1", [{ kind: "bytes", bytes: jpg }]),
    record("a/1", [{ kind: "bytes", bytes: jpg }, { kind: "path", path: "/data/x.png" }]),
  ]);
  assert.deepEqual(plan.records.map((r) => r.images), [
    ["images/realworldqa/0_a_1_1.jpg"],
    ["images/realworldqa/1_a_1_1.jpg", "/data/x.png"],
  ]);
  assert.equal(plan.images.length, 2);
  assert.equal(plan.records[0]!.prompt, "How many?");
});
