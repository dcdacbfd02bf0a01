/**
 * Loading WGSL from kernels/ with a tiny preprocessor for device variants:
 * `#include "file.wgsl"`, `#ifdef NAME` / `#ifndef NAME` / `#else` / `#endif`.
 * Lines `enable subgroups;` are always dropped: Deno's naga rejects the directive although the
 * builtins work when the device was created with the `subgroups` feature.
 *
 * @module
 */

/** Names switched on for a variant, e.g. `{ F16: true, SUBGROUPS: false }`. */
export type ShaderDefines = Readonly<Record<string, boolean>>;

const KERNEL_DIR = new URL("../../kernels/", import.meta.url);
const cache = new Map<string, string>();

/** The raw text of `kernels/<file>` (read once per process). */
export const readKernelFile = (file: string): string => {
  const cached = cache.get(file);
  if (cached !== undefined) return cached;
  const text = Deno.readTextFileSync(new URL(file, KERNEL_DIR));
  cache.set(file, text);
  return text;
};

/**
 * Applies the directives to `source`.
 *
 * @example
 * ```ts
 * import { preprocess } from "./kernel_source.ts";
 * const out = preprocess("#ifdef F16\nenable f16;\n#endif\nfn f() {}", { F16: false });
 * if (out.includes("enable")) throw new Error("F16 block should be dropped");
 * ```
 */
export const preprocess = (
  source: string,
  defines: ShaderDefines,
  include: (file: string) => string = readKernelFile,
  depth = 0,
): string => {
  if (depth > 8) throw new Error("kernel_source: #include nested more than 8 deep");
  const out: string[] = [];
  // Each entry: is this branch active, and has the enclosing block been active.
  const stack: { active: boolean; parentActive: boolean }[] = [];
  const active = () => stack.every((s) => s.active);
  for (const line of source.split("\n")) {
    const trimmed = line.trim();
    const directive = /^#(ifdef|ifndef|else|endif|include)\b\s*(.*)$/.exec(trimmed);
    if (directive === null) {
      if (active() && trimmed !== "enable subgroups;") out.push(line);
      continue;
    }
    const [, kind, arg = ""] = directive;
    if (kind === "ifdef" || kind === "ifndef") {
      const defined = defines[arg.trim()] === true;
      stack.push({ active: kind === "ifdef" ? defined : !defined, parentActive: active() });
    } else if (kind === "else") {
      const top = stack.at(-1);
      if (top === undefined) throw new Error("kernel_source: #else without #ifdef");
      top.active = !top.active;
    } else if (kind === "endif") {
      if (stack.pop() === undefined) throw new Error("kernel_source: #endif without #ifdef");
    } else if (active()) {
      const file = /^"([^"]+)"$/.exec(arg.trim())?.[1];
      if (file === undefined) throw new Error(`kernel_source: bad #include ${arg}`);
      out.push(preprocess(include(file), defines, include, depth + 1));
    }
  }
  if (stack.length > 0) throw new Error("kernel_source: unterminated #ifdef");
  return out.join("\n");
};
