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

const params = {
  type: 'object',
  required: ['pspId', 'pspTransactionId'],
  properties: { pspId: { type: 'string', maxLength: 64 }, pspTransactionId: { type: 'string', maxLength: 64 } },
} as const;

/** The answer of an action: the payment as GET answers it (these fields, and the rest of that view). */
const paymentResponse = {
  200: {
    type: 'object',
    additionalProperties: true,
    required: ['paymentId', 'pspId', 'pspTransactionId', 'state'],
    properties: {
      paymentId: { type: 'string', format: 'uuid' },
      pspId: { type: 'string' },
      pspTransactionId: { type: 'string' },
      merchantSerialNumber: { type: 'string' },
      state: { type: 'string', enum: ['INITIATED', 'AWAITING_USER', 'DELIVERING', 'AWAITING_3DS', 'RESERVED', 'FAILED', 'USER_CANCEL', 'TIMEOUT'] },
      deliveries: { type: 'array', items: { type: 'object', additionalProperties: true } },
    },
  },
} as const;

export function registerAdminPaymentRoutes(app: FastifyInstance, deps: { adminToken: AdminToken; payments: PaymentDeps }): void {
  const onRequest = adminGuard(deps.adminToken);
  const db = deps.payments.database.db;

  async function load(tx: Tx, pspId: string, pspTransactionId: string) {
    const payment = await findPayment(tx, pspId.toUpperCase(), pspTransactionId);
    if (!payment) throw errors.notFound(`No payment ${pspTransactionId} for PSP ${pspId}.`);
    return payment;
  }

  app.get('/admin/payments/:pspId/:pspTransactionId', { onRequest, schema: { params } }, async (request) => {
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

  const action = (summary: string, run: (paymentId: string) => Promise<unknown>) => ({
    handler: async (request: FastifyRequest) => {
      const { pspId, pspTransactionId } = request.params as { pspId: string; pspTransactionId: string };
      const payment = await load(db, pspId, pspTransactionId);
      await run(payment.paymentId);
      return view(payment.paymentId);
    },
    // No body is read: none, or any, is fine.
    schema: { summary, params, response: paymentResponse },
  });

  const reject = action('Reject a waiting payment as its user would (USER_CANCEL; test environment only)',
    (id) => rejectAsUser(deps.payments, id, 'admin'));
  app.post('/admin/payments/:pspId/:pspTransactionId/reject', { onRequest, schema: reject.schema }, reject.handler);

  const expire = action('Expire a waiting payment now: TIMEOUT, and its TIMEOUT makePayment to the PSP (as the sweeper does)',
    (id) => expireNow(deps.payments, id, 'admin'));
  app.post('/admin/payments/:pspId/:pspTransactionId/expire', { onRequest, schema: expire.schema }, expire.handler);

  const redeliver = action('Send again a TIMEOUT or USER_CANCEL makePayment that was not delivered (NOT_DELIVERED or ABANDONED)',
    (id) => redeliverNotification(deps.payments, id, 'admin'));
  app.post('/admin/payments/:pspId/:pspTransactionId/redeliver', { onRequest, schema: redeliver.schema }, redeliver.handler);
}
