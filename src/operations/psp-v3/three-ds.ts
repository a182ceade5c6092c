// The 3-D Secure return: the PSP's 3DS page redirects the user to one of the operations URLs sent in
// makePayment. OK sends makePayment again (its OK/FAIL decides), CANCEL is a user cancel, anything
// else fails the payment.
import { appendLog, findPaymentBy3dsRef, transition, type PaymentRow } from '../../store/payments.ts';
import { NotApprovable, redeliverAfter3ds } from './approve.ts';
import { userCancel } from './cancel.ts';
import type { PaymentDeps } from '../payment-deps.ts';
import { sha256 } from '../../security/secrets.ts';

export type ThreeDsResult = { kind: 'unknown' } | { kind: 'not-waiting'; payment: PaymentRow } | { kind: 'done'; payment: PaymentRow };

export async function threeDsReturn(deps: PaymentDeps, ref: string, responseCode: string): Promise<ThreeDsResult> {
  const payment = await findPaymentBy3dsRef(deps.database.db, sha256(ref));
  if (!payment) return { kind: 'unknown' };
  if (payment.state !== 'AWAITING_3DS') return { kind: 'not-waiting', payment };
  const now = deps.clock.now();
  const code = responseCode.toUpperCase();

  if (code === 'OK') {
    const delivered = await redeliverAfter3ds(deps, payment);
    return delivered ? { kind: 'done', payment: delivered } : { kind: 'not-waiting', payment };
  }
  if (code === 'CANCEL') {
    try {
      return { kind: 'done', payment: await userCancel(deps, payment.paymentId) };
    } catch (err) {
      if (err instanceof NotApprovable) return { kind: 'not-waiting', payment };
      throw err;
    }
  }
  const failed = await deps.database.db.transaction(async (tx) => {
    const row = await transition(tx, payment.paymentId, ['AWAITING_3DS'], {
      state: 'FAILED', expiresAt: null, failureReason: '3DS_FAILED', errorText: '3-D Secure authentication failed',
    }, now, { beforeDeadline: true });
    if (row) await appendLog(tx, [{ paymentId: row.paymentId, operation: 'RESERVED', amount: row.amount, paymentText: row.paymentText, success: false, createdAt: now }], deps.database.detailsCache);
    return row;
  });
  return failed ? { kind: 'done', payment: failed } : { kind: 'not-waiting', payment };
}
