// The ePayment API for PSPs (card passthrough): create, get, events, capture, refund, cancel and the
// test-only force approve. Every call carries the PSP's token and subscription key, its Psp-Id and the
// Merchant-Serial-Number of the sales unit it acts for (one of its own). Errors are Problem JSON in the
// ePayment shape (plugins/errors.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate, normalizePspId, type AuthDeps } from '../../plugins/auth.ts';
import { ApiError } from '../../../domain/errors.ts';
import { schemaError } from '../../../domain/epayment/errors.ts';
import { REFERENCE_PATTERN } from '../../../domain/epayment/create-request.ts';
import type { PaymentDeps } from '../../../operations/payment-deps.ts';
import { adjustPayment, createPayment, getEvents, getPayment } from '../../../operations/epayment/payments.ts';
import { forceApprove } from '../../../operations/epayment/force-approve.ts';

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The Idempotency-Key header: at most 50 characters; `required` on create, capture and refund. */
function idempotencyKey(request: FastifyRequest, required: boolean): string | undefined {
  const value = header(request, 'idempotency-key')?.trim();
  if (value === undefined || value === '') {
    if (required) throw schemaError([{ name: 'Idempotency-Key', reason: 'The Idempotency-Key header is required: a string of at most 50 characters.' }]);
    return undefined;
  }
  if (value.length > 50) throw schemaError([{ name: 'Idempotency-Key', reason: 'The Idempotency-Key header must be at most 50 characters.' }]);
  return value;
}

const SYSTEM_HEADERS = ['vipps-system-name', 'vipps-system-version', 'vipps-system-plugin-name', 'vipps-system-plugin-version'] as const;

/** The Vipps-System-* headers a request carries (each at most 30 characters; longer ones are cut), kept with a created payment. */
function systemHeaders(request: FastifyRequest): Record<string, string> | undefined {
  let found: Record<string, string> | undefined;
  for (const name of SYSTEM_HEADERS) {
    const value = header(request, name)?.trim();
    if (value) (found ??= {})[name] = value.slice(0, 30);
  }
  return found;
}

/** The path's reference, checked before anything is looked up. */
function referenceOf(request: FastifyRequest): string {
  const { reference } = request.params as { reference: string };
  if (!REFERENCE_PATTERN.test(reference)) {
    throw schemaError([{ name: 'reference', reason: "The field Reference must match the regular expression '^[a-zA-Z0-9-]{8,64}$'." }]);
  }
  return reference;
}

/**
 * The checks of every ePayment call: credentials, Psp-Id (that of the credentials), and an MSN of that
 * PSP. The Webhooks API takes the MSN as optional (`msn: 'optional'`): without one, the PSP acts for
 * all its sales units.
 */
export function epaymentAuth(deps: AuthDeps, opts: { msn: 'required' | 'optional' } = { msn: 'required' }) {
  return async (request: FastifyRequest): Promise<void> => {
    const psp = await authenticate(request, deps);
    const pspId = header(request, 'psp-id');
    if (pspId === undefined || pspId.trim() === '') {
      throw schemaError([{ name: 'Psp-Id', reason: 'The Psp-Id header is required with PSP credentials: the PSP id you were given with them.' }]);
    }
    if (normalizePspId(pspId) !== psp.pspId) {
      throw new ApiError(403, 'invalid_psp_id', `Invalid Psp-Id: ${pspId.trim().slice(0, 64)} is not the PSP of these credentials.`, { title: 'Forbidden' });
    }
    const msn = header(request, 'merchant-serial-number')?.trim();
    if ((msn === undefined || msn === '') && opts.msn === 'optional') return;
    if (msn === undefined || msn === '') {
      throw schemaError([{ name: 'Merchant-Serial-Number', reason: 'The Merchant-Serial-Number header is required: the MSN of the sales unit you act for.' }]);
    }
    if (!/^\d{4,10}$/.test(msn)) throw schemaError([{ name: 'Merchant-Serial-Number', reason: "The Merchant-Serial-Number must match the regular expression '^[0-9]{4,10}$'." }]);
    try {
      request.msn = await deps.merchants.authorize(psp.pspId, msn);
    } catch (err) {
      // The same facts as PSP API v3 gives, as ePayment problems: another PSP's (or no) sales unit is
      // forbidden; an inactive one cannot take payments.
      if (err instanceof ApiError && err.status === 403) throw new ApiError(403, 'invalid_msn', `Invalid Merchant-Serial-Number: ${msn} is not a sales unit of this PSP.`, { title: 'Forbidden' });
      if (err instanceof ApiError && err.code === '21') throw new ApiError(403, 'merchant_not_active', `The sales unit ${msn} is not active.`, { title: 'Forbidden' });
      throw err;
    }
  };
}

export function registerEpaymentRoutes(app: FastifyInstance, auth: AuthDeps, deps: PaymentDeps): void {
  const onRequest = epaymentAuth(auth);
  const psp = (request: FastifyRequest) => request.psp!.pspId;
  // A change may have written events: the webhook outbox is looked at once.
  const onResponse = async () => { deps.webhooks?.wake(); };

  app.post('/epayment/v1/payments', { onRequest, onResponse }, async (request, reply) => {
    const answer = await createPayment(deps, psp(request), request.msn!, request.body, idempotencyKey(request, true), systemHeaders(request));
    return reply.code(201).send(answer);
  });

  app.get('/epayment/v1/payments/:reference', { onRequest }, async (request) => getPayment(deps, request.msn!, referenceOf(request)));

  app.get('/epayment/v1/payments/:reference/events', { onRequest }, async (request) => getEvents(deps, request.msn!, referenceOf(request)));

  for (const kind of ['capture', 'refund', 'cancel'] as const) {
    app.post(`/epayment/v1/payments/:reference/${kind}`, { onRequest, onResponse }, async (request) =>
      adjustPayment(deps, kind, psp(request), request.msn!, referenceOf(request), request.body, idempotencyKey(request, kind !== 'cancel')));
  }

  app.post('/epayment/v1/test/payments/:reference/approve', { onRequest, onResponse }, async (request, reply) => {
    await forceApprove(deps, request.msn!, referenceOf(request), request.body);
    return reply.code(200).send();
  });
}
