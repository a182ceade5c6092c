// Recurring agreements, their charges with their history, and their card callbacks
// (schema.ts agreements, recurringCharges, recurringChargeEvents, agreementCallbacks).
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Database, Db, Tx } from './db.ts';
import { rows } from './db.ts';
import { agreementCallbacks, agreements, recurringChargeEvents, recurringCharges } from './schema.ts';

export type AgreementRow = typeof agreements.$inferSelect;
export type NewAgreement = typeof agreements.$inferInsert;
export type ChargeRow = typeof recurringCharges.$inferSelect;
export type NewCharge = typeof recurringCharges.$inferInsert;
export type ChargeEventRow = typeof recurringChargeEvents.$inferSelect;
export type AgreementCallbackRow = typeof agreementCallbacks.$inferSelect;

export async function insertAgreement(tx: Tx, a: NewAgreement, initial: NewCharge | undefined, now: Date, idempotencyKey: string | null): Promise<void> {
  await tx.insert(agreements).values(a);
  if (initial) {
    await tx.insert(recurringCharges).values(initial);
    await tx.insert(recurringChargeEvents).values({ msn: initial.msn, chargeId: initial.chargeId, event: 'CREATE', amount: initial.amount, idempotencyKey, success: true, createdAt: now });
  }
}

export async function findAgreement(db: Db | Tx, msn: string, agreementId: string): Promise<AgreementRow | undefined> {
  const [row] = await db.select().from(agreements).where(and(eq(agreements.agreementId, agreementId), eq(agreements.msn, msn)));
  return row;
}

export async function agreementById(db: Db | Tx, agreementId: string): Promise<AgreementRow | undefined> {
  const [row] = await db.select().from(agreements).where(eq(agreements.agreementId, agreementId));
  return row;
}

export async function lockAgreement(tx: Tx, msn: string, agreementId: string): Promise<AgreementRow | undefined> {
  const [row] = await tx.select().from(agreements).where(and(eq(agreements.agreementId, agreementId), eq(agreements.msn, msn))).for('update');
  return row;
}

/** A sales unit's agreements (of one status), oldest first, a page at a time. */
export async function listAgreements(db: Db, msn: string, status: string | undefined, createdAfter: Date | undefined, limit: number, offset: number): Promise<AgreementRow[]> {
  const conds = [eq(agreements.msn, msn)];
  if (status) conds.push(eq(agreements.status, status));
  if (createdAfter) conds.push(sql`${agreements.createdAt} > ${createdAfter.toISOString()}::timestamptz`);
  return db.select().from(agreements).where(and(...conds)).orderBy(asc(agreements.createdAt), asc(agreements.agreementId)).limit(limit).offset(offset);
}

export async function updateAgreement(tx: Tx, agreementId: string, set: Partial<NewAgreement>): Promise<AgreementRow> {
  const [row] = await tx.update(agreements).set(set).where(eq(agreements.agreementId, agreementId)).returning();
  return row;
}

/**
 * Stops an agreement (by the merchant or the user): its charges not yet paid (PENDING, DUE,
 * PROCESSING) are cancelled with it, each with its CANCEL in the history.
 */
export async function stopAgreement(tx: Tx, a: AgreementRow, by: 'MERCHANT' | 'USER', now: Date, idempotencyKey: string | null): Promise<AgreementRow> {
  const stopped = await updateAgreement(tx, a.agreementId, { status: 'STOPPED', stoppedBy: by, stoppedAt: now, updatedAt: now });
  await rows(tx, sql`
    with cancelled as (
      update recurring_charges set status = 'CANCELLED', cancelled_amount = amount, updated_at = ${now.toISOString()}::timestamptz
      where agreement_id = ${a.agreementId} and status in ('PENDING', 'DUE', 'PROCESSING')
      returning msn, charge_id, amount
    )
    insert into recurring_charge_events (msn, charge_id, event, amount, idempotency_key, success, detail, created_at)
    select msn, charge_id, 'CANCEL', amount, ${idempotencyKey}, true, ${JSON.stringify({ reason: 'agreement stopped', by })}::jsonb, ${now.toISOString()}::timestamptz
    from cancelled`);
  return stopped;
}

/**
 * Expires the PENDING agreements whose 10 minutes are over at `now` (up to `limit`, rows others hold
 * skipped), failing their initial charges (user_action_required); how many.
 */
