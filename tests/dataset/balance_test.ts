import assert from "node:assert/strict";
import {
  balanceByCategory,
  categoryQuotas,
  exchangeableCounts,
  paperShares,
  splitOfScene,
  waterFill,
} from "../../src/dataset/balance.ts";
import { CATEGORIES, type Category, type Level } from "../../src/dataset/question.ts";
import { makeRng } from "../../src/domain/random.ts";

const yesNo = { key: "no | yes", answers: ["no", "yes"] };

const pools = (n: number, overrides: Partial<Record<Category, number>> = {}) =>
  ({ ...Object.fromEntries(CATEGORIES.map((c) => [c, n])), ...overrides }) as Record<
    Category,
    number
  >;

Deno.test("paper shares give half to relation and a sixteenth to each other category", () => {
  const shares = paperShares();
  assert.equal(shares.relation, 0.5);
  for (const c of CATEGORIES.filter((c) => c !== "relation")) assert.equal(shares[c], 0.0625);
  assert.throws(() => paperShares(1.5), RangeError);
});

Deno.test("quotas sum to the target and follow the shares", () => {
  const quotas = categoryQuotas(pools(10_000), paperShares(), 1000);
  assert.equal(Object.values(quotas).reduce((a, b) => a + b, 0), 1000);
  assert.equal(quotas.relation, 500);
  for (const c of CATEGORIES.filter((c) => c !== "relation")) {
    assert.ok(Math.abs(quotas[c] - 62.5) <= 0.5);
  }
});

Deno.test("a short category pool shrinks the total so every share still holds", () => {
  const quotas = categoryQuotas(pools(10_000, { count: 25 }), paperShares(), 1000);
  assert.equal(quotas.count, 25);
  assert.equal(quotas.relation, 200);
  assert.equal(Object.values(quotas).reduce((a, b) => a + b, 0), 400);
});

Deno.test("balancing keeps the highest-rated items of each level and the input order", () => {
  const levels: Level[] = ["easy", "medium", "hard"];
  const items = Array.from({ length: 900 }, (_, i) => ({
    id: i,
    category: CATEGORIES[i % 9]!,
    rating: 1 + (i % 10),
    level: levels[Math.floor(i / 9) % 3]!,
    answerGroup: { key: "x", answers: ["x"] },
    answer: "x",
  }));
  const chosen = balanceByCategory(items, paperShares(), 160, makeRng(1));
  assert.equal(chosen.length, 160);
  assert.deepEqual(chosen.map((c) => c.id), [...chosen.map((c) => c.id)].sort((a, b) => a - b));
  assert.equal(chosen.filter((c) => c.category === "relation").length, 80);
  const relation = chosen.filter((c) => c.category === "relation");
  const hard = relation.filter((c) => c.level === "hard").length;
  assert.ok(Math.abs(hard - 16) <= 1, `hard relation items: ${hard}`);
  const pool = items.filter((c) => c.category === "relation" && c.level === "easy");
  const easy = relation.filter((c) => c.level === "easy");
  const cutoff = Math.min(...easy.map((c) => c.rating));
  assert.ok(pool.every((c) => c.rating <= cutoff || easy.includes(c)));
});

Deno.test("the split of a scene depends only on the seed and its index, with about 90/5/5", () => {
  const splits = Array.from({ length: 4000 }, (_, i) => splitOfScene(1, i));
  assert.deepEqual(splits.slice(0, 50), Array.from({ length: 50 }, (_, i) => splitOfScene(1, i)));
  const share = (s: string) => splits.filter((x) => x === s).length / splits.length;
  assert.ok(Math.abs(share("train") - 0.9) < 0.02);
  assert.ok(Math.abs(share("val") - 0.05) < 0.015);
  assert.ok(Math.abs(share("test") - 0.05) < 0.015);
});

Deno.test("balancing spreads picks over answers instead of taking the commonest", () => {
  // 90 well-rated "no" items and 10 lower-rated "yes" items; 20 picks.
  const items = Array.from({ length: 100 }, (_, i) => ({
    category: "reach" as const,
    rating: i < 90 ? 9 : 6,
    level: "easy" as const,
    answerGroup: yesNo,
    answer: i < 90 ? "no" : "yes",
  }));
  const shares = {
    ...paperShares(0),
    reach: 1,
    size: 0,
    orientation: 0,
    instance_location: 0,
    depth: 0,
    distance: 0,
    count: 0,
    existence: 0,
  };
  const chosen = balanceByCategory(items, shares, 20, makeRng(2), { easy: 1, medium: 0, hard: 0 });
  assert.equal(chosen.length, 20);
  assert.equal(chosen.filter((c) => c.answer === "yes").length, 10);
});

