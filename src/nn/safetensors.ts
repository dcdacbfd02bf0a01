/**
 * The safetensors format, read and written by our own code: an 8-byte little-endian header
 * length, a JSON header `{name: {dtype, shape, data_offsets}, __metadata__: {..}}` padded with
 * spaces to a multiple of 8 bytes (as upstream does), then the raw little-endian tensor bytes.
 *
 * Headers are validated strictly (dtype known, byte sizes matching shapes, offsets in range,
 * contiguous and non-overlapping, header size bounded) and every failure is a
 * `SafetensorsInvalid` naming the file and, where there is one, the tensor. Files are read by
 * header first and then tensor by tensor at their offsets, so a multi-GB file is never loaded
 * into one buffer; writing streams tensor after tensor the same way.
 *
 * @module
 */
import { Effect, Result, Schema } from "effect";
import { type Dtype, DTYPE_BYTES, elementCount, isDtype } from "./dtype.ts";
import { FileIoFailed, readAt, withFile, writeFileAtomic } from "./file_io.ts";

/** Upstream's bound on the JSON header (100 MB); larger headers are rejected unread. */
export const MAX_HEADER_BYTES = 100_000_000;

/** A tensor in host memory: dtype, shape and its raw little-endian bytes. */
export interface HostTensor {
  readonly dtype: Dtype;
  /** Dimensions, outermost first; `[]` is a scalar. */
  readonly shape: ReadonlyArray<number>;
  /** `elementCount(shape) * DTYPE_BYTES[dtype]` bytes, little-endian. */
  readonly data: Uint8Array;
}

/** Where one tensor lives inside a file's data section. */
export interface TensorEntry {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: ReadonlyArray<number>;
  /** Byte offsets `[begin, end)` relative to the start of the data section. */
  readonly begin: number;
  readonly end: number;
}

/** A parsed, validated header. */
export interface SafetensorsHeader {
  /** Tensors in file order (ascending offsets). */
  readonly tensors: ReadonlyArray<TensorEntry>;
  readonly metadata: Readonly<Record<string, string>>;
  /** Absolute file offset of the data section: `8 + header length`. */
  readonly dataStart: number;
}

/** A safetensors file (or buffer) is malformed; `tensor` is "" when no single tensor is at fault. */
export class SafetensorsInvalid extends Schema.TaggedError<SafetensorsInvalid>()(
  "SafetensorsInvalid",
  { file: Schema.String, tensor: Schema.String, reason: Schema.String },
) {
  override get message(): string {
    const where = this.tensor === "" ? this.file : `${this.file}, tensor "${this.tensor}"`;
    return `invalid safetensors (${where}): ${this.reason}`;
  }
}

const invalid = (file: string, tensor: string, reason: string) =>
  Result.fail(new SafetensorsInvalid({ file, tensor, reason }));

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isDimension = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

/**
 * Parses and validates the JSON header of a safetensors file whose data section has
 * `dataLength` bytes. Pure: the caller supplies the header bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result } from "effect";
 * import { parseSafetensorsHeader } from "./safetensors.ts";
 * const json = new TextEncoder().encode('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}');
 * const header = Result.getOrThrow(parseSafetensorsHeader(json, 8, "w.safetensors"));
 * assert(header.tensors[0]!.name === "w");
 * ```
 */
