// The user's approval (from the app, or forced through the integration-test endpoint): pick the card,
// decide the token (magic amounts), move the payment to DELIVERING in one conditional update, then
// deliver. "Card not eligible" fails the payment without any delivery.
import { ApiError } from '../../domain/errors.ts';
import { APPROVABLE } from '../../domain/psp-v3/payment.ts';
import { tokenFor, type TokenType } from '../../domain/network-tokens.ts';
import { brandInfo } from '../../domain/cards.ts';
import { appendLog, approvalContext, findPaymentById, transition, type ApprovalContext, type PaymentRow } from '../../store/payments.ts';
import { findCard } from '../../store/users.ts';
import { deliverToken } from './deliver.ts';
import type { PaymentDeps } from '../payment-deps.ts';

export class NotApprovable extends ApiError {
  readonly paymentState: string;
  constructor(state: string) {
    super(400, '51', state === 'INITIATED' || state === 'AWAITING_USER'
      ? 'The payment has expired and can no longer be approved.'
      : `The payment is not awaiting approval: it is ${state}.`);
    this.paymentState = state;
  }
}

export async function approve(deps: PaymentDeps, paymentId: string, phone: string, cardId?: string): Promise<PaymentRow> {
  const context = await approvalContext(deps.database.db, { paymentId }, phone);
  if (!context) throw new ApiError(404, '404', 'No such payment.');
  return approveLoaded(deps, context, phone, cardId);
}

/** The approval itself, for a caller that already loaded the payment, the user and the cards. */
export async function approveLoaded(deps: PaymentDeps, context: ApprovalContext, phone: string, cardId?: string): Promise<PaymentRow> {
  const { payment, cards } = context;
  const paymentId = payment.paymentId;
  const card = cardId ? cards.find((c) => c.cardId === cardId) : cards[0];
  if (!card) {
    throw new ApiError(400, '51', cardId ? `The card ${cardId} does not belong to ${phone}.` : `The user ${phone} has no card to pay with.`);
  }
  // A standalone Dankort has no network token: for PSP API v3 it is a card that is not eligible.
  const scheme = brandInfo(card.brand).scheme;
  const decision = scheme === undefined ? { kind: 'not-eligible' as const } : tokenFor(payment.amount, scheme as TokenType);
  const now = deps.clock.now();

  if (decision.kind === 'not-eligible') {
    const failed = await deps.database.db.transaction(async (tx) => {
      const row = await transition(tx, paymentId, APPROVABLE, {
        state: 'FAILED', phone, cardId: card.cardId, expiresAt: null, failureReason: 'CARD_NOT_ELIGIBLE',
        errorText: 'The card is not eligible for a network token',
      }, now, { beforeDeadline: true });
      if (row) {
        await appendLog(tx, [{ paymentId, operation: 'RESERVED', amount: row.amount, paymentText: row.paymentText, success: false, createdAt: now }], deps.database.detailsCache);
      }
      return row;
    });
    if (!failed) throw await notApprovable(deps, paymentId);
    return failed;
  }

  const delivered = await deliverToken(deps, payment, { from: APPROVABLE, round: 1, phone, cardId: card.cardId }, decision.token, decision.binNumber);
  if (!delivered) throw await notApprovable(deps, paymentId);
  return delivered;
}

/**
 * The second round after 3-D Secure: the same token again, for a payment in AWAITING_3DS.
 * Undefined when the payment was no longer waiting for 3-D Secure.
 */
export async function redeliverAfter3ds(deps: PaymentDeps, payment: PaymentRow): Promise<PaymentRow | undefined> {
  const card = payment.cardId ? await findCard(deps.database.db, payment.cardId) : undefined;
  const decision = tokenFor(payment.amount, (brandInfo(card?.brand ?? 'VISA').scheme ?? 'VISA') as TokenType);
  if (decision.kind !== 'token') return payment;
  return deliverToken(deps, payment, { from: ['AWAITING_3DS'], round: 2 }, decision.token, decision.binNumber);
}

async function notApprovable(deps: PaymentDeps, paymentId: string): Promise<NotApprovable> {
  const current = await findPaymentById(deps.database.db, paymentId);
  return new NotApprovable(current?.state ?? 'UNKNOWN');
}
