// The console's ePayment payments (card passthrough): the list, newest first (PSP, MSN and state
// filters, keyset pages), and one payment with its facts, its events and every card callback — the
// signature headers sent, the body (token masked, no cryptogram), the PSP's answer and its latency —
// and its webhook deliveries.
//   GET /console/epayments            the list
//   GET /console/epayments/:id        one payment
import type { FastifyInstance } from 'fastify';
import { callbacksOf, eventsOf, findEpaymentById, listEpayments } from '../../store/epayments.ts';
import { WebError } from '../web/security.ts';
import { deliveriesOfPayment } from '../../store/webhooks.ts';
import type { ConsoleContext } from './index.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STATES = ['CREATED', 'AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED'];
const KEY = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?[+-]\d{2}(?::\d{2})?)\|([0-9a-f-]{36})$/;

export function registerEpaymentPages(scope: FastifyInstance, ctx: ConsoleContext): void {
  const db = ctx.payments.database.db;

  scope.get('/epayments', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const text = (name: string, max: number) => (typeof q[name] === 'string' ? (q[name] as string).trim().slice(0, max) : '');
    const query = { psp: ctx.scope(request) ?? text('psp', 64).toUpperCase(), msn: text('msn', 12), state: text('state', 20) };
    if (query.state && !STATES.includes(query.state)) query.state = '';
    const afterText = text('after', 100);
    const key = KEY.exec(afterText);
    const page = await listEpayments(db, { pspId: query.psp || undefined, msn: /^\d+$/.test(query.msn) ? query.msn : undefined, state: query.state || undefined },
      key ? { at: key[1], paymentId: key[2] } : undefined, 25);
    const last = page.payments.at(-1);
    return ctx.page(request, reply, {
      view: 'console/epayments', title: 'ePayment payments', section: 'epayments',
      data: {
        query, states: STATES, first: !key,
        rows: page.payments.map((p) => ({
          href: `/console/epayments/${p.paymentId}`, reference: p.reference, pspId: p.pspId, msn: p.msn, created: p.createdAt,
          amount: { value: p.amount, currency: p.currency }, state: p.state, userFlow: p.userFlow,
        })),
        next: page.more && last ? `${last.at}|${last.paymentId}` : undefined,
      },
    });
  });

  scope.get('/epayments/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const p = UUID.test(id) ? await findEpaymentById(db, id) : undefined;
    if (!p) throw new WebError(404, 'No such payment', 'There is no ePayment payment with this id.');
    ctx.own(request, p.pspId, 'Payment');
    const [events, callbacks, webhooks] = [await eventsOf(db, p.paymentId), await callbacksOf(db, p.paymentId), await deliveriesOfPayment(db, p.paymentId)];
    return ctx.page(request, reply, {
      view: 'console/epayment', title: `ePayment ${p.reference}`, section: 'epayments',
      data: { p, events, callbacks, webhooks },
    });
  });
}
