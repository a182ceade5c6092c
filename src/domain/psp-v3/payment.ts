// The payment state machine. Pure: which transitions exist, and what each records.
//
//   INITIATED ──landing page passed──▶ AWAITING_USER ──approve──▶ DELIVERING ──OK──▶ RESERVED
//       │  └────────────────approve─────────────────────────────▶     │      ──FAIL / error / timeout──▶ FAILED
//       │                                                             └─SOFT_DECLINE─▶ AWAITING_3DS ──3DS OK──▶ DELIVERING (second round)
//       ├──user rejects (any waiting state)──▶ USER_CANCEL                             └──3DS failure──▶ FAILED
//       └──deadline passes (any waiting state)──▶ TIMEOUT
//   approve with the "card not eligible" amount ──▶ FAILED (no token delivered)

export const STATES = ['INITIATED', 'AWAITING_USER', 'DELIVERING', 'AWAITING_3DS', 'RESERVED', 'FAILED', 'USER_CANCEL', 'TIMEOUT'] as const;
export type PaymentState = (typeof STATES)[number];

/** States in which the user still has to act; each has a deadline. */
export const WAITING: readonly PaymentState[] = ['INITIATED', 'AWAITING_USER', 'AWAITING_3DS'];
/** States from which the user can approve. */
export const APPROVABLE: readonly PaymentState[] = ['INITIATED', 'AWAITING_USER'];
export const FINAL: readonly PaymentState[] = ['RESERVED', 'FAILED', 'USER_CANCEL', 'TIMEOUT'];

export function isWaiting(state: string): boolean {
  return (WAITING as readonly string[]).includes(state);
}

export function isApprovable(state: string): boolean {
  return (APPROVABLE as readonly string[]).includes(state);
}

/** What the PSP's answer to makePayment means. */
export type PspAnswer =
  | { kind: 'ok' }
  | { kind: 'fail'; errorId?: string; errorText?: string }
  | { kind: 'soft-decline'; url3dSecure: string }
  | { kind: 'error'; reason: string };

export type DeliveryOutcome =
  | { state: 'RESERVED' }
  | { state: 'FAILED'; errorId: string | null; errorText: string | null; reason: string }
  | { state: 'AWAITING_3DS'; url3dSecure: string };

/**
 * Reads the PSP's HTTP answer to makePayment: 200 with JSON paymentInfo.status OK, FAIL or
 * SOFT_DECLINE (with url3dSecure); anything else is an error.
 */
export function interpretAnswer(status: number | undefined, body: string | undefined, error?: string): PspAnswer {
  if (error !== undefined) return { kind: 'error', reason: error };
  if (status !== 200) return { kind: 'error', reason: `HTTP ${status}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    return { kind: 'error', reason: 'response is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null) return { kind: 'error', reason: 'response is not a JSON object' };
  const info = (parsed as { paymentInfo?: { status?: unknown; url3dSecure?: unknown } }).paymentInfo;
  const errorMessage = (parsed as { errorMessage?: { errorId?: unknown; errorText?: unknown } }).errorMessage;
  const statusValue = info && typeof info === 'object' ? info.status : undefined;
  if (statusValue === 'OK') return { kind: 'ok' };
  if (statusValue === 'FAIL') {
    return {
      kind: 'fail',
      errorId: typeof errorMessage?.errorId === 'number' || typeof errorMessage?.errorId === 'string' ? String(errorMessage.errorId) : undefined,
      errorText: typeof errorMessage?.errorText === 'string' ? errorMessage.errorText : undefined,
    };
  }
  if (statusValue === 'SOFT_DECLINE') {
    const url = info?.url3dSecure;
    if (typeof url === 'string' && /^https?:\/\//i.test(url)) return { kind: 'soft-decline', url3dSecure: url };
    return { kind: 'error', reason: 'SOFT_DECLINE without a valid url3dSecure' };
  }
  return { kind: 'error', reason: statusValue === undefined ? 'paymentInfo.status is missing' : `unknown paymentInfo.status ${JSON.stringify(statusValue)}` };
}

/** The state after a makePayment round. A soft decline is honoured once; a second counts as FAIL. */
export function outcomeOf(answer: PspAnswer, round: number): DeliveryOutcome {
  switch (answer.kind) {
    case 'ok': return { state: 'RESERVED' };
    case 'fail': return { state: 'FAILED', errorId: answer.errorId ?? null, errorText: answer.errorText ?? null, reason: 'PSP_FAIL' };
    case 'soft-decline':
      if (round <= 1) return { state: 'AWAITING_3DS', url3dSecure: answer.url3dSecure };
      return { state: 'FAILED', errorId: null, errorText: 'Second soft decline after 3-D Secure', reason: 'SECOND_SOFT_DECLINE' };
    case 'error': return { state: 'FAILED', errorId: null, errorText: null, reason: `DELIVERY_ERROR: ${answer.reason}` };
  }
}

export interface LogEntry {
  operation: 'RESERVED' | 'CAPTURED' | 'CANCELLED' | 'REFUNDED';
  amount: number;
  success: boolean;
}

export interface TransactionSummary {
  capturedAmount: number;
  remainingAmountToCapture: number;
  refundedAmount: number;
  remainingAmountToRefund: number;
}

/** The transactionSummary, derived from the log's successful entries. */
export function summarize(log: readonly LogEntry[]): TransactionSummary {
  let reserved = 0;
  let captured = 0;
  let cancelled = 0;
  let refunded = 0;
  for (const e of log) {
    if (!e.success) continue;
    if (e.operation === 'RESERVED') reserved += e.amount;
    else if (e.operation === 'CAPTURED') captured += e.amount;
    else if (e.operation === 'CANCELLED') cancelled += e.amount;
    else refunded += e.amount;
  }
  return {
    capturedAmount: captured,
    remainingAmountToCapture: Math.max(0, reserved - captured - cancelled),
    refundedAmount: refunded,
    remainingAmountToRefund: Math.max(0, captured - refunded),
  };
}