export async function expireAgreements(db: Db, now: Date, limit: number): Promise<number> {
  const found = await rows<{ n: number | string }>(db, sql`
    with due as (
      select agreement_id from agreements
      where status = 'PENDING' and expires_at <= ${now.toISOString()}::timestamptz
        -- Not while a sign-up callback is in flight; a lease left by a process that died runs out.
        and (callback_lease_until is null or callback_lease_until < ${now.toISOString()}::timestamptz)
      order by expires_at limit ${limit}
      for update skip locked
    ), expired as (
      update agreements a set status = 'EXPIRED', updated_at = ${now.toISOString()}::timestamptz
      from due where a.agreement_id = due.agreement_id
      returning a.agreement_id
    ), failed as (
      update recurring_charges c set status = 'FAILED', failure_reason = 'user_action_required',
        failure_description = 'The agreement was not accepted in time.', updated_at = ${now.toISOString()}::timestamptz
      from expired where c.agreement_id = expired.agreement_id and c.type = 'INITIAL' and c.status = 'PENDING'
      returning c.msn, c.charge_id, c.amount
    ), history as (
      insert into recurring_charge_events (msn, charge_id, event, amount, success, detail, created_at)
      select msn, charge_id, 'FAIL', amount, true, '{"reason":"agreement expired"}'::jsonb, ${now.toISOString()}::timestamptz from failed
    )
    select count(*) as n from expired`);
  return Number(found[0]?.n ?? 0);
}

/**
 * Fails the RECURRING charges whose retry window ended at `now` without a final result
 * (open-questions G10: technical_error); how many.
 */
export async function failOverdueCharges(db: Db, now: Date, limit: number): Promise<number> {
  const found = await rows<{ n: number | string }>(db, sql`
    with due as (
      select msn, charge_id from recurring_charges
      where status in ('DUE', 'PROCESSING') and retry_until <= ${now.toISOString()}::timestamptz
      order by retry_until limit ${limit}
      for update skip locked
    ), failed as (
      update recurring_charges c set status = 'FAILED', failure_reason = 'technical_error',
        failure_description = 'No successful result was reported before the end of the retry days.', updated_at = ${now.toISOString()}::timestamptz
      from due where c.msn = due.msn and c.charge_id = due.charge_id
      returning c.msn, c.charge_id, c.amount
    ), history as (
      insert into recurring_charge_events (msn, charge_id, event, amount, success, detail, created_at)
      select msn, charge_id, 'FAIL', amount, true, '{"reason":"retry days over"}'::jsonb, ${now.toISOString()}::timestamptz from failed
    )
    select count(*) as n from failed`);
  return Number(found[0]?.n ?? 0);
}

export async function findCharge(db: Db | Tx, msn: string, chargeId: string): Promise<ChargeRow | undefined> {
  const [row] = await db.select().from(recurringCharges).where(and(eq(recurringCharges.msn, msn), eq(recurringCharges.chargeId, chargeId)));
  return row;
}

export async function lockCharge(tx: Tx, msn: string, chargeId: string): Promise<ChargeRow | undefined> {
  const [row] = await tx.select().from(recurringCharges).where(and(eq(recurringCharges.msn, msn), eq(recurringCharges.chargeId, chargeId))).for('update');
  return row;
}

export async function chargesOfAgreement(db: Db | Tx, agreementId: string, status?: string): Promise<ChargeRow[]> {
  const where = status ? and(eq(recurringCharges.agreementId, agreementId), eq(recurringCharges.status, status)) : eq(recurringCharges.agreementId, agreementId);
  return db.select().from(recurringCharges).where(where).orderBy(asc(recurringCharges.createdAt), asc(recurringCharges.chargeId));
}

export async function historyOf(db: Db | Tx, msn: string, chargeIds: string[]): Promise<ChargeEventRow[]> {
  if (chargeIds.length === 0) return [];
  return db.select().from(recurringChargeEvents)
    .where(and(eq(recurringChargeEvents.msn, msn), inArray(recurringChargeEvents.chargeId, chargeIds)))
    .orderBy(asc(recurringChargeEvents.eventId));
}

export async function updateCharge(tx: Tx, msn: string, chargeId: string, set: Partial<NewCharge>): Promise<ChargeRow> {
  const [row] = await tx.update(recurringCharges).set(set).where(and(eq(recurringCharges.msn, msn), eq(recurringCharges.chargeId, chargeId))).returning();
  return row;
}

