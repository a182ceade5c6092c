// Fires the status batch on STATUS_BATCH_CRON in STATUS_BATCH_TZ. Every process schedules the
// same ticks; the run row for a tick is unique, so exactly one process runs each tick.
import { CronExpressionParser } from 'cron-parser';
import { runStatusBatch } from '../operations/status-batch.ts';
import type { PaymentDeps } from '../operations/payment-deps.ts';
import { JobLoop } from './loop.ts';

/** Re-check at least hourly, so a changed system clock never leaves the batch hours late. */
const MAX_SLEEP_MS = 60 * 60 * 1000;

export function nextTick(cron: string, tz: string, after: Date): Date {
  return CronExpressionParser.parse(cron, { tz, currentDate: after }).next().toDate();
}

export function statusBatchScheduler(deps: PaymentDeps): JobLoop {
  const { statusBatchCron: cron, statusBatchTz: tz } = deps.config;
  let tick = nextTick(cron, tz, deps.clock.now());
  /** This process's run of the current tick failed (the database was lost): the retry runs again. */
  let retrying = false;
  const untilTick = () => Math.min(MAX_SLEEP_MS, tick.getTime() - deps.clock.now().getTime());
  const loop = new JobLoop(async () => {
    if (deps.clock.now() >= tick) {
      const due = tick;
      try {
        // The first try claims the tick (one process per tick); a retry of this process's own
        // failed run cannot claim it again and runs as a plain scheduled run, resuming what is left.
        await runStatusBatch(deps, 'schedule', retrying ? undefined : due);
      } catch (err) {
        retrying = true;
        throw err;
      }
      retrying = false;
      tick = nextTick(cron, tz, new Date(due.getTime() + 1000));
    }
    return untilTick();
  }, (err) => deps.log.error({ err }, 'scheduled status batch failed'), 1000);
  loop.start(untilTick());
  return loop;
}
