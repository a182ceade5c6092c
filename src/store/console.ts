// The operator console's reads: payments newest first under any filter (keyset pages by
// (created_at, payment_id), each combination served by one of the payments_*_created indexes), new
// payments since a key, the overview's figures, and everything that happened to one payment.
import { sql, type SQL } from 'drizzle-orm';
import { rows, type Tx } from './db.ts';
import { STATES } from '../domain/psp-v3/payment.ts';

export interface PaymentFilters {
  pspId?: string;
  msn?: string;
  state?: string;
  /** created_at >= from */
  from?: Date;
  /** created_at < to */
  to?: Date;
  /** A pspTransactionId or a merchantOrderId. */
  search?: string;
}

/** A position in the list: the created_at of a row as PostgreSQL writes it (microseconds), and its id. */
export interface ListKey {
  at: string;
  paymentId: string;
}

export interface ListedPayment {
  paymentId: string;
  pspId: string;
  pspTransactionId: string;
  msn: string;
  merchantOrderId: string;
  amount: number;
  currency: string;
  state: string;
  createdAt: Date;
  key: ListKey;
}

interface ListedRow {
  payment_id: string; psp_id: string; psp_transaction_id: string; msn: string; merchant_order_id: string;
  amount: number; currency: string; state: string; created_at: string | Date; at: string;
}

const LISTED = sql`payment_id, psp_id, psp_transaction_id, msn, merchant_order_id, amount, currency, state, created_at, created_at::text as at`;

function listed(r: ListedRow): ListedPayment {
  return {
    paymentId: r.payment_id, pspId: r.psp_id, pspTransactionId: r.psp_transaction_id, msn: r.msn, merchantOrderId: r.merchant_order_id,
    amount: Number(r.amount), currency: r.currency, state: r.state, createdAt: new Date(r.created_at), key: { at: r.at, paymentId: r.payment_id },
  };
}

function conditions(f: PaymentFilters): SQL[] {
  const where: SQL[] = [];
  // A sales unit belongs to one PSP (payments are only accepted for a PSP's own MSNs). With both, the
  // PSP is checked once against the sales unit, and the MSN's index is walked alone: a condition on
  // the payments' psp_id would lead the planner to intersect with all of a big PSP's rows, or to sort.
  if (f.pspId) {
    where.push(f.msn
      ? sql`exists (select 1 from merchants m where m.msn = ${f.msn} and m.psp_id = ${f.pspId})`
      : sql`psp_id = ${f.pspId}`);
  }
  if (f.msn) where.push(sql`msn = ${f.msn}`);
  if (f.state) where.push(sql`state = ${f.state}`);
  if (f.from) where.push(sql`created_at >= ${f.from.toISOString()}::timestamptz`);
  if (f.to) where.push(sql`created_at < ${f.to.toISOString()}::timestamptz`);
  if (f.search) where.push(sql`(psp_transaction_id = ${f.search} or merchant_order_id = ${f.search})`);
  return where;
}

function whereOf(parts: SQL[]): SQL {
  return parts.length === 0 ? sql`true` : sql.join(parts, sql` and `);
}

/** One page, newest first, after `after` (exclusive); `more` tells whether another page follows. */
export async function listPayments(tx: Tx, f: PaymentFilters, after: ListKey | undefined, limit: number): Promise<{ payments: ListedPayment[]; more: boolean }> {
  const where = conditions(f);
  if (after) where.push(sql`(created_at, payment_id) < (${after.at}::timestamptz, ${after.paymentId}::uuid)`);
  const found = await rows<ListedRow>(tx, sql`select ${LISTED} from payments where ${whereOf(where)}
    order by created_at desc, payment_id desc limit ${limit + 1}`);
  return { payments: found.slice(0, limit).map(listed), more: found.length > limit };
}

/**
 * Payments created at or after `since` (a created_at as text) less `lookbackSeconds`, oldest first: for
 * the live list. The look back finds a row another process committed late with an earlier created_at.
 */
export async function paymentsSince(tx: Tx, f: PaymentFilters, since: string, limit: number, lookbackSeconds = 0): Promise<ListedPayment[]> {
  const where = conditions(f);
  where.push(sql`created_at >= ${since}::timestamptz - make_interval(secs => ${lookbackSeconds})`);
  const found = await rows<ListedRow>(tx, sql`select ${LISTED} from payments where ${whereOf(where)}
    order by created_at, payment_id limit ${limit}`);
  return found.map(listed);
}

/** The newest created_at under the filters (as text), or undefined for none. */
export async function newestKey(tx: Tx, f: PaymentFilters): Promise<string | undefined> {
  const [row] = await rows<{ at: string }>(tx, sql`select created_at::text as at from payments where ${whereOf(conditions(f))}
    order by created_at desc, payment_id desc limit 1`);
  return row?.at;
}

// ---- the overview ----

export interface Overview {
  byState: Array<{ state: string; today: number; week: number }>;
  deliveries: { notDelivered: number; abandoned: number; errors: number; recent: Array<{ paymentId: string; pspId: string; pspTransactionId: string; paymentState: string; outcome: string; error: string | null; at: Date }> };
  pendingStatusUpdates: number;
  runs: Array<{ runId: number; trigger: string; startedAt: Date; finishedAt: Date | null; interruptedAt: Date | null; applied: number; rejected: number; durationMs: number | null }>;
}

