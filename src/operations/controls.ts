// The test environment's controls: time travel, fault rules and the reset of payment data.
//
// The clock offset and the fault rules live in the database, shared by every process on it. Each
// process keeps a copy (the offset in its ShiftedClock, the rules that can still fire in `rules`),
// so a request never reads the database for either. The process that makes a change applies it to
// its copy at once; on PostgreSQL the others poll one primary-key row every CONTROLS_POLL_MS and
// reload what changed, so they follow within about a second. The embedded database serves one
// process only, which needs no polling. In production nothing is loaded, polled or applied.
import type { ShiftedClock } from '../clock.ts';
import { ApiError, errors } from '../domain/errors.ts';
import { faultInputProblems, isScoped, ruleMatches, type FaultInput, type FaultRoute, type FaultRule, type FaultTarget } from '../domain/faults.ts';
import type { Database } from '../store/db.ts';
import {
  activeFaultRules, addClockOffset, claimFaultHit, deleteAllFaultRules, deleteFaultRule, deletePaymentData, insertFaultRule,
  listFaultRules, raiseClockOffset, readControls, resetClockOffset,
} from '../store/controls.ts';

/** How often a process on PostgreSQL looks for changes made by another process. */
export const CONTROLS_POLL_MS = 500;

export interface ControlsLog {
  warn(obj: object, msg?: string): void;
}

export interface ClockView {
  now: string;
  offsetSeconds: number;
}

export class Controls {
  readonly clock: ShiftedClock;
  readonly enabled: boolean;
  private readonly database: Database;
  private readonly log: ControlsLog;
  /** Rules that can still fire, oldest first; empty (the common case) means nothing to check. */
  private rules: FaultRule[] = [];
  private faultsVersion = -1;
  private generation = 0;
  /** The read started last; a superseded read waits for it. */
  private latest: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private readonly clockListeners: Array<() => Promise<unknown> | void> = [];
  private readonly resetListeners: Array<(pspId: string | undefined) => void> = [];
  private readonly stopping = new AbortController();
  /** Aborted when the process begins to shut down: injected delays end early, so closing never waits for them. */
  readonly shutdown: AbortSignal = this.stopping.signal;

  constructor(opts: { database: Database; clock: ShiftedClock; enabled: boolean; log: ControlsLog }) {
    this.database = opts.database;
    this.clock = opts.clock;
    this.enabled = opts.enabled;
    this.log = opts.log;
  }

  /** Loads the shared state; then, on PostgreSQL, follows other processes' changes until stop(). */
  async start(): Promise<void> {
    if (!this.enabled) return;
    await this.sync();
    if (this.database.kind !== 'postgres') return;
    let failing = false;
    const tick = () => {
      this.polling = this.sync()
        .then(() => { failing = false; })
        .catch((err: unknown) => {
          // Once per outage: the poll goes on every CONTROLS_POLL_MS meanwhile.
          if (!failing) this.log.warn({ err }, 'could not read the test controls; keeping the last copy until the database answers');
          failing = true;
        })
        .finally(() => {
          this.polling = undefined;
          if (this.timer) this.timer = setTimeout(tick, CONTROLS_POLL_MS);
        });
    };
    this.timer = setTimeout(tick, CONTROLS_POLL_MS);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    const timer = this.timer;
    this.timer = undefined;
    if (timer) clearTimeout(timer);
    await this.polling;
  }

  /**
   * Called (in this process) whenever the clock offset changed, here or in another process. A change
   * made here is answered once the promises the listeners return have settled.
   */
  onClockChange(listener: () => Promise<unknown> | void): void {
    this.clockListeners.push(listener);
  }

  /** Called after a reset committed in this process, with the PSP reset (undefined: all). */
  onReset(listener: (pspId: string | undefined) => void): void {
    this.resetListeners.push(listener);
  }

