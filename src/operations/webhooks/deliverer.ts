// Sends the webhook outbox (store/webhooks.ts). Every process runs one: it claims due deliveries with
// a lease (so each goes out from one process at a time), POSTs each payload signed with its
// registration's secret (the Webhooks API's HMAC-SHA256 scheme), and records the answer: 2xx within
// 10 s is delivered; anything else is tried again on the published schedule, on the shared clock, until
// 7 days after the event. Sends are not awaited one by one: a registration whose receiver is slow or
// dead holds at most PER_WEBHOOK of this process's sends, and the others go on.
import { AsyncResource } from 'node:async_hooks';
import type { Logger } from 'pino';
import { DELIVERY_TIMEOUT_MS, RETRY_WINDOW_MS, retryDelayMs } from '../../domain/webhooks.ts';
import type { MakePaymentClient } from '../../delivery/make-payment-client.ts';
import { signRequest } from '../../security/request-signature.ts';
import { unseal } from '../../security/sealed-secrets.ts';
import type { Database } from '../../store/db.ts';
import { isDatabaseUnavailable } from '../../store/db-errors.ts';
import { claimDeliveries, completeDelivery, type ClaimedDelivery } from '../../store/webhooks.ts';
import { faultedAnswer } from '../epayment/card-callback.ts';

/** At most this many sends in flight in a process, and this many for one registration. */
const MAX_IN_FLIGHT = 512;
const PER_WEBHOOK = 64;
/** At most this many deliveries claimed with one statement. */
const CLAIM_BATCH = 200;
/** How often an idle process looks for due deliveries (a wake() looks at once). */
const IDLE_POLL_MS = 200;
/** How soon after a wake() it looks. */
const WAKE_MS = 5;

export interface DelivererDeps {
  database: Database;
  clock: { now(): Date };
  client: MakePaymentClient;
  sealKey: Buffer;
  log: Logger;
  /** The webhook fault rule (test environment) a delivery meets, if any: it holds it back or fails it. */
  faults?: (d: ClaimedDelivery) => Promise<{ delayMs: number; status: number | null; dropConnection: boolean } | undefined>;
}

export class WebhookDeliverer {
  private readonly deps: DelivererDeps;
  private inFlight = 0;
  private readonly perWebhook = new Map<string, number>();
  private readonly secrets = new Map<string, { sealed: string; secret: string }>();
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private pending: Promise<void> | undefined;
  private again = false;
  private readonly idle = new Set<Promise<void>>();

  /**
   * The context the sends run in: the server's own, never a request's. A round sends the deliveries
   * of many requests' events (and retries), so the request that happened to wake it is not theirs;
   * each webhook's call starts a trace of its own.
   */
  private readonly background = new AsyncResource('vipps-psp.webhook-deliverer');

  constructor(deps: DelivererDeps) {
    this.deps = deps;
  }

  start(): void {
    this.running = true;
    this.background.runInAsyncScope(() => this.look());
  }

  /**
   * Looks for due deliveries soon (an event was written, a send finished, the clock moved): within
   * WAKE_MS, so that the events of many requests are looked for with one statement.
   */
  wake(): void {
    if (!this.running) return;
    if (this.pending) { this.again = true; return; }
    if (this.soon) return;
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    this.soon = setTimeout(() => this.background.runInAsyncScope(() => { this.soon = undefined; this.look(); }), WAKE_MS);
  }

  private look(): void {
    if (!this.running) return;
    if (this.pending) { this.again = true; return; }
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    this.pending = this.round().finally(() => {
      this.pending = undefined;
      if (!this.running) return;
      // More came while this round ran (or it was full): the next round at once, without the wait.
      if (this.again) { this.again = false; setImmediate(() => this.look()); return; }
      this.timer = setTimeout(() => { this.timer = undefined; this.look(); }, IDLE_POLL_MS);
      this.timer.unref();
    });
  }

