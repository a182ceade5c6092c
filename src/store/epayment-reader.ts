// Reads ePayment payments for GET …/{reference} with one statement for the requests of one turn of the
// event loop (as DetailsReader does for PSP API v3's details): one round trip and one write to the
// database's socket for many requests. Every read goes to the database after its request arrived.
import { Batcher } from './batcher.ts';

type Query = <T>(name: string, text: string, params: unknown[]) => Promise<T[]>;

/** What GET shows of a payment. */
export interface EpaymentReadRow {
  payment_id: string;
  psp_id: string;
  msn: string;
  reference: string;
  state: string;
  amount: number;
  currency: string;
  user_flow: string;
  payment_method: string;
  psp_reference: string;
  card_bin: string | null;
  metadata: Record<string, string> | null;
  qr_format: string | null;
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  cancelled_amount: number;
}

const COLUMNS = `p.payment_id, p.psp_id, p.msn, p.reference, p.state, p.amount, p.currency, p.user_flow, p.payment_method, p.psp_reference,
  p.card_bin, p.metadata, p.extra->'qrFormat'->>'format' as qr_format,
  p.authorized_amount, p.captured_amount, p.refunded_amount, p.cancelled_amount`;

const ONE = `select ${COLUMNS} from epayments p where p.msn = $1 and p.reference = $2`;

const MANY = `select k.i, ${COLUMNS}
  from jsonb_to_recordset($1::jsonb) as k(i integer, msn text, reference text)
  join epayments p on p.msn = k.msn and p.reference = k.reference`;

export class EpaymentReader {
  private readonly batcher: Batcher<{ msn: string; reference: string }, EpaymentReadRow | undefined>;

  constructor(query: Query) {
    this.batcher = new Batcher(async (keys) => {
      if (keys.length === 1) return [(await query<EpaymentReadRow>('epayment_get', ONE, [keys[0].msn, keys[0].reference]))[0]];
      const found = await query<EpaymentReadRow & { i: number }>('epayment_get_many', MANY,
        [JSON.stringify(keys.map((k, i) => ({ i, msn: k.msn, reference: k.reference })))]);
      const byIndex = new Map(found.map(({ i, ...row }) => [i, row]));
      return keys.map((_, i) => byIndex.get(i));
    }, 200);
  }

  read(msn: string, reference: string): Promise<EpaymentReadRow | undefined> {
    return this.batcher.call({ msn, reference });
  }
}

/** A payment's events in one statement: none at all means no such payment (every payment has CREATED). */
export const EVENTS_OF_REFERENCE = `select p.reference, p.currency, e.name, e.amount, e.psp_reference, e.idempotency_key, e.success, e.created_at
  from epayments p join epayment_events e on e.payment_id = p.payment_id
  where p.msn = $1 and p.reference = $2 order by e.event_id`;
