// Fires the status batch on STATUS_BATCH_CRON in STATUS_BATCH_TZ. Every process schedules the
// same ticks; the run row for a tick is unique, so exactly one process runs each tick. At each wake-up
// (at least hourly, a second after start, and again 20 s after start) a run left interrupted with
// updates pending is taken up: one stopped cleanly at the first look, one killed with its process once
// its lease has lapsed.
import { CronExpressionParser } from 'cron-parser';
import { runStatusBatch } from '../operations/psp-v3/status-batch.ts';
import { interruptedRunLeftWork } from '../store/status-updates.ts';
import type { PaymentDeps } from '../operations/payment-deps.ts';
import { JobLoop } from './loop.ts';
import { isDatabaseUnavailable } from '../store/db-errors.ts';

/**
 * Re-check at least hourly, so a changed system clock never leaves the batch hours late. A move of the
 * test environment's clock wakes the loop at once (main.ts).
 */
const MAX_SLEEP_MS = 60 * 60 * 1000;
/** The first look after start: a run stopped cleanly by the previous process is taken up at once. */
const FIRST_LOOK_MS = 1_000;
/** A run's lease (15 s) and some: when a look after start finds a run killed with its process. */
const RESUME_CHECK_MS = 20_000;

export function nextTick(cron: string, tz: string, after: Date): Date {
  return CronExpressionParser.parse(cron, { tz, currentDate: after }).next().toDate();
}

/** The last tick at or before `now`, and never before `tick`. */
export function latestTick(cron: string, tz: string, now: Date, tick: Date): Date {
  const last = CronExpressionParser.parse(cron, { tz, currentDate: new Date(now.getTime() + 1) }).prev().toDate();
  return last > tick ? last : tick;
}

export function statusBatchScheduler(deps: PaymentDeps): JobLoop {
  const { statusBatchCron: cron, statusBatchTz: tz } = deps.config;
  let tick = nextTick(cron, tz, deps.clock.now());
  /** This process's run of the current tick failed (the database was lost): the retry runs again. */
  let retrying = false;
  const untilTick = () => Math.min(MAX_SLEEP_MS, tick.getTime() - deps.clock.now().getTime());
  const started = Date.now();
  /** Whether a look has come after a killed run's lease would have lapsed. */
  let lookedAfterLease = false;
  const loop = new JobLoop(async () => {
    // The clock went back (the test environment's clock was reset): the next tick is the one after now.
    const now = deps.clock.now();
    if (now < tick) tick = nextTick(cron, tz, now);
    // A run that was interrupted (its process stopped or died) is taken up at once, not next night.
    if (await interruptedRunLeftWork(deps.database.db, deps.clock.now())) await runStatusBatch(deps, 'schedule');
    if (deps.clock.now() >= tick) {
      // Ticks passed all at once (the test environment's clock jumped over several) make one run, for the last of them.
      const due = latestTick(cron, tz, deps.clock.now(), tick);
      try {
        // The first try claims the tick (one process per tick); a retry of this process's own
        // failed run cannot claim it again and runs as a plain scheduled run, resuming what is left.
        await runStatusBatch(deps, 'schedule', retrying ? undefined : due);
      } catch (err) {
        // Only a lost database is worth retrying before the next tick; anything else would fail again.
        retrying = isDatabaseUnavailable(err);
        if (!retrying) tick = nextTick(cron, tz, new Date(due.getTime() + 1000));
        throw err;
      }
      retrying = false;
      tick = nextTick(cron, tz, new Date(due.getTime() + 1000));
    }
    if (!lookedAfterLease) {
      const wait = RESUME_CHECK_MS - (Date.now() - started);
      if (wait > 0) return Math.min(untilTick(), wait);
      lookedAfterLease = true;
    }
    return untilTick();
  }, (err) => deps.log.error({ err }, 'scheduled status batch failed'), 1000);
  loop.start(Math.min(untilTick(), FIRST_LOOK_MS));
  return loop;
}
