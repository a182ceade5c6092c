// Operator API for webhooks: every registration (with how its deliveries stand), a registration's
// deliveries newest first (payload, signature headers sent, the receiver's answer, latency, next
// attempt), and a re-send of one delivery.
import type { FastifyInstance } from 'fastify';
import { errors } from '../../domain/errors.ts';
import type { AdminToken } from '../../operations/admin-token.ts';
import type { PaymentDeps } from '../../operations/payment-deps.ts';
import { deliveriesOfWebhook, findWebhook, pspOfDelivery, resendDelivery, webhooksWithCounts, type DeliveryRow } from '../../store/webhooks.ts';
import { adminGuard } from './guard.ts';
import { mayActOn, scopeOf } from '../../operations/principals.ts';
import { describeAnswers, errorResponses, ok } from './schemas.ts';

const nullableString = { type: 'string', nullable: true } as const;
const nullableDate = { type: 'string', format: 'date-time', nullable: true } as const;

export const deliverySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    deliveryId: { type: 'integer' },
    webhookId: { type: 'string', format: 'uuid' },
    eventType: { type: 'string' },
    paymentId: { type: 'string', format: 'uuid' },
    payload: { type: 'object', additionalProperties: true, description: 'The body sent, as sent.' },
    status: { type: 'string', enum: ['PENDING', 'DELIVERED', 'FAILED'], description: 'FAILED: given up 7 days after the event.' },
    attempts: { type: 'integer' },
    nextAttemptAt: { ...nullableDate, description: 'When it goes (again), on the shared clock; null once delivered or given up.' },
    lastAttemptAt: nullableDate,
    requestHeaders: { type: 'object', nullable: true, additionalProperties: true, description: 'The signature headers of the last attempt.' },
    responseStatus: { type: 'integer', nullable: true },
    response: { ...nullableString, description: "The receiver's answer, as far as it was read." },
    error: nullableString,
    latencyMs: { type: 'integer', nullable: true },
    deliveredAt: nullableDate,
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export function deliveryView(d: DeliveryRow) {
  return {
    deliveryId: d.deliveryId, webhookId: d.webhookId, eventType: d.eventType, paymentId: d.paymentId, payload: d.payload as Record<string, unknown>,
    status: d.status, attempts: d.attempts, nextAttemptAt: d.status === 'PENDING' ? d.nextAttemptAt.toISOString() : null,
    lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null, requestHeaders: (d.lastRequestHeaders as Record<string, string> | null) ?? null,
    responseStatus: d.lastStatus, response: d.lastResponse, error: d.lastError, latencyMs: d.lastLatencyMs,
    deliveredAt: d.deliveredAt?.toISOString() ?? null, createdAt: d.createdAt.toISOString(),
  };
}

const registration = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string', format: 'uuid' }, pspId: { type: 'string' },
    merchantSerialNumber: { ...nullableString, description: "Null: the PSP's own registration, for all its sales units." },
    url: { type: 'string' }, events: { type: 'array', items: { type: 'string' } }, createdAt: { type: 'string', format: 'date-time' },
    pending: { type: 'integer' }, delivered: { type: 'integer' }, failed: { type: 'integer' },
  },
} as const;

export function registerAdminWebhookRoutes(app: FastifyInstance, deps: { adminToken: AdminToken; payments: PaymentDeps }): void {
  app.register(async (scope) => routes(scope, deps));
}

function routes(app: FastifyInstance, deps: { adminToken: AdminToken; payments: PaymentDeps }): void {
  describeAnswers(app);
  const onRequest = adminGuard(deps.adminToken);
  const db = deps.payments.database.db;

  app.get('/admin/webhooks', {
    onRequest,
    schema: {
      tags: ['Webhooks'], summary: 'Webhook registrations, with how their deliveries stand',
      querystring: { type: 'object', additionalProperties: false, properties: { psp: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } } },
      response: { 200: ok('Every registration (of one PSP with `psp`).', { type: 'object', properties: { webhooks: { type: 'array', items: registration } } }), ...errorResponses(400) },
    },
  }, async (request) => {
    const psp = scopeOf(request.principal) ?? (request.query as { psp?: string }).psp?.toUpperCase();
    return {
      webhooks: (await webhooksWithCounts(db, psp)).map((w) => ({
        id: w.webhookId, pspId: w.pspId, merchantSerialNumber: w.msn, url: w.url, events: w.events,
        createdAt: w.createdAt.toISOString(), pending: w.pending, delivered: w.delivered, failed: w.failed,
      })),
    };
  });

  app.get('/admin/webhooks/:id/deliveries', {
    onRequest,
    schema: {
      tags: ['Webhooks'], summary: "A registration's deliveries, newest first",
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } },
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          limit: { type: 'string', pattern: '^\\d{1,3}$', description: '1 to 100 (default 25).' },
          before: { type: 'string', pattern: '^\\d{1,18}$', description: 'The `next` of the page before.' },
        },
      },
      response: {
        200: ok('One page of deliveries.', { type: 'object', properties: { deliveries: { type: 'array', items: deliverySchema }, next: { type: 'integer', nullable: true } } }),
        ...errorResponses(400, 404),
      },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const q = request.query as { limit?: string; before?: string };
    const limit = Math.min(100, Math.max(1, Number(q.limit ?? 25)));
    const webhook = await findWebhook(db, id.toLowerCase());
    if (!webhook || !mayActOn(request.principal, webhook.pspId)) throw errors.notFound(`No webhook ${id}.`);
    const page = await deliveriesOfWebhook(db, id.toLowerCase(), limit + 1, q.before === undefined ? undefined : Number(q.before));
    const shown = page.slice(0, limit);
    return { deliveries: shown.map(deliveryView), next: page.length > limit ? shown.at(-1)!.deliveryId : null };
  });

  app.post('/admin/webhook-deliveries/:deliveryId/resend', {
    onRequest,
    schema: {
      tags: ['Webhooks'], summary: 'Send a delivery again now',
      description: 'Pending, delivered or given up: it goes again at once (with a fresh signature), and its record shows the new attempt.',
      params: { type: 'object', required: ['deliveryId'], properties: { deliveryId: { type: 'string', pattern: '^\\d{1,18}$' } } },
      response: { 202: ok('It goes now.', { type: 'object', properties: { deliveryId: { type: 'integer' }, status: { type: 'string' } } }), ...errorResponses(400, 404) },
    },
  }, async (request, reply) => {
    const deliveryId = Number((request.params as { deliveryId: string }).deliveryId);
    if (request.principal?.kind === 'psp' && await pspOfDelivery(db, deliveryId) !== request.principal.pspId) throw errors.notFound(`No webhook delivery ${deliveryId}.`);
    if (!(await resendDelivery(db, deliveryId, deps.payments.clock.now()))) throw errors.notFound(`No webhook delivery ${deliveryId}.`);
    deps.payments.webhooks?.wake();
    return reply.code(202).send({ deliveryId, status: 'PENDING' });
  });
}
