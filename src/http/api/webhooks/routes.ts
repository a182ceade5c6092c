// The Webhooks API (v1): register, list and delete webhooks. The same headers as the ePayment API, with
// Merchant-Serial-Number optional: with it a registration is the sales unit's, without it the PSP's own
// (for every sales unit). Errors are Problem JSON in the ePayment shape.
import type { FastifyInstance } from 'fastify';
import type { AuthDeps } from '../../plugins/auth.ts';
import type { PaymentDeps } from '../../../operations/payment-deps.ts';
import { epaymentAuth } from '../epayment/payments.ts';
import { deleteRegistration, listRegistrations, registerWebhook } from '../../../operations/webhooks/registrations.ts';

export function registerWebhookRoutes(app: FastifyInstance, auth: AuthDeps, deps: PaymentDeps): void {
  const onRequest = epaymentAuth(auth, { msn: 'optional' });

  app.post('/webhooks/v1/webhooks', { onRequest }, async (request, reply) => {
    const answer = await registerWebhook(deps, request.psp!.pspId, request.msn, request.body);
    deps.webhooks?.wake();
    return reply.code(201).send(answer);
  });

  app.get('/webhooks/v1/webhooks', { onRequest }, async (request) => listRegistrations(deps, request.psp!.pspId, request.msn));

  app.delete('/webhooks/v1/webhooks/:id', { onRequest }, async (request, reply) => {
    await deleteRegistration(deps, request.psp!.pspId, request.msn, (request.params as { id: string }).id);
    return reply.code(204).send();
  });
}
