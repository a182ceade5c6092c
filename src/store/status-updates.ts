// Status updates and batch runs. Bulk statements take their rows as one parameter (arrays per column,
// or JSON with jsonb_to_recordset), so 10,000 rows are one round trip and never hit the parameter limit.
import { desc, eq, sql } from 'drizzle-orm';
import { rows, type Tx } from './db.ts';
import type { DetailsCache } from './details-cache.ts';
import { batchRuns, statusUpdates } from './schema.ts';

export interface IncomingUpdate {
  pspTransactionId: string;
  status: string;
  amount: number;
  currency: string;
  paymentText: string | null;
  operationStatus: string;
}

/** A fixed advisory-lock key: one batch chunk at a time across every process on the database. */
const BATCH_LOCK_KEY = 7_731_002;

/**
 * Stores a request's updates in their order. The rows go as one array per column (unnest): one
 * round trip for 10,000 rows, never near the parameter limit, and cheaper for the database to
 * read than the same rows as JSON.
 */
export async function insertUpdates(tx: Tx, pspId: string, updates: IncomingUpdate[], now: Date): Promise<void> {
  if (updates.length === 0) return;
  const column = <T>(pick: (u: IncomingUpdate) => T) => sql.param(updates.map(pick));
  await tx.execute(sql`
    insert into status_updates (psp_id, psp_transaction_id, status, amount, currency, payment_text, operation_status, received_at)
    select ${pspId}, x.psp_transaction_id, x.status, x.amount, x.currency, x.payment_text, x.operation_status, ${now.toISOString()}::timestamptz
    from unnest(${column((u) => u.pspTransactionId)}::text[], ${column((u) => u.status)}::text[], ${column((u) => u.amount)}::bigint[],
      ${column((u) => u.currency)}::text[], ${column((u) => u.paymentText)}::text[], ${column((u) => u.operationStatus)}::text[])
      with ordinality as x(psp_transaction_id, status, amount, currency, payment_text, operation_status, n)
    order by x.n`);
}

