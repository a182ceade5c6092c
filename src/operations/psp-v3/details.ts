// GET /psp/v3/psppayments/{pspTransactionId}/details: the log and the summary derived from it.
import { errors } from '../../domain/errors.ts';
import { detailsOf } from '../../store/payments.ts';
import { logView, type PaymentDeps } from '../payment-deps.ts';

export async function details(deps: PaymentDeps, pspId: string, pspTransactionId: string) {
  const row = await detailsOf(deps.database, pspId, pspTransactionId);
  // Another PSP's payment answers exactly like an unknown one.
  if (!row) throw errors.notFound(`No payment with pspTransactionId ${pspTransactionId}.`);
  return {
    pspTransactionId: row.psp_transaction_id,
    merchantOrderId: row.merchant_order_id,
    ...logView(row.log.map((e) => ({ ...e, createdAt: new Date(e.at) }))),
  };
}
