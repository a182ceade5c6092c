// The console's payments: the list (filters, search, keyset pages, new rows over server-sent events)
// and one payment (facts, timeline, the details answer as the PSP gets it, actions, copy as curl).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATES } from '../../domain/psp-v3/payment.ts';
import { filterChoices, listPayments, newestKey, paymentsSince, statusUpdatesOf, type ListKey, type ListedPayment, type PaymentFilters } from '../../store/console.ts';
import { attemptsOf, findPaymentById, logOf } from '../../store/payments.ts';
import { eventsOfPayment } from '../../store/events.ts';
import { details } from '../../operations/psp-v3/details.ts';
import { approveAsUser, expireNow, possibleActions, redeliverNotification, rejectAsUser, undeliveredNotification } from '../../operations/operator-actions.ts';
import { WebError } from '../web/security.ts';
import { timeline } from './timeline.ts';
import { formats } from './format.ts';
import type { ConsoleContext } from './index.ts';

const PAGE_SIZE = 25;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A created_at as PostgreSQL writes it: "2026-11-26 08:10:12.123456+00". */
const PG_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;
const POLL_MS = 1000;
/** A stream ends after this long; the browser reconnects (with its last event id) and is checked again. */
const STREAM_MS = 5 * 60 * 1000;
/** How far back each poll looks again, for rows other processes committed late. */
const LOOKBACK_SECONDS = 5;

interface Query { psp: string; msn: string; state: string; from: string; to: string; q: string }

function bad(message: string): WebError {
  return new WebError(400, 'Filter not understood', message);
}

/** "2026-11-26T08:10" (a datetime-local field, read as UTC) → Date. */
function utcMinute(value: string, name: string): Date | undefined {
  if (value === '') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/.test(value)) throw bad(`${name} must be a date and time such as 2026-11-26T08:00.`);
  const d = new Date(`${value.length === 10 ? `${value}T00:00` : value}Z`);
  if (Number.isNaN(d.getTime())) throw bad(`${name} is not a valid date.`);
  return d;
}

function readFilters(raw: Record<string, unknown>): { query: Query; filters: PaymentFilters } {
  const str = (k: string, max: number) => {
    const v = raw[k];
    const s = typeof v === 'string' ? v.trim() : '';
    if (s.length > max) throw bad(`${k} is too long.`);
    return s;
  };
  const query: Query = { psp: str('psp', 64).toUpperCase(), msn: str('msn', 64), state: str('state', 20).toUpperCase(), from: str('from', 25), to: str('to', 25), q: str('q', 100) };
  if (query.state && !(STATES as readonly string[]).includes(query.state)) throw bad(`state must be one of ${STATES.join(', ')}.`);
  return {
    query,
    filters: {
      pspId: query.psp || undefined, msn: query.msn || undefined, state: query.state || undefined,
      from: utcMinute(query.from, 'From'), to: utcMinute(query.to, 'To'), search: query.q || undefined,
    },
  };
}

/** "<created_at>|<payment id>" → the position, or undefined when it is not one. */
export function parseListKey(value: string): ListKey | undefined {
  const i = value.lastIndexOf('|');
  const at = value.slice(0, i);
  const paymentId = value.slice(i + 1);
  if (i < 0 || !PG_TIME.test(at) || !UUID.test(paymentId)) return undefined;
  return { at, paymentId };
}

/** A position as text, for a link or a cursor. */
export function listKeyText(key: ListKey): string {
  return `${key.at}|${key.paymentId}`;
}

function readKey(value: unknown): ListKey | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const key = parseListKey(value);
  if (!key) throw bad('The page position is not valid; start from the first page.');
  return key;
}

function row(p: ListedPayment) {
  return {
    paymentId: p.paymentId, pspId: p.pspId, pspTransactionId: p.pspTransactionId, msn: p.msn, merchantOrderId: p.merchantOrderId,
    amount: `${(p.amount / 100).toFixed(2)} ${p.currency}`, state: p.state, created: p.createdAt.toISOString().slice(0, 19).replace('T', ' '),
    href: `/console/payments/${p.paymentId}`, key: listKeyText(p.key),
  };
}

/** The curl of the PSP's GET details for a payment, with placeholders for its credentials. */
function curlOf(publicUrl: string, pspId: string, msn: string, pspTransactionId: string): string {
  return [
    `curl -sS '${publicUrl}/psp/v3/psppayments/${encodeURIComponent(pspTransactionId)}/details' \\`,
    "  -H 'Authorization: Bearer <access token>' \\",
    "  -H 'Ocp-Apim-Subscription-Key: <subscription key>' \\",
    `  -H 'PSP-ID: ${pspId}' \\`,
    `  -H 'Merchant-Serial-Number: ${msn}'`,
  ].join('\n');
}

