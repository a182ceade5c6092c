// Coalesces concurrent payment inserts into one multi-row INSERT: the requests that arrive in the
// same turn of the event loop share one statement and one commit (one WAL flush instead of many).
// Each caller still gets its answer only after its row is durably stored, and the unique indexes
// still decide duplicates — also between two rows of one batch (the first one wins).
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

// A plain INSERT, without ON CONFLICT: a speculative insertion checks every unique index before it
// inserts, and duplicates are rare (a PSP's retry). A duplicate fails the whole statement instead, and
// then each row of the batch is inserted on its own (write's catch), where the unique indexes decide.
// Measured on PostgreSQL, 50 connections, alternating runs: init 4,465 → 5,057 req/s (+13 %), p99 lower.
const INSERT_MANY = `insert into payments (${NAMES})
  select ${NAMES} from jsonb_to_recordset($1::jsonb) as x(${COLUMNS})
  returning token_hash`;

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
      await this.database.query('payment_insert_many', INSERT_MANY, [JSON.stringify(batch.map(jsonRow))]);
      return batch.map((): InsertResult => ({ inserted: true }));
    } catch (err) {
      // A lost connection fails the whole batch: the statement may even have committed before the
      // connection broke, so inserting the rows again could report a caller's own row as a duplicate.
      if (isDatabaseUnavailable(err)) throw err;
      // A duplicate (or one bad row) must not fail its neighbours: each row on its own, in order, so
      // that of two rows with one pspTransactionId the first one wins.
      const results: Array<Promise<InsertResult>> = [];
      let previous: Promise<unknown> = Promise.resolve();
      for (const row of batch) {
        const result = previous.then(() => insertPaymentAlone(this.database, row), () => insertPaymentAlone(this.database, row));
        results.push(result);
        previous = result;
      }
      return results;
    }
  }
}
