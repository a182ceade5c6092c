// Payments, their transaction log and delivery attempts. Every state change is a conditional
// UPDATE (… WHERE state IN (…)), so when approve, cancel and expiry race, exactly one row update wins.
import { and, asc, eq, gt, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { Database, Db, Tx } from './db.ts';
import type { DetailsCache } from './details-cache.ts';
import { deliveryAttempts, paymentLog, payments } from './schema.ts';

export type PaymentRow = typeof payments.$inferSelect;
export type NewPayment = typeof payments.$inferInsert;
export type LogRow = typeof paymentLog.$inferSelect;
export type AttemptRow = typeof deliveryAttempts.$inferSelect;

/**
 * Inserts a payment. On a unique violation returns which constraint decided:
 * the PSP's pspTransactionId or the merchant's merchantOrderId.
 */
export async function insertPayment(tx: Tx, row: NewPayment): Promise<{ row: PaymentRow } | { duplicate: 'pspTransactionId' | 'merchantOrderId' }> {
  const [inserted] = await tx.insert(payments).values(row).onConflictDoNothing().returning();
  if (inserted) return { row: inserted };
  const [byTx] = await tx.select({ id: payments.paymentId }).from(payments)
    .where(and(eq(payments.pspId, row.pspId), eq(payments.pspTransactionId, row.pspTransactionId)));
  return { duplicate: byTx ? 'pspTransactionId' : 'merchantOrderId' };
}

export async function findPayment(tx: Tx, pspId: string, pspTransactionId: string): Promise<PaymentRow | undefined> {
  const [row] = await tx.select().from(payments).where(and(eq(payments.pspId, pspId), eq(payments.pspTransactionId, pspTransactionId)));
  return row;
}

export async function findPaymentById(tx: Tx, paymentId: string): Promise<PaymentRow | undefined> {
  const [row] = await tx.select().from(payments).where(eq(payments.paymentId, paymentId));
  return row;
}


/** The payment whose 3-D Secure reference hashes to `refHash`. */
export async function findPaymentBy3dsRef(tx: Tx, refHash: string): Promise<PaymentRow | undefined> {
  const [row] = await tx.select().from(payments).where(eq(payments.threeDsRef, refHash));
  return row;
}

/** Moves a payment from one of `from` to a new state; undefined when it was no longer in `from`. */
export async function transition(
  tx: Tx, paymentId: string, from: readonly string[], changes: Partial<Omit<NewPayment, 'paymentId'>>, now: Date,
  opts: { beforeDeadline?: boolean } = {},
): Promise<PaymentRow | undefined> {
  const conditions = [eq(payments.paymentId, paymentId), inArray(payments.state, [...from])];
  if (opts.beforeDeadline) conditions.push(or(isNull(payments.expiresAt), gt(payments.expiresAt, now))!);
  const [row] = await tx.update(payments).set({ ...changes, updatedAt: now }).where(and(...conditions)).returning();
  return row;
}

/** Appends log entries; `cache` is the details read model, which forgets these payments. */
export async function appendLog(tx: Tx, entries: Array<typeof paymentLog.$inferInsert>, cache: DetailsCache | undefined): Promise<void> {
  if (entries.length === 0) return;
  cache?.invalidate(entries.map((e) => e.paymentId));
  await tx.insert(paymentLog).values(entries);
}

export async function logOf(tx: Tx, paymentId: string): Promise<LogRow[]> {
  return tx.select().from(paymentLog).where(eq(paymentLog.paymentId, paymentId)).orderBy(asc(paymentLog.entryId));
}

export async function attemptsOf(tx: Tx, paymentId: string): Promise<AttemptRow[]> {
  return tx.select().from(deliveryAttempts).where(eq(deliveryAttempts.paymentId, paymentId)).orderBy(asc(deliveryAttempts.attemptId));
}

const EXPIRE_DUE = `
  with due as (
    select payment_id from payments
    where state in ('INITIATED', 'AWAITING_USER', 'AWAITING_3DS') and expires_at <= $1::timestamptz
    order by expires_at limit $2 for update skip locked),
  upd as (
    update payments p set state = 'TIMEOUT', updated_at = $1::timestamptz, failure_reason = 'TIMEOUT'
    from due where p.payment_id = due.payment_id and p.state in ('INITIATED', 'AWAITING_USER', 'AWAITING_3DS')
    returning p.payment_id, p.psp_id, p.psp_transaction_id, p.msn, p.make_payment_url),
  attempt as (
    insert into delivery_attempts (payment_id, payment_state, url, request_body, outcome, created_at)
    select payment_id, 'TIMEOUT', make_payment_url,
      jsonb_build_object('pspTransactionId', psp_transaction_id, 'merchantSerialNumber', msn, 'paymentState', 'TIMEOUT'),
      'PENDING', $1::timestamptz
    from upd)
  select payment_id, psp_id, psp_transaction_id from upd`;

/**
 * Claims up to `limit` payments whose deadline passed, moves them to TIMEOUT and records each one's
 * TIMEOUT notification as pending, in one statement. Rows locked by another process are skipped, so
 * each payment is expired (and its PSP told) by exactly one process.
 */
export async function expireDue(database: Database, now: Date, limit: number): Promise<Array<{ paymentId: string; pspId: string; pspTransactionId: string }>> {
  const found = await database.query<{ payment_id: string; psp_id: string; psp_transaction_id: string }>('payments_expire_due', EXPIRE_DUE, [now.toISOString(), limit]);
  return found.map((r) => ({ paymentId: r.payment_id, pspId: r.psp_id, pspTransactionId: r.psp_transaction_id }));
}

/** Deliveries whose lease ran out (the process that sent them died): FAILED, as an unanswered makePayment. */
export async function failAbandonedDeliveries(tx: Tx, now: Date, limit: number): Promise<PaymentRow[]> {
  const due = tx.select({ id: payments.paymentId }).from(payments)
    .where(and(eq(payments.state, 'DELIVERING'), lte(payments.leaseUntil, now)))
    .orderBy(asc(payments.leaseUntil)).limit(limit).for('update', { skipLocked: true });
  return tx.update(payments).set({
    state: 'FAILED', updatedAt: now, leaseUntil: null, failureReason: 'DELIVERY_ABANDONED',
    errorText: 'No answer to makePayment was recorded (the server stopped while waiting)',
  }).where(and(inArray(payments.paymentId, due), eq(payments.state, 'DELIVERING'))).returning();
}


export interface DetailsRow {
  payment_id: string;
  psp_transaction_id: string;
  merchant_order_id: string;
  log: Array<{ amount: number; paymentText: string | null; at: string; operation: string; success: boolean }>;
}

/**
 * A payment's ids and whole log. On the embedded database from the details read model when it holds
 * the payment; otherwise read with the other details requests of the same moment, in one statement.
 */
export async function detailsOf(database: Database, pspId: string, pspTransactionId: string): Promise<DetailsRow | undefined> {
  const cache = database.detailsCache;
  const cached = cache?.get(pspId, pspTransactionId);
  if (cached) return cached;
  const epoch = cache?.begin() ?? 0;
  const row = await database.details.read(pspId, pspTransactionId);
  if (row && cache) cache.fill(epoch, pspId, pspTransactionId, row);
  return row;
}

const INSERT_COLUMNS: Array<[keyof NewPayment, string]> = [
  ['pspId', 'psp_id'], ['pspTransactionId', 'psp_transaction_id'], ['msn', 'msn'], ['merchantOrderId', 'merchant_order_id'],
  ['amount', 'amount'], ['currency', 'currency'], ['customerMobileNumber', 'customer_mobile_number'],
  ['pspRedirectUrl', 'psp_redirect_url'], ['makePaymentUrl', 'make_payment_url'], ['makePaymentToken', 'make_payment_token'],
  ['paymentText', 'payment_text'], ['isApp', 'is_app'], ['skipLandingPage', 'skip_landing_page'],
  ['merchantAgreementUrl', 'merchant_agreement_url'], ['tokenHash', 'token_hash'], ['threeDsRef', 'three_ds_ref'],
  ['state', 'state'], ['phone', 'phone'], ['expiresAt', 'expires_at'], ['createdAt', 'created_at'], ['updatedAt', 'updated_at'],
  ['initHeaders', 'init_headers'],
];
const INSERT_SQL = `insert into payments (${INSERT_COLUMNS.map(([, c]) => c).join(', ')})
  values (${INSERT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) on conflict do nothing returning payment_id`;

/**
 * The same insert as insertPayment as one prepared autocommit statement, for an init that needs
 * no other work in its transaction. The unique indexes decide duplicates either way.
 */
export async function insertPaymentAlone(database: Database, row: NewPayment): Promise<{ inserted: true } | { duplicate: 'pspTransactionId' | 'merchantOrderId' }> {
  const params = INSERT_COLUMNS.map(([k]) => {
    const v = row[k];
    if (v instanceof Date) return v.toISOString();
    // jsonb (the init headers) as its text, the same on both drivers.
    if (typeof v === 'object' && v !== null) return JSON.stringify(v);
    return v ?? null;
  });
  const inserted = await database.query<{ payment_id: string }>('payment_insert', INSERT_SQL, params);
  if (inserted.length > 0) return { inserted: true };
  const [byTx] = await database.query<{ one: number }>('payment_exists',
    'select 1 as one from payments where psp_id = $1 and psp_transaction_id = $2', [row.pspId, row.pspTransactionId]);
  return { duplicate: byTx ? 'pspTransactionId' : 'merchantOrderId' };
}

export interface DeliveryRecord {
  paymentId: string;
  /** The state the PSP's answer leads to. */
  state: 'RESERVED' | 'FAILED' | 'AWAITING_3DS';
  expiresAt: Date | null;
  errorId: string | null;
  errorText: string | null;
  failureReason: string | null;
  url3dSecure: string | null;
  responseStatus: number | null;
  responseBody: string | null;
  latencyMs: number;
  error: string | null;
  now: Date;
}

export interface ApprovalContext {
  payment: PaymentRow;
  userExists: boolean;
  cards: Array<{ cardId: string; brand: string }>;
}

function approvalQuery(db: Db, by: 'paymentId' | 'pspTransactionId') {
  const phone = sql.placeholder('phone');
  return db.select({
    payment: payments,
    userExists: sql<boolean>`exists (select 1 from test_users u where u.phone = ${phone})`,
    cards: sql<Array<{ cardId: string; brand: string }>>`coalesce((select json_agg(json_build_object('cardId', c.card_id, 'brand', c.brand) order by c.position, c.created_at) from cards c where c.phone = ${phone}), '[]'::json)`,
  }).from(payments).where(by === 'paymentId'
    ? eq(payments.paymentId, sql.placeholder('paymentId'))
    : and(eq(payments.pspId, sql.placeholder('pspId')), eq(payments.pspTransactionId, sql.placeholder('pspTransactionId'))))
    .prepare(`approval_context_by_${by}`);
}

/** The approval queries of each database, built once (and prepared on each PostgreSQL connection). */
const approvalQueries = new WeakMap<Db, Record<'paymentId' | 'pspTransactionId', ReturnType<typeof approvalQuery>>>();

/**
 * Everything an approval needs in one query: the payment (by id, or by the PSP's id), whether the
 * approving user exists, and the user's cards in their order. A hot path (every approval): the query
 * is built once per database and runs as a prepared statement.
 */
export async function approvalContext(db: Db, where: { paymentId: string } | { pspId: string; pspTransactionId: string }, phone: string): Promise<ApprovalContext | undefined> {
  let queries = approvalQueries.get(db);
  if (!queries) {
    queries = { paymentId: approvalQuery(db, 'paymentId'), pspTransactionId: approvalQuery(db, 'pspTransactionId') };
    approvalQueries.set(db, queries);
  }
  const [row] = 'paymentId' in where
    ? await queries.paymentId.execute({ paymentId: where.paymentId, phone })
    : await queries.pspTransactionId.execute({ pspId: where.pspId, pspTransactionId: where.pspTransactionId, phone });
  return row;
}
