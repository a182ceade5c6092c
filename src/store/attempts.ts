// makePayment attempts, written ahead: a token delivery is recorded IN_FLIGHT in the same statement
// that moves its payment to DELIVERING; a TIMEOUT or USER_CANCEL notification is recorded PENDING in
// the transaction that ends its payment, then claimed (IN_FLIGHT) when it is sent. Completing an
// attempt writes the answer; an attempt past its lease without one is marked ABANDONED.
import { sql } from 'drizzle-orm';
import { rows, type Database, type Tx } from './db.ts';
import type { DeliveryRecord } from './payments.ts';
import { Batcher } from './batcher.ts';
import { isDatabaseUnavailable } from './db-errors.ts';

const BEGIN_DELIVERY = `
  with upd as (
    update payments set state = 'DELIVERING', phone = coalesce($2, phone), card_id = coalesce($3::uuid, card_id),
      delivery_round = $4, expires_at = null, lease_until = $5::timestamptz, updated_at = $6::timestamptz
    where payment_id = $1 and state in (select jsonb_array_elements_text($7::jsonb))
      and (expires_at is null or expires_at > $6::timestamptz)
    returning payment_id),
  attempt as (
    insert into delivery_attempts (payment_id, payment_state, url, request_body, outcome, sent_at, lease_until, created_at)
    select payment_id, 'ACCEPTED', $8, $9::jsonb, 'IN_FLIGHT', $6::timestamptz, $5::timestamptz, $6::timestamptz from upd
    returning attempt_id)
  select attempt_id from attempt`;

export interface BeginDelivery {
  paymentId: string;
  /** The states the payment may be in (it must also be before its deadline). */
  from: readonly string[];
  phone: string | null;
  cardId: string | null;
  round: number;
  lease: Date;
  now: Date;
  url: string;
  requestBody: unknown;
}

// The batched statements join their JSON rows to payments and delivery_attempts by key. The planner
// takes a JSON function for 100 rows, and for a table of some ten thousand rows chose a hash join
// over a sequential scan of it (5 ms at 20,000 attempts, growing with the table): the `= any(array)`
// beside each join key makes the rows' own index the access path at every size.
const BEGIN_DELIVERIES = `
  with x as (
    select * from jsonb_to_recordset($1::jsonb) as x(i integer, payment_id uuid, phone text, card_id uuid, round integer,
      lease timestamptz, at timestamptz, states jsonb, url text, request_body jsonb)),
  upd as (
    update payments p set state = 'DELIVERING', phone = coalesce(x.phone, p.phone), card_id = coalesce(x.card_id, p.card_id),
      delivery_round = x.round, expires_at = null, lease_until = x.lease, updated_at = x.at
    from x where p.payment_id = x.payment_id and p.payment_id = any($2::uuid[]) and x.states ? p.state and (p.expires_at is null or p.expires_at > x.at)
    returning x.i),
  attempt as (
    insert into delivery_attempts (payment_id, payment_state, url, request_body, outcome, sent_at, lease_until, created_at)
    select x.payment_id, 'ACCEPTED', x.url, x.request_body, 'IN_FLIGHT', x.at, x.lease, x.at from x join upd on upd.i = x.i
    returning attempt_id, payment_id)
  select x.i, attempt.attempt_id from attempt join x on x.payment_id = attempt.payment_id join upd on upd.i = x.i`;

function beginOne(database: Database, b: BeginDelivery): Promise<number | undefined> {
  return database.query<{ attempt_id: string | number }>('payment_begin_delivery', BEGIN_DELIVERY, [
    b.paymentId, b.phone, b.cardId, b.round, b.lease.toISOString(), b.now.toISOString(), JSON.stringify(b.from), b.url, JSON.stringify(b.requestBody),
  ]).then(([row]) => (row ? Number(row.attempt_id) : undefined));
}

/** One batcher of delivery starts per database. */
const starters = new WeakMap<Database, Batcher<BeginDelivery, number | undefined>>();