Deno.test("waterFill splits evenly and passes on what small groups cannot take", () => {
  assert.deepEqual(waterFill([10, 10, 10], 9), [3, 3, 3]);
  assert.deepEqual(waterFill([1, 10, 10], 9), [1, 4, 4]);
  assert.deepEqual(waterFill([2, 2], 9), [2, 2]);
  assert.deepEqual(waterFill([5, 5], 3), [2, 1]);
});

/** Every (list, answer) pair in order: the remainder order exchangeableCounts is given. */
const inOrder = (lists: number[][]) =>
  lists.flatMap((answers, l) => answers.map((_, a) => [l, a] as const));

Deno.test("exchangeableCounts gives every answer of a list the same count, limited by its rarest", () => {
  // List 0: a 4-option list whose last answer has 3 questions; list 1: yes/no with plenty.
  const lists = [[50, 50, 50, 3], [50, 50]];
  assert.deepEqual(exchangeableCounts(lists, 30, inOrder(lists)), [[3, 3, 3, 3], [9, 9]]);
  assert.deepEqual(exchangeableCounts(lists, 12, inOrder(lists)), [[2, 2, 2, 2], [2, 2]]);
});

Deno.test("exchangeableCounts hands the remainder out in the given order to lists with room", () => {
  const lists = [[10, 10], [1]];
  const counts = exchangeableCounts(lists, 6, [[1, 0], [0, 1], [0, 0]]);
  assert.deepEqual(counts, [[2, 3], [1]]);
  assert.deepEqual(exchangeableCounts(lists, 100, inOrder(lists)), [[10, 10], [1]]);
});

const reachShares = {
  ...paperShares(0),
  reach: 1,
  size: 0,
  orientation: 0,
  instance_location: 0,
  depth: 0,
  distance: 0,
  count: 0,
  existence: 0,
};

Deno.test("balancing keeps the answers of an option list equally frequent when one is rare", () => {
  // Four states, "supporting it" rare; yes/no plentiful. 40 picks.
  const states = ["resting on it", "supporting it", "touching its side", "not touching it"];
  const items = [
    ...states.flatMap((answer) =>
      Array.from({ length: answer === "supporting it" ? 4 : 30 }, () => ({
        category: "reach" as const,
        rating: 5,
        level: "easy" as const,
        answerGroup: { key: [...states].sort().join(" | "), answers: [...states].sort() },
        answer,
      }))
    ),
    ...["yes", "no"].flatMap((answer) =>
      Array.from({ length: 30 }, () => ({
        category: "reach" as const,
        rating: 5,
        level: "easy" as const,
        answerGroup: yesNo,
        answer,
      }))
    ),
  ];
  const chosen = balanceByCategory(items, reachShares, 40, makeRng(3));
  assert.equal(chosen.length, 40);
  for (const answer of states) assert.equal(chosen.filter((c) => c.answer === answer).length, 4);
  assert.equal(chosen.filter((c) => c.answer === "yes").length, 12);
});

Deno.test("balancing fills the quota from leftovers when the option lists cannot fill it evenly", () => {
  // One list whose second answer has a single question: only 2 of 10 picks can be even.
  const items = Array.from({ length: 20 }, (_, i) => ({
    category: "reach" as const,
    rating: 5,
    level: "easy" as const,
    answerGroup: yesNo,
    answer: i === 0 ? "yes" : "no",
  }));
  const chosen = balanceByCategory(items, reachShares, 10, makeRng(4));
  assert.equal(chosen.length, 10);
  assert.equal(chosen.filter((c) => c.answer === "yes").length, 1);
});

Deno.test("an answer group with an answer that has no questions gives no even picks", () => {
  // "yes" never occurs: no even split exists, so the other group takes the quota.
  const item = (key: string, answer: string) => ({
    category: "reach" as const,
    rating: 5,
    level: "easy" as const,
    answerGroup: key === "yn" ? { key, answers: ["no", "yes"] } : { key, answers: ["a", "b"] },
    answer,
  });
  const items = [
    ...Array.from({ length: 10 }, () => item("yn", "no")),
    ...Array.from({ length: 10 }, (_, i) => item("ab", i % 2 === 0 ? "a" : "b")),
  ];
  const chosen = balanceByCategory(items, reachShares, 8, makeRng(5));
  assert.equal(chosen.filter((c) => c.answer === "a").length, 4);
  assert.equal(chosen.filter((c) => c.answer === "b").length, 4);
});

Deno.test("balancing refuses an answer outside its answer group", () => {
  const items = [{
    category: "reach" as const,
    rating: 5,
    level: "easy" as const,
    answerGroup: yesNo,
    answer: "maybe",
  }];
  assert.throws(
    () => balanceByCategory(items, reachShares, 1, makeRng(1)),
    /not in its answer group/,
  );
});
