// A webhook receiver for tests: an HTTP server on loopback, registered with the Webhooks API for the
// events asked for, that verifies every delivery (signature with its registration's secret, date,
// payload shape) and keeps it. A delivery that does not verify is answered 401 and kept apart.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureError, verifyWebhook } from '../client/verify.ts';
import type { EpaymentClient } from '../client/epayment.ts';
import type { WebhookEvent, WebhookEventType } from '../client/epayment-types.ts';

export interface WebhookReceiverOptions {
  /** The event types to register for (default: every ePayment event). */
  events?: WebhookEventType[];
  /** A sales unit's registration (default the demo MSN); `null` for the PSP's own, for all its sales units. */
  merchantSerialNumber?: string | null;
  /** The status the receiver answers with (default 200): a number, or a function of the event. */
  answer?: number | ((event: WebhookEvent) => number);
}

export interface TestWebhookReceiver extends AsyncDisposable {
  /** The registration's id. */
  id: string;
  url: string;
  /** The events received and verified so far, in order of arrival (retries included). */
  received(): WebhookEvent[];
  /** Why deliveries were refused (a signature that did not verify); empty in a sound run. */
  refused(): string[];
  /** Waits until `count` events have arrived (or one matching `predicate`); throws after `timeoutMs` (default 5000). */
  waitFor(countOrPredicate: number | ((event: WebhookEvent) => boolean), timeoutMs?: number): Promise<WebhookEvent[]>;
  /** Deletes the registration and stops the server. */
  close(): Promise<void>;
}

export const ALL_EPAYMENT_EVENTS: WebhookEventType[] = [
  'epayments.payment.created.v1', 'epayments.payment.aborted.v1', 'epayments.payment.expired.v1', 'epayments.payment.cancelled.v1',
  'epayments.payment.captured.v1', 'epayments.payment.refunded.v1', 'epayments.payment.authorized.v1', 'epayments.payment.terminated.v1',
];

export async function startWebhookReceiver(client: EpaymentClient, options: WebhookReceiverOptions = {}): Promise<TestWebhookReceiver> {
  const received: WebhookEvent[] = [];
  const refused: string[] = [];
  const waiters = new Set<() => void>();
  let secret = '';
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      try {
        const event = verifyWebhook({ body: Buffer.concat(chunks), headers: request.headers, pathAndQuery: request.url ?? '/', secret });
        received.push(event);
        for (const wake of waiters) wake();
        const status = typeof options.answer === 'function' ? options.answer(event) : options.answer ?? 200;
        response.writeHead(status).end();
      } catch (err) {
        refused.push(err instanceof SignatureError ? err.reason : String(err));
        response.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`;
  const scope = options.merchantSerialNumber === undefined ? {} : { merchantSerialNumber: options.merchantSerialNumber };
  let registered: { id: string; secret: string };
  try {
    registered = await client.registerWebhook({ url, events: options.events ?? ALL_EPAYMENT_EVENTS }, scope);
  } catch (err) {
    server.close();
    throw err;
  }
  secret = registered.secret;
  let closing: Promise<void> | undefined;
  const receiver: TestWebhookReceiver = {
    id: registered.id,
    url,
    received: () => [...received],
    refused: () => [...refused],
    async waitFor(countOrPredicate, timeoutMs = 5000) {
      const done = () => (typeof countOrPredicate === 'number' ? received.length >= countOrPredicate : received.some(countOrPredicate));
      const deadline = Date.now() + timeoutMs;
      while (!done()) {
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(`waitFor: ${typeof countOrPredicate === 'number' ? `${countOrPredicate} webhook events` : 'a matching webhook event'} did not arrive within ${timeoutMs} ms; received: ${received.map((e) => `${e.reference} ${e.name}`).join(', ') || 'none'}`);
        }
        await new Promise<void>((resolve) => {
          const wake = () => { clearTimeout(timer); waiters.delete(wake); resolve(); };
          const timer = setTimeout(wake, left);
          waiters.add(wake);
        });
      }
      return [...received];
    },
    close() {
      closing ??= (async () => {
        await client.deleteWebhook(registered.id, scope).catch(() => {});
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return receiver.close();
    },
  };
  return receiver;
}
