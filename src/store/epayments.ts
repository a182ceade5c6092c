// ePayment payments, their events and their card callbacks. Every change of a payment is one
// transaction with its event; a card callback is claimed and recorded (IN_FLIGHT) in one statement, so
// of two processes (or two requests) approving one payment exactly one sends a callback.
import { randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Database, Db, Tx } from './db.ts';
import { rows } from './db.ts';
import { Batcher } from './batcher.ts';
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
  const [row] = await rows<Record<string, unknown>>(tx, sql`select * from epayments where msn = ${msn} and reference = ${reference} for update`);
  return row ? camelRow(row) : undefined;
}

export interface Adjusted {
  paymentId: string;
  state: string;
  captured: number;
  refunded: number;
  cancelled: number;
  now: Date;
  event: { name: string; amount: number; pspReference: string; idempotencyKey: string | null };
}

/** A capture, refund or cancel: the new totals and its event, in one statement; the payment afterwards. */
export async function applyAdjustment(tx: Tx, a: Adjusted): Promise<EpaymentRow> {
  const at = a.now.toISOString();
  const [row] = await rows<Record<string, unknown>>(tx, sql`
    with p as (
      update epayments set state = ${a.state}, captured_amount = ${a.captured}, refunded_amount = ${a.refunded}, cancelled_amount = ${a.cancelled},
        updated_at = ${at}::timestamptz, expires_at = case when ${a.state} = 'CREATED' then expires_at else null end
      where payment_id = ${a.paymentId}::uuid
      returning *
    ), ev as (
      insert into epayment_events (payment_id, name, amount, psp_reference, idempotency_key, success, created_at)
      select payment_id, ${a.event.name}, ${a.event.amount}, ${a.event.pspReference}, ${a.event.idempotencyKey}, true, ${at}::timestamptz from p
    )
    select * from p`);
  return camelRow(row);
}

/** A payment with whether an Idempotency-Key of the PSP is already stored in `scope`: one read. */
const ADJUST_READ = `
  select p.*, exists (select 1 from idempotency_keys k where k.psp_id = $3 and k.scope = $4 and k.key = $5) as key_used
  from epayments p where p.msn = $1 and p.reference = $2`;

export async function epaymentForAdjustment(database: Database, msn: string, reference: string, key: { pspId: string; scope: string; key: string }): Promise<{ payment: EpaymentRow; keyUsed: boolean } | undefined> {
  const [raw] = await database.query<Record<string, unknown>>('epayment_adjust_read', ADJUST_READ, [msn, reference, key.pspId, key.scope, key.key]);
  if (!raw) return undefined;
  const { key_used: keyUsed, ...payment } = raw;
  return { payment: camelRow(payment), keyUsed: keyUsed === true };
}

/**
 * A capture, refund or cancel decided on the payment as it was read: applied only if the payment is
 * still exactly so (state, amounts, no callback in flight), with its event and its answer stored under
 * the Idempotency-Key (a plain insert: a key stored meanwhile fails the statement with a unique
 * violation) — one statement, one commit. Whether it was applied.
 */
const ADJUST_IF_UNCHANGED = `
  with p as (
    update epayments set state = $2, captured_amount = $3, refunded_amount = $4, cancelled_amount = $5, updated_at = $6::timestamptz,
      expires_at = case when $2 = 'CREATED' then expires_at else null end
    where payment_id = $1::uuid and state = $7 and authorized_amount = $8 and captured_amount = $9 and refunded_amount = $10 and cancelled_amount = $11
      and (state <> 'CREATED' or callback_lease_until is null or callback_lease_until <= $6::timestamptz)
    returning payment_id
  ), k as (
    insert into idempotency_keys (psp_id, scope, key, request_hash, created_at, status_code, response_body)
    select $12, $13, $14, $15, $6::timestamptz, 200, $16::jsonb from p
  ), ev as (
    insert into epayment_events (payment_id, name, amount, psp_reference, idempotency_key, success, created_at)
    select payment_id, $17, $18, $19, $14, true, $6::timestamptz from p
  )
  select count(*)::int as n from p`;

export interface UnchangedAdjustment {
  before: EpaymentRow;
  state: string;
  captured: number;
  refunded: number;
  cancelled: number;
  now: Date;
  key: { pspId: string; scope: string; key: string; requestHash: string; answer: unknown };
  event: { name: string; amount: number; pspReference: string };
}