export async function addChargeEvent(tx: Tx, e: typeof recurringChargeEvents.$inferInsert): Promise<void> {
  await tx.insert(recurringChargeEvents).values(e);
}

export async function insertAgreementCallback(db: Db | Tx, c: typeof agreementCallbacks.$inferInsert): Promise<number> {
  const [row] = await db.insert(agreementCallbacks).values(c).returning({ id: agreementCallbacks.callbackId });
  return row.id;
}

export async function completeAgreementCallback(db: Db | Tx, callbackId: number, set: Partial<typeof agreementCallbacks.$inferInsert>): Promise<void> {
  await db.update(agreementCallbacks).set(set).where(eq(agreementCallbacks.callbackId, callbackId));
}

export async function callbacksOfAgreement(db: Db | Tx, agreementId: string): Promise<AgreementCallbackRow[]> {
  return db.select().from(agreementCallbacks).where(eq(agreementCallbacks.agreementId, agreementId)).orderBy(asc(agreementCallbacks.callbackId));
}

/** The operator's list: newest first, before a (createdAt, agreementId) cursor. */
export async function recentAgreements(db: Db, limit: number, pspId?: string, before?: { createdAt: Date; agreementId: string }): Promise<AgreementRow[]> {
  const conds = [];
  if (pspId) conds.push(eq(agreements.pspId, pspId));
  if (before) conds.push(sql`(${agreements.createdAt}, ${agreements.agreementId}) < (${before.createdAt.toISOString()}::timestamptz, ${before.agreementId})`);
  return db.select().from(agreements).where(conds.length ? and(...conds) : undefined).orderBy(desc(agreements.createdAt), desc(agreements.agreementId)).limit(limit);
}


/** A user's agreements (those they accepted), newest first. */
export async function agreementsOfPhone(db: Db, phone: string, limit = 100): Promise<AgreementRow[]> {
  return db.select().from(agreements).where(eq(agreements.phone, phone)).orderBy(desc(agreements.createdAt)).limit(limit);
}

// ---- the hot paths: prepared statements and set-based batches, rows mapped by hand ----

const CAMEL = new Map<string, string>();
const camel = (k: string): string => {
  let c = CAMEL.get(k);
  if (c === undefined) {
    c = k.replace(/_([a-z])/g, (_, x: string) => x.toUpperCase());
    if (CAMEL.size < 1000) CAMEL.set(k, c);
  }
  return c;
};
const AGREEMENT_DATES = ['expiresAt', 'startedAt', 'stoppedAt', 'createdAt', 'updatedAt', 'callbackLeaseUntil'];
const CHARGE_DATES = ['retryUntil', 'paymentInfoAt', 'createdAt', 'updatedAt'];

function mapRow<T>(raw: Record<string, unknown>, dates: string[]): T {
  const row: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) row[camel(k)] = v;
  for (const k of dates) if (row[k] !== null && row[k] !== undefined && !(row[k] instanceof Date)) row[k] = new Date(row[k] as string);
  for (const k of ['allowedCardTypes', 'campaign', 'extra', 'result']) if (typeof row[k] === 'string') row[k] = JSON.parse(row[k] as string);
  return row as T;
}

export const agreementOf = (raw: Record<string, unknown>): AgreementRow => mapRow<AgreementRow>(raw, AGREEMENT_DATES);
export const chargeOf = (raw: Record<string, unknown>): ChargeRow => mapRow<ChargeRow>(raw, CHARGE_DATES);

/** An agreement of a sales unit (a prepared statement: the API's reads). */
export async function readAgreement(database: Database, msn: string, agreementId: string): Promise<AgreementRow | undefined> {
  const [raw] = await database.query<Record<string, unknown>>('recurring_agreement', 'select * from agreements where agreement_id = $1 and msn = $2', [agreementId, msn]);
  return raw ? agreementOf(raw) : undefined;
}

/** A charge of a sales unit (a prepared statement). */
export async function readCharge(database: Database, msn: string, chargeId: string): Promise<ChargeRow | undefined> {
  const [raw] = await database.query<Record<string, unknown>>('recurring_charge', 'select * from recurring_charges where msn = $1 and charge_id = $2', [msn, chargeId]);
  return raw ? chargeOf(raw) : undefined;
}

