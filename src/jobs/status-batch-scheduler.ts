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
  const untilTick = () => Math.min(MAX_SLEEP_MS, tick.getTime() - deps.clock.now().getTime());
  const loop = new JobLoop(async () => {
    if (deps.clock.now() >= tick) {
      const due = tick;
      tick = nextTick(cron, tz, new Date(due.getTime() + 1000));
      await runStatusBatch(deps, 'schedule', due);
    }
    return untilTick();
  }, (err) => deps.log.error({ err }, 'scheduled status batch failed'), 1000);
  loop.start(untilTick());
  return loop;
}
