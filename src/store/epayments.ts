// ePayment payments, their events and their card callbacks. Every change of a payment is one
// transaction with its event; a card callback is claimed and recorded (IN_FLIGHT) in one statement, so
// of two processes (or two requests) approving one payment exactly one sends a callback.
import { randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from './db.ts';
import { rows } from './db.ts';
import { cardCallbacks, epaymentEvents, epayments } from './schema.ts';

export type EpaymentRow = typeof epayments.$inferSelect;
export type NewEpayment = typeof epayments.$inferInsert;
export type EpaymentEventRow = typeof epaymentEvents.$inferSelect;
export type CardCallbackRow = typeof cardCallbacks.$inferSelect;

export interface NewEvent {
  paymentId: string;
  name: string;
  amount: number;
  pspReference: string;
  idempotencyKey: string | null;
  success: boolean;
  createdAt: Date;
}

/** The columns of a new payment, as epayments' row type reads them from JSON (jsonb_populate_record). */
export function newEpaymentJson(row: NewEpayment, paymentId: string = randomUUID()): Record<string, unknown> {
  const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
  return {
    payment_id: paymentId, psp_id: row.pspId, msn: row.msn, reference: row.reference, currency: row.currency, amount: row.amount,
    state: row.state, user_flow: row.userFlow, payment_method: row.paymentMethod, psp_reference: row.pspReference,
    card_psp_reference: row.cardPspReference, card_callback_url: row.cardCallbackUrl, allowed_card_types: row.allowedCardTypes,
    prefer_visa_part_of_visa_dankort: row.preferVisaPartOfVisaDankort ?? false, public_encryption_key_id: row.publicEncryptionKeyId ?? null,
    customer_phone: row.customerPhone ?? null, return_url: row.returnUrl ?? null, payment_description: row.paymentDescription ?? null,
    metadata: row.metadata ?? null, extra: row.extra ?? {}, token_hash: row.tokenHash, expires_at: iso(row.expiresAt),
    callback_lease_until: null, closed_reason: null, failure_message: null, soft_decline_url: null, pending_attempt_id: null,
    soft_decline_ref_hash: row.softDeclineRefHash, phone: row.phone ?? null, card_id: null, card_bin: null, network_transaction_reference: null,
    authorized_amount: 0, captured_amount: 0, refunded_amount: 0, cancelled_amount: 0, created_at: iso(row.createdAt), updated_at: iso(row.updatedAt),
  };
}

/**
 * Inserts a payment and its CREATED event in one statement; 'duplicate' when its reference exists for
 * the MSN (a conflict does not abort the caller's transaction).
 */
export async function insertEpayment(tx: Tx, row: NewEpayment, event: Omit<NewEvent, 'paymentId'>): Promise<{ paymentId: string } | 'duplicate'> {
  const paymentId = randomUUID();
  const inserted = await rows<{ payment_id: string }>(tx, sql`
    with p as (
      insert into epayments select * from jsonb_populate_record(null::epayments, ${JSON.stringify(newEpaymentJson(row, paymentId))}::jsonb)
      on conflict do nothing
      returning payment_id
    )
    insert into epayment_events (payment_id, name, amount, psp_reference, idempotency_key, success, created_at)
    select payment_id, ${event.name}, ${event.amount}, ${event.pspReference}, ${event.idempotencyKey}, ${event.success}, ${event.createdAt.toISOString()}::timestamptz
    from p
    returning payment_id`);
  return inserted.length > 0 ? { paymentId } : 'duplicate';
}

export async function findEpayment(tx: Tx, msn: string, reference: string): Promise<EpaymentRow | undefined> {
  const [row] = await tx.select().from(epayments).where(and(eq(epayments.msn, msn), eq(epayments.reference, reference)));
  return row;
}

export async function findEpaymentById(tx: Tx, paymentId: string): Promise<EpaymentRow | undefined> {
  const [row] = await tx.select().from(epayments).where(eq(epayments.paymentId, paymentId));
  return row;
}

/** The payment, locked until the end of the transaction (capture, refund, cancel). */
export async function lockEpayment(tx: Tx, msn: string, reference: string): Promise<EpaymentRow | undefined> {
  const [row] = await tx.select().from(epayments).where(and(eq(epayments.msn, msn), eq(epayments.reference, reference))).for('update');
  return row;
}

export async function eventsOf(tx: Tx, paymentId: string): Promise<EpaymentEventRow[]> {
  return tx.select().from(epaymentEvents).where(eq(epaymentEvents.paymentId, paymentId)).orderBy(asc(epaymentEvents.eventId));
}

export async function insertEvent(tx: Tx, event: NewEvent): Promise<void> {
  await tx.insert(epaymentEvents).values(event);
}

export async function updateEpayment(tx: Tx, paymentId: string, changes: Partial<NewEpayment>): Promise<EpaymentRow> {
  const [row] = await tx.update(epayments).set(changes).where(eq(epayments.paymentId, paymentId)).returning();
  return row;
}

export interface CallbackStart {
  paymentId: string;
  authorizationAttemptId: string;
  round: number;
  url: string;
  requestHeaders: Record<string, string>;
  requestBody: unknown;
  lease: Date;
  now: Date;
  phone: string;
  cardId: string;
}

/**
 * Claims the payment for one card callback and records it as IN_FLIGHT, in one statement: only while
 * the payment is CREATED, before its deadline, open to attempts, and with no other callback in flight
 * (one whose lease ran out counts as abandoned, and is marked so in the same statement). Returns the
 * callback's id and the PSP's sealed client secret as stored now, or undefined when the payment could
 * not be claimed.
 */
export async function beginCallback(db: Db, s: CallbackStart): Promise<{ callbackId: number; sealedSecret: string | null } | undefined> {
  const now = s.now.toISOString();
  const found = await rows<{ callback_id: string | number; sealed: string | null }>(db, sql`
    with claimed as (
      update epayments set callback_lease_until = ${s.lease.toISOString()}::timestamptz, phone = ${s.phone}, card_id = ${s.cardId}::uuid,
        updated_at = ${now}::timestamptz
      where payment_id = ${s.paymentId}::uuid and state = 'CREATED' and closed_reason is null
        and (expires_at is null or expires_at > ${now}::timestamptz)
        and (callback_lease_until is null or callback_lease_until < ${now}::timestamptz)
      returning payment_id, psp_id
    ), abandoned as (
      update card_callbacks set outcome = 'ABANDONED', completed_at = ${now}::timestamptz, lease_until = null
      where payment_id in (select payment_id from claimed) and outcome = 'IN_FLIGHT'
    ), recorded as (
      insert into card_callbacks (payment_id, authorization_attempt_id, round, url, request_headers, request_body, outcome, lease_until, created_at)
      select payment_id, ${s.authorizationAttemptId}::uuid, ${s.round}, ${s.url}, ${JSON.stringify(s.requestHeaders)}::jsonb,
        ${JSON.stringify(s.requestBody)}::jsonb, 'IN_FLIGHT', ${s.lease.toISOString()}::timestamptz, ${now}::timestamptz
      from claimed
      returning callback_id
    )
    select r.callback_id, (select ps.client_secret_sealed from psps ps join claimed c on ps.psp_id = c.psp_id) as sealed from recorded r`);
  return found.length > 0 ? { callbackId: Number(found[0].callback_id), sealedSecret: found[0].sealed } : undefined;
}

/** The signature headers of a callback signed again (its PSP's secret was rotated meanwhile). */
export async function setCallbackHeaders(db: Db, callbackId: number, headers: Record<string, string>): Promise<void> {
  await db.update(cardCallbacks).set({ requestHeaders: headers }).where(eq(cardCallbacks.callbackId, callbackId));
}

/** What a PSP's answer changes on a payment (absent: unchanged; the lease always ends). */
export interface CallbackChanges {
  state?: 'AUTHORIZED';
  /** authorized_amount = amount */
  authorize?: boolean;
  cardBin?: string;
  networkTransactionReference?: string | null;
  closedReason?: string;
  failureMessage?: string;
  softDeclineUrl?: string;
  pendingAttemptId?: string;
}

export interface CallbackResult {
  callbackId: number;
  paymentId: string;
  outcome: 'RESERVE' | 'FAIL' | 'SOFT_DECLINE' | 'ERROR';
  responseStatus: number | null;
  responseBody: string | null;
  latencyMs: number;
  error: string | null;
  now: Date;
  changes: CallbackChanges;
  /** RESERVE: the AUTHORIZED event. */
  authorizedEvent?: { pspReference: string; amount: number };
}

const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Completes a callback record (only one still IN_FLIGHT: a late answer never overwrites ABANDONED) and
 * applies the answer to the payment while it is CREATED, with the AUTHORIZED event of a RESERVE: one
 * statement. The payment as it is afterwards; undefined when it was not changed.
 */
export async function applyCallbackResult(db: Db, r: CallbackResult): Promise<EpaymentRow | undefined> {
  const c = r.changes;
  const at = r.now.toISOString();
  const changed = await rows<Record<string, unknown>>(db, sql`
    with cb as (
      update card_callbacks set outcome = ${r.outcome}, response_status = ${r.responseStatus}, response_body = ${r.responseBody},
        latency_ms = ${r.latencyMs}, error = ${r.error}, completed_at = ${at}::timestamptz, lease_until = null
      where callback_id = ${r.callbackId} and outcome = 'IN_FLIGHT'
      returning callback_id
    ), p as (
      update epayments set
        state = coalesce(${c.state ?? null}, state),
        authorized_amount = case when ${c.authorize === true} then amount else authorized_amount end,
        card_bin = coalesce(${c.cardBin ?? null}, card_bin),
        network_transaction_reference = case when ${c.authorize === true} then ${c.networkTransactionReference ?? null} else network_transaction_reference end,
        expires_at = case when ${c.authorize === true} then null else expires_at end,
        closed_reason = coalesce(${c.closedReason ?? null}, closed_reason),
        failure_message = ${c.failureMessage ?? null},
        soft_decline_url = ${c.softDeclineUrl ?? null},
        pending_attempt_id = ${c.pendingAttemptId ?? null}::uuid,
        callback_lease_until = null,
        updated_at = ${at}::timestamptz
      where payment_id = ${r.paymentId}::uuid and state = 'CREATED' and exists (select 1 from cb)
      returning *
    ), ev as (
      insert into epayment_events (payment_id, name, amount, psp_reference, idempotency_key, success, created_at)
      select payment_id, 'AUTHORIZED', ${r.authorizedEvent?.amount ?? 0}, ${r.authorizedEvent?.pspReference ?? ''}, null, true, ${at}::timestamptz
      from p where ${r.authorizedEvent !== undefined}
    )
    select * from p`);
  if (changed.length === 0) return findEpaymentById(db, r.paymentId);
  const row = Object.fromEntries(Object.entries(changed[0]).map(([k, v]) => [camel(k), v])) as Record<string, unknown>;
  for (const k of ['expiresAt', 'callbackLeaseUntil', 'createdAt', 'updatedAt']) {
    if (row[k] !== null && row[k] !== undefined && !(row[k] instanceof Date)) row[k] = new Date(row[k] as string);
  }
  return row as unknown as EpaymentRow;
}

export async function callbacksOf(tx: Tx, paymentId: string): Promise<CardCallbackRow[]> {
  return tx.select().from(cardCallbacks).where(eq(cardCallbacks.paymentId, paymentId)).orderBy(asc(cardCallbacks.callbackId));
}

/**
 * Ends CREATED payments whose deadline has passed (and that have no callback in flight) as EXPIRED,
 * with their EXPIRED events, at most `limit` at a time; rows another transaction holds are skipped.
 * Returns how many.
 */
export async function expireDueEpayments(db: Db, now: Date, limit: number): Promise<number> {
  const at = now.toISOString();
  const expired = await rows<{ payment_id: string; amount: number }>(db, sql`
    with due as (
      select payment_id from epayments
      where state = 'CREATED' and expires_at <= ${at}::timestamptz
        and (callback_lease_until is null or callback_lease_until < ${at}::timestamptz)
      order by expires_at
      limit ${limit}
      for update skip locked
    ), ended as (
      update epayments e set state = 'EXPIRED', callback_lease_until = null, updated_at = ${at}::timestamptz
      from due where e.payment_id = due.payment_id
      returning e.payment_id, e.amount
    ), logged as (
      insert into epayment_events (payment_id, name, amount, psp_reference, idempotency_key, success, created_at)
      select payment_id, 'EXPIRED', amount, (1000000000 + floor(random() * 9000000000))::bigint::text, null, true, ${at}::timestamptz from ended
    )
    select payment_id, amount from ended`);
  return expired.length;
}

export interface EpaymentFilters {
  pspId?: string;
  msn?: string;
  state?: string;
}

export interface ListedEpayment {
  paymentId: string;
  pspId: string;
  msn: string;
  reference: string;
  amount: number;
  currency: string;
  state: string;
  userFlow: string;
  createdAt: Date;
  /** The created_at as PostgreSQL writes it (microseconds): the keyset position. */
  at: string;
}

/**
 * One page of ePayment payments, newest first, after the keyset position `after` (exclusive); each
 * filter walks one of the epayments_*_created indexes.
 */
export async function listEpayments(tx: Tx, f: EpaymentFilters, after: { at: string; paymentId: string } | undefined, limit: number): Promise<{ payments: ListedEpayment[]; more: boolean }> {
  const where = [sql`true`];
  if (f.pspId) where.push(sql`psp_id = ${f.pspId}`);
  if (f.msn) where.push(sql`msn = ${f.msn}`);
  if (f.state) where.push(sql`state = ${f.state}`);
  if (after) where.push(sql`(created_at, payment_id) < (${after.at}::timestamptz, ${after.paymentId}::uuid)`);
  const found = await rows<{ payment_id: string; psp_id: string; msn: string; reference: string; amount: number; currency: string; state: string; user_flow: string; created_at: string | Date; at: string }>(tx, sql`
    select payment_id, psp_id, msn, reference, amount, currency, state, user_flow, created_at, created_at::text as at
    from epayments where ${sql.join(where, sql` and `)}
    order by created_at desc, payment_id desc limit ${limit + 1}`);
  return {
    payments: found.slice(0, limit).map((r) => ({
      paymentId: r.payment_id, pspId: r.psp_id, msn: r.msn, reference: r.reference, amount: Number(r.amount), currency: r.currency,
      state: r.state, userFlow: r.user_flow, createdAt: new Date(r.created_at), at: r.at,
    })),
    more: found.length > limit,
  };
}

export async function findEpaymentByTokenHash(tx: Tx, tokenHash: string): Promise<EpaymentRow | undefined> {
  const [row] = await tx.select().from(epayments).where(eq(epayments.tokenHash, tokenHash));
  return row;
}

export async function findEpaymentBySoftDeclineRef(tx: Tx, refHash: string): Promise<EpaymentRow | undefined> {
  const [row] = await tx.select().from(epayments).where(eq(epayments.softDeclineRefHash, refHash));
  return row;
}

/** The user who goes on from the landing page: set while the payment is CREATED, before its deadline, and has no user yet. */
export async function setEpaymentUser(tx: Tx, paymentId: string, phone: string, now: Date): Promise<boolean> {
  const done = await rows<{ payment_id: string }>(tx, sql`
    update epayments set phone = ${phone}, updated_at = ${now.toISOString()}::timestamptz
    where payment_id = ${paymentId}::uuid and state = 'CREATED' and (phone is null or phone = ${phone})
      and (expires_at is null or expires_at > ${now.toISOString()}::timestamptz)
    returning payment_id`);
  return done.length > 0;
}

/**
 * The user rejects (or cancels on the landing page): ABORTED with its event, only while the payment is
 * CREATED and no card callback is in flight. Returns whether it was aborted.
 */
export async function abortEpayment(db: Db, paymentId: string, now: Date, pspReference: string): Promise<boolean> {
  const at = now.toISOString();
  const done = await rows<{ payment_id: string }>(db, sql`
    with ended as (
      update epayments set state = 'ABORTED', updated_at = ${at}::timestamptz, expires_at = null, soft_decline_url = null, pending_attempt_id = null
      where payment_id = ${paymentId}::uuid and state = 'CREATED' and (callback_lease_until is null or callback_lease_until < ${at}::timestamptz)
      returning payment_id, amount
    ), logged as (
      insert into epayment_events (payment_id, name, amount, psp_reference, idempotency_key, success, created_at)
      select payment_id, 'ABORTED', amount, ${pspReference}, null, true, ${at}::timestamptz from ended
    )
    select payment_id from ended`);
  return done.length > 0;
}

/** A user's ePayment payment requests that wait for them: CREATED, before the deadline, newest first. */
export async function pendingEpaymentsOf(tx: Tx, phone: string, now: Date): Promise<EpaymentRow[]> {
  return tx.select().from(epayments)
    .where(and(eq(epayments.phone, phone), eq(epayments.state, 'CREATED'), sql`(${epayments.expiresAt} is null or ${epayments.expiresAt} > ${now.toISOString()}::timestamptz)`))
    .orderBy(sql`${epayments.createdAt} desc`).limit(50);
}
