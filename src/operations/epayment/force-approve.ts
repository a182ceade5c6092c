// POST /epayment/v1/test/payments/{reference}/approve (test environment only): what the user's
// approval in the app does, for automated tests. It sends the card callback exactly as the app would,
// with the test user's first card that allowedCardTypes permits (or the card named by `cardId`, this
// server's addition), and answers once the PSP has answered: 200 with no body after RESERVE; after a
// SOFT_DECLINE the 3-D Secure step counts as done at once and the second callback goes out; FAIL, an
// HTTP error, a timeout or a malformed answer → 400 with 10010 "Approve failed".
import { ApiError, errors } from '../../domain/errors.ts';
import { epaymentError, schemaError } from '../../domain/epayment/errors.ts';
import { allowedCards } from '../../domain/epayment/card-callback.ts';
import type { CardType } from '../../domain/epayment/create-request.ts';
import { approvalContextOf } from '../../store/epayments.ts';
import { safeEqual } from '../../security/secrets.ts';
import type { PaymentDeps } from '../payment-deps.ts';
import { sendCardCallback, type CallbackOutcome } from './card-callback.ts';
import { phoneCandidates } from './payments.ts';

export async function forceApprove(deps: PaymentDeps, msn: string, reference: string, body: unknown): Promise<void> {
  if (deps.config.vippsEnv !== 'test') throw errors.testOnly();
  const b = (body === undefined || body === null ? {} : body) as Record<string, unknown>;
  if (typeof b !== 'object' || Array.isArray(b)) throw schemaError([{ name: 'body', reason: 'The body must be a JSON object.' }]);
  const customer = b.customer as Record<string, unknown> | undefined | null;
  if (customer !== undefined && customer !== null && (typeof customer !== 'object' || typeof customer.phoneNumber !== 'string')) {
    throw schemaError([{ name: 'customer.phoneNumber', reason: 'The customer must be {"phoneNumber": "4792929292"}.' }]);
  }
  if (b.token !== undefined && b.token !== null && typeof b.token !== 'string') throw schemaError([{ name: 'token', reason: 'The token must be a string.' }]);
  if (b.cardId !== undefined && b.cardId !== null && typeof b.cardId !== 'string') throw schemaError([{ name: 'cardId', reason: 'The cardId must be a string.' }]);

  const phoneGiven = typeof customer?.phoneNumber === 'string' ? customer.phoneNumber : undefined;
  // The payment, the test user who approves and their cards: one statement.
  const context = await approvalContextOf(deps.database, msn, reference, phoneGiven === undefined ? [] : phoneCandidates(phoneGiven));
  if (!context) throw epaymentError(5090, `Reference not found: sales unit ${msn} has no payment with reference ${reference}.`);
  const p = context.payment;
  if (typeof b.token === 'string' && !safeEqual(b.token, deps.paymentTokens.epaymentToken(msn, reference))) {
    throw epaymentError(10010, 'Approve failed: the token is not the one in this payment\'s redirectUrl.');
  }
  const phone = context.phone;
  if (phoneGiven !== undefined && phone === undefined) throw epaymentError(7010, `Customer not found: no test user has the phone number ${phoneGiven}.`);
  if (phone === undefined) throw epaymentError(10030, 'Identification required: send customer.phoneNumber, the test user who approves.');
  if (p.state !== 'CREATED') throw epaymentError(10020, `Approve not allowed: the payment is ${p.state}.`);
  if (p.closedReason !== null) throw epaymentError(10020, `Approve not allowed: an earlier attempt ended the payment's attempts (${p.closedReason}); the user was told to check the payment with the merchant.`);

  const cards = allowedCards(context.cards, p.allowedCardTypes as CardType[], p.preferVisaPartOfVisaDankort, p.publicEncryptionKeyId !== null);
  const card = typeof b.cardId === 'string' ? cards.find((c) => c.cardId === b.cardId) : cards[0];
  if (!card) {
    throw epaymentError(10050, typeof b.cardId === 'string'
      ? `No cards: ${b.cardId} is not a card of ${phone} that this payment allows (${p.allowedCardTypes.join(', ')}).`
      : `No cards: the test user ${phone} has no card of the types this payment allows (${p.allowedCardTypes.join(', ')}).`);
  }

  let outcome = await sendCardCallback(deps, { payment: p, card, phone, round: 1 });
  if (outcome.sent && outcome.answer.kind === 'soft-decline') {
    outcome = await sendCardCallback(deps, { payment: outcome.payment, card, phone, round: 2, authorizationAttemptId: outcome.authorizationAttemptId });
  }
  failIfNotReserved(outcome);
}

function failIfNotReserved(outcome: CallbackOutcome): void {
  if (!outcome.sent) {
    if (outcome.reason === 'no-secret') throw new ApiError(403, 'secret_not_sealed', 'This PSP\'s client secret must be rotated before its card callbacks can be signed.');
    if (outcome.reason === 'no-key') throw epaymentError(10010, 'Approve failed: the card is a standalone Dankort, and the payment\'s publicEncryptionKeyId no longer names a registered key of the PSP, so its number cannot be encrypted. The user may pay with another card.');
    throw epaymentError(6160, 'Order processing: the payment is being authorised (a card callback is in flight), or it has just ended. Check it with GET.');
  }
  const a = outcome.answer;
  switch (a.kind) {
    case 'reserve': return;
    case 'fail':
      throw epaymentError(10010, `Approve failed: the PSP answered FAIL${a.errorCode === null ? '' : ` (errorCode ${a.errorCode}${a.errorMessage ? `, "${a.errorMessage}"` : ''})`}${a.retryable ? '; the user may try again' : '; the user may not try again'}.`);
    case 'soft-decline':
      throw epaymentError(10010, 'Approve failed: the PSP answered SOFT_DECLINE again after 3-D Secure.');
    case 'error':
      throw epaymentError(10010, `Approve failed: the card callback failed (${a.reason}). The user is told to check the payment with the merchant, and may not try again.`);
  }
}
