// Read models of the user's side (landing page and app simulator): a payment with its merchant's
// names, the user's pending payment requests and receipts. State changes go through store/payments.ts.
import { and, desc, eq, gt, inArray, isNull, or } from 'drizzle-orm';
import type { Tx } from './db.ts';
import { cards, merchants, payments, testUsers } from './schema.ts';
import type { PaymentRow } from './payments.ts';
import type { CardRow } from './users.ts';

/** A payment as the user sees it: with the sales unit's name, the organisation's name and the card used. */
export interface PaymentView {
  payment: PaymentRow;
  merchantName: string;
  companyName: string;
  card: { brand: string; last4: string } | null;
  payerName: string | null;
}

/** States the user still sees in the app's list of requests. */
export const PENDING_STATES = ['AWAITING_USER', 'AWAITING_3DS', 'DELIVERING'] as const;
/** States of a finished payment: the receipts. */
export const FINISHED_STATES = ['RESERVED', 'FAILED', 'USER_CANCEL', 'TIMEOUT'] as const;

function viewQuery(tx: Tx) {
  return tx.select({
    payment: payments,
    merchantName: merchants.name,
    companyName: merchants.companyName,
    cardBrand: cards.brand,
    cardLast4: cards.last4,
    payerName: testUsers.name,
  }).from(payments)
    .leftJoin(merchants, eq(merchants.msn, payments.msn))
    .leftJoin(cards, eq(cards.cardId, payments.cardId))
    .leftJoin(testUsers, eq(testUsers.phone, payments.phone));
}

type ViewRow = Awaited<ReturnType<ReturnType<typeof viewQuery>['execute']>>[number];

function toView(row: ViewRow): PaymentView {
  return {
    payment: row.payment,
    merchantName: row.merchantName ?? row.payment.msn,
    companyName: row.companyName ?? '',
    card: row.cardBrand && row.cardLast4 ? { brand: row.cardBrand, last4: row.cardLast4 } : null,
    payerName: row.payerName,
  };
}

/** The payment whose vippsRedirectUrl token hashes to `tokenHash`. */
export async function paymentViewByTokenHash(tx: Tx, tokenHash: string): Promise<PaymentView | undefined> {
  const [row] = await viewQuery(tx).where(eq(payments.tokenHash, tokenHash));
  return row ? toView(row) : undefined;
}

/** A payment, only if it is the given user's (its phone is the user's). */
export async function paymentViewOfUser(tx: Tx, paymentId: string, phone: string): Promise<PaymentView | undefined> {
  const [row] = await viewQuery(tx).where(and(eq(payments.paymentId, paymentId), eq(payments.phone, phone)));
  return row ? toView(row) : undefined;
}

/** The user's payment requests still open in the app (not past their deadline), newest first. */
export async function pendingPaymentsOf(tx: Tx, phone: string, now: Date): Promise<PaymentView[]> {
  const rows = await viewQuery(tx)
    .where(and(
      eq(payments.phone, phone),
      inArray(payments.state, [...PENDING_STATES]),
      or(isNull(payments.expiresAt), gt(payments.expiresAt, now)),
    ))
    .orderBy(desc(payments.createdAt), desc(payments.paymentId))
    .limit(50);
  return rows.map(toView);
}

/** The user's finished payments, the most recently finished first. */
export async function receiptsOf(tx: Tx, phone: string, limit = 50): Promise<PaymentView[]> {
  const rows = await viewQuery(tx)
    .where(and(eq(payments.phone, phone), inArray(payments.state, [...FINISHED_STATES])))
    .orderBy(desc(payments.updatedAt), desc(payments.createdAt), desc(payments.paymentId))
    .limit(limit);
  return rows.map(toView);
}

/** The user's cards, in the order they were added. */
export async function cardsOfUser(tx: Tx, phone: string): Promise<CardRow[]> {
  return tx.select().from(cards).where(eq(cards.phone, phone)).orderBy(cards.position, cards.createdAt);
}

/** Records when the user first opened a payment in the app (the first time only). */
export async function markAppOpened(tx: Tx, paymentId: string, now: Date): Promise<void> {
  await tx.update(payments).set({ appOpenedAt: now }).where(and(eq(payments.paymentId, paymentId), isNull(payments.appOpenedAt)));
}
