// Read models of the status batch for the console: runs and rejected updates, newest first, one
// keyset page at a time (`before` is the last id of the previous page), so a page costs the same
// however many there are.
import { and, desc, eq, gt, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { Tx } from './db.ts';
import { batchRuns, statusUpdates } from './schema.ts';
import type { BatchRunRow } from './status-updates.ts';

export async function runsPage(tx: Tx, opts: { before?: number; limit: number }): Promise<BatchRunRow[]> {
  return tx.select().from(batchRuns)
    .where(opts.before === undefined ? undefined : lt(batchRuns.runId, opts.before))
    .orderBy(desc(batchRuns.runId)).limit(opts.limit);
}

/** Runs not finished, not stopped and within their lease: running now (in any process). */
export async function runningRuns(tx: Tx, now: Date): Promise<BatchRunRow[]> {
  return tx.select().from(batchRuns)
    .where(and(isNull(batchRuns.finishedAt), isNull(batchRuns.interruptedAt), gt(batchRuns.leaseUntil, now)))
    .orderBy(desc(batchRuns.runId)).limit(20);
}

export async function findRun(tx: Tx, runId: number): Promise<BatchRunRow | undefined> {
  const [row] = await tx.select().from(batchRuns).where(eq(batchRuns.runId, runId));
  return row;
}

export interface RejectedFilter {
  pspId?: string;
  runId?: number;
  reason?: string;
  before?: number;
  limit: number;
}

export async function rejectedPage(tx: Tx, f: RejectedFilter) {
  const where: SQL[] = [sql`${statusUpdates.outcome} = 'REJECTED'`];
  if (f.pspId !== undefined) where.push(eq(statusUpdates.pspId, f.pspId));
  if (f.runId !== undefined) where.push(eq(statusUpdates.runId, f.runId));
  if (f.reason !== undefined) where.push(eq(statusUpdates.reason, f.reason));
  if (f.before !== undefined) where.push(lt(statusUpdates.updateId, f.before));
  return tx.select({
    updateId: statusUpdates.updateId, runId: statusUpdates.runId, pspId: statusUpdates.pspId,
    pspTransactionId: statusUpdates.pspTransactionId, status: statusUpdates.status, amount: statusUpdates.amount,
    currency: statusUpdates.currency, operationStatus: statusUpdates.operationStatus, reason: statusUpdates.reason,
    receivedAt: statusUpdates.receivedAt, processedAt: statusUpdates.processedAt,
  }).from(statusUpdates).where(and(...where)).orderBy(desc(statusUpdates.updateId)).limit(f.limit);
}
