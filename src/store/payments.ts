// Payments, their transaction log and delivery attempts. Every state change is a conditional
// UPDATE (… WHERE state IN (…)), so when approve, cancel and expiry race, exactly one row update wins.
import { and, asc, eq, gt, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { Database, Tx } from './db.ts';
import { deliveryAttempts, paymentLog, payments } from './schema.ts';

export type PaymentRow = typeof payments.$inferSelect;
export type NewPayment = typeof payments.$inferInsert;
export type LogRow = typeof paymentLog.$inferSelect;
export type AttemptRow = typeof deliveryAttempts.$inferSelect;
export type NewAttempt = typeof deliveryAttempts.$inferInsert;

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


export async function findPaymentBy3dsRef(tx: Tx, ref: string): Promise<PaymentRow | undefined> {
  const [row] = await tx.select().from(payments).where(eq(payments.threeDsRef, ref));
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

export async function appendLog(tx: Tx, entries: Array<typeof paymentLog.$inferInsert>): Promise<void> {
  if (entries.length > 0) await tx.insert(paymentLog).values(entries);
}

export async function logOf(tx: Tx, paymentId: string): Promise<LogRow[]> {
  return tx.select().from(paymentLog).where(eq(paymentLog.paymentId, paymentId)).orderBy(asc(paymentLog.entryId));
}

export async function insertAttempt(tx: Tx, attempt: NewAttempt): Promise<void> {
  await tx.insert(deliveryAttempts).values(attempt);
}

export async function attemptsOf(tx: Tx, paymentId: string): Promise<AttemptRow[]> {
  return tx.select().from(deliveryAttempts).where(eq(deliveryAttempts.paymentId, paymentId)).orderBy(asc(deliveryAttempts.attemptId));
}

/**
 * Claims up to `limit` payments whose deadline passed and moves them to TIMEOUT in one statement.
 * Rows locked by another process are skipped, so each payment is expired by exactly one process.
 */
export async function expireDue(tx: Tx, now: Date, limit: number): Promise<PaymentRow[]> {
  const due = tx.select({ id: payments.paymentId }).from(payments)
    .where(and(inArray(payments.state, ['INITIATED', 'AWAITING_USER', 'AWAITING_3DS']), lte(payments.expiresAt, now)))
    .orderBy(asc(payments.expiresAt)).limit(limit).for('update', { skipLocked: true });
  return tx.update(payments).set({ state: 'TIMEOUT', updatedAt: now, failureReason: 'TIMEOUT' })
    .where(and(inArray(payments.paymentId, due), inArray(payments.state, ['INITIATED', 'AWAITING_USER', 'AWAITING_3DS'])))
    .returning();
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
  psp_transaction_id: string;
  merchant_order_id: string;
  log: Array<{ amount: number; paymentText: string | null; at: string; operation: string; success: boolean }>;
}

/** A payment's ids and whole log in one prepared statement: the details endpoint's only query. */
export async function detailsOf(database: Database, pspId: string, pspTransactionId: string): Promise<DetailsRow | undefined> {
  const [row] = await database.query<DetailsRow>('payment_details', `
    select p.psp_transaction_id, p.merchant_order_id,
      coalesce((select json_agg(json_build_object('amount', l.amount, 'paymentText', l.payment_text, 'at', l.created_at,
                                                  'operation', l.operation, 'success', l.success) order by l.entry_id)
                from payment_log l where l.payment_id = p.payment_id), '[]'::json) as log
    from payments p where p.psp_id = $1 and p.psp_transaction_id = $2`, [pspId, pspTransactionId]);
  return row;
}

const INSERT_COLUMNS: Array<[keyof NewPayment, string]> = [
  ['pspId', 'psp_id'], ['pspTransactionId', 'psp_transaction_id'], ['msn', 'msn'], ['merchantOrderId', 'merchant_order_id'],
  ['amount', 'amount'], ['currency', 'currency'], ['customerMobileNumber', 'customer_mobile_number'],
  ['pspRedirectUrl', 'psp_redirect_url'], ['makePaymentUrl', 'make_payment_url'], ['makePaymentToken', 'make_payment_token'],
  ['paymentText', 'payment_text'], ['isApp', 'is_app'], ['skipLandingPage', 'skip_landing_page'],
  ['merchantAgreementUrl', 'merchant_agreement_url'], ['tokenHash', 'token_hash'], ['threeDsRef', 'three_ds_ref'],
  ['state', 'state'], ['phone', 'phone'], ['expiresAt', 'expires_at'], ['createdAt', 'created_at'], ['updatedAt', 'updated_at'],
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
    return v instanceof Date ? v.toISOString() : (v ?? null);
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
  url: string;
  requestBody: unknown;
  responseStatus: number | null;
  responseBody: string | null;
  latencyMs: number;
  error: string | null;
  now: Date;
}

const RECORD_DELIVERY = `
  with upd as (
    update payments set state = $2, lease_until = null, expires_at = $3::timestamptz,
      reserved_amount = case when $2 = 'RESERVED' then amount else reserved_amount end,
      error_id = case when $2 = 'FAILED' then $4 else error_id end,
      error_text = case when $2 = 'FAILED' then $5 else error_text end,
      failure_reason = case when $2 = 'FAILED' then $6 else failure_reason end,
      url_3d_secure = case when $2 = 'AWAITING_3DS' then $7 else url_3d_secure end,
      updated_at = $8::timestamptz
    where payment_id = $1 and state = 'DELIVERING'
    returning payment_id, amount, payment_text),
  attempt as (
    insert into delivery_attempts (payment_id, payment_state, url, request_body, response_status, response_body, latency_ms, outcome, error, created_at)
    values ($1, 'ACCEPTED', $9, $10::jsonb, $11, $12, $13,
      case when exists (select 1 from upd) then $2 else 'LATE (payment already resolved)' end, $14, $8::timestamptz)),
  entry as (
    insert into payment_log (payment_id, operation, amount, payment_text, success, created_at)
    select payment_id, 'RESERVED', amount, payment_text, $2 = 'RESERVED', $8::timestamptz from upd where $2 <> 'AWAITING_3DS')
  select count(*)::int as updated from upd`;

/**
 * Applies the PSP's answer to a payment in DELIVERING — the new state, the attempt, the log entry —
 * in one statement (one round trip, one commit). Returns false when the payment was no longer
 * DELIVERING (its lease ran out first); the attempt is recorded either way.
 */
export async function recordDelivery(database: Database, r: DeliveryRecord): Promise<boolean> {
  const [row] = await database.query<{ updated: number }>('payment_record_delivery', RECORD_DELIVERY, [
    r.paymentId, r.state, r.expiresAt?.toISOString() ?? null, r.errorId, r.errorText, r.failureReason, r.url3dSecure,
    r.now.toISOString(), r.url, JSON.stringify(r.requestBody), r.responseStatus, r.responseBody, r.latencyMs, r.error,
  ]);
  return (row?.updated ?? 0) > 0;
}

export interface ApprovalContext {
  payment: PaymentRow;
  userExists: boolean;
  cards: Array<{ cardId: string; brand: string }>;
}

/**
 * Everything an approval needs in one query: the payment (by id, or by the PSP's id), whether the
 * approving user exists, and the user's cards in their order.
 */
export async function approvalContext(tx: Tx, where: { paymentId: string } | { pspId: string; pspTransactionId: string }, phone: string): Promise<ApprovalContext | undefined> {
  const condition = 'paymentId' in where
    ? eq(payments.paymentId, where.paymentId)
    : and(eq(payments.pspId, where.pspId), eq(payments.pspTransactionId, where.pspTransactionId));
  const [row] = await tx.select({
    payment: payments,
    userExists: sql<boolean>`exists (select 1 from test_users u where u.phone = ${phone})`,
    cards: sql<Array<{ cardId: string; brand: string }>>`coalesce((select json_agg(json_build_object('cardId', c.card_id, 'brand', c.brand) order by c.position, c.created_at) from cards c where c.phone = ${phone}), '[]'::json)`,
  }).from(payments).where(condition);
  return row;
}
