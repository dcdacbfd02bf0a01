import assert from "node:assert/strict";
import { ShapeMismatch } from "../../src/gpu/errors.ts";
import { fill } from "../../src/gpu/ops/fill.ts";
import { type SampleOptions, sampleTokens } from "../../src/gpu/ops/sample.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { assertAllClose, gpuTest, randomArray, runAndRead, seededRandom } from "../gpu/harness.ts";
import {
  drawFrom,
  philox4x32,
  rawLogProb,
  samplerUniform,
  samplingDistribution,
} from "./reference/sample.ts";

type F32 = Float32Array<ArrayBuffer>;

Deno.test("philox4x32 reproduces the Random123 known-answer vectors", () => {
  assert.deepEqual(philox4x32([0, 0, 0, 0], [0, 0]), [
    0x6627e8d5,
    0xe169c58d,
    0xbc57ac4c,
    0x9b00dbd8,
  ]);
  assert.deepEqual(
    philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]),
    [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  );
  assert.deepEqual(
    philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]),
    [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  );
});

/** Samples every row of logits [rows, vocab] once; outputs poisoned first. */
const sample = async (rt: GpuRuntime, logits: F32, vocab: number, options: SampleOptions) => {
  const rows = logits.length / vocab;
  const tl = rt.createTensor([rows, vocab], "f32", logits);
  const tokens = rt.createTensor([rows], "u32");
  const logp = rt.createTensor([rows]);
  const logpRaw = rt.createTensor([rows]);
  const [t, lp, lr] = await runAndRead(rt, (rec) => {
    fill(rec, tokens, 0xdeadbeef);
    fill(rec, logp, NaN);
    fill(rec, logpRaw, NaN);
    sampleTokens(rec, tl, { tokens, logp, logpRaw }, options);
    return [tokens, logp, logpRaw];
  });
  return { tokens: t as Uint32Array, logp: lp as F32, logpRaw: lr as F32 };
};

const row = (logits: ArrayLike<number>, vocab: number, n: number) =>
  Array.from({ length: vocab }, (_, v) => logits[n * vocab + v]!);

for (
  const { vocab, temperature, topP } of [
    { vocab: 1, temperature: 1, topP: 1 },
    { vocab: 7, temperature: 0.7, topP: 0.8 },
    { vocab: 300, temperature: 1, topP: 1 },
    { vocab: 3000, temperature: 1.3, topP: 0.9 },
    // 9000 logits: a whole 256-invocation workgroup per row.
    { vocab: 9000, temperature: 1, topP: 0.95 },
  ]
) {
  gpuTest(
    `sampleTokens draws the reference's token and log-probs for V=${vocab}, T=${temperature}, top-p=${topP}`,
    async (rt) => {
      const rows = 40;
      const rng = seededRandom(vocab);
      const logits = Float32Array.from(randomArray(rows * vocab, rng, 4));
      const options = { temperature, topP, seed: 2 ** 40 + 17, step: 3, rowOffset: 5 };
      const got = await sample(rt, logits, vocab, options);
      for (let n = 0; n < rows; n++) {
        const l = row(logits, vocab, n);
        const probs = samplingDistribution(l, temperature, topP);
        const expected = drawFrom(probs, samplerUniform(options.seed, 3, 5 + n));
        assert.equal(got.tokens[n], expected, `row ${n}`);
        // f32 exp/log over ≤3000 terms: log-probs within ~1e-5.
        assertAllClose([got.logp[n]!], [Math.log(probs[expected]!)], {
          rtol: 1e-5,
          atol: 2e-5,
          label: `logp row ${n}`,
        });
        assertAllClose([got.logpRaw[n]!], [rawLogProb(l, expected)], {
          rtol: 1e-5,
          atol: 2e-5,
          label: `logpRaw row ${n}`,
        });
      }
    },
  );
}

