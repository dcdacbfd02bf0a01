/**
 * Category balancing as in the paper (`generate_hf_data --relation_percent=50`): a share of the
 * records goes to `relation`, the rest is spread equally over the other eight categories; within a
 * category the highest-rated questions are kept. And the scene-level train/val/test split, so no
 * image ever appears in two splits.
 *
 * @module
 */
import { makeRng, type Rng } from "../domain/random.ts";
import { type AnswerGroup, CATEGORIES, type Category, type Level, LEVELS } from "./question.ts";

/** Target fraction of records per category (sums to 1). */
export type CategoryShares = Readonly<Record<Category, number>>;

/**
 * The paper's mix: `relationShare` for relation, the rest split equally over the other eight.
 *
 * @example
 * ```ts
 * import { paperShares } from "./balance.ts";
 * const shares = paperShares(0.5);
 * if (shares.relation !== 0.5 || shares.depth !== 0.0625) throw new Error("wrong shares");
 * ```
 */
export const paperShares = (relationShare = 0.5): CategoryShares => {
  if (!(relationShare >= 0 && relationShare <= 1)) {
    throw new RangeError(`relation share must be in [0, 1], got ${relationShare}`);
  }
  const rest = (1 - relationShare) / (CATEGORIES.length - 1);
  return Object.fromEntries(
    CATEGORIES.map((c) => [c, c === "relation" ? relationShare : rest]),
  ) as Record<Category, number>;
};

/**
 * Records per category: the largest total up to `target` that every category's pool can fill at
 * its share, divided by largest remainders so the quotas sum to that total exactly.
 */
export const categoryQuotas = (
  pools: Readonly<Record<Category, number>>,
  shares: CategoryShares,
  target: number,
): Record<Category, number> => {
  let total = target;
  for (const c of CATEGORIES) {
    if (shares[c] > 0) total = Math.min(total, Math.floor(pools[c] / shares[c]));
  }
  const exact = CATEGORIES.map((c) => shares[c] * total);
  const quotas = exact.map(Math.floor);
  let missing = total - quotas.reduce((a, b) => a + b, 0);
  const order = CATEGORIES.map((_, i) => i)
    .sort((a, b) => (exact[b]! - quotas[b]!) - (exact[a]! - quotas[a]!) || a - b);
  for (const i of order) {
    if (missing <= 0) break;
    if (quotas[i]! < pools[CATEGORIES[i]!]) {
      quotas[i]!++;
      missing--;
    }
  }
  return Object.fromEntries(CATEGORIES.map((c, i) => [c, quotas[i]!])) as Record<Category, number>;
};

/** Target fraction of records per difficulty level within a category (the paper's 40/40/20). */
export type LevelMix = Readonly<Record<Level, number>>;

/** The paper's steering target: 40% easy, 40% medium, 20% hard. */
export const PAPER_LEVEL_MIX: LevelMix = { easy: 0.4, medium: 0.4, hard: 0.2 };

/**
 * Splits `total` as evenly as possible over groups of the given sizes, never giving a group more
 * than it holds (what a small group cannot take goes to the others). Ties go to earlier groups.
 */
export const waterFill = (sizes: ReadonlyArray<number>, total: number): number[] => {
  const alloc = sizes.map(() => 0);
  let remaining = Math.min(total, sizes.reduce((a, b) => a + b, 0));
  while (remaining > 0) {
    const open = sizes.flatMap((size, g) => (alloc[g]! < size ? [g] : []));
    const each = Math.max(1, Math.floor(remaining / open.length));
    for (const g of open) {
      const add = Math.min(each, sizes[g]! - alloc[g]!, remaining);
      alloc[g]! += add;
      remaining -= add;
      if (remaining === 0) break;
    }
  }
  return alloc;
};

/** The first `count` of `ranked`, taking each level's share of `levelMix` first where it can. */
const pickByLevel = <T extends { readonly level: Level }>(
  ranked: ReadonlyArray<number>,
  items: ReadonlyArray<T>,
  count: number,
  levelMix: LevelMix,
): number[] => {
  const taken = new Set<number>();
  for (const level of LEVELS) {
    const want = Math.round(levelMix[level] * count);
    for (const i of ranked.filter((i) => items[i]!.level === level).slice(0, want)) taken.add(i);
  }
  for (const i of ranked) {
    if (taken.size >= count) break;
    taken.add(i);
  }
  return [...taken].slice(0, count);
};

/**
 * Picks per answer of each answer group (list): the same number for every answer of a list (so
 * within a list no answer is likelier than another, and no model reading the options alone beats
 * chance), as many as the quota allows, a list's share limited by its rarest answer. The largest such level
 * is taken; what does not divide evenly goes one by one to answers in the seeded `order`.
 * `lists[l][a]` is the pool size of answer `a` of list `l`; the result has the same shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exchangeableCounts } from "./balance.ts";
 * // Four reach states, one with only 3 questions, and yes/no: 30 picks.
 * const lists = [[50, 50, 50, 3], [50, 50]];
 * const order = [[0, 0], [0, 1], [0, 2], [0, 3], [1, 0], [1, 1]] as const;
 * assert.deepEqual(exchangeableCounts(lists, 30, order), [[3, 3, 3, 3], [9, 9]]);
 * ```
 */