export async function lockBatch(tx: Tx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${BATCH_LOCK_KEY})`);
}

export async function maxPendingId(tx: Tx): Promise<number> {
  const [row] = await rows<{ max: string | number | null }>(tx, sql`select max(update_id) as max from status_updates where processed_at is null`);
  return row?.max === null || row?.max === undefined ? 0 : Number(row.max);
}

export interface PendingUpdate {
  update_id: number;
  psp_id: string;
  psp_transaction_id: string;
  status: string;
  amount: number;
  currency: string;
  payment_text: string | null;
  operation_status: string;
}

export async function pendingChunk(tx: Tx, upTo: number, limit: number): Promise<PendingUpdate[]> {
  const found = await rows<PendingUpdate>(tx, sql`
    select update_id, psp_id, psp_transaction_id, status, amount, currency, payment_text, operation_status
    from status_updates where processed_at is null and update_id <= ${upTo}
    order by update_id limit ${limit}`);
  return found.map((r) => ({ ...r, update_id: Number(r.update_id), amount: Number(r.amount) }));
}

export interface PaymentBalanceRow {
  payment_id: string;
  psp_id: string;
  psp_transaction_id: string;
  state: string;
  reserved_amount: number;
  captured_amount: number;
  cancelled_amount: number;
  refunded_amount: number;
}

/** The payments with any of these pspTransactionIds, of any PSP, locked for the chunk. */
export async function paymentsForUpdates(tx: Tx, ids: string[]): Promise<PaymentBalanceRow[]> {
  if (ids.length === 0) return [];
  return rows<PaymentBalanceRow>(tx, sql`
    select p.payment_id, p.psp_id, p.psp_transaction_id, p.state, p.reserved_amount, p.captured_amount, p.cancelled_amount, p.refunded_amount
    from payments p
    where p.psp_transaction_id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))
    for update`);
}

export interface LogInsert {
  payment_id: string;
  operation: string;
  amount: number;
  payment_text: string | null;
  success: boolean;
}

export interface BalanceWrite {
  payment_id: string;
  state: string;
  reserved: number;
  captured: number;
  cancelled: number;
  refunded: number;
}

export interface UpdateOutcome {
  update_id: number;
  outcome: 'APPLIED' | 'REJECTED';
  reason: string | null;
}

/** Writes one chunk's results: log entries in order, new totals, and each update's outcome. */
export async function writeChunk(
  tx: Tx, runId: number, now: Date, log: LogInsert[], balances: BalanceWrite[], outcomes: UpdateOutcome[], cache: DetailsCache | undefined,
): Promise<void> {
  const at = now.toISOString();
  if (log.length > 0) {
    cache?.invalidate(new Set(log.map((l) => l.payment_id)));
    await tx.execute(sql`
      insert into payment_log (payment_id, operation, amount, payment_text, success, created_at)
      select x.payment_id, x.operation, x.amount, x.payment_text, x.success, ${at}::timestamptz
      from rows from (jsonb_to_recordset(${JSON.stringify(log)}::jsonb)
        as (payment_id uuid, operation text, amount integer, payment_text text, success boolean))
        with ordinality as x(payment_id, operation, amount, payment_text, success, n)
      order by x.n`);
  }
  if (balances.length > 0) {
    await tx.execute(sql`
      update payments p set state = x.state, reserved_amount = x.reserved, captured_amount = x.captured,
        cancelled_amount = x.cancelled, refunded_amount = x.refunded, updated_at = ${at}::timestamptz,
        expires_at = case when x.state = 'RESERVED' then null else p.expires_at end
      from jsonb_to_recordset(${JSON.stringify(balances)}::jsonb)
        as x(payment_id uuid, state text, reserved integer, captured integer, cancelled integer, refunded integer)
      where p.payment_id = x.payment_id`);
  }
  if (outcomes.length > 0) {
    await tx.execute(sql`
      update status_updates u set processed_at = ${at}::timestamptz, run_id = ${runId}, outcome = x.outcome, reason = x.reason
      from jsonb_to_recordset(${JSON.stringify(outcomes)}::jsonb) as x(update_id bigint, outcome text, reason text)
      where u.update_id = x.update_id`);
  }
}

export type BatchRunRow = typeof batchRuns.$inferSelect;

/**
 * Starts a run. For a scheduled tick, undefined when another process already started that tick.
 * A run that starts while an earlier run lies interrupted (unfinished, its lease run out) records
 * that it resumes it: it takes up the updates the earlier run left.
 */
export async function startRun(tx: Tx, trigger: string, now: Date, lease: Date, scheduledFor?: Date): Promise<number | undefined> {
  const [row] = await rows<{ run_id: string | number }>(tx, sql`
    insert into batch_runs (trigger, started_at, scheduled_for, lease_until, resumes_run_id)
    select ${trigger}, ${now.toISOString()}::timestamptz, ${scheduledFor?.toISOString() ?? null}::timestamptz, ${lease.toISOString()}::timestamptz,
      (select max(r.run_id) from batch_runs r
       where r.finished_at is null and (r.lease_until is null or r.lease_until <= ${now.toISOString()}::timestamptz)
         and not exists (select 1 from batch_runs later where later.resumes_run_id = r.run_id))
    on conflict do nothing
    returning run_id`);
  return row === undefined ? undefined : Number(row.run_id);
}

/** Immediate mode: the runs of one minute add up in one row (one row per minute at most). */
export async function joinWindowRun(tx: Tx, now: Date, lease: Date): Promise<number> {
  const window = now.toISOString().slice(0, 16);
  const [row] = await rows<{ run_id: string | number }>(tx, sql`
    insert into batch_runs (trigger, aggregate_window, started_at, lease_until)
    values ('immediate', ${window}, ${now.toISOString()}::timestamptz, ${lease.toISOString()}::timestamptz)
    on conflict (aggregate_window) do update set invocations = batch_runs.invocations + 1, finished_at = null, interrupted_at = null,
      lease_until = greatest(batch_runs.lease_until, excluded.lease_until)
    returning run_id`);
  return Number(row.run_id);
}

/**
 * Adds a committed chunk's figures to its run and renews the run's lease, in the chunk's own
 * transaction: a run's figures are exactly what it committed, also when its process died.
 */
export async function addChunkToRun(tx: Tx, runId: number, applied: number, rejectedByReason: Record<string, number>, lease: Date): Promise<void> {
  const rejected = Object.values(rejectedByReason).reduce((a, b) => a + b, 0);
  await tx.execute(sql`
    update batch_runs set applied = applied + ${applied}, rejected = rejected + ${rejected},
      lease_until = greatest(lease_until, ${lease.toISOString()}::timestamptz),
      rejected_by_reason = (
        select coalesce(jsonb_object_agg(k, n), '{}'::jsonb) from (
          select k, sum(n)::int as n from (
            select key as k, value::int as n from jsonb_each_text(rejected_by_reason)
            union all
            select key, value::int from jsonb_each_text(${JSON.stringify(rejectedByReason)}::jsonb)) parts
          group by k) merged)
    where run_id = ${runId}`);
}

/** Renews a running run's lease (while it waits for the batch lock or works on a long chunk). */
export async function renewRunLease(tx: Tx, runId: number, lease: Date): Promise<void> {
  await tx.execute(sql`
    update batch_runs set lease_until = greatest(lease_until, ${lease.toISOString()}::timestamptz)
    where run_id = ${runId} and finished_at is null and interrupted_at is null`);
}

/** Whether a run lies interrupted with nobody resuming it while updates wait. */
export async function interruptedRunLeftWork(tx: Tx, now: Date): Promise<boolean> {
  const [row] = await rows<{ left: boolean }>(tx, sql`
    select exists (
      select 1 from batch_runs r
      where r.finished_at is null and (r.lease_until is null or r.lease_until <= ${now.toISOString()}::timestamptz)
        and not exists (select 1 from batch_runs later where later.resumes_run_id = r.run_id)
    ) and exists (select 1 from status_updates where processed_at is null) as left`);
  return row?.left === true;
}

/** Ends a run: finished, or interrupted (stopped early on a shutdown). */
export async function endRun(tx: Tx, runId: number, how: 'finished' | 'interrupted', durationMs: number, now: Date): Promise<BatchRunRow> {
  const [row] = await tx.update(batchRuns).set({
    ...(how === 'finished' ? { finishedAt: now } : { interruptedAt: now }),
    leaseUntil: null,
    durationMs: sql`coalesce(${batchRuns.durationMs}, 0) + ${durationMs}`,
  }).where(eq(batchRuns.runId, runId)).returning();
  return row;
}

export async function listRuns(tx: Tx, limit: number): Promise<BatchRunRow[]> {
  return tx.select().from(batchRuns).orderBy(desc(batchRuns.runId)).limit(limit);
}

/** The rejected updates, newest first (of one run, and of one PSP, when given). */
export async function listRejected(tx: Tx, limit: number, runId?: number, pspId?: string) {
  const where = sql`outcome = 'REJECTED'${runId === undefined ? sql`` : sql` and run_id = ${runId}`}${pspId === undefined ? sql`` : sql` and psp_id = ${pspId}`}`;
  return tx.select({
    updateId: statusUpdates.updateId, runId: statusUpdates.runId, pspId: statusUpdates.pspId,
    pspTransactionId: statusUpdates.pspTransactionId, status: statusUpdates.status, amount: statusUpdates.amount,
    currency: statusUpdates.currency, operationStatus: statusUpdates.operationStatus, reason: statusUpdates.reason,
    receivedAt: statusUpdates.receivedAt, processedAt: statusUpdates.processedAt,
  }).from(statusUpdates).where(where).orderBy(desc(statusUpdates.updateId)).limit(limit);
}

/** Updates not yet applied (of one PSP, when given). */
export async function pendingCount(tx: Tx, pspId?: string): Promise<number> {
  const [row] = await rows<{ n: string | number }>(tx, pspId === undefined
    ? sql`select count(*) as n from status_updates where processed_at is null`
    : sql`select count(*) as n from status_updates where processed_at is null and psp_id = ${pspId}`);
  return Number(row?.n ?? 0);
}

/** One PSP's share of runs: its updates each run applied and rejected. */
export async function runCountsOf(tx: Tx, pspId: string, runIds: number[]): Promise<Map<number, { applied: number; rejected: number }>> {
  const out = new Map<number, { applied: number; rejected: number }>();
  if (runIds.length === 0) return out;
  const found = await rows<{ run_id: string | number; applied: string | number; rejected: string | number }>(tx, sql`
    select run_id, count(*) filter (where outcome = 'APPLIED') as applied, count(*) filter (where outcome = 'REJECTED') as rejected
    from status_updates where psp_id = ${pspId} and run_id in (select jsonb_array_elements_text(${JSON.stringify(runIds)}::jsonb)::bigint)
    group by run_id`);
  for (const r of found) out.set(Number(r.run_id), { applied: Number(r.applied), rejected: Number(r.rejected) });
  return out;
}