const DONE: Record<string, string> = {
  approved: 'Approved as the user: the token was delivered to the PSP.',
  rejected: 'Rejected as the user: the PSP was sent USER_CANCEL.',
  expired: 'Expired: the PSP was sent TIMEOUT.',
  redelivered: 'The notification was sent again.',
};

type Action = 'approve' | 'reject' | 'expire' | 'redeliver';
const ACTION_TEXT: Record<Action, { title: string; explain: string; button: string; done: string }> = {
  approve: { title: 'Approve as the user', explain: "The user's first card pays: the network token goes to the PSP's makePayment, as when the user approves in the app (test environment only).", button: 'Approve', done: 'approved' },
  reject: { title: 'Reject as the user', explain: 'The payment ends as USER_CANCEL and the PSP is sent a USER_CANCEL makePayment, as when the user rejects in the app (test environment only).', button: 'Reject', done: 'rejected' },
  expire: { title: 'Expire now', explain: "The payment ends as TIMEOUT now and the PSP is sent a TIMEOUT makePayment, as when its deadline passes.", button: 'Expire now', done: 'expired' },
  redeliver: { title: 'Send the notification again', explain: 'A new makePayment with the same notification goes to the PSP; the earlier one stays in the timeline.', button: 'Send again', done: 'redelivered' },
};

