// Operator API for ePayment payments (card passthrough): the list, newest first, and one payment with
// its events and every card callback (the signature headers sent, the PSP's answer, the latency).
import type { FastifyInstance } from 'fastify';
import { ApiError, errors } from '../../domain/errors.ts';
import { callbacksOf, eventsOf, findEpayment, listEpayments, type EpaymentRow, type ListedEpayment } from '../../store/epayments.ts';
import type { Tx } from '../../store/db.ts';
import type { PaymentDeps } from '../../operations/payment-deps.ts';
import { aggregateOf, money } from '../../operations/epayment/payments.ts';
import type { AdminToken } from '../../operations/admin-token.ts';
import { adminGuard } from './guard.ts';
import { scopeOf } from '../../operations/principals.ts';
import { endByOperator } from '../../operations/epayment/user.ts';
import { deliveriesOfPayment } from '../../store/webhooks.ts';
import { deliveryView } from './webhooks.ts';
import { describeAnswers, errorResponses, ok, ref } from './schemas.ts';

const STATES = ['CREATED', 'AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED'];

const listResponse = {
  type: 'object',
  required: ['payments', 'next'],
  properties: {
    payments: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          paymentId: { type: 'string', format: 'uuid' }, pspId: { type: 'string' }, merchantSerialNumber: { type: 'string' },
          reference: { type: 'string' }, amount: { type: 'object', properties: { currency: { type: 'string' }, value: { type: 'integer' } } },
          state: { type: 'string' }, userFlow: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' },
        },
      },
    },
    next: { type: 'string', nullable: true, description: 'Give it as `after` for the next page; null on the last.' },
  },
} as const;

function cursorOf(p: ListedEpayment): string {
  return Buffer.from(`${p.at}|${p.paymentId}`).toString('base64url');
}

function readCursor(value: string | undefined): { at: string; paymentId: string } | undefined {
  if (value === undefined || value === '') return undefined;
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(value) ? Buffer.from(value, 'base64url').toString('utf8') : '';
  const m = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?[+-]\d{2}(?::\d{2})?)\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(text);
  if (!m) throw new ApiError(400, 'invalid_query', 'Invalid query: after is not a cursor this list gave; start from the first page.', { details: [{ name: 'after', reason: 'Not a cursor of this list' }] });
  return { at: m[1], paymentId: m[2] };
}


async function adminView(tx: Tx, p: EpaymentRow) {
  const [events, callbacks, webhooks] = [await eventsOf(tx, p.paymentId), await callbacksOf(tx, p.paymentId), await deliveriesOfPayment(tx, p.paymentId)];
  return {
    paymentId: p.paymentId, pspId: p.pspId, merchantSerialNumber: p.msn, reference: p.reference, pspReference: p.pspReference,
    amount: money(p.currency, p.amount), state: p.state, userFlow: p.userFlow, paymentMethod: p.paymentMethod,
    cardPassthrough: {
      pspReference: p.cardPspReference, cardCallbackUrl: p.cardCallbackUrl, allowedCardTypes: p.allowedCardTypes,
      preferVisaPartOfVisaDankort: p.preferVisaPartOfVisaDankort, publicEncryptionKeyId: p.publicEncryptionKeyId,
    },
    customerPhone: p.customerPhone, phone: p.phone, returnUrl: p.returnUrl, paymentDescription: p.paymentDescription,
    cardBin: p.cardBin, networkTransactionReference: p.networkTransactionReference, closedReason: p.closedReason,
    expiresAt: p.expiresAt?.toISOString() ?? null, createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString(),
    aggregate: aggregateOf(p),
    events: events.map((e) => ({
      name: e.name, amount: money(p.currency, e.amount), pspReference: e.pspReference, idempotencyKey: e.idempotencyKey, success: e.success,
      timestamp: e.createdAt.toISOString(),
    })),
    cardCallbacks: callbacks.map((c) => ({
      at: c.createdAt.toISOString(), round: c.round, authorizationAttemptId: c.authorizationAttemptId, url: c.url,
      requestHeaders: c.requestHeaders, request: c.requestBody, responseStatus: c.responseStatus, responseBody: c.responseBody,
      latencyMs: c.latencyMs, outcome: c.outcome, error: c.error, completedAt: c.completedAt?.toISOString() ?? null,
    })),
    webhooks: webhooks.map(deliveryView),
  };
}

