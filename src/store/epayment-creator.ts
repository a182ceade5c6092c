// Creates the ePayment payments of the requests that arrive in the same turn of the event loop with one
// statement, whatever their number: it stores every Idempotency-Key with the answer of its created
// payment, and inserts the payments and their CREATED events — one round trip and one commit. Plain
// inserts, without ON CONFLICT (a speculative insertion checks every unique index first, and conflicts
// are rare: a retry, a reused reference): a conflict fails the whole statement, and then each request
// of the batch is created on its own (operations/epayment/keyed.ts), where the keys and the unique
// indexes decide as for any single create. A caller gets its answer only once the statement committed.
import { Batcher } from './batcher.ts';
import type { Database } from './db.ts';
import { isDatabaseUnavailable, isUniqueViolation } from './db-errors.ts';
import { newEpaymentJson, type NewEpayment } from './epayments.ts';

export interface KeyedCreate {
  pspId: string;
  scope: string;
  key: string;
  requestHash: string;
  now: Date;
  row: NewEpayment;
  /** The CREATED event's pspReference. */
  pspReference: string;
  /** What is stored under the key: the answer of the created payment. */
  created: unknown;
}

/** Created, or to be created on its own (a key or a reference of the batch met an existing one). */
export type CreateOutcome = { kind: 'created' } | { kind: 'alone' };

const MAX = 200;

const CREATE_MANY = `
  with x as (
    select * from jsonb_to_recordset($1::jsonb)
      as x(psp_id text, scope text, key text, request_hash text, created_at timestamptz, answer jsonb, payment jsonb, psp_reference text)
  ), k as (
    insert into idempotency_keys (psp_id, scope, key, request_hash, created_at, status_code, response_body)
    select psp_id, scope, key, request_hash, created_at, 200, answer from x
  ), p as (
    -- In FROM (lateral): (f(x)).* in a select list would call f once per column.
    insert into epayments select r.* from x cross join lateral jsonb_populate_record(null::epayments, x.payment) r
    returning payment_id, amount
  )
  insert into epayment_events (payment_id, name, amount, psp_reference, idempotency_key, success, created_at)
  select p.payment_id, 'CREATED', p.amount, x.psp_reference, x.key, true, x.created_at
  from p join x on (x.payment->>'payment_id')::uuid = p.payment_id`;

export class EpaymentCreator {
  private readonly database: Database;
  private readonly batcher: Batcher<KeyedCreate, CreateOutcome>;

  constructor(database: Database) {
    this.database = database;
    this.batcher = new Batcher((items) => this.write(items), MAX);
  }

  create(item: KeyedCreate): Promise<CreateOutcome> {
    return this.batcher.call(item);
  }

  private async write(items: KeyedCreate[]): Promise<Array<CreateOutcome | Promise<CreateOutcome>>> {
    // One key twice in a batch: the first goes in it, the others after it (and are replayed then).
    const seen = new Map<string, number>();
    const firsts: number[] = [];
    const later: number[] = [];
    items.forEach((item, i) => {
      const id = JSON.stringify([item.pspId, item.scope, item.key]);
      if (seen.has(id)) later.push(i);
      else { seen.set(id, i); firsts.push(i); }
    });
    const done = this.writeUnique(firsts.map((i) => items[i]));
    const out: Array<CreateOutcome | Promise<CreateOutcome>> = new Array(items.length);
    firsts.forEach((i, k) => { out[i] = done.then((results) => results[k]); });
    for (const i of later) out[i] = done.then(() => this.create(items[i]), () => this.create(items[i]));
    return out;
  }

  private async writeUnique(items: KeyedCreate[]): Promise<CreateOutcome[]> {
    const input = items.map((it) => ({
      psp_id: it.pspId, scope: it.scope, key: it.key, request_hash: it.requestHash, created_at: it.now.toISOString(),
      answer: it.created, payment: newEpaymentJson(it.row), psp_reference: it.pspReference,
    }));
    try {
      await this.database.query('epayment_create_many', CREATE_MANY, [JSON.stringify(input)]);
      return items.map((): CreateOutcome => ({ kind: 'created' }));
    } catch (err) {
      // A lost connection fails the batch: the statement may have committed before it broke.
      if (isDatabaseUnavailable(err) || !isUniqueViolation(err)) throw err;
      return items.map((): CreateOutcome => ({ kind: 'alone' }));
    }
  }
}
