// SQL of the test environment's controls: the shared clock offset, the fault rules and the reset of
// payment data. The one row of test_controls (id 1) is written with upserts, so a fresh database
// needs no seed for it.
import { sql } from 'drizzle-orm';
import { rows, type Database, type Tx } from './db.ts';
import type { FaultRoute, FaultRule } from '../domain/faults.ts';

export interface ControlsRow {
  clockOffsetMs: number;
  faultsVersion: number;
}

const READ_CONTROLS = 'select clock_offset_ms, faults_version from test_controls where id = 1';

/** The clock offset and the rules' version; zeros before anything was ever set. Cheap: one primary-key row. */
export async function readControls(database: Database): Promise<ControlsRow> {
  const [row] = await database.query<{ clock_offset_ms: string | number; faults_version: string | number }>('test_controls_read', READ_CONTROLS, []);
  return { clockOffsetMs: Number(row?.clock_offset_ms ?? 0), faultsVersion: Number(row?.faults_version ?? 0) };
}

/** Moves the offset forward by `ms`; returns the new offset. */
export async function addClockOffset(tx: Tx, ms: number): Promise<number> {
  const [row] = await rows<{ clock_offset_ms: string | number }>(tx, sql`
    insert into test_controls (id, clock_offset_ms) values (1, ${ms})
    on conflict (id) do update set clock_offset_ms = test_controls.clock_offset_ms + ${ms}, updated_at = now()
    returning clock_offset_ms`);
  return Number(row.clock_offset_ms);
}

/**
 * Sets the offset to `ms` unless the stored one is larger (the clock never goes back through an
 * advance); returns the new offset, or undefined when it would have gone back.
 */
export async function raiseClockOffset(tx: Tx, ms: number): Promise<number | undefined> {
  const [row] = await rows<{ clock_offset_ms: string | number }>(tx, sql`
    insert into test_controls (id, clock_offset_ms) values (1, ${ms})
    on conflict (id) do update set clock_offset_ms = excluded.clock_offset_ms, updated_at = now()
      where test_controls.clock_offset_ms <= excluded.clock_offset_ms
    returning clock_offset_ms`);
  return row === undefined ? undefined : Number(row.clock_offset_ms);
}

export async function resetClockOffset(tx: Tx): Promise<void> {
  await tx.execute(sql`
    insert into test_controls (id, clock_offset_ms) values (1, 0)
    on conflict (id) do update set clock_offset_ms = 0, updated_at = now()`);
}

/** Tells every process that the rules changed (their caches reload on the next poll). */
async function bumpFaultsVersion(tx: Tx): Promise<void> {
  await tx.execute(sql`
    insert into test_controls (id, faults_version) values (1, 1)
    on conflict (id) do update set faults_version = test_controls.faults_version + 1, updated_at = now()`);
}

interface FaultRuleDbRow {
  rule_id: string | number;
  route: string;
  psp_id: string | null;
  msn: string | null;
  psp_transaction_id: string | null;
  status: number | null;
  retry_after_seconds: number | null;
  delay_ms: number;
  drop_connection: boolean;
  remaining: number | null;
  probability: number | null;
  hits: number;
  expires_at: string | Date | null;
  created_at: string | Date;
}

function toRule(r: FaultRuleDbRow): FaultRule {
  return {
    ruleId: Number(r.rule_id), route: r.route as FaultRoute, pspId: r.psp_id, msn: r.msn, pspTransactionId: r.psp_transaction_id,
    status: r.status, retryAfterSeconds: r.retry_after_seconds, delayMs: r.delay_ms, dropConnection: r.drop_connection,
    remaining: r.remaining, probability: r.probability === null ? null : Number(r.probability), hits: r.hits,
    expiresAt: r.expires_at === null ? null : new Date(r.expires_at), createdAt: new Date(r.created_at),
  };
}

export type NewFaultRule = Omit<FaultRule, 'ruleId' | 'hits' | 'createdAt'>;

export async function insertFaultRule(tx: Tx, rule: NewFaultRule, now: Date): Promise<FaultRule> {
  const [row] = await rows<FaultRuleDbRow>(tx, sql`
    insert into fault_rules (route, psp_id, msn, psp_transaction_id, status, retry_after_seconds, delay_ms, drop_connection,
      remaining, probability, expires_at, created_at)
    values (${rule.route}, ${rule.pspId}, ${rule.msn}, ${rule.pspTransactionId}, ${rule.status}, ${rule.retryAfterSeconds},
      ${rule.delayMs}, ${rule.dropConnection}, ${rule.remaining}, ${rule.probability},
      ${rule.expiresAt?.toISOString() ?? null}::timestamptz, ${now.toISOString()}::timestamptz)
    returning *`);
  await bumpFaultsVersion(tx);
  return toRule(row);
}

/** Every rule, used up and expired ones included, oldest first. */
export async function listFaultRules(tx: Tx): Promise<FaultRule[]> {
  return (await rows<FaultRuleDbRow>(tx, sql`select * from fault_rules order by rule_id`)).map(toRule);
}

