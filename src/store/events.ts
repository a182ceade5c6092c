// The events table: facts with no row of their own elsewhere. A console action is recorded in the
// transaction of the change it made; the PSP API's error answers are recorded best-effort, many in one
// statement (an answer never waits for its event, and an event that cannot be written is dropped).
import { asc, eq } from 'drizzle-orm';
import type { Database, Tx } from './db.ts';
import { events } from './schema.ts';
import { Batcher } from './batcher.ts';

export type EventRow = typeof events.$inferSelect;

export interface NewEvent {
  pspId: string;
  paymentId?: string | null;
  kind: string;
  data: Record<string, unknown>;
  createdAt?: Date;
}

/** Records one event, inside the caller's transaction. */
export async function recordEvent(tx: Tx, e: NewEvent): Promise<void> {
  await tx.insert(events).values({ pspId: e.pspId, paymentId: e.paymentId ?? null, kind: e.kind, data: e.data, ...(e.createdAt ? { createdAt: e.createdAt } : {}) });
}

/** A payment's events, oldest first. */
export async function eventsOfPayment(tx: Tx, paymentId: string): Promise<EventRow[]> {
  return tx.select().from(events).where(eq(events.paymentId, paymentId)).orderBy(asc(events.eventId));
}

const INSERT_MANY = `insert into events (psp_id, payment_id, kind, data, created_at)
  select psp_id, payment_id, kind, coalesce(data, '{}'::jsonb), coalesce(created_at, now())
  from jsonb_to_recordset($1::jsonb) as x(psp_id text, payment_id uuid, kind text, data jsonb, created_at timestamptz)`;

/** Events waiting for their statement at most; past it new ones are dropped (the database is behind). */
const MAX_WAITING = 10_000;

/** Writes events in batches, fire-and-forget. */
export class EventRecorder {
  private readonly batcher: Batcher<NewEvent, void>;
  private waiting = 0;
  private readonly onError: (err: unknown) => void;

  constructor(database: Database, onError: (err: unknown) => void = () => {}) {
    this.onError = onError;
    this.batcher = new Batcher(async (batch) => {
      await database.query('events_insert_many', INSERT_MANY, [JSON.stringify(batch.map((e) => ({
        psp_id: e.pspId, payment_id: e.paymentId ?? null, kind: e.kind, data: e.data, created_at: e.createdAt?.toISOString() ?? null,
      })))]);
      return batch.map(() => undefined);
    }, 500);
  }

  /** Queues an event; never throws, never waits. */
  record(e: NewEvent): void {
    if (this.waiting >= MAX_WAITING) return;
    this.waiting++;
    this.batcher.call(e).catch(this.onError).finally(() => { this.waiting--; });
  }
}
