// Reads payment details for the requests that arrive in the same turn of the event loop with one
// statement: one round trip (and one write to the database's socket) for many requests. Every read
// still goes to the database after its request arrived, so an answer is never older than a change
// that was committed before it.
import type { DetailsRow } from './payments.ts';

type Query = <T>(name: string, text: string, params: unknown[]) => Promise<T[]>;

interface Pending {
  pspId: string;
  pspTransactionId: string;
  resolve(row: DetailsRow | undefined): void;
  reject(err: unknown): void;
}

const MAX_KEYS = 200;

const LOG = `coalesce((select json_agg(json_build_object('amount', l.amount, 'paymentText', l.payment_text, 'at', l.created_at,
                                       'operation', l.operation, 'success', l.success) order by l.entry_id)
     from payment_log l where l.payment_id = p.payment_id), '[]'::json) as log`;

/** One payment's details. */
export const DETAILS_ONE = `
  select p.payment_id, p.psp_transaction_id, p.merchant_order_id, ${LOG}
  from payments p where p.psp_id = $1 and p.psp_transaction_id = $2`;

const DETAILS_MANY = `
  select k.i, p.payment_id, p.psp_transaction_id, p.merchant_order_id, ${LOG}
  from jsonb_to_recordset($1::jsonb) as k(i integer, psp_id text, tx text)
  join payments p on p.psp_id = k.psp_id and p.psp_transaction_id = k.tx`;

export class DetailsReader {
  private readonly query: Query;
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(query: Query) {
    this.query = query;
  }

  read(pspId: string, pspTransactionId: string): Promise<DetailsRow | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ pspId, pspTransactionId, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) void this.fetch(this.queue.splice(0, MAX_KEYS));
  }

  private async fetch(batch: Pending[]): Promise<void> {
    try {
      if (batch.length === 1) {
        const [one] = batch;
        const [row] = await this.query<DetailsRow>('payment_details', DETAILS_ONE, [one.pspId, one.pspTransactionId]);
        one.resolve(row);
        return;
      }
      const found = await this.query<DetailsRow & { i: number }>('payment_details_many', DETAILS_MANY,
        [JSON.stringify(batch.map((p, i) => ({ i, psp_id: p.pspId, tx: p.pspTransactionId })))]);
      const byIndex = new Map(found.map(({ i, ...row }) => [i, row]));
      batch.forEach((p, i) => p.resolve(byIndex.get(i)));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
