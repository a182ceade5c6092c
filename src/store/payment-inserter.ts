// Coalesces concurrent payment inserts into one multi-row INSERT: the requests that arrive in the
// same turn of the event loop share one statement and one commit (one WAL flush instead of many).
// Each caller still gets its answer only after its row is durably stored, and the unique indexes
// still decide duplicates — also between two rows of one statement (the first one wins).
import type { Database } from './db.ts';
import { insertPaymentAlone, type NewPayment } from './payments.ts';
import { isDatabaseUnavailable } from './db-errors.ts';
import { Batcher } from './batcher.ts';

export type InsertResult = { inserted: true } | { duplicate: 'pspTransactionId' | 'merchantOrderId' };

const MAX_ROWS = 500;

const COLUMNS = `psp_id text, psp_transaction_id text, msn text, merchant_order_id text, amount integer, currency text,
  customer_mobile_number text, psp_redirect_url text, make_payment_url text, make_payment_token text, payment_text text,
  is_app boolean, skip_landing_page boolean, merchant_agreement_url text, token_hash text, three_ds_ref text, state text,
  phone text, expires_at timestamptz, created_at timestamptz, updated_at timestamptz, init_headers jsonb`;
const NAMES = COLUMNS.split(',').map((c) => c.trim().split(/\s+/)[0]).join(', ');

const INSERT_MANY = `insert into payments (${NAMES})
  select ${NAMES} from jsonb_to_recordset($1::jsonb) as x(${COLUMNS})
  on conflict do nothing returning token_hash`;

const EXISTING = `select x.psp_id, x.psp_transaction_id from jsonb_to_recordset($1::jsonb) as x(psp_id text, psp_transaction_id text)
  where exists (select 1 from payments p where p.psp_id = x.psp_id and p.psp_transaction_id = x.psp_transaction_id)`;

function jsonRow(r: NewPayment): Record<string, unknown> {
  return {
    psp_id: r.pspId, psp_transaction_id: r.pspTransactionId, msn: r.msn, merchant_order_id: r.merchantOrderId,
    amount: r.amount, currency: r.currency, customer_mobile_number: r.customerMobileNumber ?? null,
    psp_redirect_url: r.pspRedirectUrl, make_payment_url: r.makePaymentUrl, make_payment_token: r.makePaymentToken ?? null,
    payment_text: r.paymentText ?? null, is_app: r.isApp ?? false, skip_landing_page: r.skipLandingPage ?? false,
    merchant_agreement_url: r.merchantAgreementUrl ?? null, token_hash: r.tokenHash, three_ds_ref: r.threeDsRef, state: r.state,
    phone: r.phone ?? null, expires_at: r.expiresAt?.toISOString() ?? null, created_at: r.createdAt?.toISOString(),
    updated_at: r.updatedAt?.toISOString(), init_headers: r.initHeaders ?? null,
  };
}

const key = (pspId: string, pspTransactionId: string) => `${pspId}\u0000${pspTransactionId}`;

export class PaymentInserter {
  private readonly database: Database;
  private readonly batcher: Batcher<NewPayment, InsertResult>;

  constructor(database: Database) {
    this.database = database;
    this.batcher = new Batcher((rows) => this.write(rows), MAX_ROWS);
  }

  insert(row: NewPayment): Promise<InsertResult> {
    return this.batcher.call(row);
  }

  private async write(batch: NewPayment[]): Promise<Array<InsertResult | Promise<InsertResult>>> {
    if (batch.length === 1) return [insertPaymentAlone(this.database, batch[0])];
    try {
      const inserted = await this.database.query<{ token_hash: string }>(
        'payment_insert_many', INSERT_MANY, [JSON.stringify(batch.map(jsonRow))]);
      // The token hash is unique per request, so it tells exactly whose row went in.
      const done = new Set(inserted.map((r) => r.token_hash));
      const skipped = batch.filter((row) => !done.has(row.tokenHash));
      const taken = new Set<string>();
      if (skipped.length > 0) {
        const existing = await this.database.query<{ psp_id: string; psp_transaction_id: string }>('payment_existing_many', EXISTING,
          [JSON.stringify(skipped.map((row) => ({ psp_id: row.pspId, psp_transaction_id: row.pspTransactionId })))]);
        for (const r of existing) taken.add(key(r.psp_id, r.psp_transaction_id));
      }
      return batch.map((row): InsertResult => {
        if (done.has(row.tokenHash)) return { inserted: true };
        return { duplicate: taken.has(key(row.pspId, row.pspTransactionId)) ? 'pspTransactionId' : 'merchantOrderId' };
      });
    } catch (err) {
      // A lost connection fails the whole batch: the statement may even have committed before the
      // connection broke, so inserting the rows again could report a caller's own row as a duplicate.
      if (isDatabaseUnavailable(err)) throw err;
      // One bad row must not fail its neighbours: retry each on its own.
      return batch.map((row) => insertPaymentAlone(this.database, row));
    }
  }
}