  /** Stops claiming, and waits for the sends in flight to be recorded. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.soon) clearTimeout(this.soon);
    await this.pending;
    await Promise.allSettled([...this.idle]);
    await this.deps.client.close();
  }

  private async round(): Promise<void> {
    const room = MAX_IN_FLIGHT - this.inFlight;
    if (room <= 0) return;
    const now = this.deps.clock.now();
    let claimed: ClaimedDelivery[];
    try {
      const wallNow = new Date();
      claimed = await claimDeliveries(this.deps.database, now, Math.min(room, CLAIM_BATCH), PER_WEBHOOK, this.perWebhook, new Date(wallNow.getTime() + DELIVERY_TIMEOUT_MS + 5000), wallNow);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) this.deps.log.error({ err }, 'webhook deliveries could not be claimed');
      return;
    }
    for (const d of claimed) {
      this.inFlight++;
      this.perWebhook.set(d.webhookId, (this.perWebhook.get(d.webhookId) ?? 0) + 1);
      // The slot is free once the receiver answered; the outcome is recorded after (the delivery
      // stays leased, and so neither sent again nor passed by a later event of its payment, until then).
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        this.inFlight--;
        const n = (this.perWebhook.get(d.webhookId) ?? 1) - 1;
        if (n <= 0) this.perWebhook.delete(d.webhookId); else this.perWebhook.set(d.webhookId, n);
        this.wake();
      };
      const done = this.send(d, release).finally(() => {
        release();
        this.idle.delete(done);
      });
      this.idle.add(done);
    }
    if (claimed.length === Math.min(room, CLAIM_BATCH)) this.again = true;
  }

  private secretOf(d: ClaimedDelivery): string | undefined {
    const known = this.secrets.get(d.webhookId);
    if (known?.sealed === d.secretSealed) return known.secret;
    const secret = unseal(this.deps.sealKey, d.secretSealed);
    if (secret !== undefined) this.secrets.set(d.webhookId, { sealed: d.secretSealed, secret });
    return secret;
  }

  private async send(d: ClaimedDelivery, answered: () => void): Promise<void> {
    const body = JSON.stringify(d.payload);
    const secret = this.secretOf(d);
    let status: number | undefined;
    let response: string | undefined;
    let error: string | undefined;
    let latencyMs = 0;
    let headers: Record<string, string> = {};
    if (secret === undefined) {
      error = 'not sent: the registration\'s secret cannot be read (the sealing key changed)';
    } else {
      // x-ms-date is the wall clock's: the receiver checks it against its own.
      const signature = signRequest(d.url, body, secret, new Date());
      headers = { ...signature };
      const { host: _host, ...sent } = signature;
      const rule = await this.deps.faults?.(d).catch(() => undefined);
      const result = rule && (rule.status !== null || rule.dropConnection)
        ? await faultedAnswer(rule, DELIVERY_TIMEOUT_MS)
        : await this.deps.client.sendRaw(d.url, { 'content-type': 'application/json', ...sent }, body, rule?.delayMs ?? 0);
      status = result.status;
      response = result.body;
      error = result.error;
      latencyMs = result.latencyMs;
    }
    answered();
    const at = this.deps.clock.now();
    const ok = error === undefined && status !== undefined && status >= 200 && status < 300;
    const next = new Date(at.getTime() + retryDelayMs(d.attempts));
    const givenUp = !ok && next.getTime() > d.eventAt.getTime() + RETRY_WINDOW_MS;
    try {
      await completeDelivery(this.deps.database, {
        deliveryId: d.deliveryId, lease: d.lease, status: ok ? 'DELIVERED' : givenUp ? 'FAILED' : 'PENDING', nextAttemptAt: ok || givenUp ? at : next,
        headers, responseStatus: status ?? null, response: response?.slice(0, 4000) ?? null, error: error ?? (ok ? null : `HTTP ${status}`),
        latencyMs, at,
      });
    } catch (err) {
      // Not recorded: the lease runs out and the delivery goes again (a receiver must be idempotent).
      if (!isDatabaseUnavailable(err)) this.deps.log.error({ err, deliveryId: d.deliveryId }, 'webhook delivery outcome not recorded');
    }
  }
}
