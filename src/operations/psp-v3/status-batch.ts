// The status batch: applies stored status updates in arrival order, in chunks. Each chunk is one
// transaction under a database-wide advisory lock, so two runners (two processes, or a scheduled
// and a manual run) never apply an update twice, and a runner killed mid-chunk loses nothing:
// the chunk rolls back and the next run takes it again.
import { decide, type Balance, type RejectionReason, type StatusUpdate } from '../../domain/psp-v3/status-rules.ts';
import {
  addChunkToRun, endRun, joinWindowRun, lockBatch, maxPendingId, paymentsForUpdates, pendingChunk, renewRunLease, startRun, writeChunk,
  type BalanceWrite, type BatchRunRow, type LogInsert, type PaymentBalanceRow, type UpdateOutcome,
} from '../../store/status-updates.ts';
import type { PaymentDeps } from '../payment-deps.ts';

export interface BatchSummary {
  runId: number;
  trigger: string;
  /** running (its lease is renewed), finished, or interrupted (its process stopped or died midway). */
  status: 'running' | 'finished' | 'interrupted';
  /** The interrupted run whose leftover updates this run took up. */
  resumesRunId: number | null;
  /** Immediate mode: how many runs (one per request) this row adds up, within one minute. */
  invocations: number;
  applied: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  durationMs: number;
  startedAt: string;
  finishedAt: string | null;
  interruptedAt: string | null;
}

export function runView(r: BatchRunRow, now: Date): BatchSummary {
  const status = r.finishedAt ? 'finished' : !r.interruptedAt && r.leaseUntil && r.leaseUntil > now ? 'running' : 'interrupted';
  return {
    runId: r.runId, trigger: r.trigger, status, resumesRunId: r.resumesRunId, invocations: r.invocations,
    applied: r.applied, rejected: r.rejected, rejectedByReason: r.rejectedByReason,
    durationMs: r.durationMs ?? 0, startedAt: r.startedAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null,
    interruptedAt: r.interruptedAt?.toISOString() ?? (status === 'interrupted' ? r.leaseUntil?.toISOString() ?? null : null),
  };
}

/** A run's lease: renewed at every chunk; a run past it without finishing counts as interrupted. */
const RUN_LEASE_MS = 15_000;

/**
 * Runs the batch. For a scheduled tick, undefined when another process has run that tick. When the
 * process begins to shut down, the run stops after its current chunk and is recorded as interrupted.
 */
export async function runStatusBatch(deps: PaymentDeps, trigger: 'schedule' | 'manual' | 'immediate', scheduledFor?: Date): Promise<BatchSummary | undefined> {
  const started = performance.now();
  const db = deps.database.db;
  const lease = () => new Date(deps.clock.now().getTime() + RUN_LEASE_MS);
  const runId = trigger === 'immediate'
    ? await joinWindowRun(db, deps.clock.now(), lease())
    : await startRun(db, trigger, deps.clock.now(), lease(), scheduledFor);
  if (runId === undefined) return undefined;
  const upTo = await maxPendingId(db);
  // The lease is renewed with every chunk, and meanwhile on a timer: a run waiting for another
  // runner's chunk, or working on a long one, is still running.
  const renewal = setInterval(() => {
    renewRunLease(db, runId, lease()).catch(() => { /* the next chunk or tick renews it */ });
  }, RUN_LEASE_MS / 3);
  let done: { applied: number; rejected: number; interrupted: boolean };
  try {
    done = await applyPending(deps, runId, upTo, lease);
  } finally {
    clearInterval(renewal);
  }
  const { applied, rejected, interrupted } = done;

  const row = await endRun(db, runId, interrupted ? 'interrupted' : 'finished', Math.round(performance.now() - started), deps.clock.now());
  const view = runView(row, deps.clock.now());
  deps.log.info({ runId, trigger, applied, rejected, status: view.status, ms: row.durationMs }, interrupted ? 'status batch run stopped by shutdown' : 'status batch run finished');
  return view;
}