function starterOf(database: Database): Batcher<BeginDelivery, number | undefined> {
  let starter = starters.get(database);
  if (!starter) {
    starter = new Batcher(async (batch) => {
      if (batch.length === 1) return [beginOne(database, batch[0])];
      try {
        const found = await database.query<{ i: number; attempt_id: string | number }>('payment_begin_deliveries', BEGIN_DELIVERIES, [
          JSON.stringify(batch.map((b, i) => ({
            i, payment_id: b.paymentId, phone: b.phone, card_id: b.cardId, round: b.round, lease: b.lease.toISOString(),
            at: b.now.toISOString(), states: b.from, url: b.url, request_body: b.requestBody,
          }))),
          batch.map((b) => b.paymentId),
        ]);
        const begun = new Map(found.map((f) => [f.i, Number(f.attempt_id)]));
        return batch.map((_, i) => begun.get(i));
      } catch (err) {
        // A lost connection fails them all (the statement may have committed); one bad row must not fail its neighbours.
        if (isDatabaseUnavailable(err)) throw err;
        return batch.map((b) => beginOne(database, b));
      }
    }, 200);
    starters.set(database, starter);
  }
  return starter;
}

/**
 * Moves a payment that is in one of `from` and before its deadline to DELIVERING and records the
 * attempt IN_FLIGHT, in one statement (one round trip, one commit) shared with the other deliveries
 * begun at the same moment. Undefined when the payment was no longer in `from` (or past its
 * deadline): nothing was written for it. Of two starts of one payment at the same moment, exactly
 * one gets an attempt.
 */
