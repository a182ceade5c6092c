// The user gets past the landing page (or opens the isApp deeplink in the app): the payment request
// goes to that user's app. One conditional update INITIATED → AWAITING_USER before the landing
// deadline; the user then has APP_TIMEOUT_SECONDS to approve or reject in the app.
import { findPaymentById, transition, type PaymentRow } from '../../store/payments.ts';
import { findUser } from '../../store/users.ts';
import type { PaymentDeps } from '../payment-deps.ts';

export type PassLandingResult =
  | { kind: 'passed'; payment: PaymentRow }
  | { kind: 'unknown-user' }
  | { kind: 'unknown-payment' }
  /** The landing deadline passed (swept to TIMEOUT or not yet). */
  | { kind: 'expired'; payment: PaymentRow }
  /** The payment already left the landing phase (passed, approved, rejected, …). */
  | { kind: 'already-used'; payment: PaymentRow };

export async function passLanding(deps: PaymentDeps, paymentId: string, phone: string): Promise<PassLandingResult> {
  const db = deps.database.db;
  if (!(await findUser(db, phone))) return { kind: 'unknown-user' };
  const now = deps.clock.now();
  const passed = await transition(db, paymentId, ['INITIATED'], {
    state: 'AWAITING_USER', phone, expiresAt: new Date(now.getTime() + deps.config.appTimeoutSeconds * 1000), landingPassedAt: now,
  }, now, { beforeDeadline: true });
  if (passed) {
    deps.log.info({ pspTransactionId: passed.pspTransactionId, pspId: passed.pspId }, 'landing page passed');
    return { kind: 'passed', payment: passed };
  }
  const current = await findPaymentById(db, paymentId);
  if (!current) return { kind: 'unknown-payment' };
  if (current.state === 'INITIATED' || current.state === 'TIMEOUT') return { kind: 'expired', payment: current };
  return { kind: 'already-used', payment: current };
}