/** The history of charges (a prepared statement), in order. */
export async function readHistory(database: Database, msn: string, chargeIds: string[]): Promise<ChargeEventRow[]> {
  if (chargeIds.length === 0) return [];
  const found = await database.query<Record<string, unknown>>('recurring_history',
    'select * from recurring_charge_events where msn = $1 and charge_id = any($2::text[]) order by event_id', [msn, chargeIds]);
  return found.map((r) => mapRow<ChargeEventRow>(r, ['createdAt']));
}

/**
 * Opens a payment attempt of a RECURRING charge (payment-info): DUE or PROCESSING → PROCESSING, with
 * its PAYMENT_INFO in the history; one statement. Undefined when the charge takes no attempt now.
 */
export async function openAttempt(database: Database, msn: string, chargeId: string, now: Date, detail: Record<string, unknown>): Promise<ChargeRow | undefined> {
  const [raw] = await database.query<Record<string, unknown>>('recurring_open_attempt', `
    with u as (
      update recurring_charges set status = 'PROCESSING', payment_info_count = payment_info_count + 1, payment_info_at = $3, updated_at = $3
      where msn = $1 and charge_id = $2 and status in ('DUE', 'PROCESSING')
      returning *
    ), h as (
      insert into recurring_charge_events (msn, charge_id, event, amount, success, detail, created_at)
      select msn, charge_id, 'PAYMENT_INFO', amount, true, $4::jsonb, $3 from u
    )
    select * from u`, [msn, chargeId, now.toISOString(), JSON.stringify(detail)]);
  return raw ? chargeOf(raw) : undefined;
}

/** The agreements of a batch, shared-locked (a stop waits for the batch, and then cancels its charges). */
export async function shareAgreements(tx: Tx, msn: string, ids: string[]): Promise<Map<string, AgreementRow>> {
  if (ids.length === 0) return new Map();
  const found = await rows<Record<string, unknown>>(tx, sql`select * from agreements where msn = ${msn} and agreement_id = any(${sql.param(ids)}::text[]) for share`);
  return new Map(found.map((r) => { const a = agreementOf(r); return [a.agreementId, a]; }));
}

/** The charges of a sales unit with these ids (a batch's, already there). */
export async function chargesByIds(tx: Tx, msn: string, ids: string[]): Promise<Map<string, ChargeRow>> {
  if (ids.length === 0) return new Map();
  const found = await rows<Record<string, unknown>>(tx, sql`select * from recurring_charges where msn = ${msn} and charge_id = any(${sql.param(ids)}::text[])`);
  return new Map(found.map((r) => { const c = chargeOf(r); return [c.chargeId, c]; }));
}

/** New charges in one statement, each with its CREATE; the ids inserted (one another batch inserted meanwhile is not). */
export async function insertCharges(tx: Tx, list: NewCharge[], idempotencyKey: string | null, now: Date): Promise<Set<string>> {
  if (list.length === 0) return new Set();
  const col = <K extends keyof NewCharge>(k: K) => sql.param(list.map((c) => c[k] ?? null));
  const inserted = await rows<{ charge_id: string }>(tx, sql`
    with c as (
      insert into recurring_charges (msn, charge_id, agreement_id, psp_id, type, transaction_type, amount, currency, description, due, retry_days,
        retry_until, status, external_id, request_hash, transaction_id, created_at, updated_at)
      select * from unnest(${col('msn')}::text[], ${col('chargeId')}::text[], ${col('agreementId')}::text[], ${col('pspId')}::text[], ${col('type')}::text[],
        ${col('transactionType')}::text[], ${col('amount')}::int[], ${col('currency')}::text[], ${col('description')}::text[], ${col('due')}::text[],
        ${col('retryDays')}::int[], ${sql.param(list.map((c) => c.retryUntil?.toISOString() ?? null))}::timestamptz[], ${col('status')}::text[], ${col('externalId')}::text[],
        ${col('requestHash')}::text[], ${col('transactionId')}::text[]) as x,
        lateral (select ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz) t
      on conflict do nothing
      returning msn, charge_id, amount
    ), h as (
      insert into recurring_charge_events (msn, charge_id, event, amount, idempotency_key, success, created_at)
      select msn, charge_id, 'CREATE', amount, ${idempotencyKey}, true, ${now.toISOString()}::timestamptz from c
    )
    select charge_id from c`);
  return new Set(inserted.map((r) => r.charge_id));
}
