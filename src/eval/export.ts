/**
 * Exporting a loaded record set for another system to answer: one JSONL line per record with
 * the prompt text and image file paths, and the embedded images as files. The other system's
 * outputs then come back as a predictions JSONL keyed by the same ids.
 *
 * @module
 */
import { type EvalRecord, questionWithOptions } from "./record.ts";

/** One exported record. */
export interface ExportedRecord {
  readonly id: string;
  readonly benchmark: string;
  readonly category: string;
  /** The question followed by "Options:" and "(A) …" lines, as our prompts write it. */
  readonly prompt: string;
  readonly question: string;
  readonly choices: ReadonlyArray<string>;
  readonly answer: string;
  /** Image files: relative to the export folder for embedded images, else the original path. */
  readonly images: ReadonlyArray<string>;
}

/** What to write: the JSONL lines and the embedded images (paths relative to the folder). */
export interface ExportPlan {
  readonly records: ReadonlyArray<ExportedRecord>;
  readonly images: ReadonlyArray<{ readonly path: string; readonly bytes: Uint8Array }>;
}

/**
 * File extension of encoded image bytes from their magic number ("bin" when unknown).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imageExtension } from "./export.ts";
 * assert.equal(imageExtension(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), "jpg");
 * ```
 */
export const imageExtension = (bytes: Uint8Array): string => {
  const starts = (...magic: Array<number>) => magic.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return "png";
  if (starts(0xff, 0xd8, 0xff)) return "jpg";
  if (starts(0x47, 0x49, 0x46, 0x38)) return "gif";
  // RIFF container whose form type (bytes 8–11) is "WEBP".
  if (starts(0x52, 0x49, 0x46, 0x46) && String.fromCharCode(...bytes.slice(8, 12)) === "WEBP") {
    return "webp";
  }
  if (starts(0x42, 0x4d)) return "bmp";
  return "bin";
};

/** An id as a file-name stem: anything but letters, digits, `-` and `_` becomes `_`. */
const fileStem = (id: string): string => id.replace(/[^A-Za-z0-9_-]/g, "_");

/**
 * The export of `records`: embedded image k of a record goes to
 * `images/<benchmark>/<index>_<id>_<k>.<ext>` (the record index keeps stems unique even when two
 * ids map to the same file name).
 */
export const exportPlan = (records: ReadonlyArray<EvalRecord>): ExportPlan => {
  const images: Array<{ path: string; bytes: Uint8Array }> = [];
  const exported = records.map((r, index): ExportedRecord => ({
    id: r.id,
    benchmark: r.benchmark,
    category: r.category,
    prompt: questionWithOptions(r),
    question: r.question,
    choices: r.choices,
    answer: r.answer,
    images: r.images.map((image, k) => {
      if (image.kind === "path") return image.path;
      const path = `images/${fileStem(r.benchmark)}/${index}_${fileStem(r.id)}_${k + 1}.` +
        imageExtension(image.bytes);
      images.push({ path, bytes: image.bytes });
      return path;
    }),
  }));
  return { records: exported, images };
};
