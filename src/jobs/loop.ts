// A background job that runs a step, waits the delay the step returns, and runs it again, until
// stopped. stop() waits for a step in progress. A failing step is logged and the loop goes on: after
// consecutive failures the delay before the next try doubles, from the retry delay up to a few
// seconds (so that the job resumes soon after the database is back), and a success resets it.
import { databaseFailure, isDatabaseUnavailable } from '../store/db-errors.ts';

/** The longest wait between two tries after failures (unless the retry delay itself is longer). */
export const MAX_BACKOFF_MS = 5_000;

/** Where a loop reports database outages. */
export interface JobLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export class JobLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  /** wake() was called while a step ran: the next step follows at once. */
  private woken = false;
  private failures = 0;
  private outage = false;
  private outages: { log: JobLog; job: string } | undefined;
  private readonly step: () => Promise<number>;
  private readonly onError: (err: unknown) => void;
  private readonly retryMs: number;
  private readonly maxBackoffMs: number;

  constructor(step: () => Promise<number>, onError: (err: unknown) => void, retryMs: number, opts: { maxBackoffMs?: number } = {}) {
    this.step = step;
    this.onError = onError;
    this.retryMs = retryMs;
    this.maxBackoffMs = Math.max(retryMs, opts.maxBackoffMs ?? MAX_BACKOFF_MS);
  }

  /**
   * Reports a step that failed because the database is unreachable as one warning per try (the job's
   * name, the attempt count, the wait before the next try, the driver's reason) instead of passing
   * it to onError, and the recovery once a step succeeds again.
   */
  reportOutagesTo(log: JobLog, job: string): this {
    this.outages = { log, job };
    return this;
  }

  start(firstDelayMs: number): void {
    this.schedule(firstDelayMs);
  }

  /** The wait after the n-th consecutive failure: the retry delay, doubled each time, capped. */
  backoffMs(failures: number): number {
    return Math.min(this.maxBackoffMs, Math.max(this.retryMs, 1) * 2 ** Math.max(0, failures - 1));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      let next = this.retryMs;
      this.running = this.runStep()
        .then((ms) => { next = ms; })
        .finally(() => {
          this.running = undefined;
          const delay = this.woken ? 0 : next;
          this.woken = false;
          this.schedule(delay);
        });
    }, Math.max(0, delayMs));
  }

  /** Runs the step once; resolves to the delay before the next run, never rejects. */
  private async runStep(): Promise<number> {
    try {
      const next = await this.step();
      if (this.outage && this.outages) {
        this.outages.log.info({ job: this.outages.job, attempts: this.failures + 1 }, `${this.outages.job}: database reachable again`);
      }
      this.failures = 0;
      this.outage = false;
      return next;
    } catch (err) {
      this.failures += 1;
      const next = this.backoffMs(this.failures);
      this.outage = isDatabaseUnavailable(err);
      if (this.outage && this.outages) {
        this.outages.log.warn({ job: this.outages.job, attempt: this.failures, retryInMs: next, ...databaseFailure(err) },
          `${this.outages.job}: database unavailable, will retry`);
      } else {
        try {
          this.onError(err);
        } catch { /* a failing error handler must not stop the loop */ }
      }
      return next;
    }
  }

  /** Runs the step now (or right after the one in progress) instead of after the current wait. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.woken = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
