// Operator API for Recurring agreements: the list, newest first; one agreement with its charges (each
// with its history) and every card callback; and, in the test environment, what the user does in the
// app after signing up: change the card (a zero-amount card callback) and stop the agreement.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, errors } from '../../domain/errors.ts';
import { agreementById, callbacksOfAgreement, chargesOfAgreement, historyOf, recentAgreements, type AgreementRow } from '../../store/recurring.ts';
import type { PaymentDeps } from '../../operations/payment-deps.ts';
import type { AdminToken } from '../../operations/admin-token.ts';
import { agreementView } from '../../operations/recurring/agreements.ts';
import { chargeView } from '../../operations/recurring/charges.ts';
import { changeCard, stopByUser } from '../../operations/recurring/sign-up.ts';
import { adminGuard } from './guard.ts';
import { mayActOn, scopeOf } from '../../operations/principals.ts';
import { describeAnswers, errorResponses, ok } from './schemas.ts';

const anyObject = { type: 'object', additionalProperties: true } as const;
const agreementDetail = {
  type: 'object',
  additionalProperties: true,
  properties: {
    agreement: anyObject,
    pspId: { type: 'string' }, merchantSerialNumber: { type: 'string' }, phone: { type: 'string', nullable: true },
    closedReason: { type: 'string', nullable: true }, stoppedBy: { type: 'string', nullable: true },
    charges: { type: 'array', items: anyObject },
    cardCallbacks: { type: 'array', items: anyObject },
  },
} as const;
const idParams = { type: 'object', required: ['agreementId'], properties: { agreementId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,36}$' } } } as const;

async function detail(deps: PaymentDeps, a: AgreementRow) {
  const db = deps.database.db;
  const charges = await chargesOfAgreement(db, a.agreementId);
  const history = await historyOf(db, a.msn, charges.map((c) => c.chargeId));
  const callbacks = await callbacksOfAgreement(db, a.agreementId);
  return {
    agreement: agreementView(deps, a), pspId: a.pspId, merchantSerialNumber: a.msn, phone: a.phone, closedReason: a.closedReason, stoppedBy: a.stoppedBy,
    charges: charges.map((c) => ({
      ...chargeView(c, history.filter((h) => h.chargeId === c.chargeId)),
      due: c.due, paymentInfoFetches: c.paymentInfoCount, lastResult: c.result ?? null,
      timeline: history.filter((h) => h.chargeId === c.chargeId).map((h) => ({ at: h.createdAt.toISOString(), event: h.event, amount: h.amount, success: h.success, detail: h.detail ?? null })),
    })),
    cardCallbacks: callbacks.map((c) => ({
      at: c.createdAt.toISOString(), purpose: c.purpose, round: c.round, authorizationAttemptId: c.authorizationAttemptId, url: c.url,
      requestHeaders: c.requestHeaders, request: c.requestBody, responseStatus: c.responseStatus, responseBody: c.responseBody,
      latencyMs: c.latencyMs, outcome: c.outcome, error: c.error, completedAt: c.completedAt?.toISOString() ?? null,
    })),
  };
}

function routes(app: FastifyInstance, deps: { adminToken: AdminToken; payments: PaymentDeps }): void {
  describeAnswers(app);
  const onRequest = adminGuard(deps.adminToken);
  const p = deps.payments;

  app.get('/admin/agreements', {
    onRequest,
    schema: {
      tags: ['Recurring agreements'], summary: 'List Recurring agreements, newest first',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          psp: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', description: "Only this PSP's agreements." },
          limit: { type: 'string', pattern: '^\\d{1,3}$', description: 'How many (1 to 100, default 25).' },
        },
      },
      response: { 200: ok('Agreements, newest first.', { type: 'object', properties: { agreements: { type: 'array', items: anyObject } } }), ...errorResponses(400) },
    },
  }, async (request) => {
    const q = request.query as { psp?: string; limit?: string };
    const limit = q.limit === undefined ? 25 : Number(q.limit);
    if (limit < 1 || limit > 100) throw new ApiError(400, 'invalid_query', 'Invalid query: limit must be between 1 and 100.', { details: [{ name: 'limit', reason: 'Between 1 and 100' }] });
    const found = await recentAgreements(p.database.db, limit, scopeOf(request.principal) ?? q.psp?.toUpperCase());
    return { agreements: found.map((a) => ({ ...agreementView(p, a), pspId: a.pspId, merchantSerialNumber: a.msn })) };
  });

  /** A PSP's person acts only on its PSP's agreements (another's is a 404, as if there were none). */
  async function own(request: FastifyRequest): Promise<void> {
    if (request.principal?.kind !== 'psp') return;
    const a = await agreementById(p.database.db, (request.params as { agreementId: string }).agreementId);
    if (!a || !mayActOn(request.principal, a.pspId)) throw errors.notFound('No such agreement.');
  }

  app.get('/admin/agreements/:agreementId', {
    onRequest,
    schema: {
      tags: ['Recurring agreements'], summary: 'An agreement with its charges (and their timelines) and every card callback',
      params: idParams,
      response: { 200: ok('The agreement.', agreementDetail), ...errorResponses(400, 404) },
    },
  }, async (request) => {
    const a = await agreementById(p.database.db, (request.params as { agreementId: string }).agreementId);
    if (!a || !mayActOn(request.principal, a.pspId)) throw errors.notFound('No such agreement.');
    return detail(p, a);
  });

  app.post('/admin/agreements/:agreementId/change-card', {
    onRequest,
    schema: {
      tags: ['Recurring agreements'], summary: 'The user changes the card of an ACTIVE agreement (test environment)',
      description: 'A zero-amount card callback with the new card goes to the PSP; on RESERVE the new card pays from then on, else the old one stays (400 says why). Without `cardId`, the user\'s next card the agreement allows.',
      params: idParams,
      body: { type: 'object', additionalProperties: false, properties: { cardId: { type: 'string', format: 'uuid' } } },
      response: { 200: ok('The agreement after the change.', agreementDetail), ...errorResponses(400, 403, 404, 409) },
    },
  }, async (request) => {
    if (p.config.vippsEnv !== 'test') throw errors.testOnly();
    await own(request);
    const body = (request.body ?? {}) as { cardId?: string };
    return detail(p, await changeCard(p, (request.params as { agreementId: string }).agreementId, body.cardId));
  });

  app.post('/admin/agreements/:agreementId/stop', {
    onRequest,
    schema: {
      tags: ['Recurring agreements'], summary: 'The user stops an agreement in the app (test environment)',
      description: 'The agreement is STOPPED by the user; its charges not yet paid are cancelled.',
      params: idParams,
      response: { 200: ok('The stopped agreement.', agreementDetail), ...errorResponses(400, 403, 404) },
    },
  }, async (request) => {
    if (p.config.vippsEnv !== 'test') throw errors.testOnly();
    await own(request);
    return detail(p, await stopByUser(p, (request.params as { agreementId: string }).agreementId));
  });
}

export function registerAdminRecurringRoutes(app: FastifyInstance, deps: { adminToken: AdminToken; payments: PaymentDeps }): void {
  app.register(async (scope) => routes(scope, deps));
}
