// How one status update changes one payment. Pure: the batch feeds a payment's running totals
// and its updates in arrival order, and writes what this decides.
//
//   RESERVED   only on a payment not reserved yet (the reservation happened elsewhere): sets the reserved amount
//   CAPTURED   amount ≤ reserved − captured − cancelled (partial and repeated captures allowed)
//   REFUNDED   amount ≤ captured − refunded (partial and repeated refunds allowed)
//   CANCELLED  only while something is left to capture; releases all that is left
//   operationStatus FAILED: a log entry with operationSuccess false; no amounts change
//   rejected (nothing changes): unknown payment, another PSP's payment, a payment that failed, expired
//   or was cancelled by the user, a currency other than NOK, amount < 1, any amount rule broken

export type UpdateStatus = 'RESERVED' | 'CAPTURED' | 'CANCELLED' | 'REFUNDED';

export interface Balance {
  state: string;
  reserved: number;
  captured: number;
  cancelled: number;
  refunded: number;
}

export interface StatusUpdate {
  status: UpdateStatus;
  amount: number;
  currency: string;
  operationStatus: 'SUCCESS' | 'FAILED';
}

export const REJECTION_REASONS = {
  UNKNOWN_PAYMENT: 'No payment with this pspTransactionId',
  OTHER_PSP: "The payment belongs to another PSP",
  PAYMENT_NOT_ACTIVE: 'The payment failed, expired or was cancelled by the user',
  CURRENCY: 'Only NOK is supported',
  AMOUNT_LESS_THAN_ONE: 'The amount is less than 1',
  ALREADY_RESERVED: 'The payment is already reserved',
  NOT_RESERVED: 'The payment is not reserved',
  EXCEEDS_RESERVED: 'The amount exceeds what is left to capture',
  EXCEEDS_CAPTURED: 'The amount exceeds what is left to refund',
  NOTHING_TO_CANCEL: 'Nothing is left to capture, so nothing can be cancelled',
} as const;

export type RejectionReason = keyof typeof REJECTION_REASONS;

export type Decision =
  | { kind: 'applied'; balance: Balance; entry: { operation: UpdateStatus; amount: number; success: boolean } }
  | { kind: 'rejected'; reason: RejectionReason };

const ENDED = new Set(['FAILED', 'TIMEOUT', 'USER_CANCEL']);
/** States in which a payment has not been reserved through this server (yet). */
const NOT_RESERVED_YET = new Set(['INITIATED', 'AWAITING_USER', 'AWAITING_3DS']);

export function remainingToCapture(b: Balance): number {
  return b.reserved - b.captured - b.cancelled;
}

export function remainingToRefund(b: Balance): number {
  return b.captured - b.refunded;
}

export function decide(balance: Balance, update: StatusUpdate): Decision {
  if (ENDED.has(balance.state)) return { kind: 'rejected', reason: 'PAYMENT_NOT_ACTIVE' };
  if (update.currency !== 'NOK') return { kind: 'rejected', reason: 'CURRENCY' };
  if (update.amount < 1) return { kind: 'rejected', reason: 'AMOUNT_LESS_THAN_ONE' };
  if (update.operationStatus === 'FAILED') {
    return { kind: 'applied', balance, entry: { operation: update.status, amount: update.amount, success: false } };
  }
  switch (update.status) {
    case 'RESERVED': {
      if (balance.state === 'RESERVED' || balance.reserved > 0) return { kind: 'rejected', reason: 'ALREADY_RESERVED' };
      if (!NOT_RESERVED_YET.has(balance.state)) return { kind: 'rejected', reason: 'PAYMENT_NOT_ACTIVE' };
      return {
        kind: 'applied',
        balance: { ...balance, state: 'RESERVED', reserved: update.amount },
        entry: { operation: 'RESERVED', amount: update.amount, success: true },
      };
    }
    case 'CAPTURED': {
      if (balance.state !== 'RESERVED') return { kind: 'rejected', reason: 'NOT_RESERVED' };
      if (update.amount > remainingToCapture(balance)) return { kind: 'rejected', reason: 'EXCEEDS_RESERVED' };
      return {
        kind: 'applied',
        balance: { ...balance, captured: balance.captured + update.amount },
        entry: { operation: 'CAPTURED', amount: update.amount, success: true },
      };
    }
    case 'REFUNDED': {
      if (balance.state !== 'RESERVED') return { kind: 'rejected', reason: 'NOT_RESERVED' };
      if (update.amount > remainingToRefund(balance)) return { kind: 'rejected', reason: 'EXCEEDS_CAPTURED' };
      return {
        kind: 'applied',
        balance: { ...balance, refunded: balance.refunded + update.amount },
        entry: { operation: 'REFUNDED', amount: update.amount, success: true },
      };
    }
    case 'CANCELLED': {
      if (balance.state !== 'RESERVED') return { kind: 'rejected', reason: 'NOT_RESERVED' };
      const left = remainingToCapture(balance);
      if (left <= 0) return { kind: 'rejected', reason: 'NOTHING_TO_CANCEL' };
      return {
        kind: 'applied',
        balance: { ...balance, cancelled: balance.cancelled + left },
        entry: { operation: 'CANCELLED', amount: left, success: true },
      };
    }
  }
}
