import assert from "node:assert/strict";
import { Effect } from "effect";
import { corpusFromJsonl } from "../../src/text/corpus.ts";

const jsonlFile = async (lines: ReadonlyArray<string>) => {
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  await Deno.writeTextFile(path, lines.join("\n"));
  return path;
};

Deno.test("corpusFromJsonl takes the chosen fields of every record in file and line order", async () => {
  const first = await jsonlFile([
    '{"problem":"p1","answer":"a1","image":"x.png"}',
    "",
    '{"problem":"p2","answer":"a2"}',
  ]);
  const second = await jsonlFile(['{"problem":"p3","answer":"a3"}']);
  const texts = await Effect.runPromise(corpusFromJsonl([first, second], ["problem", "answer"]));
  assert.deepEqual(texts, ["p1", "a1", "p2", "a2", "p3", "a3"]);
});

Deno.test("a record without a chosen field names the file and line", async () => {
  const path = await jsonlFile(['{"problem":"p1","answer":"a1"}', '{"problem":"p2"}']);
  const error = await Effect.runPromise(
    Effect.flip(corpusFromJsonl([path], ["problem", "answer"])),
  );
  assert.equal(error._tag, "CorpusRecordInvalid");
  assert.match(error.message, new RegExp(`${path}:2: field "answer" is not a string`));
});

Deno.test("a line that is not JSON names the file and line", async () => {
  const path = await jsonlFile(['{"problem":"p1"}', "{oops"]);
  const error = await Effect.runPromise(Effect.flip(corpusFromJsonl([path], ["problem"])));
  assert.match(error.message, /:2: not JSON/);
});