/** The front page's figures: every PSP's, or with `pspId` that PSP's alone (its runs without their counts). */
export async function overview(tx: Tx, now: Date, pspId?: string): Promise<Overview> {
  const ofPsp = (column: SQL) => (pspId === undefined ? sql`` : sql` and ${column} = ${pspId}`);
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const week = new Date(now.getTime() - 7 * 24 * 3600 * 1000);
  const day = new Date(now.getTime() - 24 * 3600 * 1000);
  const [byState, trouble, recent, pending, runs] = await Promise.all([
    // One range of payments_state_created_idx per state, read from the index alone.
    rows<{ state: string; today: number; week: number }>(tx, sql`
      select s.state,
        (select count(*) from payments p where p.state = s.state and p.created_at >= ${today.toISOString()}::timestamptz${ofPsp(sql`p.psp_id`)})::int as today,
        (select count(*) from payments p where p.state = s.state and p.created_at >= ${week.toISOString()}::timestamptz${ofPsp(sql`p.psp_id`)})::int as week
      from jsonb_array_elements_text(${JSON.stringify(STATES)}::jsonb) as s(state)`),
    rows<{ not_delivered: number; abandoned: number; errors: number }>(tx, sql`
      select count(*) filter (where outcome = 'NOT_DELIVERED')::int as not_delivered,
        count(*) filter (where outcome = 'ABANDONED')::int as abandoned,
        count(*) filter (where outcome not in ('NOT_DELIVERED', 'ABANDONED'))::int as errors
      from delivery_attempts a
      where (outcome in ('NOT_DELIVERED', 'ABANDONED') or error is not null) and created_at >= ${day.toISOString()}::timestamptz
        ${pspId === undefined ? sql`` : sql`and exists (select 1 from payments p where p.payment_id = a.payment_id and p.psp_id = ${pspId})`}`),
    rows<{ payment_id: string; psp_id: string; psp_transaction_id: string; payment_state: string; outcome: string; error: string | null; created_at: string | Date }>(tx, sql`
      select a.payment_id, p.psp_id, p.psp_transaction_id, a.payment_state, a.outcome, a.error, a.created_at
      from delivery_attempts a join payments p on p.payment_id = a.payment_id
      where (a.outcome in ('NOT_DELIVERED', 'ABANDONED') or a.error is not null) and a.created_at >= ${day.toISOString()}::timestamptz${ofPsp(sql`p.psp_id`)}
      order by a.created_at desc limit 10`),
    rows<{ n: number }>(tx, sql`select count(*)::int as n from status_updates where processed_at is null${ofPsp(sql`psp_id`)}`),
    rows<{ run_id: number; trigger: string; started_at: string | Date; finished_at: string | Date | null; interrupted_at: string | Date | null; applied: number; rejected: number; duration_ms: number | null }>(tx, sql`
      select run_id, trigger, started_at, finished_at, interrupted_at, applied, rejected, duration_ms from batch_runs order by run_id desc limit 5`),
  ]);
  const t = trouble[0] ?? { not_delivered: 0, abandoned: 0, errors: 0 };
  const date = (v: string | Date | null) => (v === null ? null : new Date(v));
  return {
    byState: byState.map((r) => ({ state: r.state, today: Number(r.today), week: Number(r.week) })).filter((r) => r.week > 0),
    deliveries: {
      notDelivered: Number(t.not_delivered), abandoned: Number(t.abandoned), errors: Number(t.errors),
      recent: recent.map((r) => ({ paymentId: r.payment_id, pspId: r.psp_id, pspTransactionId: r.psp_transaction_id, paymentState: r.payment_state, outcome: r.outcome, error: r.error, at: new Date(r.created_at) })),
    },
    pendingStatusUpdates: Number(pending[0]?.n ?? 0),
    runs: runs.map((r) => ({
      runId: Number(r.run_id), trigger: r.trigger, startedAt: new Date(r.started_at), finishedAt: date(r.finished_at), interruptedAt: date(r.interrupted_at),
      applied: Number(r.applied), rejected: Number(r.rejected), durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    })),
  };
}

// ---- one payment ----

export interface StatusUpdateRow {
  updateId: number; status: string; amount: number; currency: string; paymentText: string | null; operationStatus: string;
  receivedAt: Date; processedAt: Date | null; runId: number | null; outcome: string | null; reason: string | null;
}

/** A payment's status updates, in arrival order. */
export async function statusUpdatesOf(tx: Tx, pspId: string, pspTransactionId: string): Promise<StatusUpdateRow[]> {
  const found = await rows<{
    update_id: number; status: string; amount: number; currency: string; payment_text: string | null; operation_status: string;
    received_at: string | Date; processed_at: string | Date | null; run_id: number | null; outcome: string | null; reason: string | null;
  }>(tx, sql`select update_id, status, amount, currency, payment_text, operation_status, received_at, processed_at, run_id, outcome, reason
    from status_updates where psp_id = ${pspId} and psp_transaction_id = ${pspTransactionId} order by update_id`);
  return found.map((r) => ({
    updateId: Number(r.update_id), status: r.status, amount: Number(r.amount), currency: r.currency, paymentText: r.payment_text,
    operationStatus: r.operation_status, receivedAt: new Date(r.received_at), processedAt: r.processed_at === null ? null : new Date(r.processed_at),
    runId: r.run_id === null ? null : Number(r.run_id), outcome: r.outcome, reason: r.reason,
  }));
}

/** The PSPs and sales units to filter by. */
export async function filterChoices(tx: Tx): Promise<{ psps: Array<{ pspId: string; name: string }>; msns: Array<{ msn: string; name: string; pspId: string }> }> {
  const [psps, msns] = await Promise.all([
    rows<{ psp_id: string; name: string }>(tx, sql`select psp_id, name from psps order by name, psp_id limit 500`),
    rows<{ msn: string; name: string; psp_id: string }>(tx, sql`select msn, name, psp_id from merchants order by name, msn limit 2000`),
  ]);
  return { psps: psps.map((p) => ({ pspId: p.psp_id, name: p.name })), msns: msns.map((m) => ({ msn: m.msn, name: m.name, pspId: m.psp_id })) };
}
