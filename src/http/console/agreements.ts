// The console's Recurring agreements: the list, newest first (PSP filter), and one agreement with its
// facts, every card callback (sign-up, card changes: signature headers, body with the token masked,
// the PSP's answer, latency), each charge with its timeline (created, payment-info fetches, results,
// captures, refunds, cancels), charges due and not reported marked, and its webhook deliveries.
//   GET /console/agreements            the list
//   GET /console/agreements/:id        one agreement
import type { FastifyInstance } from 'fastify';
import { agreementById, callbacksOfAgreement, chargesOfAgreement, historyOf, recentAgreements } from '../../store/recurring.ts';
import { deliveriesOfPayment } from '../../store/webhooks.ts';
import { isDueAt } from '../../domain/recurring/charges.ts';
import { WebError } from '../web/security.ts';
import type { ConsoleContext } from './index.ts';

const ID = /^[A-Za-z0-9_-]{1,36}$/;

export function registerAgreementPages(scope: FastifyInstance, ctx: ConsoleContext): void {
  const deps = ctx.payments;
  const db = deps.database.db;

  scope.get('/agreements', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const psp = ctx.scope(request) ?? (typeof q.psp === 'string' ? q.psp.trim().slice(0, 64).toUpperCase() : '');
    const found = await recentAgreements(db, 100, psp || undefined);
    return ctx.page(request, reply, {
      view: 'console/agreements', title: 'Recurring agreements', section: 'agreements',
      data: {
        query: { psp },
        rows: found.map((a) => ({
          href: `/console/agreements/${encodeURIComponent(a.agreementId)}`, id: a.agreementId, pspId: a.pspId, msn: a.msn, created: a.createdAt,
          productName: a.productName, status: a.status, pricing: a.pricingType === 'LEGACY' ? { value: a.amount ?? 0, currency: a.currency } : undefined, pricingType: a.pricingType,
        })),
      },
    });
  });

  scope.get('/agreements/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const a = ID.test(id) ? await agreementById(db, id) : undefined;
    if (!a) throw new WebError(404, 'No such agreement', 'There is no Recurring agreement with this id.');
    ctx.own(request, a.pspId, 'Agreement');
    const [charges, callbacks, webhooks] = [await chargesOfAgreement(db, a.agreementId), await callbacksOfAgreement(db, a.agreementId), await deliveriesOfPayment(db, a.uuid)];
    const history = await historyOf(db, a.msn, charges.map((c) => c.chargeId));
    const now = deps.clock.now();
    return ctx.page(request, reply, {
      view: 'console/agreement', title: `Agreement ${a.agreementId}`, section: 'agreements',
      data: {
        a, callbacks, webhooks,
        charges: charges.map((c) => ({
          ...c,
          // Due and waiting for the PSP's payment-info or result.
          overdue: (c.status === 'DUE' || c.status === 'PROCESSING') && c.due !== null && isDueAt(c.due, now),
          timeline: history.filter((h) => h.chargeId === c.chargeId),
        })),
      },
    });
  });
}
