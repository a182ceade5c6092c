// The go-live checklist of a PSP on the ePayment API (card passthrough), the second part of the
// readiness report: from the published PSP and ePayment checklists — payments reserved through the
// card callback and captured, partially captured, refunded, cancelled before and after authorisation;
// a soft decline completed; FAIL answered; every callback answered in time; webhooks registered,
// received and answered 2xx; idempotent retries; the Vipps-System headers. Pure: the store gathers
// the facts (store/epayment-readiness.ts).
import type { Evidence, ReadinessItem } from '../readiness.ts';

/** An ePayment payment that shows an item is met (or, in problems, that it is not). */
export interface EpaymentRef {
  /** Null for a fact about a request rather than a payment (a replayed create). */
  paymentId: string | null;
  reference: string;
  msn: string;
  at: Date;
  detail?: string;
}

export interface EpaymentReadinessFacts {
  fullyCaptured: EpaymentRef[];
  partiallyCaptured: EpaymentRef[];
  refunded: EpaymentRef[];
  cancelledBeforeAuthorization: EpaymentRef[];
  cancelledAfterAuthorization: EpaymentRef[];
  softDeclineCompleted: EpaymentRef[];
  failAnswers: EpaymentRef[];
  /** Card callbacks of the newest payments: how many, and those not answered properly. */
  callbacks: { count: number; problems: EpaymentRef[] };
  webhooks: { registrations: number; delivered: EpaymentRef[]; problems: EpaymentRef[] };
  /** Requests answered from their Idempotency-Key's stored answer (a retry). */
  replays: EpaymentRef[];
  /** The newest creates: how many carried Vipps-System-Name and -Version. */
  createHeaders: { creates: number; withSystemHeaders: number; without: EpaymentRef[]; example: EpaymentRef[] };
}

export type EpaymentGroup = 'ePayment flow' | 'ePayment card callback' | 'ePayment webhooks' | 'ePayment headers';
export const EPAYMENT_GROUPS: readonly EpaymentGroup[] = ['ePayment flow', 'ePayment card callback', 'ePayment webhooks', 'ePayment headers'];

export interface EpaymentChecklist {
  met: number;
  total: number;
  ready: boolean;
  items: Array<Omit<ReadinessItem, 'group'> & { group: EpaymentGroup }>;
}