/** Applies the pending updates up to `upTo`, a chunk per transaction, until none are left or shutdown. */
async function applyPending(deps: PaymentDeps, runId: number, upTo: number, lease: () => Date): Promise<{ applied: number; rejected: number; interrupted: boolean }> {
  let applied = 0;
  let rejected = 0;
  for (;;) {
    if (deps.shutdown.aborted) return { applied, rejected, interrupted: true };
    const chunk = await deps.database.db.transaction(async (tx) => {
      await lockBatch(tx);
      const updates = await pendingChunk(tx, upTo, deps.config.statusBatchChunkSize);
      if (updates.length === 0) return undefined;
      const payments = await paymentsForUpdates(tx, [...new Set(updates.map((u) => u.psp_transaction_id))]);
      const result = applyChunk(updates, payments);
      await writeChunk(tx, runId, deps.clock.now(), result.log, result.balances, result.outcomes, deps.database.detailsCache);
      const reasons: Record<string, number> = {};
      for (const o of result.outcomes) if (o.reason) reasons[o.reason] = (reasons[o.reason] ?? 0) + 1;
      await addChunkToRun(tx, runId, result.applied, reasons, lease());
      return result;
    });
    if (!chunk) return { applied, rejected, interrupted: false };
    // Let requests waiting for the (embedded, single-connection) database in between chunks.
    await new Promise((resolve) => setImmediate(resolve));
    applied += chunk.applied;
    rejected += chunk.outcomes.length - chunk.applied;
  }
}

/** Decides a chunk in memory, in arrival order, against the payments' current totals. */
export function applyChunk(
  updates: Array<{ update_id: number; psp_id: string; psp_transaction_id: string; status: string; amount: number; currency: string; payment_text: string | null; operation_status: string }>,
  payments: PaymentBalanceRow[],
): { log: LogInsert[]; balances: BalanceWrite[]; outcomes: UpdateOutcome[]; applied: number } {
  const byKey = new Map<string, { paymentId: string; balance: Balance }>();
  const seenIds = new Set<string>();
  for (const p of payments) {
    seenIds.add(p.psp_transaction_id);
    byKey.set(`${p.psp_id}\u0000${p.psp_transaction_id}`, {
      paymentId: p.payment_id,
      balance: { state: p.state, reserved: p.reserved_amount, captured: p.captured_amount, cancelled: p.cancelled_amount, refunded: p.refunded_amount },
    });
  }
  const log: LogInsert[] = [];
  const outcomes: UpdateOutcome[] = [];
  const dirty = new Set<string>();
  let applied = 0;
  for (const u of updates) {
    const key = `${u.psp_id}\u0000${u.psp_transaction_id}`;
    const target = byKey.get(key);
    if (!target) {
      const reason: RejectionReason = seenIds.has(u.psp_transaction_id) ? 'OTHER_PSP' : 'UNKNOWN_PAYMENT';
      outcomes.push({ update_id: u.update_id, outcome: 'REJECTED', reason });
      continue;
    }
    const decision = decide(target.balance, {
      status: u.status as StatusUpdate['status'], amount: u.amount, currency: u.currency,
      operationStatus: u.operation_status as StatusUpdate['operationStatus'],
    });
    if (decision.kind === 'rejected') {
      outcomes.push({ update_id: u.update_id, outcome: 'REJECTED', reason: decision.reason });
      continue;
    }
    target.balance = decision.balance;
    dirty.add(key);
    log.push({ payment_id: target.paymentId, operation: decision.entry.operation, amount: decision.entry.amount, payment_text: u.payment_text, success: decision.entry.success });
    outcomes.push({ update_id: u.update_id, outcome: 'APPLIED', reason: null });
    applied += 1;
  }
  const balances: BalanceWrite[] = [...dirty].map((key) => {
    const { paymentId, balance } = byKey.get(key)!;
    return { payment_id: paymentId, state: balance.state, reserved: balance.reserved, captured: balance.captured, cancelled: balance.cancelled, refunded: balance.refunded };
  });
  return { log, balances, outcomes, applied };
}
