// PSP API v3 payment routes: init, updatestatus, details, force approve; and the 3-D Secure operations URL.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pspApiAuth, type AuthDeps } from '../../plugins/auth.ts';
import { initiate } from '../../../operations/psp-v3/initiate.ts';
import { details } from '../../../operations/psp-v3/details.ts';
import { forceApprove } from '../../../operations/psp-v3/force-approve.ts';
import { threeDsReturn } from '../../../operations/psp-v3/three-ds.ts';
import { ingestStatusUpdates } from '../../../operations/psp-v3/ingest-status-updates.ts';
import type { PaymentDeps } from '../../../operations/payment-deps.ts';
import { ApiError } from '../../../domain/errors.ts';
import { MAX_STATUS_BODY_BYTES } from '../../../domain/psp-v3/status-payload.ts';
import { sendThreeDsReturnPage } from '../../web/three-ds-return.ts';
import { softDeclineCompleted } from '../../../operations/epayment/user.ts';

function idempotencyKey(request: FastifyRequest): string | undefined {
  const raw = request.headers['idempotency-key'] ?? request.headers['request-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value.trim() === '') return undefined;
  if (value.length > 100) throw new ApiError(400, '51', 'Invalid request: Idempotency-Key must be at most 100 characters.');
  return value.trim();
}

/** The init request's headers that say who sent it, as the payment records them (lowercased names, only those present). */
const INIT_HEADERS = ['idempotency-key', 'request-id', 'vipps-system-name', 'vipps-system-version', 'vipps-system-plugin-name', 'vipps-system-plugin-version'];

function initHeaders(request: FastifyRequest): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const name of INIT_HEADERS) {
    const raw = request.headers[name];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value === undefined) continue;
    (out ??= {})[name] = value.slice(0, 200);
  }
  // Only when the PSP sent one: the init's own span, the parent of the payment's makePayment calls,
  // so that they are in the trace the PSP began.
  if (request.headers.traceparent !== undefined && request.span) (out ??= {}).traceparent = request.span.traceparent();
  return out;
}

export function registerPaymentRoutes(app: FastifyInstance, auth: AuthDeps, deps: PaymentDeps): void {
  const withMsn = pspApiAuth(auth, { requireMsn: true });

  app.post('/psp/v3/psppayments/init', { onRequest: withMsn }, async (request) =>
    initiate(deps, request.psp!.pspId, request.msn!, request.body, idempotencyKey(request), initHeaders(request)));

  // psp-api.openapi.yaml declares application/json;charset=UTF-8 for init's answers (the default,
  // plugins/protocol.ts) and plain application/json for updatestatus's and details'.
  const plainJson = { mediaType: 'application/json' };

  // Up to MAX_TRANSACTIONS updates; only this route accepts bodies larger than 1 MiB (see MAX_STATUS_BODY_BYTES).
  app.post('/psp/v3/psppayments/updatestatus', { onRequest: withMsn, bodyLimit: MAX_STATUS_BODY_BYTES, config: plainJson }, async (request) =>
    ingestStatusUpdates(deps, request.psp!.pspId, request.msn!, request.body, idempotencyKey(request)));

  app.get('/psp/v3/psppayments/:pspTransactionId/details', { onRequest: withMsn, config: plainJson }, async (request) => {
    const { pspTransactionId } = request.params as { pspTransactionId: string };
    return details(deps, request.psp!.pspId, pspTransactionId);
  });

  app.post('/psp/v3/integration-test/psppayments/:pspTransactionId/approve', { onRequest: withMsn }, async (request, reply) => {
    const { pspTransactionId } = request.params as { pspTransactionId: string };
    await forceApprove(deps, request.psp!.pspId, pspTransactionId, request.body);
    return reply.code(200).send();
  });

  // The 3-D Secure operations URL: its page shows the result and leads back into the app simulator.
  app.get('/mobileintercept', async (request, reply) => {
    const q = request.query as { transactionId?: unknown; responsecode?: unknown };
    const hsts = deps.config.publicUrl.startsWith('https:');
    if (typeof q.transactionId !== 'string' || typeof q.responsecode !== 'string' || !q.transactionId || !q.responsecode) {
      return sendThreeDsReturnPage(reply, 'missing', hsts);
    }
    const result = await threeDsReturn(deps, q.transactionId, q.responsecode);
    // Not a PSP API v3 payment's: an ePayment payment's softDeclineCompletedRedirectUrl, whatever its
    // responsecode — the second card callback goes out, and its answer decides.
    if (result.kind === 'unknown') {
      const after = await softDeclineCompleted(deps, q.transactionId);
      if (after) return reply.redirect(`/app/epayments/${encodeURIComponent(after.paymentId)}`, 303);
    }
    return sendThreeDsReturnPage(reply, result, hsts);
  });
}