export async function adjustIfUnchanged(database: Database, a: UnchangedAdjustment): Promise<boolean> {
  const b = a.before;
  const [row] = await database.query<{ n: number }>('epayment_adjust_if_unchanged', ADJUST_IF_UNCHANGED, [
    b.paymentId, a.state, a.captured, a.refunded, a.cancelled, a.now.toISOString(),
    b.state, b.authorizedAmount, b.capturedAmount, b.refundedAmount, b.cancelledAmount,
    a.key.pspId, a.key.scope, a.key.key, a.key.requestHash, JSON.stringify(a.key.answer),
    a.event.name, a.event.amount, a.event.pspReference,
  ]);
  return Number(row?.n ?? 0) === 1;
}

export async function eventsOf(tx: Tx, paymentId: string): Promise<EpaymentEventRow[]> {
  return tx.select().from(epaymentEvents).where(eq(epaymentEvents.paymentId, paymentId)).orderBy(asc(epaymentEvents.eventId));
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

const BEGIN_CALLBACKS = `
  with x as (
    select * from jsonb_to_recordset($1::jsonb) as x(i int, payment_id uuid, lease timestamptz, phone text, card_id uuid, now timestamptz,
      attempt uuid, round int, url text, headers jsonb, body jsonb)
  ), claimed as (
    update epayments e set callback_lease_until = x.lease, phone = x.phone, card_id = x.card_id, updated_at = x.now
    from x
    -- "(state = 'CREATED') is true", not "state = 'CREATED'": the latter lets a planner with stale
    -- statistics (a table that grew since its last analyze) pick the partial index of CREATED
    -- payments and hash every one of them, where the primary key finds the few rows asked for.
    where e.payment_id = x.payment_id and (e.state = 'CREATED') is true and e.closed_reason is null
      and (e.expires_at is null or e.expires_at > x.now)
      and (e.callback_lease_until is null or e.callback_lease_until < x.now)
    returning e.payment_id, e.psp_id
  ), abandoned as (
    update card_callbacks c set outcome = 'ABANDONED', completed_at = x.now, lease_until = null
    from claimed join x on x.payment_id = claimed.payment_id
    where c.payment_id = claimed.payment_id and c.outcome = 'IN_FLIGHT'
  ), recorded as (
    insert into card_callbacks (payment_id, authorization_attempt_id, round, url, request_headers, request_body, outcome, lease_until, created_at)
    select x.payment_id, x.attempt, x.round, x.url, x.headers, x.body, 'IN_FLIGHT', x.lease, x.now
    from x join claimed on claimed.payment_id = x.payment_id
    returning callback_id, payment_id
  )
  select x.i, r.callback_id, ps.client_secret_sealed as sealed
  from recorded r join x on x.payment_id = r.payment_id join claimed c on c.payment_id = r.payment_id join psps ps on ps.psp_id = c.psp_id`;

type BeginOutcome = { callbackId: number; sealedSecret: string | null } | undefined;

/**
 * The callbacks begun in the same turn of the event loop, in one statement (at most one per payment
 * in a statement: another for the same payment goes in the next, where it finds the first's lease).
 */
async function beginMany(database: Database, items: CallbackStart[]): Promise<Array<BeginOutcome | Promise<BeginOutcome>>> {
  const { firsts, later } = onePerPayment(items);
  const input = firsts.map((k, i) => {
    const s = items[k];
    return {
      i, payment_id: s.paymentId, lease: s.lease.toISOString(), phone: s.phone, card_id: s.cardId, now: s.now.toISOString(),
      attempt: s.authorizationAttemptId, round: s.round, url: s.url, headers: s.requestHeaders, body: s.requestBody,
    };
  });
  const done = database.query<{ i: number; callback_id: string | number; sealed: string | null }>('epayment_begin_callbacks', BEGIN_CALLBACKS, [JSON.stringify(input)])
    .then((found) => {
      const out: BeginOutcome[] = new Array(firsts.length).fill(undefined);
      for (const f of found) out[Number(f.i)] = { callbackId: Number(f.callback_id), sealedSecret: f.sealed };
      return out;
    });
  const out: Array<BeginOutcome | Promise<BeginOutcome>> = new Array(items.length);
  firsts.forEach((k, i) => { out[k] = done.then((r) => r[i]); });
  for (const k of later) out[k] = done.then(() => beginCallback(database, items[k]), () => beginCallback(database, items[k]));
  // Not awaited: each caller gets the statement's answer, or its error, through its own promise.
  return out;
}

/** The indexes of the first item of each payment, and of the others. */
function onePerPayment(items: Array<{ paymentId: string }>): { firsts: number[]; later: number[] } {
  const seen = new Set<string>();
  const firsts: number[] = [];
  const later: number[] = [];
  items.forEach((item, k) => {
    if (seen.has(item.paymentId)) later.push(k);
    else { seen.add(item.paymentId); firsts.push(k); }
  });
  // In the order of the payments' ids: batches of two processes that share payments then lock them
  // in the same order as far as the plan follows the input (a deadlock that still happens is
  // retried, store/db.ts).
  firsts.sort((a, b) => (items[a].paymentId < items[b].paymentId ? -1 : items[a].paymentId > items[b].paymentId ? 1 : 0));
  return { firsts, later };
}

const BATCHERS = new WeakMap<Database, {
  begin: Batcher<CallbackStart, BeginOutcome>;
  apply: Batcher<CallbackResult, EpaymentRow | undefined>;
}>();

function batchersOf(database: Database) {
  let b = BATCHERS.get(database);
  if (!b) {
    b = { begin: new Batcher((items) => beginMany(database, items), 200), apply: new Batcher((items) => applyMany(database, items), 200) };
    BATCHERS.set(database, b);
  }
  return b;
}

/**
 * Claims the payment for one card callback and records it as IN_FLIGHT (with the other callbacks of
 * the moment, one statement): only while the payment is CREATED, before its deadline, open to
 * attempts, and with no other callback in flight (one whose lease ran out counts as abandoned, and is
 * marked so in the same statement). Returns the callback's id and the PSP's sealed client secret as
 * stored now, or undefined when the payment could not be claimed.
 */
export function beginCallback(database: Database, s: CallbackStart): Promise<BeginOutcome> {
  return batchersOf(database).begin.call(s);
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

const APPLY_CALLBACKS = `
  with x as (
    select * from jsonb_to_recordset($1::jsonb) as x(i int, callback_id bigint, payment_id uuid, outcome text, status int, response text,
      latency int, error text, now timestamptz, state text, authorize boolean, card_bin text, ntr text, closed text, failure text,
      soft_decline_url text, pending uuid, event_ref text)
  ), cb as (
    update card_callbacks c set outcome = x.outcome, response_status = x.status, response_body = x.response, latency_ms = x.latency,
      error = x.error, completed_at = x.now, lease_until = null
    from x
    where c.callback_id = x.callback_id and c.outcome = 'IN_FLIGHT'
    returning c.callback_id
  ), p as (
    update epayments e set
      state = coalesce(x.state, e.state),
      authorized_amount = case when x.authorize then e.amount else e.authorized_amount end,
      card_bin = coalesce(x.card_bin, e.card_bin),
      network_transaction_reference = case when x.authorize then x.ntr else e.network_transaction_reference end,
      expires_at = case when x.authorize then null else e.expires_at end,
      closed_reason = coalesce(x.closed, e.closed_reason),
      failure_message = x.failure,
      soft_decline_url = x.soft_decline_url,
      pending_attempt_id = x.pending,
      callback_lease_until = null,
      updated_at = x.now
    from x join cb on cb.callback_id = x.callback_id
    where e.payment_id = x.payment_id and (e.state = 'CREATED') is true -- (see BEGIN_CALLBACKS)
    returning e.*
  ), ev as (
    insert into epayment_events (payment_id, name, amount, psp_reference, idempotency_key, success, created_at)
    select p.payment_id, 'AUTHORIZED', p.amount, x.event_ref, null, true, x.now from p join x on x.payment_id = p.payment_id
    where x.event_ref is not null
  )
  select x.i, p.* from p join x on x.payment_id = p.payment_id`;

async function applyMany(database: Database, items: CallbackResult[]): Promise<Array<EpaymentRow | undefined | Promise<EpaymentRow | undefined>>> {
  const { firsts, later } = onePerPayment(items);
  const input = firsts.map((k, i) => {
    const r = items[k];
    const c = r.changes;
    return {
      i, callback_id: r.callbackId, payment_id: r.paymentId, outcome: r.outcome, status: r.responseStatus, response: r.responseBody,
      latency: r.latencyMs, error: r.error, now: r.now.toISOString(), state: c.state ?? null, authorize: c.authorize === true,
      card_bin: c.cardBin ?? null, ntr: c.networkTransactionReference ?? null, closed: c.closedReason ?? null, failure: c.failureMessage ?? null,
      soft_decline_url: c.softDeclineUrl ?? null, pending: c.pendingAttemptId ?? null, event_ref: r.authorizedEvent?.pspReference ?? null,
    };
  });
  const changed = await database.query<Record<string, unknown>>('epayment_apply_callbacks', APPLY_CALLBACKS, [JSON.stringify(input)]);
  const rowsByIndex = new Map<number, EpaymentRow>();
  for (const { i, ...row } of changed) rowsByIndex.set(Number(i), camelRow(row));
  const out: Array<EpaymentRow | undefined | Promise<EpaymentRow | undefined>> = new Array(items.length);
  firsts.forEach((k, i) => { out[k] = rowsByIndex.get(i) ?? findEpaymentById(database.db, items[k].paymentId); });
  for (const k of later) out[k] = applyCallbackResult(database, items[k]);
  return out;
}

/**
 * Completes a callback record (only one still IN_FLIGHT: a late answer never overwrites ABANDONED) and
 * applies the answer to the payment while it is CREATED, with the AUTHORIZED event of a RESERVE: one
 * statement, with the other answers of the moment. The payment as it is afterwards (read again when
 * the answer changed nothing).
 */
export function applyCallbackResult(database: Database, r: CallbackResult): Promise<EpaymentRow | undefined> {
  return batchersOf(database).apply.call(r);
}

/** A row of epayments as the raw driver gives it (snake_case), as Drizzle's select would. */
export function camelRow(raw: Record<string, unknown>): EpaymentRow {
  const row = Object.fromEntries(Object.entries(raw).map(([k, v]) => [camel(k), v])) as Record<string, unknown>;
  for (const k of ['expiresAt', 'callbackLeaseUntil', 'createdAt', 'updatedAt']) {
    if (row[k] !== null && row[k] !== undefined && !(row[k] instanceof Date)) row[k] = new Date(row[k] as string);
  }
  for (const k of ['amount', 'authorizedAmount', 'capturedAmount', 'refundedAmount', 'cancelledAmount']) row[k] = Number(row[k]);
  return row as unknown as EpaymentRow;
}

const APPROVAL_CONTEXT = `
  select p.*, u.phone as user_phone,
    coalesce((select json_agg(json_build_object('cardId', c.card_id, 'brand', c.brand, 'last4', c.last4, 'expiryMonth', c.expiry_month,
      'expiryYear', c.expiry_year) order by c.position, c.created_at) from cards c where c.phone = u.phone), '[]'::json) as user_cards
  from epayments p
  left join lateral (
    select t.phone from test_users t
    where t.phone = any(case when cardinality($3::text[]) > 0 then $3::text[] else array[p.customer_phone] end)
    order by array_position($3::text[], t.phone) nulls last
    limit 1
  ) u on true
  where p.msn = $1 and p.reference = $2`;

/**
 * A payment with the test user who approves it — the first of `phones` that is one, or without any the
 * payment's customer — and that user's cards: one statement.
 */
export async function approvalContextOf(database: Database, msn: string, reference: string, phones: string[]): Promise<{
  payment: EpaymentRow; phone: string | undefined; cards: Array<{ cardId: string; brand: string; last4: string; expiryMonth: string; expiryYear: string }>;
} | undefined> {
  const [raw] = await database.query<Record<string, unknown>>('epayment_approval_context', APPROVAL_CONTEXT, [msn, reference, phones]);
  if (!raw) return undefined;
  const { user_phone: phone, user_cards: cards, ...payment } = raw;
  return { payment: camelRow(payment), phone: (phone as string | null) ?? undefined, cards: (typeof cards === 'string' ? JSON.parse(cards) : cards) as never };
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
 * CREATED and no card callback is in flight. Returns whether it was aborted. With `state` EXPIRED: the
 * operator's "expire now" (test environment), in the same way.
 */
export async function abortEpayment(db: Db, paymentId: string, now: Date, pspReference: string, state: 'ABORTED' | 'EXPIRED' = 'ABORTED'): Promise<boolean> {
  const at = now.toISOString();
  const done = await rows<{ payment_id: string }>(db, sql`
    with ended as (
      update epayments set state = ${state}, updated_at = ${at}::timestamptz, expires_at = null, soft_decline_url = null, pending_attempt_id = null
      where payment_id = ${paymentId}::uuid and state = 'CREATED' and (callback_lease_until is null or callback_lease_until < ${at}::timestamptz)
      returning payment_id, amount
    ), logged as (
      insert into epayment_events (payment_id, name, amount, psp_reference, idempotency_key, success, created_at)
      select payment_id, ${state}, amount, ${pspReference}, null, true, ${at}::timestamptz from ended
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
