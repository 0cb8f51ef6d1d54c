// A batch's run order: its source positions sorted by md5("<seed>:<position>") in hex, ties by
// position; unshuffled, source order. create-batch.ts numbers a dataset's jobs this way in SQL;
// inline records are in memory already, so their order is computed here, while their COPY into
// dataset_records is under way (it is the slower side). Both give the same order (test/engine/create-and-read.test.ts).
import { hash } from "node:crypto";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";

const digest = (seed: string, position: number) => hash("md5", `${seed}:${position}`);
const key = (seed: string, position: number) => parseInt(digest(seed, position).slice(0, 12), 16);

export class RunOrder {
  /** the first 48 bits of each position's digest, which decide nearly every comparison */
  private readonly keys: Float64Array | null;

  constructor(
    private readonly count: number,
    private readonly seed: string | null,
  ) {
    this.keys = seed === null ? null : new Float64Array(count);
  }

  private order: Uint32Array | null = null;

  /**
   * Yields `items` (position = index), hashing each on the way, and sorts once the last one is out:
   * while the consumer (a COPY to PostgreSQL, the slower side) still works through what it has.
   */
  *hashing<T>(items: readonly T[]): Generator<T> {
    const { keys, seed } = this;
    for (let position = 0; position < items.length; position++) {
      if (keys) keys[position] = key(seed!, position);
      yield items[position]!;
    }
    this.order = this.sorted();
  }

  /**
   * Positions in run order, hashed a slice at a time with the event loop free in between: a COPY
   * streaming beside it (the records, on another connection) keeps being fed.
   */
  async positionsInSlices(slice = 4096): Promise<Uint32Array> {
    const { keys, seed } = this;
    if (keys) {
      for (let position = 0; position < this.count; position++) {
        keys[position] = key(seed!, position);
        if (position % slice === slice - 1) await yieldToEventLoop();
      }
    }
    return (this.order = this.sorted());
  }

  /** Positions in run order; call once hashing() has gone through every item. */
  positions(): Uint32Array {
    return (this.order ??= this.sorted());
  }

  private sorted(): Uint32Array {
    const order = new Uint32Array(this.count);
    for (let p = 0; p < this.count; p++) order[p] = p;
    const { keys, seed } = this;
    if (!keys) return order;
    return order.sort((a, b) => {
      const byKey = keys[a]! - keys[b]!;
      if (byKey !== 0) return byKey;
      const da = digest(seed!, a);
      const db = digest(seed!, b);
      return da < db ? -1 : da > db ? 1 : a - b;
    });
  }
}