export async function beginDelivery(database: Database, b: BeginDelivery): Promise<number | undefined> {
  return starterOf(database).call(b);
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
    update delivery_attempts set response_status = $10, response_body = $11, latency_ms = $12, error = $13,
      outcome = case when exists (select 1 from upd) then $2 else 'LATE (payment already resolved)' end,
      completed_at = $8::timestamptz, lease_until = null
    where attempt_id = $9),
  entry as (
    insert into payment_log (payment_id, operation, amount, payment_text, success, created_at)
    select payment_id, 'RESERVED', amount, payment_text, $2 = 'RESERVED', $8::timestamptz from upd where $2 <> 'AWAITING_3DS')
  select count(*)::int as updated from upd`;

const RECORD_DELIVERIES = `
  with x as (
    select * from jsonb_to_recordset($1::jsonb) as x(i integer, payment_id uuid, attempt_id bigint, state text,
      expires_at timestamptz, error_id text, error_text text, failure_reason text, url_3d_secure text, at timestamptz,
      response_status integer, response_body text, latency_ms integer, error text)),
  upd as (
    update payments p set state = x.state, lease_until = null, expires_at = x.expires_at,
      reserved_amount = case when x.state = 'RESERVED' then p.amount else p.reserved_amount end,
      error_id = case when x.state = 'FAILED' then x.error_id else p.error_id end,
      error_text = case when x.state = 'FAILED' then x.error_text else p.error_text end,
      failure_reason = case when x.state = 'FAILED' then x.failure_reason else p.failure_reason end,
      url_3d_secure = case when x.state = 'AWAITING_3DS' then x.url_3d_secure else p.url_3d_secure end,
      updated_at = x.at
    from x where p.payment_id = x.payment_id and p.payment_id = any($2::uuid[]) and p.state = 'DELIVERING'
    returning p.payment_id, p.amount, p.payment_text, x.state, x.at),
  attempt as (
    update delivery_attempts a set response_status = x.response_status, response_body = x.response_body,
      latency_ms = x.latency_ms, error = x.error, completed_at = x.at, lease_until = null,
      outcome = case when exists (select 1 from upd where upd.payment_id = x.payment_id) then x.state else 'LATE (payment already resolved)' end
    from x where a.attempt_id = x.attempt_id and a.attempt_id = any($3::bigint[])),
  entry as (
    insert into payment_log (payment_id, operation, amount, payment_text, success, created_at)
    select payment_id, 'RESERVED', amount, payment_text, state = 'RESERVED', at from upd where state <> 'AWAITING_3DS')
  select x.i, exists (select 1 from upd where upd.payment_id = x.payment_id) as updated from x`;

interface Recorded { attemptId: number; record: DeliveryRecord }

/** One batcher of delivery records per database. */
const recorders = new WeakMap<Database, Batcher<Recorded, boolean>>();

function recorderOf(database: Database): Batcher<Recorded, boolean> {
  let recorder = recorders.get(database);
  if (!recorder) {
    recorder = new Batcher(async (batch) => {
      try {
        if (batch.length === 1) {
          const [{ attemptId, record: r }] = batch;
          const [row] = await database.query<{ updated: number }>('payment_record_delivery', RECORD_DELIVERY, [
            r.paymentId, r.state, r.expiresAt?.toISOString() ?? null, r.errorId, r.errorText, r.failureReason, r.url3dSecure,
            r.now.toISOString(), attemptId, r.responseStatus, r.responseBody, r.latencyMs, r.error,
          ]);
          return [(row?.updated ?? 0) > 0];
        }
        const found = await database.query<{ i: number; updated: boolean }>('payment_record_deliveries', RECORD_DELIVERIES, [
          JSON.stringify(batch.map(({ attemptId, record: r }, i) => ({
            i, payment_id: r.paymentId, attempt_id: attemptId, state: r.state, expires_at: r.expiresAt?.toISOString() ?? null,
            error_id: r.errorId, error_text: r.errorText, failure_reason: r.failureReason, url_3d_secure: r.url3dSecure,
            at: r.now.toISOString(), response_status: r.responseStatus, response_body: r.responseBody, latency_ms: r.latencyMs, error: r.error,
          }))),
          batch.map((b) => b.record.paymentId),
          batch.map((b) => b.attemptId),
        ]);
        const updated = new Map(found.map((f) => [f.i, f.updated]));
        return batch.map((_, i) => updated.get(i) === true);
      } finally {
        // Again once written: a details read that ran before the write committed must not stay cached.
        database.detailsCache?.invalidate(batch.map((b) => b.record.paymentId));
      }
    }, 200);
    recorders.set(database, recorder);
  }
  return recorder;
}

/**
 * Applies the PSP's answer to a payment in DELIVERING — the new state, the completed attempt, the log
 * entry — in one statement (one round trip, one commit), shared with the other answers recorded at
 * the same moment. Returns false when the payment was no longer DELIVERING (its lease ran out first);
 * the attempt is completed either way.
 */
export async function recordDelivery(database: Database, attemptId: number, r: DeliveryRecord): Promise<boolean> {
  if (r.state !== 'AWAITING_3DS') database.detailsCache?.invalidate([r.paymentId]);
  return recorderOf(database).call({ attemptId, record: r });
}

/** Records a notification to send (TIMEOUT, USER_CANCEL), inside the transaction that ended the payment. */
export async function insertPendingNotification(tx: Tx, p: { paymentId: string; pspTransactionId: string; msn: string; url: string; paymentState: string }, now: Date): Promise<number> {
  const [row] = await rows<{ attempt_id: string | number }>(tx, sql`
    insert into delivery_attempts (payment_id, payment_state, url, request_body, outcome, created_at)
    values (${p.paymentId}, ${p.paymentState}, ${p.url},
      ${JSON.stringify(notificationBody(p.pspTransactionId, p.msn, p.paymentState))}::jsonb, 'PENDING', ${now.toISOString()}::timestamptz)
    returning attempt_id`);
  return Number(row.attempt_id);
}

/** The body of a TIMEOUT or USER_CANCEL makePayment: no card data. */
export function notificationBody(pspTransactionId: string, msn: string, paymentState: string) {
  return { pspTransactionId, merchantSerialNumber: msn, paymentState };
}

export interface ClaimedNotification {
  attemptId: number;
  paymentId: string;
  pspId: string;
  pspTransactionId: string;
  msn: string;
  paymentState: string;
  url: string;
  makePaymentToken: string | null;
  /** The traceparent the payment's init recorded (its span), if the PSP sent one. */
  traceparent: string | null;
}

/** Pending notifications ranked per PSP; `$FILTER` narrows them (all, or the given ids). */
const claimSql = (filter: string) => `
  with ranked as (
    select a.attempt_id, p.psp_id, row_number() over (partition by p.psp_id order by a.attempt_id) as n
    from delivery_attempts a join payments p on p.payment_id = a.payment_id
    where a.outcome = 'PENDING' ${filter}),
  picked as (
    select attempt_id from ranked where n <= coalesce(($3::jsonb ->> psp_id)::int, $4)
    order by attempt_id limit $5),
  locked as (
    select attempt_id from delivery_attempts
    where attempt_id in (select attempt_id from picked) and outcome = 'PENDING'
    for update skip locked)
  update delivery_attempts a set outcome = 'IN_FLIGHT', sent_at = $1::timestamptz, lease_until = $2::timestamptz
  from locked, payments p
  where a.attempt_id = locked.attempt_id and p.payment_id = a.payment_id
  returning a.attempt_id, a.payment_id, p.psp_id, p.psp_transaction_id, p.msn, a.payment_state, a.url, p.make_payment_token,
    p.init_headers ->> 'traceparent' as traceparent`;
const CLAIM_ANY = claimSql('');
const CLAIM_THESE = claimSql('and a.attempt_id in (select jsonb_array_elements_text($6::jsonb)::bigint)');

/**
 * Claims pending notifications to send now: at most `slots[pspId]` of a PSP named there, `perPsp`
 * of any other, `total` in all, oldest first. Each claimed row is IN_FLIGHT until `lease`. With
 * `only`, just those attempts. Rows another process is claiming are skipped, never waited for, and
 * two processes never claim the same row.
 */
export async function claimNotifications(
  database: Database, now: Date, lease: Date, slots: Record<string, number>, perPsp: number, total: number, only?: number[],
): Promise<ClaimedNotification[]> {
  const params: unknown[] = [now.toISOString(), lease.toISOString(), JSON.stringify(slots), perPsp, total];
  const found = await database.query<{
    attempt_id: string | number; payment_id: string; psp_id: string; psp_transaction_id: string; msn: string;
    payment_state: string; url: string; make_payment_token: string | null; traceparent: string | null;
  }>(only ? 'attempts_claim_these' : 'attempts_claim_any', only ? CLAIM_THESE : CLAIM_ANY, only ? [...params, JSON.stringify(only)] : params);
  return found.map((r) => ({
    attemptId: Number(r.attempt_id), paymentId: r.payment_id, pspId: r.psp_id, pspTransactionId: r.psp_transaction_id,
    msn: r.msn, paymentState: r.payment_state, url: r.url, makePaymentToken: r.make_payment_token, traceparent: r.traceparent,
  }));
}

/** Puts claimed notifications that found no free slot after all back to PENDING. */
export async function unclaimNotifications(database: Database, attemptIds: number[]): Promise<void> {
  await database.query('attempts_unclaim', `
    update delivery_attempts set outcome = 'PENDING', sent_at = null, lease_until = null
    where attempt_id in (select jsonb_array_elements_text($1::jsonb)::bigint) and outcome = 'IN_FLIGHT'`, [JSON.stringify(attemptIds)]);
}

/** Writes a notification's answer. */
export async function completeNotification(database: Database, attemptId: number, r: {
  outcome: 'NOTIFIED' | 'NOT_DELIVERED'; responseStatus: number | null; responseBody: string | null; latencyMs: number; error: string | null; now: Date;
}): Promise<void> {
  await database.query('attempts_complete_notification', `
    update delivery_attempts set outcome = $2, response_status = $3, response_body = $4, latency_ms = $5, error = $6,
      completed_at = $7::timestamptz, lease_until = null
    where attempt_id = $1 and outcome in ('IN_FLIGHT', 'ABANDONED')`,
  [attemptId, r.outcome, r.responseStatus, r.responseBody, r.latencyMs, r.error, r.now.toISOString()]);
}

/** Attempts in flight past their lease (their process died or lost the database): ABANDONED. */
export async function abandonAttempts(tx: Tx, now: Date, limit: number): Promise<Array<{ attemptId: number; paymentId: string; paymentState: string }>> {
  const found = await rows<{ attempt_id: string | number; payment_id: string; payment_state: string }>(tx, sql`
    update delivery_attempts set outcome = 'ABANDONED', completed_at = ${now.toISOString()}::timestamptz, lease_until = null,
      error = 'No answer was recorded: the server stopped or lost its database while the call was in flight'
    where attempt_id in (
      select attempt_id from delivery_attempts where outcome = 'IN_FLIGHT' and lease_until <= ${now.toISOString()}::timestamptz
      order by lease_until limit ${limit} for update skip locked)
    returning attempt_id, payment_id, payment_state`);
  return found.map((r) => ({ attemptId: Number(r.attempt_id), paymentId: r.payment_id, paymentState: r.payment_state }));
}
