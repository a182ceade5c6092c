// The console's webhooks: every registration with how its deliveries stand, and one registration's
// deliveries, newest first — the payload, the signature headers of the last attempt, the receiver's
// answer, the latency and the next attempt — each of which can be sent again.
//   GET  /console/webhooks                          the registrations
//   GET  /console/webhooks/:id                      one registration's deliveries
//   POST /console/webhooks/:id/deliveries/:d/resend send one again now
import type { FastifyInstance } from 'fastify';
import { deliveriesOfWebhook, findWebhook, pspOfDelivery, resendDelivery, webhooksWithCounts } from '../../store/webhooks.ts';
import { WebError } from '../web/security.ts';
import type { ConsoleContext } from './index.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE = 25;

export function registerWebhookPages(scope: FastifyInstance, ctx: ConsoleContext): void {
  const db = ctx.payments.database.db;

  scope.get('/webhooks', async (request, reply) => {
    return ctx.page(request, reply, {
      view: 'console/webhooks', title: 'Webhooks', section: 'webhooks',
      data: {
        rows: (await webhooksWithCounts(db, ctx.scope(request))).map((w) => ({
          href: `/console/webhooks/${w.webhookId}`, pspId: w.pspId, msn: w.msn ?? 'all sales units', url: w.url, events: w.events.join(', '),
          pending: w.pending, delivered: w.delivered, failed: w.failed,
        })),
      },
    });
  });

  scope.get('/webhooks/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const w = UUID.test(id) ? await findWebhook(db, id.toLowerCase()) : undefined;
    if (!w) throw new WebError(404, 'No such webhook', 'There is no webhook registration with this id.');
    ctx.own(request, w.pspId, 'Webhook');
    const before = (request.query as Record<string, unknown>).before;
    const beforeId = typeof before === 'string' && /^\d{1,18}$/.test(before) ? Number(before) : undefined;
    const page = await deliveriesOfWebhook(db, w.webhookId, PAGE + 1, beforeId);
    const shown = page.slice(0, PAGE);
    const done = (request.query as Record<string, unknown>).done;
    return ctx.page(request, reply, {
      view: 'console/webhook', title: `Webhook ${w.url}`, section: 'webhooks',
      notice: done === 'resent' ? 'The delivery goes again now.' : undefined,
      data: { w, deliveries: shown, next: page.length > PAGE ? shown.at(-1)!.deliveryId : undefined, first: beforeId === undefined },
    });
  });

  scope.post('/webhooks/:id/deliveries/:delivery/resend', async (request, reply) => {
    ctx.form(request);
    const { id, delivery } = request.params as { id: string; delivery: string };
    if (request.principal?.kind === 'psp' && /^\d{1,18}$/.test(delivery) && await pspOfDelivery(db, Number(delivery)) !== request.principal.pspId) {
      throw new WebError(404, 'No such delivery', 'There is no such webhook delivery.');
    }
    if (!UUID.test(id) || !/^\d{1,18}$/.test(delivery) || !(await resendDelivery(db, Number(delivery), ctx.now()))) {
      throw new WebError(404, 'No such delivery', 'There is no such webhook delivery.');
    }
    ctx.payments.webhooks?.wake();
    request.log.info({ deliveryId: Number(delivery) }, 'webhook delivery re-sent from the console');
    return reply.redirect(`/console/webhooks/${id.toLowerCase()}?done=resent`, 303);
  });
}
