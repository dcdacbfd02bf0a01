/**
 * Test helper: a throw-away copy of the fixture run folder `data/fixtures/run/`.
 *
 * @module
 */
import { cp } from "node:fs/promises";
import { join } from "node:path";

/** The fixture run folder shipped with the repository (read-only for tests). */
export const FIXTURE_RUN = join(import.meta.dirname!, "..", "..", "data", "fixtures", "run");

/** A temporary copy of the fixture run; `Symbol.asyncDispose` removes it. */
export const copyFixtureRun = async (): Promise<AsyncDisposable & { root: string }> => {
  const parent = await Deno.makeTempDir({ prefix: "report-test-" });
  const root = join(parent, "run");
  await cp(FIXTURE_RUN, root, { recursive: true });
  return { root, [Symbol.asyncDispose]: () => Deno.remove(parent, { recursive: true }) };
};

/** A valid train row for `step`, for tests that append metrics. */
export const trainRow = (step: number, overall = 0.5) => ({
  kind: "train" as const,
  step,
  time: 1795000000 + step,
  reward: { overall, format: 1, count: 0.5, accuracy: 0.5, spatial: 0.25 },
  accuracy: 0.5,
  formatRate: 1,
  zeroVarianceGroups: 0.25,
  clip: { low: 0.01, high: 0.02, dual: 0 },
  kl: 0.01,
  entropy: 1.5,
  responseLength: 150,
  gradNorm: 0.9,
  lr: 1e-5,
  tokensPerSecond: 400,
  seconds: { rollout: 3, scoring: 0.1, update: 1 },
});
