// The HTTP client that POSTs makePayment to the PSP. Bounded by MAKE_PAYMENT_TIMEOUT_MS; the answer
// body is read up to 64 KiB. Unless private callbacks are allowed, every address the host resolves
// to is checked at connect time (no loopback, private, link-local or metadata targets, which also
// defeats DNS rebinding between validation and delivery).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { isPrivateAddress } from '../domain/url.ts';
import type { CallObserver } from '../observability/outbound.ts';
import type { TraceParent } from '../observability/trace-context.ts';

export interface DeliveryResult {
  status?: number;
  body?: string;
  error?: string;
  latencyMs: number;
}

const MAX_BODY = 64 * 1024;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function guardedLookup(hostname: string, options: { all?: boolean }, callback: LookupCallback): void {
  dnsLookup(hostname, { all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) {
      const e = Object.assign(new Error(`refusing to call ${hostname}: it resolves to the non-public address ${bad.address}`), { code: 'EPRIVATE' });
      return callback(e, []);
    }
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}

/** Resolves a URL's host and reports a non-public address (production validation at init). */
export async function resolvesToPrivate(url: string): Promise<string | undefined> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return isPrivateAddress(host) ? host : undefined;
  return new Promise((resolve) => {
    dnsLookup(host, { all: true }, (err, addresses) => {
      if (err) return resolve(`${host} (does not resolve)`);
      resolve(addresses.find((a) => isPrivateAddress(a.address))?.address);
    });
  });
}

export class MakePaymentClient {
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private readonly allowPrivate: boolean;
  private readonly observer: CallObserver | undefined;

  /** `observer`: each call as a span (its traceparent goes with it) and a metric. */
  constructor(opts: { timeoutMs: number; allowPrivate: boolean; observer?: CallObserver }) {
    this.timeoutMs = opts.timeoutMs;
    this.allowPrivate = opts.allowPrivate;
    this.observer = opts.observer;
    this.agent = new Agent({
      connections: 256,
      keepAliveTimeout: 10_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect: opts.allowPrivate ? { timeout: opts.timeoutMs } : { timeout: opts.timeoutMs, lookup: guardedLookup as never },
    });
  }

  /**
   * POSTs `body` and reads the answer, within MAKE_PAYMENT_TIMEOUT_MS. `delayMs` (a fault rule of the
   * test environment) holds the request back as a slow network would: the wait counts against the
   * timeout, and a request held back past it is still sent, late, but its answer is not waited for.
   */
  async send(url: string, authorization: string | null, body: unknown, delayMs = 0, parent?: TraceParent): Promise<DeliveryResult> {
    // The media type psp-api.openapi.yaml declares for the makePayment request body.
    const headers: Record<string, string> = { 'content-type': 'application/json;charset=UTF-8', accept: 'application/json' };
    if (authorization !== null) headers.authorization = authorization;
    return this.sendRaw(url, headers, JSON.stringify(body), delayMs, parent);
  }

  /**
   * POSTs `body` exactly as given with `headers` (a signed request: its signature covers these bytes and
   * the Host header), under the same rules and limits as `send`.
   */
  async sendRaw(url: string, headers: Record<string, string>, body: string, delayMs = 0, parent?: TraceParent): Promise<DeliveryResult> {
    if (!this.observer) return this.sendUnobserved(url, headers, body, delayMs);
    const call = this.observer.begin(url, parent);
    const result = await this.sendUnobserved(url, { ...headers, ...call.headers }, body, delayMs);
    call.end(result);
    return result;
  }

  private async sendUnobserved(url: string, headers: Record<string, string>, body: string, delayMs: number): Promise<DeliveryResult> {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    if (!this.allowPrivate) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) && isPrivateAddress(host)) return { error: `refusing to call the non-public address ${host}`, latencyMs: 0 };
    }
    if (delayMs >= this.timeoutMs) {
      await sleep(this.timeoutMs);
      setTimeout(() => { this.sendUnobserved(url, headers, body, 0).catch(() => {}); }, delayMs - this.timeoutMs).unref();
      return { error: `no answer within ${this.timeoutMs} ms`, latencyMs: latency() };
    }
    if (delayMs > 0) await sleep(delayMs);
    return this.post(url, headers, body, this.timeoutMs - delayMs, latency);
  }

  private async post(url: string, headers: Record<string, string>, body: string, timeoutMs: number, latency: () => number): Promise<DeliveryResult> {
    try {
      const response = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        const buf = chunk as Buffer;
        if (size < MAX_BODY) chunks.push(buf.subarray(0, MAX_BODY - size));
        size += buf.length;
      }
      // The answer is stored as text: NUL and unpaired surrogates, which PostgreSQL refuses, become U+FFFD.
      const text = Buffer.concat(chunks).toString('utf8').replace(/\u0000/g, '\uFFFD').toWellFormed();
      return { status: response.statusCode, body: text, latencyMs: latency() };
    } catch (err) {
      const e = err as Error & { code?: string; cause?: Error & { code?: string } };
      const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT';
      const message = timedOut ? `no answer within ${this.timeoutMs} ms` : `${e.code ?? e.cause?.code ?? e.name}: ${e.cause?.message ?? e.message}`;
      return { error: message, latencyMs: latency() };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
