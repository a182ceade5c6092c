// The Webhooks API: what a registration may ask for, and when a failed delivery is tried again. Pure.
import type { FieldProblem } from './errors.ts';
import { validCallbackUrl } from './epayment/create-request.ts';

/** The event types of the ePayment API (webhooks-guide §2). */
export const EPAYMENT_EVENT_TYPES = [
  'epayments.payment.created.v1', 'epayments.payment.aborted.v1', 'epayments.payment.expired.v1', 'epayments.payment.cancelled.v1',
  'epayments.payment.captured.v1', 'epayments.payment.refunded.v1', 'epayments.payment.authorized.v1', 'epayments.payment.terminated.v1',
] as const;

/**
 * The Recurring API's event types. Their payloads are this server's own (the published material
 * names the events but not their bodies; drizzle/0013). creation-failed is never sent: no charge
 * fails its creation after its batch answered.
 */
export const RECURRING_EVENT_TYPES = [
  'recurring.agreement-activated.v1', 'recurring.agreement-rejected.v1', 'recurring.agreement-stopped.v1', 'recurring.agreement-expired.v1',
  'recurring.charge-reserved.v1', 'recurring.charge-captured.v1', 'recurring.charge-canceled.v1', 'recurring.charge-refunded.v1',
  'recurring.charge-failed.v1', 'recurring.charge-creation-failed.v1',
] as const;

/** Every event type a registration may name here. */
export const EVENT_TYPES: readonly string[] = [...EPAYMENT_EVENT_TYPES, ...RECURRING_EVENT_TYPES];

/** At most this many registrations of one sales unit (or of one PSP for all its units) per event type. */
export const REGISTRATIONS_PER_EVENT = 25;

/** The receiver must answer 2xx within this time. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** A delivery not answered 2xx is given up this long after its event. */
export const RETRY_WINDOW_MS = 7 * 24 * 3600 * 1000;

export interface Registration {
  url: string;
  events: string[];
}

/** A RegisterRequest checked: the registration, or the problems with it (named by field). */
export function validateRegistration(body: unknown, allowHttp: boolean): Registration | { problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { problems: [{ name: 'body', reason: 'The request body must be a JSON object: {"url": "https://…", "events": ["epayments.payment.captured.v1"]}.' }] };
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (key !== 'url' && key !== 'events') problems.push({ name: key, reason: 'Could not find member on object of type RegisterRequest.' });
  }
  const url = b.url;
  if (url === undefined || url === null || url === '') {
    problems.push({ name: 'url', reason: 'The property is required and cannot be null or empty.' });
  } else if (typeof url !== 'string' || url.length > 2048 || !validCallbackUrl(url, allowHttp)) {
    problems.push({ name: 'url', reason: allowHttp
      ? 'The url must be an absolute http:// or https:// URL without credentials or fragment, of at most 2048 characters.'
      : 'The url must be an absolute https:// URL without credentials or fragment, of at most 2048 characters.' });
  }
  const events = b.events;
  if (events === undefined || events === null) {
    problems.push({ name: 'events', reason: 'The property is required and cannot be null or empty.' });
  } else if (!Array.isArray(events) || events.length === 0 || events.length > 100) {
    problems.push({ name: 'events', reason: 'The events must be a list of 1 to 100 event types.' });
  } else {
    events.forEach((e, i) => {
      if (typeof e !== 'string' || !EVENT_TYPES.includes(e)) {
        problems.push({ name: `events[${i}]`, reason: `Unknown event type ${JSON.stringify(e).slice(0, 80)}: one of ${EVENT_TYPES.join(', ')}.` });
      }
    });
  }
  if (problems.length > 0) return { problems };
  return { url: url as string, events: [...new Set(events as string[])] };
}

/**
 * When attempt `attempts` + 1 of a failed delivery goes out, after `attempts` failures: about every
 * 2 s for the first four, then 60 s, 120 s, hourly up to attempt 29, then daily (the published
 * schedule, which receivers are told not to rely on).
 */
export function retryDelayMs(attempts: number): number {
  if (attempts < 4) return 2_000;
  if (attempts === 4) return 60_000;
  if (attempts === 5) return 120_000;
  if (attempts < 29) return 3_600_000;
  return 24 * 3_600_000;
}
