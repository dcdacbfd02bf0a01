import assert from "node:assert/strict";
import { Arena } from "../../src/gpu/buffer_pool.ts";
import { CommandRecorder } from "../../src/gpu/recorder.ts";
import { packBatch, type SequenceSample } from "../../src/nn/batch.ts";
import { ContextTooLong, generate } from "../../src/nn/generate.ts";
import { Vlm } from "../../src/nn/vlm.ts";
import { gpuTest } from "../gpu/harness.ts";
import { micro, samples, weightsFor } from "./micro.ts";

/** Prompts: the micro samples cut before their responses. */
const prompts = (): SequenceSample[] =>
  samples().map((s) => ({
    ...s,
    tokens: s.tokens.slice(0, s.responseStart),
    responseStart: s.responseStart,
  }));

/** Log-softmax of the last row of a full forward over `tokens` (no cache). */
const lastRowLogSoftmax = async (vlm: Vlm, sample: SequenceSample): Promise<Float64Array> => {
  const rt = vlm.runtime;
  const arena = new Arena(rt.pool);
  const host = packBatch(micro, [sample], 0);
  const rec = new CommandRecorder(rt);
  const { logits } = vlm.forward(rec, arena, vlm.upload(arena, host));
  rec.read(logits);
  const { arrays } = await rec.submit().resolve();
  arena.reset();
  const V = micro.vocab_size;
  const row = Float64Array.from(
    arrays[0]!.subarray((sample.tokens.length - 1) * V, sample.tokens.length * V),
  );
  const max = Math.max(...row);
  const lse = max + Math.log(row.reduce((acc, z) => acc + Math.exp(z - max), 0));
  return row.map((z) => z - lse);
};

gpuTest("greedy generation with the KV cache equals step-by-step full forwards", async (rt) => {
  const vlm = new Vlm(rt, micro, weightsFor(5));
  const steps = 7;
  const out = await generate(vlm, prompts(), {
    maxNewTokens: steps,
    temperature: 0,
    seed: 1,
    stopTokens: [],
    stepsPerSubmit: 3, // several chunks
    padId: 0,
  });
  for (const [b, prompt] of prompts().entries()) {
    assert.equal(out[b]!.tokens.length, steps);
    assert.equal(out[b]!.stopped, false);
    const tokens = [...prompt.tokens];
    for (let s = 0; s < steps; s++) {
      const logp = await lastRowLogSoftmax(vlm, { ...prompt, tokens });
      const argmax = logp.indexOf(Math.max(...logp));
      assert.equal(out[b]!.tokens[s], argmax, `sequence ${b} step ${s}`);
      assert.ok(Math.abs(out[b]!.logprobs[s]! - logp[argmax]!) < 1e-4, `logprob ${b}/${s}`);
      tokens.push(argmax);
    }
  }
});

gpuTest("sampled generation is reproducible by seed and stops at a stop token", async (rt) => {
  const vlm = new Vlm(rt, micro, weightsFor(6));
  const options = { maxNewTokens: 12, temperature: 1, topP: 0.95, stopTokens: [], padId: 0 };
  const a = await generate(vlm, prompts(), { ...options, seed: 42 });
  const b = await generate(vlm, prompts(), { ...options, seed: 42 });
  const c = await generate(vlm, prompts(), { ...options, seed: 43 });
  assert.deepEqual(a.map((g) => g.tokens), b.map((g) => g.tokens));
  assert.notDeepEqual(a.map((g) => g.tokens), c.map((g) => g.tokens));
  const stopAt = a[0]!.tokens[3]!;
  const stopped = await generate(vlm, prompts(), { ...options, seed: 42, stopTokens: [stopAt] });
  const first = a[0]!.tokens.indexOf(stopAt);
  assert.deepEqual(stopped[0]!.tokens, a[0]!.tokens.slice(0, first + 1));
  assert.equal(stopped[0]!.stopped, true);
});

gpuTest("a prompt that cannot fit the context is rejected before any GPU work", async (rt) => {
  const vlm = new Vlm(rt, micro, weightsFor(7));
  await assert.rejects(
    generate(vlm, prompts(), {
      maxNewTokens: micro.max_position_embeddings,
      temperature: 0,
      seed: 1,
      stopTokens: [],
      padId: 0,
    }),
    ContextTooLong,
  );
});

gpuTest("banned tokens are never sampled", async (rt) => {
  const vlm = new Vlm(rt, micro, weightsFor(8));
  const free = await generate(vlm, prompts(), {
    maxNewTokens: 10,
    temperature: 0,
    seed: 1,
    stopTokens: [],
    padId: 0,
  });
  const favourite = free[0]!.tokens[0]!;
  const banned = await generate(vlm, prompts(), {
    maxNewTokens: 10,
    temperature: 0,
    seed: 1,
    stopTokens: [],
    padId: 0,
    bannedTokens: [favourite],
  });
  assert.ok(banned.every((g) => !g.tokens.includes(favourite)));
});
