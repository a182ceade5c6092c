// The user rejects the payment (landing page, app, or the 3-D Secure cancel): USER_CANCEL, and in the
// same transaction its makePayment notification (no card data) is recorded; then it is sent.
import { WAITING } from '../../domain/psp-v3/payment.ts';
import { findPaymentById, transition, type PaymentRow } from '../../store/payments.ts';
import type { Tx } from '../../store/db.ts';
import { insertPendingNotification } from '../../store/attempts.ts';
import { NotApprovable } from './approve.ts';
import type { PaymentDeps } from '../payment-deps.ts';

/** `also` runs in the same transaction once the payment is cancelled (an operator's record of doing it). */
export async function userCancel(deps: PaymentDeps, paymentId: string, also?: (tx: Tx, row: PaymentRow) => Promise<void>): Promise<PaymentRow> {
  const now = deps.clock.now();
  const ended = await deps.database.db.transaction(async (tx) => {
    const row = await transition(tx, paymentId, WAITING, {
      state: 'USER_CANCEL', expiresAt: null, failureReason: 'USER_CANCEL',
    }, now, { beforeDeadline: true });
    if (!row) return undefined;
    const attemptId = await insertPendingNotification(tx, {
      paymentId, pspTransactionId: row.pspTransactionId, msn: row.msn, url: row.makePaymentUrl, paymentState: 'USER_CANCEL',
    }, now);
    if (also) await also(tx, row);
    return { row, attemptId };
  });
  if (!ended) {
    const current = await findPaymentById(deps.database.db, paymentId);
    throw new NotApprovable(current?.state ?? 'UNKNOWN');
  }
  await deps.notifier.deliver([ended.attemptId]);
  return ended.row;
}
