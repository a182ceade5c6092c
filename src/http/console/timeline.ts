// One payment's history as a single timeline, from what the store holds: the payment row (init and its
// headers, landing page, app), its makePayment attempts, its log, its status updates and its events.
// Pure: rows in, entries out, oldest first.
import type { AttemptRow, LogRow, PaymentRow } from '../../store/payments.ts';
import type { EventRow } from '../../store/events.ts';
import type { StatusUpdateRow } from '../../store/console.ts';

export interface TimelineEntry {
  at: Date;
  title: string;
  /** ok | bad | '' (the dot's colour) */
  tone: string;
  facts: Array<[string, string]>;
  /** Request or answer bodies, shown as text. */
  blocks: Array<{ label: string; text: string }>;
}

/** A network token as it may be shown: the number's first six and last four digits, no cryptogram. */
export function maskRequest(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const b = { ...(body as Record<string, unknown>) };
  const token = b.networkToken;
  if (typeof token === 'object' && token !== null) {
    const t = { ...(token as Record<string, unknown>) };
    if (typeof t.number === 'string' && /\d{7,}/.test(t.number)) {
      const n = t.number;
      t.number = `${n.slice(0, 6)}${'*'.repeat(Math.max(0, n.length - 10))}${n.slice(-4)}`;
    }
    if (t.cryptogram !== undefined && t.cryptogram !== '[redacted]') t.cryptogram = '[redacted]';
    b.networkToken = t;
  }
  return b;
}

function pretty(value: unknown): string {
  if (typeof value === 'string') {
    try { return JSON.stringify(JSON.parse(value), null, 2); } catch { return value; }
  }
  return JSON.stringify(value, null, 2) ?? '';
}

const ACTIONS: Record<string, string> = {
  approve: 'Operator approved as the user', reject: 'Operator rejected as the user',
  expire: 'Operator expired the payment', redeliver: 'Operator sent the notification again',
};

