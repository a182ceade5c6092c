// Fires the status batch on STATUS_BATCH_CRON in STATUS_BATCH_TZ. Every process schedules the
// same ticks; the run row for a tick is unique, so exactly one process runs each tick.
import { CronExpressionParser } from 'cron-parser';
import { runStatusBatch } from '../operations/status-batch.ts';
import type { PaymentDeps } from '../operations/payment-deps.ts';

const MAX_SLEEP_MS = 60 * 60 * 1000;

export function nextTick(cron: string, tz: string, after: Date): Date {
  return CronExpressionParser.parse(cron, { tz, currentDate: after }).next().toDate();
}

export class StatusBatchScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  private readonly deps: PaymentDeps;

  constructor(deps: PaymentDeps) {
    this.deps = deps;
  }

  start(): void {
    this.plan(nextTick(this.deps.config.statusBatchCron, this.deps.config.statusBatchTz, this.deps.clock.now()));
  }

  private plan(tick: Date): void {
    if (this.stopped) return;
    const wait = tick.getTime() - this.deps.clock.now().getTime();
    if (wait > MAX_SLEEP_MS) {
      // Re-check every hour, so a changed system clock never leaves the batch hours late.
      this.timer = setTimeout(() => this.plan(tick), MAX_SLEEP_MS);
      return;
    }
    this.timer = setTimeout(() => {
      this.running = runStatusBatch(this.deps, 'schedule', tick)
        .catch((err: unknown) => this.deps.log.error({ err }, 'scheduled status batch failed'))
        .finally(() => {
          this.running = undefined;
          this.plan(nextTick(this.deps.config.statusBatchCron, this.deps.config.statusBatchTz, new Date(tick.getTime() + 1000)));
        });
    }, Math.max(0, wait));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
