import assert from "node:assert/strict";
import { Result, Schema } from "effect";
import { decodeJsonLine, splitCompleteLines, startOfFile } from "../../src/report/jsonl.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("splitCompleteLines leaves a partially written last line for the next read", () => {
  const first = splitCompleteLines(bytes('{"a":1}\n{"a":2}\n{"a"'), startOfFile);
  assert.deepEqual(first.lines.map((l) => l.text), ['{"a":1}', '{"a":2}']);
  assert.deepEqual(first.next, { offset: 16, line: 3 });
  assert.equal(first.pendingBytes, 4);
  const second = splitCompleteLines(bytes('{"a":3}\n'), first.next);
  assert.deepEqual(second.lines, [{ line: 3, text: '{"a":3}' }]);
  assert.deepEqual(second.next, { offset: 24, line: 4 });
});

Deno.test("splitCompleteLines counts blank lines so line numbers match the file", () => {
  const chunk = splitCompleteLines(bytes("a\n\n  \nb\n"), startOfFile);
  assert.deepEqual(chunk.lines, [{ line: 1, text: "a" }, { line: 4, text: "b" }]);
});

Deno.test("splitCompleteLines keeps byte offsets exact for multi-byte text", () => {
  const chunk = splitCompleteLines(bytes('{"t":"x≈17 ‖g‖"}\n'), startOfFile);
  assert.equal(chunk.next.offset, bytes('{"t":"x≈17 ‖g‖"}\n').length);
  assert.equal(JSON.parse(chunk.lines[0]!.text).t, "x≈17 ‖g‖");
});

Deno.test("decodeJsonLine names the file and line of a record that is not JSON", () => {
  const result = decodeJsonLine(Schema.Struct({ a: Schema.Number }), "m.jsonl", {
    line: 7,
    text: "{oops",
  });
  assert.ok(Result.isFailure(result));
  assert.equal(result.failure.file, "m.jsonl");
  assert.equal(result.failure.line, 7);
  assert.match(result.failure.message, /m\.jsonl:7: not JSON/);
});

Deno.test("decodeJsonLine names the field that does not fit the schema", () => {
  const result = decodeJsonLine(Schema.Struct({ a: Schema.Number }), "m.jsonl", {
    line: 2,
    text: '{"a":"x"}',
  });
  assert.ok(Result.isFailure(result));
  assert.match(result.failure.reason, /\["a"\]/);
});