/** Pearson's χ² of observed counts against expected probabilities over tokens with p > 0. */
const chiSquare = (counts: number[], probs: ArrayLike<number>, draws: number) =>
  counts.reduce((acc, c, v) => {
    const e = probs[v]! * draws;
    return e > 0 ? acc + (c - e) ** 2 / e : acc;
  }, 0);

/** χ² critical values at p = 0.001 by degrees of freedom. */
const CHI2_CRITICAL = [NaN, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32];

for (
  const { temperature, topP } of [{ temperature: 1, topP: 1 }, { temperature: 0.8, topP: 0.85 }]
) {
  gpuTest(
    `sampled frequencies pass a chi-square test against the distribution at T=${temperature}, top-p=${topP}`,
    async (rt) => {
      const vocab = 8;
      const base = [1.2, -0.3, 0.5, 2.0, -1.5, 0.9, 0.1, -0.7];
      const draws = 3000;
      const logits = new Float32Array(draws * vocab);
      for (let n = 0; n < draws; n++) logits.set(base, n * vocab);
      const { tokens } = await sample(rt, logits, vocab, {
        temperature,
        topP,
        seed: 1234,
        step: 0,
      });
      const probs = samplingDistribution(Float32Array.from(base), temperature, topP);
      const counts = new Array(vocab).fill(0);
      for (const t of tokens) counts[t]++;
      const kept = [...probs].filter((p) => p > 0).length;
      // At top-p 0.85 the nucleus of these logits drops the least likely tokens.
      assert.ok(topP === 1 ? kept === vocab : kept > 1 && kept < vocab, `${kept} tokens kept`);
      const critical = CHI2_CRITICAL[kept - 1]!;
      for (let v = 0; v < vocab; v++) {
        if (probs[v] === 0) assert.equal(counts[v], 0, `token ${v} is outside the nucleus`);
      }
      const stat = chiSquare(counts, probs, draws);
      assert.ok(stat < critical, `χ² = ${stat.toFixed(2)} ≥ ${critical} (counts ${counts})`);
    },
  );
}

gpuTest("the same seed and step give the same tokens; another step gives others", async (rt) => {
  const vocab = 50, rows = 64;
  const logits = Float32Array.from(randomArray(rows * vocab, seededRandom(9), 1));
  const options = { temperature: 1, topP: 0.95, seed: 77, step: 1 };
  const a = await sample(rt, logits, vocab, options);
  const b = await sample(rt, logits, vocab, options);
  const c = await sample(rt, logits, vocab, { ...options, step: 2 });
  assert.deepEqual([...a.tokens], [...b.tokens]);
  assert.deepEqual([...a.logp], [...b.logp]);
  const differing = a.tokens.filter((t, i) => t !== c.tokens[i]).length;
  assert.ok(differing > rows / 2, `only ${differing} of ${rows} rows changed with the step`);
});

gpuTest("temperature 0 takes the first maximum and reports its raw log-prob", async (rt) => {
  const vocab = 600;
  const rng = seededRandom(10);
  const logits = Float32Array.from(randomArray(3 * vocab, rng, 2));
  logits[0 * vocab + 5] = 9;
  logits[0 * vocab + 400] = 9; // tie: the lower index wins
  logits[1 * vocab + 599] = 7;
  logits[2 * vocab + 0] = 8;
  const got = await sample(rt, logits, vocab, { temperature: 0, seed: 1, step: 0 });
  assert.deepEqual([...got.tokens], [5, 599, 0]);
  assert.deepEqual([...got.logp], [0, 0, 0]);
  const expected = [5, 599, 0].map((t, n) => rawLogProb(row(logits, vocab, n), t));
  assertAllClose(got.logpRaw, expected, { rtol: 1e-5, atol: 1e-5, label: "logpRaw" });
});