function routes(app: FastifyInstance, deps: { adminToken: AdminToken; payments: PaymentDeps }): void {
  describeAnswers(app);
  const onRequest = adminGuard(deps.adminToken);
  const db = deps.payments.database.db;

  app.get('/admin/epayments', {
    onRequest,
    schema: {
      tags: ['ePayment payments'], summary: 'List ePayment payments, newest first',
      description: 'Card passthrough payments of the ePayment API: filter by PSP, sales unit and state; pages follow with `after`.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          psp: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', description: "Only this PSP's payments (its Psp-Id, any case)." },
          msn: { type: 'string', pattern: '^\\d{1,12}$', description: "Only this sales unit's payments." },
          state: { type: 'string', enum: STATES, description: 'Only payments in this state.' },
          limit: { type: 'string', pattern: '^\\d{1,3}$', description: 'How many, newest first (1 to 100, default 25).' },
          after: { type: 'string', maxLength: 200, description: 'The `next` of the page before: the page that follows it.' },
        },
      },
      response: { 200: ok('One page of ePayment payments.', listResponse), ...errorResponses(400) },
    },
  }, async (request) => {
    const q = request.query as { psp?: string; msn?: string; state?: string; limit?: string; after?: string };
    const limit = q.limit === undefined ? 25 : Number(q.limit);
    if (limit < 1 || limit > 100) throw new ApiError(400, 'invalid_query', 'Invalid query: limit must be between 1 and 100.', { details: [{ name: 'limit', reason: 'Between 1 and 100' }] });
    const page = await listEpayments(db, { pspId: scopeOf(request.principal) ?? q.psp?.toUpperCase(), msn: q.msn, state: q.state }, readCursor(q.after), limit);
    const last = page.payments.at(-1);
    return {
      payments: page.payments.map((p) => ({
        paymentId: p.paymentId, pspId: p.pspId, merchantSerialNumber: p.msn, reference: p.reference, amount: money(p.currency, p.amount),
        state: p.state, userFlow: p.userFlow, createdAt: p.createdAt.toISOString(),
      })),
      next: page.more && last ? cursorOf(last) : null,
    };
  });

  app.get('/admin/epayments/:msn/:reference', {
    onRequest,
    schema: {
      tags: ['ePayment payments'], summary: 'An ePayment payment with its events and every card callback',
      params: {
        type: 'object',
        required: ['msn', 'reference'],
        properties: { msn: { type: 'string', maxLength: 12 }, reference: { type: 'string', maxLength: 64 } },
      },
      response: { 200: ok('The payment, its events and its card callbacks, read in one snapshot.', ref('EPayment')), ...errorResponses(400, 404) },
    },
  }, async (request) => {
    const { msn, reference } = request.params as { msn: string; reference: string };
    return db.transaction(async (tx) => {
      const p = await findEpayment(tx, msn, reference);
      if (!p) throw errors.notFound(`No ePayment payment ${reference} of sales unit ${msn}.`);
      return adminView(tx, p);
    }, { isolationLevel: 'repeatable read', accessMode: 'read only' });
  });

  for (const how of ['reject', 'expire'] as const) {
    app.post(`/admin/epayments/:msn/:reference/${how}`, {
      onRequest,
      schema: {
        tags: ['ePayment payments'],
        summary: how === 'reject' ? 'Reject a waiting ePayment payment as its user would (test environment)' : 'Expire a waiting ePayment payment now (test environment)',
        description: how === 'reject'
          ? 'A CREATED payment with no card callback in flight becomes ABORTED, with its event (and webhooks). Otherwise nothing changes. Answers the payment as it stands.'
          : 'A CREATED payment with no card callback in flight becomes EXPIRED, with its event (and webhooks). Otherwise nothing changes. Answers the payment as it stands.',
        params: {
          type: 'object', required: ['msn', 'reference'],
          properties: { msn: { type: 'string', maxLength: 12 }, reference: { type: 'string', maxLength: 64 } },
        },
        response: { 200: ok('The payment as it stands.', ref('EPayment')), ...errorResponses(400, 403, 404) },
      },
    }, async (request) => {
      if (deps.payments.config.vippsEnv !== 'test') throw errors.testOnly();
      const { msn, reference } = request.params as { msn: string; reference: string };
      const p = await endByOperator(deps.payments, msn, reference, how);
      if (!p) throw errors.notFound(`No ePayment payment ${reference} of sales unit ${msn}.`);
      return db.transaction((tx) => adminView(tx, p), { isolationLevel: 'repeatable read', accessMode: 'read only' });
    });
  }
}

export function registerAdminEpaymentRoutes(app: FastifyInstance, deps: { adminToken: AdminToken; payments: PaymentDeps }): void {
  app.register(async (scope) => routes(scope, deps));
}
