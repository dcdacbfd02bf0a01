/**
 * Escaping for text placed in HTML or SVG markup. Model output (responses, predicted ids) is
 * untrusted: it goes through here before it reaches any generated document.
 *
 * @module
 */

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * `text` with `& < > " '` replaced by entities, safe inside element content and quoted attributes
 * of HTML and SVG.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeMarkup } from "./escape.ts";
 * assert(escapeMarkup('<b a="1">') === "&lt;b a=&quot;1&quot;&gt;");
 * ```
 */
export const escapeMarkup = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
