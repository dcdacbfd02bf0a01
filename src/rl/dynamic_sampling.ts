/**
 * Dynamic sampling (DAPO): a group whose responses all score the same has zero advantage and
 * teaches nothing, so it is dropped (DAPO then samples more prompts to refill the batch; our
 * trainer updates on the groups that remain, so a step gets smaller instead). The filter looks at answer
 * *accuracy*, not at the shaped reward: under a dense reward almost every group has some reward
 * variance, so filtering on it would let all-wrong groups through (veRL-recipe PR #125).
 *
 * @module
 */
import { groupMembers } from "./advantages.ts";

/** Which groups a rollout batch keeps, and how many it dropped. */
export interface GroupFilter {
  /** Indices of the responses to keep, in their original order. */
  readonly keptResponses: ReadonlyArray<number>;
  /** Group keys kept, in first-seen order. */
  readonly keptGroups: ReadonlyArray<string | number>;
  /** Number of groups dropped because their accuracy did not vary. */
  readonly droppedGroups: number;
}

/**
 * Keeps the groups in which at least two responses differ in accuracy. Singleton groups carry no
 * comparison and are dropped too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keepInformativeGroups } from "./dynamic_sampling.ts";
 * const f = keepInformativeGroups([1, 1, 0, 1], ["p", "p", "q", "q"]);
 * assert.ok(f.droppedGroups === 1 && f.keptResponses.join() === "2,3");
 * ```
 */
export const keepInformativeGroups = (
  accuracy: ReadonlyArray<number>,
  groups: ReadonlyArray<string | number>,
): GroupFilter => {
  if (accuracy.length !== groups.length) {
    throw new RangeError(
      `keepInformativeGroups: ${accuracy.length} accuracies but ${groups.length} group keys`,
    );
  }
  const keep = new Array<boolean>(accuracy.length).fill(false);
  const keptGroups: Array<string | number> = [];
  let droppedGroups = 0;
  for (const [group, indices] of groupMembers(groups)) {
    const first = accuracy[indices[0]!]!;
    if (indices.some((i) => accuracy[i] !== first)) {
      keptGroups.push(group);
      for (const i of indices) keep[i] = true;
    } else {
      droppedGroups++;
    }
  }
  const keptResponses = keep.flatMap((k, i) => k ? [i] : []);
  return { keptResponses, keptGroups, droppedGroups };
};

/**
 * Share of groups whose values (e.g. shaped rewards) are all equal — `frac_reward_zero_std` in
 * TRL's logs; 1.0 means this step had no gradient signal at all.
 */
export const zeroVarianceGroupFraction = (
  values: ReadonlyArray<number>,
  groups: ReadonlyArray<string | number>,
): number => {
  const members = groupMembers(groups);
  if (members.size === 0) return 0;
  let zero = 0;
  for (const indices of members.values()) {
    const first = values[indices[0]!]!;
    if (indices.every((i) => values[i] === first)) zero++;
  }
  return zero / members.size;
};
