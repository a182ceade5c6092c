// TIMEOUT and USER_CANCEL makePayments: the transaction that ends a payment records its notification
// as PENDING; the notifier claims pending notifications as connection slots to their PSP are free,
// sends them, and records each answer. A PSP whose endpoint hangs keeps at most its own slots busy, so
// other PSPs' notifications go out at once. Pending rows live in the database: any process sends them,
// also after the one that recorded them stopped.
import { interpretAnswer } from '../../domain/psp-v3/payment.ts';
import { parseTraceparent } from '../../observability/trace-context.ts';
import { claimNotifications, completeNotification, notificationBody, unclaimNotifications, type ClaimedNotification } from '../../store/attempts.ts';
import { leaseFor } from './deliver.ts';
import type { Database } from '../../store/db.ts';
import type { Clock } from '../../clock.ts';
import type { MakePaymentClient } from '../../delivery/make-payment-client.ts';
import type { OutboundLimiter } from '../../delivery/outbound-limiter.ts';
import type { Logger } from '../payment-deps.ts';
import type { Controls } from '../controls.ts';

export interface NotifierDeps {
  database: Database;
  clock: Clock;
  client: MakePaymentClient;
  outbound: OutboundLimiter;
  log: Logger;
  makePaymentTimeoutMs: number;
  /** The test environment's fault rules (a makePayment rule delays the call). */
  controls?: Controls;
}

export class Notifier {
  private readonly deps: NotifierDeps;
  private readonly sending = new Set<Promise<void>>();
  /** A claim in progress; kicks during it ask for one more claim after it. */
  private claiming: Promise<void> | undefined;
  private again = false;
  /** The last claim was cut short by the slots: more may be pending. */
  private more = false;
  private stopped = false;

  constructor(deps: NotifierDeps) {
    this.deps = deps;
    deps.outbound.onRelease(() => {
      if (this.more) this.kick();
    });
  }

  /**
   * Sends the given pending notifications if their PSP has a free slot now, and waits for their
   * answers. Those without a slot stay pending for the next kick. Never throws.
   */
  async deliver(attemptIds: number[]): Promise<void> {
    try {
      const claimed = await this.claim(attemptIds);
      await Promise.all(claimed.map((c) => this.track(c)));
    } catch (err) {
      this.deps.log.warn({ err, attemptIds }, 'could not send makePayment notifications now; they stay pending');
    }
  }

  /** Claims and sends whatever is pending and has a free slot; returns at once. */
  kick(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = (async () => {
      do {
        this.again = false;
        try {
          const claimed = await this.claim();
          for (const c of claimed) void this.track(c);
        } catch (err) {
          this.deps.log.warn({ err }, 'could not claim pending makePayment notifications; retrying on the next sweep');
          this.again = false;
        }
      } while (this.again && !this.stopped);
    })().finally(() => { this.claiming = undefined; });
  }

  /** Stops claiming and waits for the notifications in flight to be answered and recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.claiming;
    await Promise.all([...this.sending]);
  }

  private async claim(only?: number[]): Promise<ClaimedNotification[]> {
    const { outbound, clock, makePaymentTimeoutMs } = this.deps;
    const total = outbound.availableTotal();
    if (this.stopped || total === 0) {
      this.more = true;
      return [];
    }
    const slots = outbound.busy();
    const now = clock.now();
    const claimed = await claimNotifications(this.deps.database, now, leaseFor(makePaymentTimeoutMs, now), slots, outbound.perPsp, total, only);
    // Slots taken meanwhile (approvals, another claim) win: what no longer fits goes back to PENDING.
    const sendable: ClaimedNotification[] = [];
    const excess: number[] = [];
    const perPsp = new Map<string, number>();
    for (const c of claimed) {
      if (outbound.available(c.pspId) === 0) {
        excess.push(c.attemptId);
        continue;
      }
      outbound.take(c.pspId);
      sendable.push(c);
      perPsp.set(c.pspId, (perPsp.get(c.pspId) ?? 0) + 1);
    }
    if (excess.length > 0) {
      await unclaimNotifications(this.deps.database, excess).catch((err: unknown) => {
        this.deps.log.warn({ err, attemptIds: excess }, 'could not put back makePayment notifications without a free slot; they will show as abandoned');
      });
    }
    this.more = excess.length > 0 || claimed.length >= total || [...perPsp].some(([pspId, n]) => n >= (slots[pspId] ?? outbound.perPsp));
    return sendable;
  }

  private track(c: ClaimedNotification): Promise<void> {
    const done = this.send(c).finally(() => {
      this.sending.delete(done);
      this.deps.outbound.release(c.pspId);
    });
    this.sending.add(done);
    return done;
  }

  private async send(c: ClaimedNotification): Promise<void> {
    const { client, database, clock, log } = this.deps;
    const delayMs = await this.deps.controls?.outboundDelay(c).catch(() => 0) ?? 0;
    // In the trace of the payment's init, when the PSP sent a traceparent with it.
    const result = await client.send(c.url, c.makePaymentToken, notificationBody(c.pspTransactionId, c.msn, c.paymentState), delayMs, parseTraceparent(c.traceparent ?? undefined));
    const answer = interpretAnswer(result.status, result.body, result.error);
    try {
      await completeNotification(database, c.attemptId, {
        outcome: result.error ? 'NOT_DELIVERED' : 'NOTIFIED',
        responseStatus: result.status ?? null,
        responseBody: result.body ?? null,
        latencyMs: result.latencyMs,
        error: result.error ?? (answer.kind === 'error' ? answer.reason : null),
        now: clock.now(),
      });
    } catch (err) {
      log.warn({ err, pspTransactionId: c.pspTransactionId }, 'could not record the answer to a makePayment notification; it will show as abandoned');
    }
    log.info({ pspTransactionId: c.pspTransactionId, pspId: c.pspId, paymentState: c.paymentState, status: result.status, error: result.error, ms: result.latencyMs }, 'makePayment notification sent');
  }
}