function evidence(p: EpaymentRef): Evidence {
  return { label: p.reference, at: p.at.toISOString(), pspTransactionId: null, merchantOrderId: null, paymentId: p.paymentId, detail: [`MSN ${p.msn}`, p.detail].filter((x) => x).join(' · ') };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function evaluateEpaymentReadiness(f: EpaymentReadinessFacts): EpaymentChecklist {
  const items: EpaymentChecklist['items'] = [];
  const found = (id: string, group: EpaymentGroup, title: string, list: EpaymentRef[], seen: string, notYet: string, how: string) => {
    items.push({
      id, group, title, met: list.length > 0, summary: list.length > 0 ? `${seen} (${plural(list.length, 'example')} below).` : notYet,
      how, evidence: list.map(evidence), problems: [],
    });
  };

  found('epayment-reserved-captured', 'ePayment flow', 'A payment reserved through the card callback and captured in full', f.fullyCaptured,
    'Payments were authorised by the PSP\'s RESERVE and captured in full', 'No payment has been authorised through the card callback and captured in full yet.',
    'Create a payment (POST /epayment/v1/payments), let the user pay (or force approve it), answer the card callback with RESERVE, then capture the whole amount.');
  found('epayment-partial-capture', 'ePayment flow', 'A partial capture', f.partiallyCaptured,
    'Payments were captured in part', 'No payment has been captured in part yet.',
    'Capture less than the authorised amount of an AUTHORIZED payment (POST …/capture with a smaller modificationAmount).');
  found('epayment-refund', 'ePayment flow', 'A refund', f.refunded,
    'Captured payments were refunded', 'No payment has been refunded yet.', 'Refund a captured amount (POST …/refund).');
  found('epayment-cancel-before', 'ePayment flow', 'A payment cancelled before authorisation', f.cancelledBeforeAuthorization,
    'Payments were cancelled before the user authorised them (TERMINATED)', 'No payment has been cancelled before authorisation yet.',
    'Cancel a CREATED payment (POST …/cancel) before the user pays.');
  found('epayment-cancel-after', 'ePayment flow', 'A payment cancelled after authorisation', f.cancelledAfterAuthorization,
    'Authorised payments had their remaining reservation cancelled', 'No authorised payment has been cancelled yet.',
    'Cancel an AUTHORIZED payment that is not captured in full (POST …/cancel).');

  found('epayment-soft-decline', 'ePayment card callback', 'A soft decline completed', f.softDeclineCompleted,
    'Payments were answered SOFT_DECLINE, went through 3-D Secure and were reserved in the second callback', 'No payment has been reserved after a SOFT_DECLINE yet.',
    'Answer a card callback with {"status":"SOFT_DECLINE","softDeclineUrl":…}; after 3-D Secure send the user to softDeclineCompletedRedirectUrl and answer the second callback (the same authorizationAttemptId) with RESERVE.');
  found('epayment-fail', 'ePayment card callback', 'A card callback answered FAIL', f.failAnswers,
    'The PSP declined card callbacks with FAIL', 'No card callback has been answered FAIL yet.',
    'Answer a card callback with {"status":"FAIL","errorCode":300,"errorMessage":"Refused by Issuer"}, e.g. for a card the issuer declines.');
  items.push({
    id: 'epayment-callback-answers', group: 'ePayment card callback', title: 'Every card callback answered with a valid answer within 20 s',
    met: f.callbacks.count > 0 && f.callbacks.problems.length === 0,
    summary: f.callbacks.count === 0
      ? 'No card callback has been sent yet.'
      : f.callbacks.problems.length === 0
        ? `All ${plural(f.callbacks.count, 'card callback')} of the newest payments were answered RESERVE, FAIL or SOFT_DECLINE in time.`
        : `${plural(f.callbacks.problems.length, 'card callback')} of the newest payments got no valid answer in time (below).`,
    how: 'Answer every card callback with HTTP 200 and {"status": "RESERVE" | "FAIL" | "SOFT_DECLINE"} within 20 seconds.',
    evidence: [], problems: f.callbacks.problems.map(evidence),
  });

  const w = f.webhooks;
  items.push({
    id: 'epayment-webhooks', group: 'ePayment webhooks', title: 'Webhooks registered, received and answered 2xx',
    met: w.registrations > 0 && w.delivered.length > 0,
    summary: w.registrations === 0
      ? 'No webhook is registered (POST /webhooks/v1/webhooks).'
      : w.delivered.length === 0
        ? `${plural(w.registrations, 'webhook')} registered, but no delivery has been answered 2xx yet.`
        : `${plural(w.registrations, 'webhook')} registered; deliveries are answered 2xx${w.problems.length > 0 ? `, but ${plural(w.problems.length, 'delivery', 'deliveries')} failed or are being retried (below)` : ''}.`,
    how: 'Register a webhook for the epayments.payment.*.v1 events, verify each delivery\'s HMAC signature, and answer it 2xx within 10 seconds.',
    evidence: w.delivered.map(evidence), problems: w.problems.map(evidence),
  });

  found('epayment-idempotent-retry', 'ePayment headers', 'A request retried with its Idempotency-Key', f.replays,
    'Requests were retried with the same Idempotency-Key and answered with their first answer', 'No request has been retried with its Idempotency-Key yet.',
    'Send a create, capture or refund again with the same Idempotency-Key and body (as after a timeout): it is answered with the first answer.');
  const h = f.createHeaders;
  items.push({
    id: 'epayment-system-headers', group: 'ePayment headers', title: 'Vipps-System-Name and Vipps-System-Version sent on create',
    met: h.creates > 0 && h.withSystemHeaders === h.creates,
    summary: h.creates === 0 ? 'No payment has been created yet.' : `${h.withSystemHeaders} of the newest ${plural(h.creates, 'create')} carried Vipps-System-Name and Vipps-System-Version.`,
    how: 'Send Vipps-System-Name, Vipps-System-Version, Vipps-System-Plugin-Name and Vipps-System-Plugin-Version (each at most 30 characters) with every request.',
    evidence: h.withSystemHeaders > 0 ? h.example.map(evidence) : [], problems: h.without.map(evidence),
  });

  const met = items.filter((i) => i.met).length;
  return { met, total: items.length, ready: met === items.length, items };
}