gpuTest("sampleTokens rejects bad options and mismatched outputs", (rt) => {
  const rec = new CommandRecorder(rt);
  const logits = rt.createTensor([2, 5]);
  const out = {
    tokens: rt.createTensor([2], "u32"),
    logp: rt.createTensor([2]),
    logpRaw: rt.createTensor([2]),
  };
  assert.throws(
    () => sampleTokens(rec, logits, out, { temperature: 1, topP: 0, seed: 1, step: 0 }),
    RangeError,
  );
  assert.throws(
    () => sampleTokens(rec, logits, out, { temperature: -1, seed: 1, step: 0 }),
    RangeError,
  );
  assert.throws(
    () => sampleTokens(rec, logits, out, { temperature: 1, seed: 0.5, step: 0 }),
    RangeError,
  );
  assert.throws(
    () =>
      sampleTokens(rec, logits, { ...out, tokens: rt.createTensor([2]) }, {
        temperature: 1,
        seed: 1,
        step: 0,
      }),
    (e: unknown) => e instanceof ShapeMismatch && /tokens/.test(e.message),
  );
  return Promise.resolve();
});

gpuTest("tokens tied at the nucleus threshold are all kept", async (rt) => {
  // p ∝ e^[3, 1, 1, 1, −2]: the top token holds 0.71, so top-p 0.8 needs one of the three tied
  // tokens; all three are kept, the last token never is.
  const vocab = 5, draws = 600;
  const base = [3, 1, 1, 1, -2];
  const logits = new Float32Array(draws * vocab);
  for (let n = 0; n < draws; n++) logits.set(base, n * vocab);
  const { tokens } = await sample(rt, logits, vocab, {
    temperature: 1,
    topP: 0.8,
    seed: 5,
    step: 0,
  });
  const counts = [0, 0, 0, 0, 0];
  for (const t of tokens) counts[t]!++;
  assert.equal(counts[4], 0);
  assert.ok(counts.slice(1, 4).every((c) => c > 20), `tied tokens drawn ${counts}`);
});

gpuTest("sampling logits split into row blocks gives the same tokens", async (rt) => {
  const vocab = 64, rows = 21;
  const logits = Float32Array.from(randomArray(rows * vocab, seededRandom(31), 3));
  const options = { temperature: 0.9, topP: 0.9, seed: 8, step: 4 };
  const whole = await sample(rt, logits, vocab, options);
  // A runtime that claims 4 rows per binding: 6 blocks, the last one partial.
  const small = Object.create(rt, { maxBindingBytes: { get: () => 4 * vocab * 4 } });
  const tl = rt.createTensor([rows, vocab], "f32", logits);
  const out = {
    tokens: rt.createTensor([rows], "u32"),
    logp: rt.createTensor([rows]),
    logpRaw: rt.createTensor([rows]),
  };
  const rec = new CommandRecorder(small);
  sampleTokens(rec, tl, out, options);
  assert.equal(rec.dispatchCount, Math.ceil(rows / 4));
  rec.read(out.tokens);
  rec.read(out.logp);
  const [tokens, logp] = (await rec.submit().resolve()).arrays;
  assert.deepEqual([...tokens!], [...whole.tokens]);
  assert.deepEqual([...logp!], [...whole.logp]);
});

gpuTest("tokens with −inf logits are never sampled", async (rt) => {
  const vocab = 40, rows = 500;
  const rng = seededRandom(41);
  const logits = Float32Array.from(randomArray(rows * vocab, rng, 2));
  // Mask every odd token (e.g. a constrained vocabulary).
  for (let i = 1; i < logits.length; i += 2) logits[i] = -Infinity;
  for (const topP of [1, 0.9]) {
    const got = await sample(rt, logits, vocab, { temperature: 1, topP, seed: 3, step: 0 });
    assert.ok(got.tokens.every((t) => t % 2 === 0), `top-p ${topP}: a masked token was drawn`);
    assert.ok(got.logp.every(Number.isFinite) && got.logpRaw.every(Number.isFinite));
  }
});
