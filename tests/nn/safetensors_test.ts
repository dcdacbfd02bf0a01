import assert from "node:assert/strict";
import { Effect, Result } from "effect";
import {
  decodeSafetensors,
  encodeSafetensors,
  type HostTensor,
  readSafetensorsHeader,
  readSafetensorsTensors,
  SafetensorsInvalid,
  writeSafetensorsFile,
} from "../../src/nn/safetensors.ts";
import { f32ToBf16, f32ToF16 } from "../../src/nn/dtype.ts";

const bytesOf = (view: ArrayBufferView) =>
  new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

const sample = (): Map<string, HostTensor> =>
  new Map<string, HostTensor>([
    ["w.f32", {
      dtype: "F32",
      shape: [2, 3],
      data: bytesOf(new Float32Array([1, 2, 3, 4, 5, -6])),
    }],
    ["w.f16", { dtype: "F16", shape: [3], data: bytesOf(f32ToF16(new Float32Array([0.5, 1, 2]))) }],
    ["w.bf16", { dtype: "BF16", shape: [1, 1], data: bytesOf(f32ToBf16(new Float32Array([3]))) }],
    ["ids", { dtype: "I64", shape: [2], data: bytesOf(new BigInt64Array([5n, -1n])) }],
    ["count", { dtype: "I32", shape: [], data: bytesOf(new Int32Array([42])) }],
    ["mask", { dtype: "U8", shape: [5], data: new Uint8Array([1, 0, 1, 1, 0]) }],
  ]);

/** Builds a raw file from a header object and a data section, bypassing our writer. */
const rawFile = (header: unknown, data: Uint8Array): Uint8Array => {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
};

const failureOf = (bytes: Uint8Array): SafetensorsInvalid => {
  const result = decodeSafetensors(bytes, "bad.safetensors");
  assert.ok(Result.isFailure(result), "expected the file to be rejected");
  return result.failure;
};

Deno.test("encodeSafetensors then decodeSafetensors round-trips every dtype and the metadata", () => {
  const tensors = sample();
  const bytes = encodeSafetensors(tensors, { format: "pt", step: "7" });
  const decoded = Result.getOrThrow(decodeSafetensors(bytes, "mem"));
  assert.deepEqual(decoded.metadata, { format: "pt", step: "7" });
  assert.deepEqual([...decoded.tensors.keys()].sort(), [...tensors.keys()].sort());
  for (const [name, tensor] of tensors) {
    const back = decoded.tensors.get(name)!;
    assert.equal(back.dtype, tensor.dtype, name);
    assert.deepEqual(back.shape, tensor.shape, name);
    assert.deepEqual(back.data, tensor.data, name);
  }
});

Deno.test("the header is space-padded to 8 bytes and tensors are laid out widest dtype first", () => {
  const bytes = encodeSafetensors(sample());
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLength % 8, 0);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
  assert.match(text, /} *$/);
  const header = JSON.parse(text) as Record<string, { data_offsets: [number, number] }>;
  const order = Object.entries(header).sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0])
    .map(([name]) => name);
  assert.deepEqual(order, ["ids", "count", "w.f32", "w.bf16", "w.f16", "mask"]);
});

Deno.test("a file written by another implementation with an unpadded header is read", () => {
  const data = bytesOf(new Int32Array([1, 2, 3, 4]));
  const bytes = rawFile(
    { test: { dtype: "I32", shape: [2, 2], data_offsets: [0, 16] }, __metadata__: { a: "b" } },
    data,
  );
  const decoded = Result.getOrThrow(decodeSafetensors(bytes, "upstream.safetensors"));
  assert.deepEqual(decoded.tensors.get("test")!.data, data);
  assert.deepEqual(decoded.metadata, { a: "b" });
});

Deno.test("overlapping tensors are rejected naming the second tensor", () => {
  const error = failureOf(rawFile({
    a: { dtype: "U8", shape: [4], data_offsets: [0, 4] },
    b: { dtype: "U8", shape: [4], data_offsets: [2, 6] },
  }, new Uint8Array(6)));
  assert.equal(error.tensor, "b");
  assert.equal(error.file, "bad.safetensors");
  assert.match(error.message, /overlaps/);
});

