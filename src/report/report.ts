/**
 * `writeReport`: reads a run folder and writes `report.html` beside its metrics, with every
 * curve as SVG and PNG under `report/`, the per-category validation chart, and overlay PNGs of
 * the latest sampled rollouts. Files are written whole (temp + rename); a failure leaves the
 * previous report in place.
 *
 * @module
 */
import { Effect } from "effect";
import { Base64 } from "effect/encoding";
import { mkdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { writeFileAtomic } from "./atomic_write.ts";
import { curvePlots } from "./curves.ts";
import { RunFileError } from "./errors.ts";
import { isValRow } from "./metrics.ts";
import { rolloutOverlaySvg } from "./overlay.ts";
import { categorySpec, curveSpec, rasterise, renderSvg } from "./plots.ts";
import type { ReportFigure, ReportRollout } from "./report_html.ts";
import { reportHtml } from "./report_html.ts";
import type { RolloutSample } from "./rollouts.ts";
import { listRolloutSteps, readConfig, readMetrics, readRollouts, runPaths } from "./run_folder.ts";
import { resolveInsideRun } from "./safe_path.ts";

/** How many of the latest rollout files, and samples from each, the report draws. */
export const REPORT_ROLLOUT_FILES = 3;
/** At most this many samples are drawn from each rollout file. */
export const REPORT_SAMPLES_PER_FILE = 8;

/** What `writeReport` wrote. */
export interface WrittenReport {
  readonly html: string;
  readonly files: ReadonlyArray<string>;
  readonly warnings: ReadonlyArray<string>;
}

const IMAGE_TYPES: Readonly<Record<string, string>> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
};

/** A `data:` URI of the rollout's image, or `undefined` (with the reason) when it cannot be used. */
const imageDataUri = (root: string, sample: RolloutSample) =>
  Effect.tryPromise({
    try: async (): Promise<{ uri: string } | { problem: string }> => {
      const type = IMAGE_TYPES[extname(sample.image.path).toLowerCase()];
      if (type === undefined) return { problem: `unsupported image type ${sample.image.path}` };
      const real = await resolveInsideRun(root, sample.image.path);
      if (real === undefined) {
        return { problem: `image ${sample.image.path} is missing or outside the run folder` };
      }
      return { uri: `data:${type};base64,${Base64.encode(await Deno.readFile(real))}` };
    },
    catch: (cause) =>
      new RunFileError({ file: sample.image.path, operation: "read", reason: String(cause) }),
  });

/** A blank (grey) image used when a rollout's own image is unavailable, so boxes still show. */
const blankImage = (width: number, height: number): string =>
  `data:image/svg+xml;base64,${
    Base64.encode(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
        `<rect width="100%" height="100%" fill="#ddd"/></svg>`,
    )
  }`;

/** Renders every plot and rollout of the run folder `root` and writes `root/report.html`. */
export const writeReport = Effect.fn("writeReport")(function* (root: string) {
  const paths = runPaths(root);
  const { config, raw } = yield* readConfig(paths.config);
  const rows = yield* readMetrics(paths.metrics);
  const files: Array<string> = [];
  const warnings: Array<string> = [];
  const ensureDir = (dir: string) =>
    Effect.tryPromise({
      try: () => mkdir(dir, { recursive: true }),
      catch: (cause) => new RunFileError({ file: dir, operation: "write", reason: String(cause) }),
    });
  yield* ensureDir(join(paths.reportAssets, "rollouts"));

  const writeFigure = Effect.fnUntraced(function* (id: string, svg: string, title: string) {
    const svgFile = join(paths.reportAssets, `${id}.svg`);
    const pngFile = join(paths.reportAssets, `${id}.png`);
    yield* writeFileAtomic(svgFile, svg);
    yield* writeFileAtomic(pngFile, yield* rasterise(svg));
    files.push(svgFile, pngFile);
    return { title, svg: `report/${id}.svg`, png: `report/${id}.png` } satisfies ReportFigure;
  });

  const figures: Array<ReportFigure> = [];
  for (const plot of curvePlots) {
    figures.push(yield* writeFigure(plot.id, yield* renderSvg(curveSpec(plot, rows)), plot.title));
  }
  const lastVal = rows.filter(isValRow).at(-1);
  const categoryFigure = lastVal === undefined ? undefined : yield* writeFigure(
    "val-categories",
    yield* renderSvg(categorySpec(lastVal)),
    `Validation accuracy per category (step ${lastVal.step})`,
  );

  const steps = (yield* listRolloutSteps(paths.rollouts)).slice(-REPORT_ROLLOUT_FILES).reverse();
  const rollouts: Array<{ step: number; samples: ReadonlyArray<ReportRollout> }> = [];
  for (const step of steps) {
    const samples = (yield* readRollouts(paths.rollouts, step)).slice(0, REPORT_SAMPLES_PER_FILE);
    const drawn: Array<ReportRollout> = [];
    for (const [index, sample] of samples.entries()) {
      const image = yield* imageDataUri(root, sample);
      if ("problem" in image) warnings.push(`step ${step}, ${sample.promptId}: ${image.problem}`);
      const href = "uri" in image ? image.uri : blankImage(sample.image.width, sample.image.height);
      const name = `step-${String(step).padStart(6, "0")}-${index}.png`;
      const file = join(paths.reportAssets, "rollouts", name);
      yield* writeFileAtomic(file, yield* rasterise(rolloutOverlaySvg(sample, href), 1));
      files.push(file);
      drawn.push({ sample, overlayPng: `report/rollouts/${name}` });
    }
    rollouts.push({ step, samples: drawn });
  }

  const html = reportHtml({
    name: config.name,
    config: raw,
    rows,
    figures,
    categoryFigure,
    rollouts,
    warnings,
    generatedAt: new Date().toISOString(),
  });
  yield* writeFileAtomic(paths.reportHtml, html);
  return { html: paths.reportHtml, files, warnings } satisfies WrittenReport;
});
