/**
 * GPT-2's byte-level alphabet: every byte maps to one printable Unicode character, so BPE can work
 * on strings while staying lossless over arbitrary UTF-8 (`bytes_to_unicode` in GPT-2 and in
 * Hugging Face `tokenizers`). Printable Latin-1 bytes map to themselves; the other 68 bytes map
 * to U+0100 upwards in byte order (space 0x20 → "Ġ", newline 0x0A → "Ċ").
 *
 * @module
 */

const buildByteToChar = (): Array<string> => {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: Array<string> = [];
  let next = 0;
  for (let b = 0; b < 256; b++) {
    table.push(String.fromCodePoint(printable(b) ? b : 256 + next++));
  }
  return table;
};

/** The character each byte maps to (index = byte value). */
export const BYTE_TO_CHAR: ReadonlyArray<string> = buildByteToChar();

/** The byte each byte-level character stands for. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(
  BYTE_TO_CHAR.map((char, byte) => [char, byte]),
);

const utf8 = new TextEncoder();

/**
 * Maps text to its byte-level form: UTF-8 bytes, each replaced by its alphabet character.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toByteLevel } from "./byte_level.ts";
 * assert(toByteLevel(" hé") === "ĠhÃ©");
 * ```
 */
export const toByteLevel = (text: string): string => {
  let out = "";
  for (const byte of utf8.encode(text)) out += BYTE_TO_CHAR[byte]!;
  return out;
};

/**
 * Maps a byte-level token back to its bytes, or `undefined` if some character is not in the
 * byte-level alphabet (e.g. an added token spelled in plain text with spaces).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromByteLevel } from "./byte_level.ts";
 * assert(new TextDecoder().decode(fromByteLevel("ĠhÃ©")) === " hé");
 * ```
 */
export const fromByteLevel = (token: string): Uint8Array | undefined => {
  const out = new Uint8Array(token.length);
  let length = 0;
  for (const char of token) {
    const byte = CHAR_TO_BYTE.get(char);
    if (byte === undefined) return undefined;
    out[length++] = byte;
  }
  return out.subarray(0, length);
};
