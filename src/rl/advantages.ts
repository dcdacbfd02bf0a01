/**
 * GRPO outcome advantages: each response is scored against the other responses to the same
 * prompt. As in the paper's code (EasyR1 `compute_grpo_outcome_advantage`):
 * `A_i = (r_i − mean_g) / (std_g + 1e-6)` with the unbiased (N − 1) standard deviation.
 *
 * @module
 */

/** Added to the group standard deviation so identical rewards give 0 rather than 0/0. */
export const ADVANTAGE_EPS = 1e-6;

/** How a group's centred rewards are scaled. */
export interface AdvantageOptions {
  /** `true`: divide by the group std (GRPO). `false`: centre only (Dr.GRPO). */
  readonly normalizeByStd: boolean;
}

/**
 * Group-relative advantages, one per response.
 *
 * `groups[i]` names the prompt that response `i` answers; responses of a group need not be
 * adjacent. A group whose rewards are all equal gets 0 for every member. A singleton group also
 * gets 0: with one sample there is no baseline to compare against and the unbiased std is
 * undefined (EasyR1 refuses n = 1; veRL would use the raw reward, which is not group-relative).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupAdvantages } from "./advantages.ts";
 * const a = groupAdvantages([1, 0, 0, 1], ["p", "p", "q", "q"], { normalizeByStd: true });
 * assert.ok(Math.abs(a[0]! - 0.7071) < 1e-3 && Math.abs(a[1]! + 0.7071) < 1e-3);
 * ```
 */
export const groupAdvantages = (
  rewards: ReadonlyArray<number>,
  groups: ReadonlyArray<string | number>,
  options: AdvantageOptions,
): Float64Array => {
  if (rewards.length !== groups.length) {
    throw new RangeError(
      `groupAdvantages: ${rewards.length} rewards but ${groups.length} group keys`,
    );
  }
  const members = groupMembers(groups);
  const advantages = new Float64Array(rewards.length);
  for (const indices of members.values()) {
    if (indices.length < 2) continue;
    const values = indices.map((i) => rewards[i]!);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const scale = options.normalizeByStd ? unbiasedStd(values, mean) + ADVANTAGE_EPS : 1;
    for (const i of indices) advantages[i] = (rewards[i]! - mean) / scale;
  }
  return advantages;
};

/** Indices of the responses in each group, in first-seen group order. */
export const groupMembers = (
  groups: ReadonlyArray<string | number>,
): Map<string | number, Array<number>> => {
  const members = new Map<string | number, Array<number>>();
  groups.forEach((g, i) => {
    const list = members.get(g);
    if (list === undefined) members.set(g, [i]);
    else list.push(i);
  });
  return members;
};

/** Sample standard deviation with Bessel's correction (torch.std's default); needs ≥ 2 values. */
export const unbiasedStd = (values: ReadonlyArray<number>, mean: number): number => {
  const ss = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return Math.sqrt(ss / (values.length - 1));
};
