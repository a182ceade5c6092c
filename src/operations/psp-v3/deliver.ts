// makePayment with the network token (ACCEPTED). Each attempt is recorded before it is sent, with
// the request (less the Authorization value and with the token masked), and completed with the
// answer, the latency and the outcome. TIMEOUT and USER_CANCEL notifications are in notify.ts.
import { interpretAnswer, outcomeOf } from '../../domain/psp-v3/payment.ts';
import type { NetworkToken } from '../../domain/network-tokens.ts';
import { findPaymentById, type PaymentRow } from '../../store/payments.ts';
import { beginDelivery, recordDelivery } from '../../store/attempts.ts';
import type { PaymentDeps } from '../payment-deps.ts';
import { parseTraceparent } from '../../observability/trace-context.ts';

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

/**
 * The request as recorded: the token number masked, the cryptogram left out, and the operation URLs
 * without their reference (it would let anyone who reads the record end the 3-D Secure step).
 */
function recorded(body: AcceptedRequest): object {
  const token = body.networkToken;
  return {
    ...body,
    operations: body.operations.map((o) => ({ ...o, url: o.url.replace(/([?&]transactionId=)[^&]*/, '$1[redacted]') })),
    networkToken: { ...token, number: `${token.number.slice(0, 6)}${'*'.repeat(Math.max(0, token.number.length - 10))}${token.number.slice(-4)}`, cryptogram: '[redacted]' },
  };
}

export interface DeliveryStart {
  /** The states the payment may be in; it must also be before its deadline. */
  from: readonly string[];
  round: number;
  phone?: string;
  cardId?: string;
}

/**
 * Sends one ACCEPTED round for a payment and applies the PSP's answer. The move to DELIVERING and the
 * attempt's in-flight record are one statement, written once a connection slot to the PSP is held
 * (so the lease measures the call, not the wait). Undefined when the payment could no longer be
 * delivered (it left `from` or passed its deadline meanwhile); otherwise the payment as it is afterwards.
 */
export async function deliverToken(
  deps: PaymentDeps, payment: PaymentRow, start: DeliveryStart, token: NetworkToken, binNumber: string,
): Promise<PaymentRow | undefined> {
  const body: AcceptedRequest = {
    pspTransactionId: payment.pspTransactionId,
    merchantSerialNumber: payment.msn,
    paymentState: 'ACCEPTED',
    binNumber,
    operations: threeDsOperations(deps, deps.paymentTokens.threeDsRef(payment.pspId, payment.pspTransactionId)),
    paymentInstrument: 'TOKEN',
    networkToken: token,
  };
  await deps.outbound.acquire(payment.pspId);
  try {
    const begun = deps.clock.now();
    const lease = leaseFor(deps.config.makePaymentTimeoutMs, begun);
    const attemptId = await beginDelivery(deps.database, {
      paymentId: payment.paymentId, from: start.from, phone: start.phone ?? null, cardId: start.cardId ?? null,
      round: start.round, lease, now: begun, url: payment.makePaymentUrl, requestBody: recorded(body),
    });
    if (attemptId === undefined) return undefined;
    const delivering: PaymentRow = {
      ...payment, state: 'DELIVERING', phone: start.phone ?? payment.phone, cardId: start.cardId ?? payment.cardId,
      deliveryRound: start.round, expiresAt: null, leaseUntil: lease, updatedAt: begun,
    };
    return await sendAccepted(deps, delivering, attemptId, body);
  } finally {
    deps.outbound.release(payment.pspId);
  }
}

/** How long a makePayment may stay unanswered before the sweeper counts its process as gone. */
export function leaseFor(makePaymentTimeoutMs: number, now: Date): Date {
  return new Date(now.getTime() + makePaymentTimeoutMs + 5000);
}

async function sendAccepted(deps: PaymentDeps, payment: PaymentRow, attemptId: number, body: AcceptedRequest): Promise<PaymentRow> {
  const delayMs = await deps.controls?.outboundDelay(payment).catch(() => 0) ?? 0;
  // In the trace of the init that made the payment, when the PSP sent a traceparent with it.
  const result = await deps.client.send(payment.makePaymentUrl, payment.makePaymentToken, body, delayMs, parseTraceparent(payment.initHeaders?.traceparent));
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
  const updated = await recordDelivery(deps.database, attemptId, {
    paymentId: payment.paymentId,
    ...changes,
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