  /**
   * Reads the shared state and applies it to this process's copy. Of reads that overlap (a poll and
   * the read after a change made here), only the one started last is applied: it began after every
   * change the others could have seen, so the copy never steps back to an older state. Every read
   * settles only once the copy holds a state at least as new as the one it read.
   */
  private sync(): Promise<void> {
    const read = this.readAndApply();
    this.latest = read;
    return read;
  }

  private async readAndApply(): Promise<void> {
    const generation = ++this.generation;
    const row = await readControls(this.database);
    const rules = row.faultsVersion === this.faultsVersion ? undefined : await activeFaultRules(this.database.db, this.clock.now());
    // A later read (often the background poll) supersedes this one: wait until it has been applied,
    // so a change made here is in this process's copy before the change is answered.
    if (generation !== this.generation) return this.latest;
    if (rules) {
      this.rules = rules;
      this.faultsVersion = row.faultsVersion;
    }
    await this.applyOffset(row.clockOffsetMs);
  }

  private async applyOffset(ms: number): Promise<void> {
    if (ms === this.clock.offsetMs) return;
    this.clock.setOffset(ms);
    const results = await Promise.allSettled(this.clockListeners.map(async (listener) => listener()));
    for (const r of results) if (r.status === 'rejected') this.log.warn({ err: r.reason }, 'a clock change listener failed');
  }

  private requireTest(): void {
    if (!this.enabled) throw errors.testOnly();
  }

  // ---- time travel ----

  clockView(): ClockView {
    this.requireTest();
    return { now: this.clock.now().toISOString(), offsetSeconds: this.clock.offsetMs / 1000 };
  }

  /** Moves the clock forward by `seconds`, or to `to`; never back (400). */
  async advance(by: { seconds?: number; to?: string }): Promise<ClockView> {
    this.requireTest();
    if (by.to !== undefined) {
      const target = ISO_TIME.test(by.to) ? Date.parse(by.to) : Number.NaN;
      if (Number.isNaN(target)) {
        throw new ApiError(400, 'invalid_time', `"to" must be an ISO 8601 time with a zone, such as 2030-01-01T02:00:00Z, got "${by.to}".`, {
          details: [{ name: 'to', reason: 'Is not an ISO 8601 time with a zone' }],
        });
      }
      const now = this.clock.now().getTime();
      if (target < now) throw clockBackwards(new Date(now));
      const offset = await this.database.db.transaction((tx) => raiseClockOffset(tx, target - this.clock.baseNow().getTime()));
      if (offset === undefined) throw clockBackwards(this.clock.now());
    } else {
      const ms = Math.round((by.seconds ?? 0) * 1000);
      if (ms < 0) throw clockBackwards(this.clock.now());
      await this.database.db.transaction((tx) => addClockOffset(tx, ms));
    }
    await this.sync();
    return this.clockView();
  }

  async resetClock(): Promise<ClockView> {
    this.requireTest();
    await this.database.db.transaction((tx) => resetClockOffset(tx));
    await this.sync();
    return this.clockView();
  }

  // ---- fault rules ----

  /** Whether any rule of `route` can fire: the only cost a request pays when none exists. */
  has(route: FaultRoute): boolean {
    const rules = this.rules;
    if (rules.length === 0) return false;
    for (const r of rules) if (r.route === route) return true;
    return false;
  }

  /** Whether a rule of `route` needs to know the request's PSP (or more) to be matched. */
  needsTarget(route: FaultRoute): boolean {
    return this.rules.some((r) => r.route === route && isScoped(r));
  }

