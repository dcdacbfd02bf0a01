/**
 * The order in which training records are visited: a fresh seeded shuffle every epoch, and a
 * cursor that a checkpoint stores as (epoch, position) so that a resumed run sees exactly the
 * records an uninterrupted run would.
 *
 * @module
 */
import { makeRng } from "../domain/random.ts";

/** Where the cursor stands. */
export interface DataPosition {
  readonly epoch: number;
  readonly position: number;
}

/** A seeded, resumable stream of record indices. */
export class DataOrder {
  readonly #count: number;
  readonly #seed: number;
  #epoch: number;
  #position: number;
  #order: ReadonlyArray<number>;

  constructor(count: number, seed: number, start: DataPosition = { epoch: 0, position: 0 }) {
    if (count === 0) throw new RangeError("DataOrder: no records");
    this.#count = count;
    this.#seed = seed;
    this.#epoch = start.epoch;
    this.#position = start.position;
    this.#order = this.#shuffle(start.epoch);
  }

  #shuffle(epoch: number): ReadonlyArray<number> {
    return makeRng(this.#seed).fork(epoch).shuffle(
      Array.from({ length: this.#count }, (_, i) => i),
    );
  }

  /** The cursor, for checkpoints. */
  get state(): DataPosition {
    return { epoch: this.#epoch, position: this.#position };
  }

  /** The next index, moving to a new shuffled epoch at the end of one. */
  next(): number {
    if (this.#position >= this.#count) {
      this.#epoch++;
      this.#position = 0;
      this.#order = this.#shuffle(this.#epoch);
    }
    return this.#order[this.#position++]!;
  }

  /** The next `n` indices. */
  take(n: number): number[] {
    return Array.from({ length: n }, () => this.next());
  }
}
