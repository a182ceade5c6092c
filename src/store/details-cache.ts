// A read model of payment details for the embedded database, whose folder only one process may
// open: every change to a payment's log happens in this process, so dropping the entry of each
// payment whose log changes keeps the cache exact. A read that raced with any change is not cached
// (the epoch moved while it ran), so an answer older than a committed change is never served.
import type { DetailsRow } from './payments.ts';

export class DetailsCache {
  private readonly entries = new Map<string, { paymentId: string; row: DetailsRow }>();
  private readonly keys = new Map<string, string>();
  private epoch = 0;
  private readonly capacity: number;

  constructor(capacity = 50_000) {
    this.capacity = capacity;
  }

  get(pspId: string, pspTransactionId: string): DetailsRow | undefined {
    return this.entries.get(key(pspId, pspTransactionId))?.row;
  }

  /** The epoch to pass to fill() once the database answered. */
  begin(): number {
    return this.epoch;
  }

  /** Caches a row read from the database, unless anything changed since begin(). */
  fill(epoch: number, pspId: string, pspTransactionId: string, row: DetailsRow): void {
    if (epoch !== this.epoch) return;
    const k = key(pspId, pspTransactionId);
    this.entries.delete(k);
    this.entries.set(k, { paymentId: row.payment_id, row });
    this.keys.set(row.payment_id, k);
    if (this.entries.size > this.capacity) {
      // Map order is insertion order: the first entry is the least recently filled.
      const [oldest, entry] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.keys.delete(entry.paymentId);
    }
  }

  /** Forgets these payments' details: call it where their log is written, before the answer returns. */
  invalidate(paymentIds: Iterable<string>): void {
    this.epoch += 1;
    for (const id of paymentIds) {
      const k = this.keys.get(id);
      if (k === undefined) continue;
      this.keys.delete(id);
      this.entries.delete(k);
    }
  }

  /** Forgets every payment (a reset deleted them): call it before and after the deleting transaction. */
  clear(): void {
    this.epoch += 1;
    this.entries.clear();
    this.keys.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

function key(pspId: string, pspTransactionId: string): string {
  return `${pspId}\u0000${pspTransactionId}`;
}