export const exchangeableCounts = (
  lists: ReadonlyArray<ReadonlyArray<number>>,
  quota: number,
  order: ReadonlyArray<readonly [number, number]>,
): number[][] => {
  const floor = lists.map((answers) => Math.min(...answers));
  const taken = (t: number) =>
    lists.reduce((n, answers, l) => n + answers.length * Math.min(t, floor[l]!), 0);
  let level = 0;
  const top = Math.max(0, ...floor);
  while (level < top && taken(level + 1) <= quota) level++;
  const counts = lists.map((answers, l) => answers.map(() => Math.min(level, floor[l]!)));
  let left = quota - taken(level);
  for (const [l, a] of order) {
    if (left <= 0) break;
    if (floor[l]! > level) {
      counts[l]![a]!++;
      left--;
    }
  }
  return counts;
};

/**
 * Picks a balanced subset: per category its quota. Within a category, every answer of an answer
 * group (`answerGroup`: the full option list the answer was drawn against, e.g. the count window
 * "0 | 1 | 2 | 3", or the shapes of the objects its options name, with the question's form when
 * it has one) gets the same number of questions ({@link exchangeableCounts}): a group whose rarest answer has few questions (or none) gives its
 * share to the other groups, so "no" or "1" cannot dominate and neither the options nor the form
 * give the answer away. Only when the groups cannot fill the quota evenly is the rest spread
 * evenly over the answers' leftover questions. Within an answer the picks follow `levelMix` as far
 * as each level allows, highest-rated first (ties broken by a seeded shuffle). The result keeps
 * the input order.
 */
export const balanceByCategory = <
  T extends {
    readonly category: Category;
    readonly rating: number;
    readonly level: Level;
    readonly answerGroup: AnswerGroup;
    readonly answer: string;
  },
>(
  items: ReadonlyArray<T>,
  shares: CategoryShares,
  target: number,
  rng: Rng,
  levelMix: LevelMix = PAPER_LEVEL_MIX,
): T[] => {
  const byCategory = new Map<Category, number[]>(CATEGORIES.map((c) => [c, []]));
  items.forEach((item, i) => byCategory.get(item.category)!.push(i));
  const pools = Object.fromEntries(
    CATEGORIES.map((c) => [c, byCategory.get(c)!.length]),
  ) as Record<Category, number>;
  const quotas = categoryQuotas(pools, shares, target);
  const chosen: number[] = [];
  for (const c of CATEGORIES) {
    const ranked = rng.shuffle(byCategory.get(c)!)
      .sort((a, b) => items[b]!.rating - items[a]!.rating);
    // Every answer of a group gets a slot, those without questions too (they hold the group at 0).
    const byGroup = new Map<string, Map<string, number[]>>();
    for (const i of ranked) {
      const { answerGroup, answer } = items[i]!;
      if (!answerGroup.answers.includes(answer)) {
        throw new Error(`answer "${answer}" is not in its answer group "${answerGroup.key}"`);
      }
      const answers = byGroup.get(answerGroup.key) ??
        new Map(answerGroup.answers.map((a) => [a, [] as number[]]));
      answers.get(answer)!.push(i);
      byGroup.set(answerGroup.key, answers);
    }
    const sorted = <V>(m: Map<string, V>) =>
      [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
    const groups = sorted(byGroup).map(([, answers]) => sorted(answers).map(([, g]) => g));
    // A seeded order, not the alphabetical one: the questions left over when the quota does not
    // divide evenly would otherwise always go to the same answers, in every split alike, and a
    // blind model fitted on train would find them again in val.
    const order = rng.shuffle(
      groups.flatMap((answers, l) => answers.map((_, a) => [l, a] as const)),
    );
    const counts = exchangeableCounts(
      groups.map((answers) => answers.map((g) => g.length)),
      quotas[c],
      order,
    );
    const leftovers: number[][] = [];
    for (const [l, a] of order) {
      const picked = pickByLevel(groups[l]![a]!, items, counts[l]![a]!, levelMix);
      chosen.push(...picked);
      const taken = new Set(picked);
      leftovers.push(groups[l]![a]!.filter((i) => !taken.has(i)));
    }
    const missing = quotas[c] - counts.flat().reduce((n, k) => n + k, 0);
    const extra = waterFill(leftovers.map((g) => g.length), missing);
    leftovers.forEach((group, g) => chosen.push(...pickByLevel(group, items, extra[g]!, levelMix)));
  }
  return chosen.sort((a, b) => a - b).map((i) => items[i]!);
};

/** Data set splits. */
export const SPLITS = ["train", "val", "test"] as const;
/** One of {@link SPLITS}. */
export type Split = typeof SPLITS[number];

/** Fractions of scenes per split (sum to 1). */
export type SplitFractions = Readonly<Record<Split, number>>;

/** 90% train, 5% val, 5% test. */
export const DEFAULT_SPLIT_FRACTIONS: SplitFractions = { train: 0.9, val: 0.05, test: 0.05 };

/**
 * The split of a scene, a pure function of the seed and the scene index: every record of one
 * image lands in the same split, and adding scenes never moves existing ones.
 */
export const splitOfScene = (
  seed: number,
  sceneIndex: number,
  fractions: SplitFractions = DEFAULT_SPLIT_FRACTIONS,
): Split => {
  const u = makeRng(seed).fork(0x5b117).fork(sceneIndex).next();
  return u < fractions.train ? "train" : u < fractions.train + fractions.val ? "val" : "test";
};