export function registerPaymentPages(scope: FastifyInstance, ctx: ConsoleContext): void {
  const deps = ctx.payments;
  const db = deps.database.db;
  const streams = new Set<() => void>();
  scope.addHook('preClose', async () => { for (const end of [...streams]) end(); });

  /** The list's filters; a PSP's person's are always its own PSP's. */
  const filtersOf = (request: FastifyRequest, raw: Record<string, unknown>) => {
    const read = readFilters(raw);
    const own = ctx.scope(request);
    return own === undefined ? read : { query: { ...read.query, psp: own }, filters: { ...read.filters, pspId: own } };
  };

  scope.get('/payments', async (request, reply) => {
    const raw = request.query as Record<string, unknown>;
    const { query, filters } = filtersOf(request, raw);
    const after = readKey(raw.after);
    const own = ctx.scope(request);
    const [page, all, newest] = await Promise.all([
      listPayments(db, filters, after, PAGE_SIZE), filterChoices(db), after ? Promise.resolve(undefined) : newestKey(db, filters),
    ]);
    const choices = own === undefined ? all : { psps: all.psps.filter((p) => p.pspId === own), msns: all.msns.filter((m) => m.pspId === own) };
    const rows = page.payments.map(row);
    const base = { psp: query.psp, msn: query.msn, state: query.state, from: query.from, to: query.to, q: query.q };
    const live = !after ? `/console/payments/events${formats.query({ ...base, since: newest ?? '' })}` : undefined;
    return ctx.page(request, reply, {
      view: 'console/payments', title: 'Payments', section: 'payments',
      data: {
        rows, query, base, states: STATES, choices, live, first: !after,
        next: page.more && rows.length > 0 ? rows[rows.length - 1].key : undefined,
      },
    });
  });

  scope.get('/payments/events', async (request, reply) => {
    const raw = request.query as Record<string, unknown>;
    const { filters } = filtersOf(request, raw);
    const lastId = request.headers['last-event-id'];
    const resumed = typeof lastId === 'string' ? readKey(lastId) : undefined;
    let since = resumed?.at ?? (typeof raw.since === 'string' && PG_TIME.test(raw.since) ? raw.since : undefined) ?? (await newestKey(db, filters));
    const sent = new Set<string>(resumed ? [resumed.paymentId] : []);
    if (!resumed && since) {
      // The rows at the page's newest moment are on the page already.
      for (const p of await paymentsSince(db, filters, since, 1000, LOOKBACK_SECONDS)) sent.add(p.paymentId);
    }
    ctx.headers(reply);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    let open = true;
    let timer: NodeJS.Timeout | undefined;
    const end = () => {
      if (!open) return;
      open = false;
      if (timer) clearTimeout(timer);
      streams.delete(end);
      res.end();
    };
    streams.add(end);
    request.raw.on('close', end);
    const started = Date.now();
    const poll = async () => {
      if (!open) return;
      if (Date.now() - started > STREAM_MS) return end();
      try {
        // A few seconds back: a row committed late by another process, with an earlier created_at, still comes.
        const from = since ?? '1970-01-01 00:00:00+00';
        const found = await paymentsSince(db, filters, from, 200, LOOKBACK_SECONDS);
        const fresh = found.filter((p) => !sent.has(p.paymentId));
        for (const p of fresh) {
          sent.add(p.paymentId);
          const r = row(p);
          res.write(`event: payment\nid: ${r.key}\ndata: ${JSON.stringify(r)}\n\n`);
        }
        if (found.length > 0) since = found[found.length - 1].key.at;
        if (fresh.length === 0) res.write(': keep-alive\n\n');
        // The ids older than the look back can go (the page also ignores a row it already shows).
        if (sent.size > 5000) sent.clear();
      } catch (err) {
        request.log.warn({ err }, 'payment stream could not read new payments');
      }
      if (open) timer = setTimeout(() => { void poll(); }, POLL_MS);
    };
    timer = setTimeout(() => { void poll(); }, 0);
  });

  async function loadPage(request: FastifyRequest, id: string) {
    if (!UUID.test(id)) throw new WebError(404, 'Payment not found', 'There is no payment with this id.');
    const snapshot = await db.transaction(async (tx) => {
      const payment = await findPaymentById(tx, id);
      if (!payment) return undefined;
      const [log, attempts, updates, events, undelivered] = [
        await logOf(tx, id), await attemptsOf(tx, id), await statusUpdatesOf(tx, payment.pspId, payment.pspTransactionId),
        await eventsOfPayment(tx, id), await undeliveredNotification(tx, payment),
      ];
      return { payment, log, attempts, updates, events, undelivered };
    }, { isolationLevel: 'repeatable read', accessMode: 'read only' });
    if (!snapshot) throw new WebError(404, 'Payment not found', 'There is no payment with this id.');
    ctx.own(request, snapshot.payment.pspId, 'Payment');
    return snapshot;
  }

  scope.get('/payments/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const s = await loadPage(request, id);
    const p = s.payment;
    // Exactly what GET details answers the PSP.
    const answer = await details(deps, p.pspId, p.pspTransactionId);
    const done = (request.query as Record<string, unknown>).done;
    return ctx.page(request, reply, {
      view: 'console/payment', title: `Payment ${p.pspTransactionId}`, section: 'payments',
      notice: typeof done === 'string' && Object.hasOwn(DONE, done) ? DONE[done] : undefined,
      data: {
        p, entries: timeline(p, s.attempts, s.log, s.updates, s.events), details: JSON.stringify(answer, null, 2),
        curl: curlOf(deps.config.publicUrl, p.pspId, p.msn, p.pspTransactionId),
        actions: possibleActions(deps, p, s.undelivered), test: deps.config.vippsEnv === 'test',
      },
    });
  });

  /** The confirmation step of an action: what it will do, and the button that does it. */
  async function confirmPage(request: FastifyRequest, reply: FastifyReply, action: Action) {
    const { id } = request.params as { id: string };
    const s = await loadPage(request, id);
    const text = ACTION_TEXT[action];
    return ctx.page(request, reply, {
      view: 'console/confirm', title: text.title, section: 'payments',
      data: { p: s.payment, action, text, phone: s.payment.phone ?? s.payment.customerMobileNumber ?? '' },
    });
  }

  const run: Record<Action, (id: string, form: Record<string, string | undefined>) => Promise<unknown>> = {
    approve: (id, form) => approveAsUser(deps, id, (form.phone ?? '').trim(), 'console'),
    reject: (id) => rejectAsUser(deps, id, 'console'),
    expire: (id) => expireNow(deps, id, 'console'),
    redeliver: (id) => redeliverNotification(deps, id, 'console'),
  };

  for (const action of Object.keys(ACTION_TEXT) as Action[]) {
    scope.get(`/payments/:id/${action}`, async (request, reply) => confirmPage(request, reply, action));
    scope.post(`/payments/:id/${action}`, async (request, reply) => {
      const form = ctx.form(request);
      const { id } = request.params as { id: string };
      if (!UUID.test(id)) throw new WebError(404, 'Payment not found', 'There is no payment with this id.');
      if (request.principal?.kind === 'psp') ctx.own(request, (await findPaymentById(db, id))?.pspId, 'Payment');
      await run[action](id, form);
      return reply.redirect(`/console/payments/${id}?done=${ACTION_TEXT[action].done}`, 303);
    });
  }
}
