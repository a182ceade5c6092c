// POST /psp/v3/integration-test/psppayments/{pspTransactionId}/approve: what the user's approval in
// the app does, for automated tests. Test environment only. Answers after the delivery finished.
import { ApiError, errors } from '../../domain/errors.ts';
import { approvalContext } from '../../store/payments.ts';
import { safeEqual, sha256 } from '../../security/secrets.ts';
import { approveLoaded } from './approve.ts';
import type { PaymentDeps } from '../payment-deps.ts';

export async function forceApprove(deps: PaymentDeps, pspId: string, pspTransactionId: string, body: unknown): Promise<void> {
  if (deps.config.vippsEnv !== 'test') throw errors.testOnly();
  const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const problems = [];
  if (typeof b.customerPhoneNumber !== 'string' || !/^\d{8}$/.test(b.customerPhoneNumber)) {
    problems.push({ name: '51', reason: 'Invalid request: customerPhoneNumber must be 8 digits' });
  }
  if (typeof b.token !== 'string' || b.token === '') problems.push({ name: '51', reason: 'Invalid request: token is required (the token parameter of the vippsRedirectUrl)' });
  if (problems.length > 0) throw new ApiError(400, 'validation_error', 'Invalid request', { details: problems });

  const phone = b.customerPhoneNumber as string;
  const context = await approvalContext(deps.database.db, { pspId, pspTransactionId }, phone);
  if (!context) throw errors.notFound(`No payment with pspTransactionId ${pspTransactionId}.`);
  if (!safeEqual(sha256(b.token as string), context.payment.tokenHash)) {
    throw new ApiError(400, '51', 'Invalid request: the token does not match the vippsRedirectUrl of this payment.');
  }
  if (!context.userExists) {
    throw new ApiError(400, '51', `Invalid request: ${phone} is not a known test user. Create one with POST /admin/users.`);
  }
  await approveLoaded(deps, context, phone);
}
