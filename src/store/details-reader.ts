// Reads payment details for the requests that arrive in the same turn of the event loop with one
// statement: one round trip (and one write to the database's socket) for many requests. Every read
// still goes to the database after its request arrived, so an answer is never older than a change
// that was committed before it.
import { Batcher } from './batcher.ts';
import type { DetailsRow } from './payments.ts';

type Query = <T>(name: string, text: string, params: unknown[]) => Promise<T[]>;

const LOG = `coalesce((select json_agg(json_build_object('amount', l.amount, 'paymentText', l.payment_text, 'at', l.created_at,
                                       'operation', l.operation, 'success', l.success) order by l.entry_id)
     from payment_log l where l.payment_id = p.payment_id), '[]'::json) as log`;

const DETAILS_ONE = `
  select p.payment_id, p.psp_transaction_id, p.merchant_order_id, ${LOG}
  from payments p where p.psp_id = $1 and p.psp_transaction_id = $2`;

const DETAILS_MANY = `
  select k.i, p.payment_id, p.psp_transaction_id, p.merchant_order_id, ${LOG}
  from jsonb_to_recordset($1::jsonb) as k(i integer, psp_id text, tx text)
  join payments p on p.psp_id = k.psp_id and p.psp_transaction_id = k.tx`;

export class DetailsReader {
  private readonly batcher: Batcher<{ pspId: string; pspTransactionId: string }, DetailsRow | undefined>;

  constructor(query: Query) {
    this.batcher = new Batcher(async (keys) => {
      if (keys.length === 1) return query<DetailsRow>('payment_details', DETAILS_ONE, [keys[0].pspId, keys[0].pspTransactionId]);
      const found = await query<DetailsRow & { i: number }>('payment_details_many', DETAILS_MANY,
        [JSON.stringify(keys.map((k, i) => ({ i, psp_id: k.pspId, tx: k.pspTransactionId })))]);
      const byIndex = new Map(found.map(({ i, ...row }) => [i, row]));
      return keys.map((_, i) => byIndex.get(i));
    }, 200);
  }

  read(pspId: string, pspTransactionId: string): Promise<DetailsRow | undefined> {
    return this.batcher.call({ pspId, pspTransactionId });
  }
}
