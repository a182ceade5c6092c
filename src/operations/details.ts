// GET /psp/v3/psppayments/{pspTransactionId}/details: the log and the summary derived from it.
import { errors } from '../domain/errors.ts';
import { findPayment, logOf } from '../store/payments.ts';
import { logView, type PaymentDeps } from './payment-deps.ts';

export async function details(deps: PaymentDeps, pspId: string, pspTransactionId: string) {
  const payment = await findPayment(deps.database.db, pspId, pspTransactionId);
  // Another PSP's payment answers exactly like an unknown one.
  if (!payment) throw errors.notFound(`No payment with pspTransactionId ${pspTransactionId}.`);
  const log = await logOf(deps.database.db, payment.paymentId);
  return { pspTransactionId: payment.pspTransactionId, merchantOrderId: payment.merchantOrderId, ...logView(log) };
}