Deno.test("a gap between tensors is rejected", () => {
  const error = failureOf(rawFile({
    a: { dtype: "U8", shape: [2], data_offsets: [0, 2] },
    b: { dtype: "U8", shape: [2], data_offsets: [4, 6] },
  }, new Uint8Array(6)));
  assert.equal(error.tensor, "b");
  assert.match(error.reason, /gap/);
});

Deno.test("a byte span that does not match dtype and shape is rejected naming the tensor", () => {
  const error = failureOf(
    rawFile({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
  );
  assert.equal(error.tensor, "w");
  assert.match(error.reason, /needs 12 bytes/);
});

Deno.test("unknown dtypes, bad shapes and bad offsets are rejected", () => {
  assert.match(
    failureOf(rawFile({ w: { dtype: "F64", shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)))
      .reason,
    /unsupported dtype/,
  );
  assert.match(
    failureOf(rawFile({ w: { dtype: "U8", shape: [-1], data_offsets: [0, 1] } }, new Uint8Array(1)))
      .reason,
    /shape/,
  );
  assert.match(
    failureOf(rawFile({ w: { dtype: "U8", shape: [1], data_offsets: [1, 0] } }, new Uint8Array(1)))
      .reason,
    /data_offsets/,
  );
});

Deno.test("trailing bytes after the last tensor are rejected", () => {
  const error = failureOf(
    rawFile({ w: { dtype: "U8", shape: [1], data_offsets: [0, 1] } }, new Uint8Array(3)),
  );
  assert.match(error.reason, /cover 1 bytes but the data section has 3/);
});

Deno.test("a truncated file, an oversized header length and non-JSON headers are rejected", () => {
  assert.match(failureOf(new Uint8Array(5)).reason, /fewer than 8/);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
  assert.match(failureOf(huge).reason, /exceeds/);
  const pastEnd = new Uint8Array(16);
  new DataView(pastEnd.buffer).setBigUint64(0, 100n, true);
  assert.match(failureOf(pastEnd).reason, /past the end/);
  const notJson = new Uint8Array(12);
  new DataView(notJson.buffer).setBigUint64(0, 4n, true);
  notJson.set(new TextEncoder().encode("{{{{"), 8);
  assert.match(failureOf(notJson).reason, /not UTF-8 JSON/);
});

Deno.test("writeSafetensorsFile streams a file that reads back tensor by tensor", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/model.safetensors`;
  const tensors = sample();
  await Effect.runPromise(writeSafetensorsFile(path, tensors, { format: "pt" }));
  assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["model.safetensors"]);
  const header = await Effect.runPromise(readSafetensorsHeader(path));
  assert.deepEqual(header.metadata, { format: "pt" });
  const some = await Effect.runPromise(readSafetensorsTensors(path, header, ["w.f16", "mask"]));
  assert.deepEqual([...some.keys()], ["w.f16", "mask"]);
  assert.deepEqual(some.get("mask")!.data, tensors.get("mask")!.data);
  assert.deepEqual(some.get("w.f16")!.data, tensors.get("w.f16")!.data);
  assert.deepEqual(await Deno.readFile(path), encodeSafetensors(tensors, { format: "pt" }));
});

Deno.test("readSafetensorsTensors names a tensor the file does not hold", async () => {
  const path = `${await Deno.makeTempDir()}/m.safetensors`;
  await Effect.runPromise(writeSafetensorsFile(path, sample()));
  const header = await Effect.runPromise(readSafetensorsHeader(path));
  const error = await Effect.runPromise(
    Effect.flip(readSafetensorsTensors(path, header, ["missing.weight"])),
  );
  assert.ok(error instanceof SafetensorsInvalid);
  assert.equal(error.tensor, "missing.weight");
  assert.equal(error.file, path);
});

Deno.test("readSafetensorsHeader of a file cut short names the file", async () => {
  const path = `${await Deno.makeTempDir()}/cut.safetensors`;
  await Deno.writeFile(path, encodeSafetensors(sample()).subarray(0, 60));
  const error = await Effect.runPromise(Effect.flip(readSafetensorsHeader(path)));
  assert.equal(error._tag, "SafetensorsInvalid");
  assert.match(error.message, /cut\.safetensors/);
});
