import assert from "node:assert/strict";
import { Effect, Result } from "effect";
import { parseDelimited, parseJsonl, readTable } from "../../src/eval/tables.ts";

Deno.test("parseDelimited handles quoted delimiters, doubled quotes, newlines and CRLF", () => {
  assert.deepEqual(parseDelimited('a,b\r\n"x,1","say ""hi""\nthere"\r\n', ","), [
    ["a", "b"],
    ["x,1", 'say "hi"\nthere'],
  ]);
});

Deno.test("parseJsonl names the line of a malformed record", () => {
  const r = parseJsonl("f.jsonl", '{"a": 1}\n\n[1]\n');
  assert.ok(Result.isFailure(r));
  assert.match(r.failure.message, /f\.jsonl, record 3: .*expected a JSON object/);
});

Deno.test("readTable rejects an extension it cannot read and a CSV row of the wrong width", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/a.csv`, "x,y\n1,2\n3\n");
  await Deno.writeTextFile(`${dir}/a.xml`, "<x/>");
  const csv = await Effect.runPromise(Effect.flip(readTable(`${dir}/a.csv`)));
  assert.match(csv.message, /a\.csv, record 2: 1 cells but the header has 2/);
  const xml = await Effect.runPromise(Effect.flip(readTable(`${dir}/a.xml`)));
  assert.match(xml.message, /unsupported extension/);
  await Deno.remove(dir, { recursive: true });
});
