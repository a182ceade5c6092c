// The status batch: applies stored status updates in arrival order, in chunks. Each chunk is one
// transaction under a database-wide advisory lock, so two runners (two processes, or a scheduled
// and a manual run) never apply an update twice, and a runner killed mid-chunk loses nothing:
// the chunk rolls back and the next run takes it again.
import { decide, type Balance, type RejectionReason, type StatusUpdate } from '../domain/status-rules.ts';
import {
  finishRun, lockBatch, maxPendingId, paymentsForUpdates, pendingChunk, startRun, writeChunk,
  type BalanceWrite, type BatchRunRow, type LogInsert, type PaymentBalanceRow, type UpdateOutcome,
} from '../store/status-updates.ts';
import type { PaymentDeps } from './payment-deps.ts';

export interface BatchSummary {
  runId: number;
  trigger: string;
  applied: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  durationMs: number;
  startedAt: string;
  finishedAt: string | null;
}

export function runView(r: BatchRunRow): BatchSummary {
  return {
    runId: r.runId, trigger: r.trigger, applied: r.applied, rejected: r.rejected, rejectedByReason: r.rejectedByReason,
    durationMs: r.durationMs ?? 0, startedAt: r.startedAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

/** Runs the batch. For a scheduled tick, undefined when another process has run that tick. */
export async function runStatusBatch(deps: PaymentDeps, trigger: 'schedule' | 'manual' | 'immediate', scheduledFor?: Date): Promise<BatchSummary | undefined> {
  const started = performance.now();
  const db = deps.database.db;
  const runId = await startRun(db, trigger, deps.clock.now(), scheduledFor);
  if (runId === undefined) return undefined;
  const upTo = await maxPendingId(db);
  let applied = 0;
  let rejected = 0;
  const rejectedByReason: Record<string, number> = {};

  for (;;) {
    const chunk = await db.transaction(async (tx) => {
      await lockBatch(tx);
      const updates = await pendingChunk(tx, upTo, deps.config.statusBatchChunkSize);
      if (updates.length === 0) return undefined;
      const payments = await paymentsForUpdates(tx, [...new Set(updates.map((u) => u.psp_transaction_id))]);
      const result = applyChunk(updates, payments);
      await writeChunk(tx, runId, deps.clock.now(), result.log, result.balances, result.outcomes);
      return result;
    });
    if (!chunk) break;
    // Let requests waiting for the (embedded, single-connection) database in between chunks.
    await new Promise((resolve) => setImmediate(resolve));
    applied += chunk.applied;
    rejected += chunk.outcomes.length - chunk.applied;
    for (const o of chunk.outcomes) if (o.reason) rejectedByReason[o.reason] = (rejectedByReason[o.reason] ?? 0) + 1;
  }

  const row = await finishRun(db, runId, { applied, rejected, rejectedByReason, durationMs: Math.round(performance.now() - started) }, deps.clock.now());
  deps.log.info({ runId, trigger, applied, rejected, rejectedByReason, ms: row.durationMs }, 'status batch run finished');
  return runView(row);
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
