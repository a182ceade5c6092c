// The Recurring API for PSPs: v3 agreements with card passthrough (draft, list, get, update, stop, the
// test-only force accept), v3 charge follow-ups (get, list, capture, refund, cancel) and the v4 PSP
// charge endpoints (the batch, payment-info, result). The same credentials and headers as ePayment
// (Psp-Id, Merchant-Serial-Number); Idempotency-Key on every POST, PATCH and DELETE; errors are the
// Recurring API's ErrorV3 (plugins/errors.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { recurringSchemaError } from '../../../domain/recurring/errors.ts';
import { CHARGE_ID_PATTERN } from '../../../domain/recurring/agreement.ts';
import type { AuthDeps } from '../../plugins/auth.ts';
import type { PaymentDeps } from '../../../operations/payment-deps.ts';
import { draftAgreement, getAgreement, listAgreements, patchAgreement } from '../../../operations/recurring/agreements.ts';
import { forceAccept } from '../../../operations/recurring/sign-up.ts';
import { adjustCharge, createCharges, getCharge, getChargeById, listCharges, paymentInfo, reportResult } from '../../../operations/recurring/charges.ts';
import { epaymentAuth } from '../epayment/payments.ts';

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The Idempotency-Key of a change: required, 1 to 40 characters, none of # ? / \ (as published). */
function idempotencyKey(request: FastifyRequest): string {
  const value = header(request, 'idempotency-key')?.trim();
  if (value === undefined || value === '') {
    throw recurringSchemaError([{ name: 'Idempotency-Key', reason: 'The Idempotency-Key header is required on every POST, PATCH and DELETE: 1 to 40 characters.' }]);
  }
  if (value.length > 40 || /[#?/\\]/.test(value)) {
    throw recurringSchemaError([{ name: 'Idempotency-Key', reason: 'The Idempotency-Key must be 1 to 40 characters, without #, ?, / or \\.' }]);
  }
  return value;
}

const AGREEMENT_ID = /^[a-zA-Z0-9_-]{1,36}$/;

function ids(request: FastifyRequest): { agreementId: string; chargeId: string } {
  const { agreementId, chargeId } = request.params as { agreementId: string; chargeId?: string };
  if (!AGREEMENT_ID.test(agreementId)) throw recurringSchemaError([{ name: 'agreementId', reason: 'Not an agreement id (letters, digits, _ and -, at most 36).' }]);
  if (chargeId !== undefined && !CHARGE_ID_PATTERN.test(chargeId)) throw recurringSchemaError([{ name: 'chargeId', reason: 'Not a charge id (letters, digits and -, at most 50).' }]);
  return { agreementId, chargeId: chargeId ?? '' };
}

export function registerRecurringRoutes(app: FastifyInstance, auth: AuthDeps, deps: PaymentDeps): void {
  const onRequest = epaymentAuth(auth);
  // A change may have written events: the webhook outbox is looked at once.
  const onResponse = async () => { deps.webhooks?.wake(); };
  const psp = (request: FastifyRequest) => request.psp!.pspId;
  const base = '/recurring/v3/agreements';

  app.post(base, { onRequest, onResponse }, async (request, reply) =>
    reply.code(201).send(await draftAgreement(deps, psp(request), request.msn!, request.body, idempotencyKey(request))));

  app.get(base, { onRequest }, async (request, reply) => {
    const page = await listAgreements(deps, request.msn!, request.query as Record<string, string | undefined>, header(request, 'continuation-token'));
    if (page.next) reply.header('continuation-token', page.next);
    return page.items;
  });

  app.get(`${base}/:agreementId`, { onRequest }, async (request) => getAgreement(deps, request.msn!, ids(request).agreementId));

  app.patch(`${base}/:agreementId`, { onRequest, onResponse }, async (request, reply) => {
    await patchAgreement(deps, psp(request), request.msn!, ids(request).agreementId, request.body, idempotencyKey(request));
    return reply.code(204).send();
  });

  app.patch(`${base}/:agreementId/accept`, { onRequest, onResponse }, async (request, reply) => {
    idempotencyKey(request);
    await forceAccept(deps, request.msn!, ids(request).agreementId, request.body);
    return reply.code(204).send();
  });

  app.get(`${base}/:agreementId/charges`, { onRequest }, async (request) =>
    listCharges(deps, request.msn!, ids(request).agreementId, (request.query as { status?: string }).status));

  app.get(`${base}/:agreementId/charges/:chargeId`, { onRequest }, async (request) => {
    const { agreementId, chargeId } = ids(request);
    return getCharge(deps, request.msn!, agreementId, chargeId);
  });

  // A charge by its id alone (the sales unit's).
  app.get('/recurring/v3/charges/:chargeId', { onRequest }, async (request) => {
    const { chargeId } = request.params as { chargeId: string };
    if (!CHARGE_ID_PATTERN.test(chargeId)) throw recurringSchemaError([{ name: 'chargeId', reason: 'Not a charge id (letters, digits and -, at most 50).' }]);
    return getChargeById(deps, request.msn!, chargeId);
  });

  app.delete(`${base}/:agreementId/charges/:chargeId`, { onRequest, onResponse }, async (request, reply) => {
    const { agreementId, chargeId } = ids(request);
    await adjustCharge(deps, 'cancel', psp(request), request.msn!, agreementId, chargeId, undefined, idempotencyKey(request));
    return reply.code(204).send();
  });

  for (const kind of ['capture', 'refund'] as const) {
    app.post(`${base}/:agreementId/charges/:chargeId/${kind}`, { onRequest, onResponse }, async (request, reply) => {
      const { agreementId, chargeId } = ids(request);
      await adjustCharge(deps, kind, psp(request), request.msn!, agreementId, chargeId, request.body, idempotencyKey(request));
      return reply.code(204).send();
    });
  }

  app.post('/recurring/v4/agreements/charges', { onRequest, onResponse }, async (request) =>
    createCharges(deps, psp(request), request.msn!, request.body, idempotencyKey(request)));

  app.get('/recurring/v4/agreements/:agreementId/charges/:chargeId/payment-info', { onRequest }, async (request) => {
    const { agreementId, chargeId } = ids(request);
    return paymentInfo(deps, request.msn!, agreementId, chargeId);
  });

  // `result`, and `finalize`, its name until July 2026.
  for (const name of ['result', 'finalize']) {
    app.post(`/recurring/v4/agreements/:agreementId/charges/:chargeId/${name}`, { onRequest, onResponse }, async (request, reply) => {
      const { agreementId, chargeId } = ids(request);
      await reportResult(deps, psp(request), request.msn!, agreementId, chargeId, request.body, idempotencyKey(request));
      return reply.code(204).send();
    });
  }
}
