// makePayment: the token delivery to the PSP (ACCEPTED) and the notifications of a user cancel
// or a timeout (no card data). Each attempt is recorded with the request (less the Authorization
// value and with the token masked), the answer, the latency and the outcome.
import { interpretAnswer, outcomeOf } from '../domain/payment.ts';
import type { NetworkToken } from '../domain/network-tokens.ts';
import { findPaymentById, insertAttempt, recordDelivery, type PaymentRow } from '../store/payments.ts';
import type { PaymentDeps } from './payment-deps.ts';

export interface AcceptedRequest {
  pspTransactionId: string;
  merchantSerialNumber: string;
  paymentState: 'ACCEPTED';
  binNumber: string;
  operations: Array<{ url: string; operation: '3dssuccess' | '3dscancel' | '3dsfailure' }>;
  paymentInstrument: 'TOKEN';
  networkToken: NetworkToken;
}

export function threeDsOperations(deps: PaymentDeps, ref: string): AcceptedRequest['operations'] {
  const base = `${deps.config.publicUrl}/mobileintercept?transactionId=${encodeURIComponent(ref)}`;
  return [
    { url: `${base}&responsecode=OK`, operation: '3dssuccess' },
    { url: `${base}&responsecode=CANCEL`, operation: '3dscancel' },
    { url: `${base}&responsecode=FAIL`, operation: '3dsfailure' },
  ];
}

/** The request as recorded: the token number masked and the cryptogram left out. */
function recorded(body: object): object {
  const token = (body as { networkToken?: NetworkToken }).networkToken;
  if (!token) return body;
  return {
    ...body,
    networkToken: { ...token, number: `${token.number.slice(0, 6)}${'*'.repeat(Math.max(0, token.number.length - 10))}${token.number.slice(-4)}`, cryptogram: '[redacted]' },
  };
}

/**
 * Sends one ACCEPTED round for a payment in DELIVERING and applies the PSP's answer.
 * Returns the payment as it is afterwards.
 */
export async function deliverToken(deps: PaymentDeps, payment: PaymentRow, token: NetworkToken, binNumber: string): Promise<PaymentRow> {
  const body: AcceptedRequest = {
    pspTransactionId: payment.pspTransactionId,
    merchantSerialNumber: payment.msn,
    paymentState: 'ACCEPTED',
    binNumber,
    operations: threeDsOperations(deps, payment.threeDsRef),
    paymentInstrument: 'TOKEN',
    networkToken: token,
  };
  const result = await deps.client.send(payment.makePaymentUrl, payment.makePaymentToken, body);
  const outcome = outcomeOf(interpretAnswer(result.status, result.body, result.error), payment.deliveryRound);
  const now = deps.clock.now();
  const changes = {
    state: outcome.state,
    expiresAt: outcome.state === 'AWAITING_3DS' ? new Date(now.getTime() + deps.config.appTimeoutSeconds * 1000) : null,
    errorId: outcome.state === 'FAILED' ? outcome.errorId : null,
    errorText: outcome.state === 'FAILED' ? outcome.errorText : null,
    failureReason: outcome.state === 'FAILED' ? outcome.reason : null,
    url3dSecure: outcome.state === 'AWAITING_3DS' ? outcome.url3dSecure : null,
  };
  const updated = await recordDelivery(deps.database, {
    paymentId: payment.paymentId,
    ...changes,
    url: payment.makePaymentUrl,
    requestBody: recorded(body),
    responseStatus: result.status ?? null,
    responseBody: result.body ?? null,
    latencyMs: result.latencyMs,
    error: result.error ?? (outcome.state === 'FAILED' ? outcome.reason : null),
    now,
  });
  deps.log.info({ pspTransactionId: payment.pspTransactionId, pspId: payment.pspId, status: result.status, error: result.error, outcome: outcome.state, ms: result.latencyMs }, 'makePayment delivered');
  if (!updated) return (await findPaymentById(deps.database.db, payment.paymentId)) ?? payment;
  return {
    ...payment,
    state: changes.state,
    expiresAt: changes.expiresAt,
    leaseUntil: null,
    updatedAt: now,
    reservedAmount: changes.state === 'RESERVED' ? payment.amount : payment.reservedAmount,
    ...(changes.state === 'FAILED' ? { errorId: changes.errorId, errorText: changes.errorText, failureReason: changes.failureReason } : {}),
    ...(changes.state === 'AWAITING_3DS' ? { url3dSecure: changes.url3dSecure } : {}),
  };
}

/** Tells the PSP that the user cancelled or the payment timed out. The payment's state is final already. */
export async function notifyEnd(deps: PaymentDeps, payment: PaymentRow, paymentState: 'USER_CANCEL' | 'TIMEOUT'): Promise<void> {
  const body = { pspTransactionId: payment.pspTransactionId, merchantSerialNumber: payment.msn, paymentState };
  const result = await deps.client.send(payment.makePaymentUrl, payment.makePaymentToken, body);
  const answer = interpretAnswer(result.status, result.body, result.error);
  await insertAttempt(deps.database.db, {
    paymentId: payment.paymentId,
    paymentState,
    url: payment.makePaymentUrl,
    requestBody: body,
    responseStatus: result.status ?? null,
    responseBody: result.body ?? null,
    latencyMs: result.latencyMs,
    outcome: result.error ? 'NOT_DELIVERED' : 'NOTIFIED',
    error: result.error ?? (answer.kind === 'error' ? answer.reason : null),
    createdAt: deps.clock.now(),
  });
  deps.log.info({ pspTransactionId: payment.pspTransactionId, pspId: payment.pspId, paymentState, status: result.status, error: result.error }, 'makePayment notification sent');
}