  /**
   * The rule that faults this request, if any: the oldest matching rule that fires (its chance) and
   * could still be counted (its count, shared by every process, is taken here).
   */
  async take(route: FaultRoute, target: FaultTarget): Promise<FaultRule | undefined> {
    const now = this.clock.now();
    for (const rule of this.rules) {
      if (!ruleMatches(rule, route, target, now)) continue;
      if (rule.probability !== null && Math.random() >= rule.probability) continue;
      const claimed = await claimFaultHit(this.database, rule.ruleId, now);
      if (!claimed) {
        // Used up, expired or removed by another process: forget it until the next reload.
        this.rules = this.rules.filter((r) => r !== rule);
        continue;
      }
      if (claimed.remaining !== null && claimed.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
      return rule;
    }
    return undefined;
  }

  /** The delay a makePayment rule puts on an outbound call to the PSP about this payment (0: none). */
  async outboundDelay(target: { pspId: string; msn: string; pspTransactionId: string }): Promise<number> {
    if (!this.has('makePayment')) return 0;
    const rule = await this.take('makePayment', { pspId: target.pspId, msn: target.msn, pspTransactionIds: [target.pspTransactionId] });
    return rule?.delayMs ?? 0;
  }

  async addRule(input: FaultInput): Promise<FaultRule> {
    this.requireTest();
    const problems = faultInputProblems(input);
    if (problems.length > 0) throw new ApiError(400, 'validation_error', 'The fault rule is not valid.', { details: problems });
    const now = this.clock.now();
    return this.changeRules(() => this.database.db.transaction((tx) => insertFaultRule(tx, {
      route: input.route,
      pspId: input.pspId?.replace(/-/g, '').toUpperCase() ?? null,
      msn: input.msn ?? null,
      pspTransactionId: input.pspTransactionId ?? null,
      status: input.status ?? null,
      retryAfterSeconds: input.status === 429 ? input.retryAfterSeconds ?? 1 : input.retryAfterSeconds ?? null,
      delayMs: input.delayMs ?? 0,
      dropConnection: input.drop ?? false,
      remaining: input.times ?? null,
      probability: input.probability ?? null,
      expiresAt: input.ttlSeconds === undefined ? null : new Date(now.getTime() + input.ttlSeconds * 1000),
    }, now)));
  }

  async listRules(): Promise<FaultRule[]> {
    this.requireTest();
    return listFaultRules(this.database.db);
  }

  async removeRule(ruleId: number): Promise<void> {
    this.requireTest();
    const found = await this.changeRules(() => this.database.db.transaction((tx) => deleteFaultRule(tx, ruleId)));
    if (!found) throw errors.notFound(`No fault rule ${ruleId}.`);
  }

  async clearRules(): Promise<number> {
    this.requireTest();
    return this.changeRules(() => this.database.db.transaction((tx) => deleteAllFaultRules(tx)));
  }

  /** Runs a change of the rules, then reloads this process's copy at once. */
  private async changeRules<T>(change: () => Promise<T>): Promise<T> {
    const result = await change();
    await this.sync();
    return result;
  }

  // ---- reset ----

  /** Deletes the payment data of one PSP (or all) in one transaction; returns the rows deleted per table. */
  async reset(pspId: string | undefined): Promise<Record<string, number>> {
    this.requireTest();
    const psp = pspId?.replace(/-/g, '').toUpperCase();
    // Listeners run before (so that reads already under way are not kept) and after the commit.
    for (const listener of this.resetListeners) listener(psp);
    try {
      return await this.database.db.transaction((tx) => deletePaymentData(tx, psp));
    } finally {
      for (const listener of this.resetListeners) listener(psp);
    }
  }
}

/** An ISO 8601 date and time with its zone (Z or ±hh:mm). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

function clockBackwards(now: Date): ApiError {
  return new ApiError(400, 'clock_backwards', `The clock never goes back: it is already ${now.toISOString()}. Use POST /admin/clock/reset to return to the real time.`);
}

/** A rule as the operator API shows it. */
export function faultRuleView(r: FaultRule) {
  return {
    id: r.ruleId, route: r.route, pspId: r.pspId, msn: r.msn, pspTransactionId: r.pspTransactionId,
    status: r.status, retryAfterSeconds: r.retryAfterSeconds, delayMs: r.delayMs, drop: r.dropConnection,
    remaining: r.remaining, probability: r.probability, hits: r.hits,
    expiresAt: r.expiresAt?.toISOString() ?? null, createdAt: r.createdAt.toISOString(),
  };
}