export const parseSafetensorsHeader = (
  headerBytes: Uint8Array,
  dataLength: number,
  file: string,
): Result.Result<SafetensorsHeader, SafetensorsInvalid> => {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (cause) {
    return invalid(file, "", `header is not UTF-8 JSON (${String(cause)})`);
  }
  if (!isPlainObject(json)) return invalid(file, "", "header is not a JSON object");
  const metadata: Record<string, string> = {};
  const tensors: Array<TensorEntry> = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === "__metadata__") {
      if (!isPlainObject(value)) return invalid(file, "", "__metadata__ is not an object");
      for (const [key, text] of Object.entries(value)) {
        if (typeof text !== "string") {
          return invalid(file, "", `__metadata__.${key} is not a string`);
        }
        metadata[key] = text;
      }
      continue;
    }
    if (!isPlainObject(value)) return invalid(file, name, "entry is not an object");
    const { dtype, shape, data_offsets: offsets } = value;
    if (typeof dtype !== "string" || !isDtype(dtype)) {
      return invalid(file, name, `unsupported dtype ${JSON.stringify(dtype)}`);
    }
    if (!Array.isArray(shape) || !shape.every(isDimension)) {
      return invalid(file, name, `shape ${JSON.stringify(shape)} is not a list of sizes`);
    }
    if (
      !Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isDimension) ||
      offsets[0]! > offsets[1]!
    ) {
      return invalid(file, name, `data_offsets ${JSON.stringify(offsets)} are not [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    const expected = elementCount(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      return invalid(
        file,
        name,
        `${dtype}${JSON.stringify(shape)} needs ${expected} bytes, data_offsets span ${
          end - begin
        }`,
      );
    }
    tensors.push({ name, dtype, shape, begin, end });
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const tensor of tensors) {
    if (tensor.begin !== cursor) {
      const problem = tensor.begin < cursor ? "overlaps the previous tensor" : "leaves a gap";
      return invalid(file, tensor.name, `data at ${tensor.begin} ${problem} (expected ${cursor})`);
    }
    cursor = tensor.end;
  }
  if (cursor !== dataLength) {
    return invalid(
      file,
      "",
      `tensors cover ${cursor} bytes but the data section has ${dataLength}`,
    );
  }
  return Result.succeed({ tensors, metadata, dataStart: 8 + headerBytes.length });
};

/** Reads the header length prefix, checking it against the bound and the file size. */
const headerLengthOf = (
  prefix: Uint8Array,
  fileLength: number,
  file: string,
): Result.Result<number, SafetensorsInvalid> => {
  if (fileLength < 8) return invalid(file, "", `file has ${fileLength} bytes, fewer than 8`);
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    return invalid(file, "", `header length ${length} exceeds ${MAX_HEADER_BYTES}`);
  }
  if (Number(length) + 8 > fileLength) {
    return invalid(
      file,
      "",
      `header length ${length} runs past the end of a ${fileLength}-byte file`,
    );
  }
  return Result.succeed(Number(length));
};

/**
 * Decodes a whole safetensors buffer (small files, tests): the header plus a zero-copy view of
 * every tensor's bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Result } from "effect";
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors(new Map([["b", { dtype: "U8", shape: [3], data: new Uint8Array([1, 2, 3]) }]]));
 * const { tensors } = Result.getOrThrow(decodeSafetensors(bytes, "mem"));
 * assert(tensors.get("b")!.data[2] === 3);
 * ```
 */
export const decodeSafetensors = (
  bytes: Uint8Array,
  file: string,
): Result.Result<
  { tensors: Map<string, HostTensor>; metadata: Readonly<Record<string, string>> },
  SafetensorsInvalid
> =>
  Result.gen(function* () {
    const headerLength = yield* headerLengthOf(bytes, bytes.length, file);
    const header = yield* parseSafetensorsHeader(
      bytes.subarray(8, 8 + headerLength),
      bytes.length - 8 - headerLength,
      file,
    );
    const tensors = new Map<string, HostTensor>();
    for (const entry of header.tensors) {
      tensors.set(entry.name, {
        dtype: entry.dtype,
        shape: entry.shape,
        data: bytes.subarray(header.dataStart + entry.begin, header.dataStart + entry.end),
      });
    }
    return { tensors, metadata: header.metadata };
  });

/** Upstream's write order: larger element types first (keeps alignment), then by name. */
const writeOrder = (tensors: ReadonlyMap<string, HostTensor>): Array<[string, HostTensor]> =>
  [...tensors].sort(([nameA, a], [nameB, b]) =>
    DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || (nameA < nameB ? -1 : nameA > nameB ? 1 : 0)
  );

/** Checks that each tensor's byte length matches its dtype and shape (a defect otherwise). */
const assertConsistent = (name: string, tensor: HostTensor): void => {
  const expected = elementCount(tensor.shape) * DTYPE_BYTES[tensor.dtype];
  if (tensor.data.length !== expected) {
    throw new Error(
      `tensor "${name}" ${tensor.dtype}${
        JSON.stringify(tensor.shape)
      } has ${tensor.data.length} bytes, expected ${expected}`,
    );
  }
};

/**
 * Builds the length prefix and padded JSON header for these tensors; the data section is the
 * tensors' bytes in `order`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeSafetensorsHeader } from "./safetensors.ts";
 * const { prefix, order } = encodeSafetensorsHeader(new Map([["x", { dtype: "F32", shape: [], data: new Uint8Array(4) }]]), {});
 * assert(prefix.length % 8 === 0 && order[0]![0] === "x");
 * ```
 */
export const encodeSafetensorsHeader = (
  tensors: ReadonlyMap<string, HostTensor>,
  metadata: Readonly<Record<string, string>>,
): { prefix: Uint8Array; order: Array<[string, HostTensor]> } => {
  const order = writeOrder(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header["__metadata__"] = metadata;
  let offset = 0;
  for (const [name, tensor] of order) {
    assertConsistent(name, tensor);
    header[name] = {
      dtype: tensor.dtype,
      shape: tensor.shape,
      data_offsets: [offset, offset + tensor.data.length],
    };
    offset += tensor.data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const prefix = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(padded), true);
  prefix.set(json, 8);
  return { prefix, order };
};

/**
 * Encodes tensors (and string metadata) into one safetensors buffer. For big checkpoints use
 * `writeSafetensorsFile`, which streams.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors(new Map([["x", { dtype: "F32", shape: [1], data: new Uint8Array(4) }]]));
 * assert(bytes.length % 8 === 4);
 * ```
 */
export const encodeSafetensors = (
  tensors: ReadonlyMap<string, HostTensor>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array => {
  const { prefix, order } = encodeSafetensorsHeader(tensors, metadata);
  const total = order.reduce((sum, [, tensor]) => sum + tensor.data.length, prefix.length);
  const out = new Uint8Array(total);
  out.set(prefix, 0);
  let offset = prefix.length;
  for (const [, tensor] of order) {
    out.set(tensor.data, offset);
    offset += tensor.data.length;
  }
  return out;
};

/**
 * Writes tensors to `path` atomically (temp file, fsync, rename), streaming tensor by tensor.
 *
 * @example
 * ```ts
 * import { Effect } from "effect";
 * import { writeSafetensorsFile } from "./safetensors.ts";
 * const path = (await Deno.makeTempDir()) + "/m.safetensors";
 * await Effect.runPromise(writeSafetensorsFile(path, new Map([["x", { dtype: "U8", shape: [2], data: new Uint8Array(2) }]])));
 * ```
 */
export const writeSafetensorsFile = (
  path: string,
  tensors: ReadonlyMap<string, HostTensor>,
  metadata: Readonly<Record<string, string>> = {},
): Effect.Effect<void, FileIoFailed> =>
  Effect.suspend(() => {
    const { prefix, order } = encodeSafetensorsHeader(tensors, metadata);
    return writeFileAtomic(path, [prefix, ...order.map(([, tensor]) => tensor.data)]);
  });

/**
 * Reads and validates only the header of a safetensors file (a few KB even for a 7B shard).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { readSafetensorsHeader, writeSafetensorsFile } from "./safetensors.ts";
 * const path = (await Deno.makeTempDir()) + "/m.safetensors";
 * await Effect.runPromise(writeSafetensorsFile(path, new Map([["x", { dtype: "U8", shape: [2], data: new Uint8Array(2) }]])));
 * const header = await Effect.runPromise(readSafetensorsHeader(path));
 * assert(header.tensors[0]!.shape[0] === 2);
 * ```
 */
export const readSafetensorsHeader = (
  path: string,
): Effect.Effect<SafetensorsHeader, SafetensorsInvalid | FileIoFailed> =>
  withFile(path, { read: true }, (file) =>
    Effect.gen(function* () {
      const { size } = yield* Effect.promise(() => file.stat());
      const prefix = size >= 8 ? yield* readAt(file, path, 0, 8) : new Uint8Array(8);
      const headerLength = yield* Effect.fromResult(headerLengthOf(prefix, size, path));
      const headerBytes = yield* readAt(file, path, 8, headerLength);
      return yield* Effect.fromResult(
        parseSafetensorsHeader(headerBytes, size - 8 - headerLength, path),
      );
    }));

/**
 * Reads the bytes of the named tensors of a file whose header was already read, one positioned
 * read per tensor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Effect } from "effect";
 * import { readSafetensorsHeader, readSafetensorsTensors, writeSafetensorsFile } from "./safetensors.ts";
 * const path = (await Deno.makeTempDir()) + "/m.safetensors";
 * await Effect.runPromise(writeSafetensorsFile(path, new Map([["x", { dtype: "U8", shape: [1], data: new Uint8Array([7]) }]])));
 * const header = await Effect.runPromise(readSafetensorsHeader(path));
 * const tensors = await Effect.runPromise(readSafetensorsTensors(path, header, ["x"]));
 * assert(tensors.get("x")!.data[0] === 7);
 * ```
 */
export const readSafetensorsTensors = (
  path: string,
  header: SafetensorsHeader,
  names: Iterable<string>,
): Effect.Effect<Map<string, HostTensor>, SafetensorsInvalid | FileIoFailed> =>
  withFile(path, { read: true }, (file) =>
    Effect.gen(function* () {
      const byName = new Map(header.tensors.map((entry) => [entry.name, entry]));
      const out = new Map<string, HostTensor>();
      for (const name of names) {
        const entry = byName.get(name);
        if (entry === undefined) {
          return yield* new SafetensorsInvalid({ file: path, tensor: name, reason: "not in file" });
        }
        const data = yield* readAt(
          file,
          path,
          header.dataStart + entry.begin,
          entry.end - entry.begin,
        );
        out.set(name, { dtype: entry.dtype, shape: entry.shape, data });
      }
      return out;
    }));
