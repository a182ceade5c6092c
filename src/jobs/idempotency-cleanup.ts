// Deletes idempotency keys older than IDEMPOTENCY_RETENTION_HOURS, every ten minutes in each process.
// Each batch is its own short statement, and one run deletes a bounded number of batches before it
// yields; rows another process is deleting are skipped, so several processes never wait on each other.
import type { PaymentDeps } from '../operations/payment-deps.ts';
import { deleteExpiredKeys } from '../store/idempotency.ts';
import { JobLoop } from './loop.ts';

const INTERVAL_MS = 10 * 60 * 1000;
const FIRST_RUN_MS = 2000;
const BATCH = 1000;
const BATCHES_PER_RUN = 50;
/** When a run stopped with keys left to delete, the next one follows soon. */
const BACKLOG_DELAY_MS = 1000;

/** One run: deletes expired keys in batches; returns how many were deleted and whether some are left. */
export async function cleanExpiredKeys(deps: PaymentDeps, batch = BATCH, batches = BATCHES_PER_RUN): Promise<{ deleted: number; more: boolean }> {
  let deleted = 0;
  for (let i = 0; i < batches; i += 1) {
    const n = await deleteExpiredKeys(deps.database.db, deps.config.idempotencyRetentionHours, batch, deps.clock.now());
    deleted += n;
    if (n < batch) return { deleted, more: false };
  }
  return { deleted, more: true };
}

export function idempotencyCleanup(deps: PaymentDeps): JobLoop {
  const loop = new JobLoop(async () => {
    const { deleted, more } = await cleanExpiredKeys(deps);
    if (deleted > 0) deps.log.info({ deleted }, 'expired idempotency keys deleted');
    return more ? BACKLOG_DELAY_MS : INTERVAL_MS;
  }, (err) => deps.log.error({ err }, 'idempotency key cleanup failed'), INTERVAL_MS);
  loop.start(FIRST_RUN_MS);
  return loop;
}
