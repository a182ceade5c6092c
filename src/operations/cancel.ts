// The user rejects the payment (landing page, app, or the 3-D Secure cancel): USER_CANCEL, then the
// PSP is told with a makePayment that carries no card data.
import { WAITING } from '../domain/payment.ts';
import { findPaymentById, transition, type PaymentRow } from '../store/payments.ts';
import { notifyEnd } from './deliver.ts';
import { NotApprovable } from './approve.ts';
import type { PaymentDeps } from './payment-deps.ts';

export async function userCancel(deps: PaymentDeps, paymentId: string): Promise<PaymentRow> {
  const now = deps.clock.now();
  const row = await transition(deps.database.db, paymentId, WAITING, {
    state: 'USER_CANCEL', expiresAt: null, failureReason: 'USER_CANCEL',
  }, now, { beforeDeadline: true });
  if (!row) {
    const current = await findPaymentById(deps.database.db, paymentId);
    throw new NotApprovable(current?.state ?? 'UNKNOWN');
  }
  await notifyEnd(deps, row, 'USER_CANCEL');
  return row;
}
