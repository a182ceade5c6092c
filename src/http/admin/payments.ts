// Operator API for payments: a payment with its log and every makePayment attempt, and acting as
// the user (reject) in the test environment.
import type { FastifyInstance } from 'fastify';
import { errors } from '../../domain/errors.ts';
import { attemptsOf, findPayment, logOf } from '../../store/payments.ts';
import type { Tx } from '../../store/db.ts';
import { paymentAdminView, type PaymentDeps } from '../../operations/payment-deps.ts';
import { userCancel } from '../../operations/cancel.ts';
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

  app.post('/admin/payments/:pspId/:pspTransactionId/reject', {
    onRequest,
    schema: {
      tags: ['Payments'], summary: 'Reject the payment as its user would (test environment)',
      description: 'The user cancels in the app: the payment becomes USER_CANCEL and the PSP is told by makePayment.',
      params,
      response: { 200: ok('The payment after the rejection.', ref('Payment')), ...errorResponses(400, 403, 404) },
    },
  }, async (request) => {
    if (deps.payments.config.vippsEnv !== 'test') throw errors.testOnly();
    const { pspId, pspTransactionId } = request.params as { pspId: string; pspTransactionId: string };
    const payment = await load(db, pspId, pspTransactionId);
    const after = await userCancel(deps.payments, payment.paymentId);
    return paymentAdminView(after, await logOf(db, after.paymentId), await attemptsOf(db, after.paymentId));
  });
}
