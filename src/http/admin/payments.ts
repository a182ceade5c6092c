// Operator API for payments: a payment with its log and every makePayment attempt; acting as the user
// (reject) in the test environment; expiring a waiting payment now; sending a TIMEOUT or USER_CANCEL
// notification again that did not reach the PSP. Each action is recorded as an `admin.*` event.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../../domain/errors.ts';
import { attemptsOf, findPayment, findPaymentById, logOf } from '../../store/payments.ts';
import type { Tx } from '../../store/db.ts';
import { paymentAdminView, type PaymentDeps } from '../../operations/payment-deps.ts';
import { expireNow, redeliverNotification, rejectAsUser } from '../../operations/operator-actions.ts';
import type { AdminToken } from '../../operations/admin-token.ts';
import { adminGuard } from './guard.ts';
import { describeAnswers, errorResponses, ok, ref } from './schemas.ts';

const params = {
  type: 'object',
  required: ['pspId', 'pspTransactionId'],
  properties: {
    pspId: { type: 'string', maxLength: 64, description: 'The PSP\'s Psp-Id (any case).' },
    pspTransactionId: { type: 'string', maxLength: 64 },
  },
} as const;

export function registerAdminPaymentRoutes(app: FastifyInstance, deps: { adminToken: AdminToken; payments: PaymentDeps }): void {
  app.register(async (scope) => routes(scope, deps));
}

function routes(app: FastifyInstance, deps: { adminToken: AdminToken; payments: PaymentDeps }): void {
  describeAnswers(app);
  const onRequest = adminGuard(deps.adminToken);
  const db = deps.payments.database.db;

  async function load(tx: Tx, pspId: string, pspTransactionId: string) {
    const payment = await findPayment(tx, pspId.toUpperCase(), pspTransactionId);
    if (!payment) throw errors.notFound(`No payment ${pspTransactionId} for PSP ${pspId}.`);
    return payment;
  }

  app.get('/admin/payments/:pspId/:pspTransactionId', {
    onRequest,
    schema: {
      tags: ['Payments'], summary: 'A payment with its log and every makePayment attempt',
      params,
      response: { 200: ok('The payment, its log and its makePayment attempts, read in one snapshot.', ref('Payment')), ...errorResponses(400, 404) },
    },
  }, async (request) => {
    const { pspId, pspTransactionId } = request.params as { pspId: string; pspTransactionId: string };
    // One snapshot: the payment, its log and its attempts as they were at one moment.
    return db.transaction(async (tx) => {
      const payment = await load(tx, pspId, pspTransactionId);
      return paymentAdminView(payment, await logOf(tx, payment.paymentId), await attemptsOf(tx, payment.paymentId));
    }, { isolationLevel: 'repeatable read', accessMode: 'read only' });
  });

  async function view(paymentId: string) {
    return db.transaction(async (tx) => {
      const payment = (await findPaymentById(tx, paymentId))!;
      return paymentAdminView(payment, await logOf(tx, paymentId), await attemptsOf(tx, paymentId));
    }, { isolationLevel: 'repeatable read', accessMode: 'read only' });
  }

  const action = (summary: string, description: string, codes: number[], run: (paymentId: string) => Promise<unknown>) => ({
    handler: async (request: FastifyRequest) => {
      const { pspId, pspTransactionId } = request.params as { pspId: string; pspTransactionId: string };
      const payment = await load(db, pspId, pspTransactionId);
      await run(payment.paymentId);
      return view(payment.paymentId);
    },
    // No body is read: none, or any, is fine.
    schema: {
      tags: ['Payments'], summary, description, params,
      response: { 200: ok('The payment after the action, read in one snapshot.', ref('Payment')), ...errorResponses(...codes) },
    },
  });

  const reject = action('Reject the payment as its user would (test environment)',
    'The user cancels in the app: the payment becomes USER_CANCEL and the PSP is told by makePayment. Recorded as an admin.reject event.',
    [400, 403, 404, 409], (id) => rejectAsUser(deps.payments, id, 'admin'));
  app.post('/admin/payments/:pspId/:pspTransactionId/reject', { onRequest, schema: reject.schema }, reject.handler);

  const expire = action('Expire a waiting payment now',
    'The payment becomes TIMEOUT and the PSP gets its TIMEOUT makePayment, as when its deadline passes. Recorded as an admin.expire event.',
    [400, 404, 409], (id) => expireNow(deps.payments, id, 'admin'));
  app.post('/admin/payments/:pspId/:pspTransactionId/expire', { onRequest, schema: expire.schema }, expire.handler);

  const redeliver = action('Send a notification again',
    'A TIMEOUT or USER_CANCEL makePayment that ended NOT_DELIVERED or ABANDONED goes out once more. Recorded as an admin.redeliver event.',
    [400, 404, 409], (id) => redeliverNotification(deps.payments, id, 'admin'));
  app.post('/admin/payments/:pspId/:pspTransactionId/redeliver', { onRequest, schema: redeliver.schema }, redeliver.handler);
}