export function timeline(p: PaymentRow, attempts: AttemptRow[], log: LogRow[], updates: StatusUpdateRow[], events: EventRow[]): TimelineEntry[] {
  const out: Array<TimelineEntry & { order: number }> = [];
  let order = 0;
  const add = (e: TimelineEntry) => out.push({ ...e, order: order++ });

  const headers = Object.entries(p.initHeaders ?? {});
  add({
    at: p.createdAt, title: 'Payment initiated', tone: '',
    facts: [
      ['Amount', `${p.amount} ${p.currency} (minor units)`], ['MSN', p.msn], ['merchantOrderId', p.merchantOrderId],
      ...(p.customerMobileNumber ? [['customerMobileNumber', p.customerMobileNumber] as [string, string]] : []),
      ['isApp', String(p.isApp)], ['skipLandingPage', String(p.skipLandingPage)],
      ...headers.map(([k, v]) => [k, v] as [string, string]),
    ],
    blocks: [],
  });
  if (headers.length === 0) out[out.length - 1].facts.push(['Headers', 'none of Idempotency-Key, Request-Id, Vipps-System-* were sent']);
  if (p.landingPassedAt) {
    add({ at: p.landingPassedAt, title: p.isApp ? 'App opened from the deeplink' : 'Landing page passed', tone: '', facts: p.phone ? [['User', p.phone]] : [], blocks: [] });
  }
  if (p.appOpenedAt) add({ at: p.appOpenedAt, title: 'Payment opened in the app', tone: '', facts: [], blocks: [] });

  let round = 0;
  for (const a of attempts) {
    const isToken = a.paymentState === 'ACCEPTED';
    if (isToken) round++;
    const title = isToken
      ? (round === 1 ? 'Approved: makePayment with the network token' : 'After 3-D Secure: makePayment again')
      : a.paymentState === 'TIMEOUT' ? 'makePayment: TIMEOUT notification'
        : a.paymentState === 'USER_CANCEL' ? 'makePayment: USER_CANCEL notification' : `makePayment: ${a.paymentState}`;
    const good = ['RESERVED', 'NOTIFIED'].includes(a.outcome);
    const bad = ['FAILED', 'NOT_DELIVERED', 'ABANDONED'].includes(a.outcome) || a.error !== null;
    const facts: Array<[string, string]> = [['Outcome', a.outcome], ['URL', a.url]];
    if (a.responseStatus !== null) facts.push(['HTTP status', String(a.responseStatus)]);
    if (a.latencyMs !== null) facts.push(['Latency', `${a.latencyMs} ms`]);
    if (a.error) facts.push(['Error', a.error]);
    const blocks = [{ label: 'Request (token masked)', text: pretty(maskRequest(a.requestBody)) }];
    if (a.responseBody !== null) blocks.push({ label: "The PSP's answer", text: pretty(a.responseBody) });
    // The moment that ended the payment is when its first notification was recorded (same transaction).
    if (a.paymentState === 'TIMEOUT' && a === attempts.find((x) => x.paymentState === 'TIMEOUT')) {
      add({ at: a.createdAt, title: 'Expired: the deadline passed or the operator expired it', tone: 'bad', facts: [], blocks: [] });
    }
    if (a.paymentState === 'USER_CANCEL' && a === attempts.find((x) => x.paymentState === 'USER_CANCEL')) {
      add({ at: a.createdAt, title: 'Rejected (USER_CANCEL)', tone: 'bad', facts: [], blocks: [] });
    }
    add({ at: a.sentAt ?? a.createdAt, title, tone: good ? 'ok' : bad ? 'bad' : '', facts, blocks });
    if (a.outcome === 'AWAITING_3DS') {
      add({ at: a.completedAt ?? a.createdAt, title: '3-D Secure requested (SOFT_DECLINE): waiting for the user', tone: '', facts: p.url3dSecure ? [['url3dSecure', p.url3dSecure]] : [], blocks: [] });
    }
  }
  if (p.failureReason === '3DS_FAILED') add({ at: p.updatedAt, title: '3-D Secure failed', tone: 'bad', facts: [], blocks: [] });
  if (p.state === 'TIMEOUT' && !attempts.some((a) => a.paymentState === 'TIMEOUT')) {
    add({ at: p.updatedAt, title: 'Expired', tone: 'bad', facts: [], blocks: [] });
  }

  for (const e of log) {
    if (e.operation === 'RESERVED') continue; // shown with its makePayment
    add({ at: e.createdAt, title: `Log: ${e.operation} ${e.success ? 'succeeded' : 'failed'}`, tone: e.success ? 'ok' : 'bad', facts: [['Amount', String(e.amount)], ...(e.paymentText ? [['Text', e.paymentText] as [string, string]] : [])], blocks: [] });
  }

  for (const u of updates) {
    const facts: Array<[string, string]> = [['Status', u.status], ['operationStatus', u.operationStatus], ['Amount', `${u.amount} ${u.currency}`]];
    if (u.processedAt) {
      facts.push(['Batch', `run ${u.runId ?? '?'} at ${u.processedAt.toISOString()}: ${u.outcome ?? ''}${u.reason ? ` (${u.reason})` : ''}`]);
    } else {
      facts.push(['Batch', 'waiting for the next run']);
    }
    add({ at: u.receivedAt, title: `Status update received: ${u.status}`, tone: u.outcome === 'REJECTED' ? 'bad' : u.outcome === 'APPLIED' ? 'ok' : '', facts, blocks: [] });
  }

  for (const e of events) {
    const [actor, action] = e.kind.split('.');
    if (actor === 'console' || actor === 'admin') {
      add({
        at: e.createdAt, title: `${ACTIONS[action] ?? e.kind} (${actor === 'console' ? 'console' : 'operator API'})`, tone: '',
        facts: Object.entries(e.data).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]), blocks: [],
      });
    } else {
      add({ at: e.createdAt, title: e.kind, tone: e.kind === 'api.error' ? 'bad' : '', facts: [], blocks: [{ label: 'Data', text: pretty(e.data) }] });
    }
  }

  out.sort((a, b) => a.at.getTime() - b.at.getTime() || a.order - b.order);
  return out.map(({ order: _order, ...e }) => e);
}
