// The user's side of an ePayment payment: getting past the landing page, paying in the app with a card
// the payment allows (the card callback decides), coming back from the PSP's 3-D Secure page (the
// second callback), and rejecting.
import type { CardType } from '../../domain/epayment/create-request.ts';
import { allowedCards, type WalletCard } from '../../domain/epayment/card-callback.ts';
import { abortEpayment, findEpayment, findEpaymentById, findEpaymentBySoftDeclineRef, setEpaymentUser, type EpaymentRow } from '../../store/epayments.ts';
import { cardsOf, findUser } from '../../store/users.ts';
import { sha256 } from '../../security/secrets.ts';
import type { PaymentDeps } from '../payment-deps.ts';
import { sendCardCallback, type CallbackOutcome } from './card-callback.ts';
import { newPspReference } from './ids.ts';

/** The state as the user must see it: a CREATED payment past its deadline has expired, swept or not. */
export function userState(p: EpaymentRow, now: Date): string {
  if (p.state === 'CREATED' && p.expiresAt !== null && p.expiresAt.getTime() <= now.getTime()) return 'EXPIRED';
  return p.state;
}

export async function cardsFor(deps: PaymentDeps, p: EpaymentRow, phone: string): Promise<Array<WalletCard & { cardType: CardType }>> {
  return allowedCards(await cardsOf(deps.database.db, [phone]), p.allowedCardTypes as CardType[], p.preferVisaPartOfVisaDankort, p.publicEncryptionKeyId !== null);
}

/** The landing page: the payment request goes to this user's app. */
export async function enterPhone(deps: PaymentDeps, p: EpaymentRow, phone: string): Promise<'passed' | 'unknown-user' | 'not-open'> {
  if (!(await findUser(deps.database.db, phone))) return 'unknown-user';
  return (await setEpaymentUser(deps.database.db, p.paymentId, phone, deps.clock.now())) ? 'passed' : 'not-open';
}

export type PayResult = CallbackOutcome | { sent: false; reason: 'no-card' | 'not-open' };

/** Pay in the app with one of the user's allowed cards: the card callback, and its answer applied. */
export async function payInApp(deps: PaymentDeps, p: EpaymentRow, phone: string, cardId: string | undefined): Promise<PayResult> {
  if (userState(p, deps.clock.now()) !== 'CREATED' || p.closedReason !== null || p.phone !== phone) return { sent: false, reason: 'not-open' };
  const cards = await cardsFor(deps, p, phone);
  const card = cardId === undefined ? cards[0] : cards.find((c) => c.cardId === cardId);
  if (!card) return { sent: false, reason: 'no-card' };
  return sendCardCallback(deps, { payment: p, card, phone, round: 1 });
}

/**
 * The user is back from the PSP's 3-D Secure page (softDeclineCompletedRedirectUrl): the second
 * callback, with the first one's authorizationAttemptId and card. Undefined for an unknown reference.
 */
export async function softDeclineCompleted(deps: PaymentDeps, ref: string): Promise<EpaymentRow | undefined> {
  const p = await findEpaymentBySoftDeclineRef(deps.database.db, sha256(ref));
  if (!p) return undefined;
  if (userState(p, deps.clock.now()) !== 'CREATED' || p.pendingAttemptId === null || p.cardId === null || p.phone === null) return p;
  const card = (await cardsFor(deps, p, p.phone)).find((c) => c.cardId === p.cardId);
  if (!card) return p;
  const outcome = await sendCardCallback(deps, { payment: p, card, phone: p.phone, round: 2, authorizationAttemptId: p.pendingAttemptId });
  return outcome.sent ? outcome.payment : (await findEpaymentById(deps.database.db, p.paymentId)) ?? p;
}

/** The user rejects the request (in the app, or cancels on the landing page). */
export async function rejectByUser(deps: PaymentDeps, p: EpaymentRow): Promise<boolean> {
  const aborted = await abortEpayment(deps.database.db, p.paymentId, deps.clock.now(), newPspReference());
  if (aborted) deps.webhooks?.wake();
  return aborted;
}

/** The operator acts (test environment): the payment is rejected as by its user, or expires now. */
export async function endByOperator(deps: PaymentDeps, msn: string, reference: string, how: 'reject' | 'expire'): Promise<EpaymentRow | undefined> {
  const p = await findEpayment(deps.database.db, msn, reference);
  if (!p) return undefined;
  if (await abortEpayment(deps.database.db, p.paymentId, deps.clock.now(), newPspReference(), how === 'reject' ? 'ABORTED' : 'EXPIRED')) deps.webhooks?.wake();
  return (await findEpaymentById(deps.database.db, p.paymentId)) ?? p;
}