/** The rules that can still fault a request at `now`. */
export async function activeFaultRules(tx: Tx, now: Date): Promise<FaultRule[]> {
  return (await rows<FaultRuleDbRow>(tx, sql`
    select * from fault_rules
    where (remaining is null or remaining > 0) and (expires_at is null or expires_at > ${now.toISOString()}::timestamptz)
    order by rule_id`)).map(toRule);
}

export async function deleteFaultRule(tx: Tx, ruleId: number): Promise<boolean> {
  const gone = await rows<{ rule_id: string }>(tx, sql`delete from fault_rules where rule_id = ${ruleId} returning rule_id`);
  if (gone.length > 0) await bumpFaultsVersion(tx);
  return gone.length > 0;
}

export async function deleteAllFaultRules(tx: Tx): Promise<number> {
  const gone = await rows<{ rule_id: string }>(tx, sql`delete from fault_rules returning rule_id`);
  await bumpFaultsVersion(tx);
  return gone.length;
}

const CLAIM_HIT = `
  update fault_rules set hits = hits + 1, remaining = remaining - 1
  where rule_id = $1 and (remaining is null or remaining > 0) and (expires_at is null or expires_at > $2::timestamptz)
  returning remaining`;

/**
 * Counts one hit of a rule, atomically across processes: with a count, only while some is left, so
 * "the next N requests" are exactly N. False when the rule is used up, expired or removed.
 */
export async function claimFaultHit(database: Database, ruleId: number, now: Date): Promise<{ remaining: number | null } | undefined> {
  const [row] = await database.query<{ remaining: number | null }>('fault_rules_claim', CLAIM_HIT, [ruleId, now.toISOString()]);
  return row;
}

/**
 * The tables that reset empties, in the order they are emptied (a table that references another
 * comes before it). `scope` says how a PSP's rows are found: by their `psp_id`, through their
 * `payment_id` (of a PSP API v3 payment, or of an ePayment payment), their agreement or charge (Recurring), a webhook delivery through its payment or agreement, or not at all (the table is emptied only by a reset of every PSP).
 * A new table of payment data is one more line here.
 */
export const RESET_TABLES: ReadonlyArray<{ table: string; scope: 'psp' | 'payment' | 'epayment' | 'agreement' | 'charge' | 'outbox' | 'all' }> = [
  { table: 'payment_log', scope: 'payment' },
  { table: 'webhook_deliveries', scope: 'outbox' },
  { table: 'epayment_events', scope: 'epayment' },
  { table: 'card_callbacks', scope: 'epayment' },
  { table: 'epayments', scope: 'psp' },
  { table: 'recurring_charge_events', scope: 'charge' },
  { table: 'agreement_callbacks', scope: 'agreement' },
  { table: 'recurring_charges', scope: 'psp' },
  { table: 'agreements', scope: 'psp' },
  { table: 'delivery_attempts', scope: 'payment' },
  { table: 'status_updates', scope: 'psp' },
  { table: 'idempotency_keys', scope: 'psp' },
  { table: 'events', scope: 'psp' },
  { table: 'batch_runs', scope: 'all' },
  { table: 'payments', scope: 'psp' },
];

/**
 * Deletes the payment data of one PSP (or of all when `pspId` is undefined) in the caller's
 * transaction; returns the rows deleted per table. The payments are locked first, so an operation
 * on one of them either finished before or finds it gone.
 */
export async function deletePaymentData(tx: Tx, pspId: string | undefined): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const pspFilter = pspId === undefined ? sql`true` : sql`psp_id = ${pspId}`;
  await tx.execute(sql`select payment_id from payments where ${pspFilter} for update`);
  await tx.execute(sql`select payment_id from epayments where ${pspFilter} for update`);
  await tx.execute(sql`select agreement_id from agreements where ${pspFilter} for update`);
  for (const { table, scope } of RESET_TABLES) {
    if (scope === 'all' && pspId !== undefined) continue;
    const name = sql.identifier(table);
    const where = pspId === undefined || scope === 'all'
      ? sql`true`
      : scope === 'psp' ? sql`psp_id = ${pspId}`
        : scope === 'epayment' ? sql`payment_id in (select payment_id from epayments where psp_id = ${pspId})`
        : scope === 'agreement' ? sql`agreement_id in (select agreement_id from agreements where psp_id = ${pspId})`
        : scope === 'outbox' ? sql`(payment_id in (select payment_id from epayments where psp_id = ${pspId}) or payment_id in (select uuid from agreements where psp_id = ${pspId}))`
        : scope === 'charge' ? sql`(msn, charge_id) in (select msn, charge_id from recurring_charges where psp_id = ${pspId})`
          : sql`payment_id in (select payment_id from payments where psp_id = ${pspId})`;
    const [row] = await rows<{ n: string | number }>(tx, sql`with gone as (delete from ${name} where ${where} returning 1) select count(*) as n from gone`);
    counts[table] = Number(row?.n ?? 0);
  }
  return counts;
}
