// The ePayment payment: states, the aggregate, and the rules of capture, refund and cancel. Pure.
//
//   CREATED ──RESERVE──▶ AUTHORIZED (final; capture, refund and cancel move only the aggregate)
//      ├── user rejects ▶ ABORTED     ├── deadline ▶ EXPIRED     └── cancel ▶ TERMINATED
import { epaymentError } from './errors.ts';

export type State = 'CREATED' | 'AUTHORIZED' | 'ABORTED' | 'EXPIRED' | 'TERMINATED';
export type EventName = 'CREATED' | 'AUTHORIZED' | 'ABORTED' | 'EXPIRED' | 'TERMINATED' | 'CAPTURED' | 'REFUNDED' | 'CANCELLED';

export interface Totals {
  state: State;
  amount: number;
  authorized: number;
  captured: number;
  refunded: number;
  cancelled: number;
  /** A card callback is in flight (the user is mid-authorisation). */
  authorizing: boolean;
}

export type Adjustment =
  | { kind: 'capture'; value: number }
  | { kind: 'refund'; value: number }
  | { kind: 'cancel'; transactionOnly: boolean };

/** What an adjustment does: the new totals and the event it records (none: nothing changed). */
export interface Outcome {
  totals: Totals;
  event?: { name: EventName; amount: number };
}

/** Applies capture, refund or cancel, or throws the published error for why it cannot. */
export function adjust(t: Totals, a: Adjustment): Outcome {
  switch (a.kind) {
    case 'capture': {
      if (t.state === 'CREATED') throw epaymentError(6080, 'The amount you tried to capture is not reserved. The user must accept the payment before capture can be done.');
      if (t.state !== 'AUTHORIZED') throw epaymentError(6200, `Payment cannot be captured: it is ${t.state}.`);
      if (t.cancelled > 0) throw epaymentError(6070, 'The payment was cancelled; its remaining reservation cannot be captured.');
      const capturable = t.authorized - t.captured - t.cancelled;
      if (a.value > capturable) throw epaymentError(6090, `Capture amount too high: at most ${capturable} can be captured.`);
      return { totals: { ...t, captured: t.captured + a.value }, event: { name: 'CAPTURED', amount: a.value } };
    }
    case 'refund': {
      if (t.state === 'CREATED') throw epaymentError(6020, 'Attempted refund before reservation: nothing has been captured.');
      if (t.state !== 'AUTHORIZED') throw epaymentError(6210, `Payment cannot be refunded: it is ${t.state}.`);
      const refundable = t.captured - t.refunded;
      if (a.value > refundable) throw epaymentError(6150, `Not enough refundable: at most ${refundable} can be refunded.`);
      return { totals: { ...t, refunded: t.refunded + a.value }, event: { name: 'REFUNDED', amount: a.value } };
    }
    case 'cancel': {
      if (t.state === 'CREATED') {
        if (t.authorizing) throw epaymentError(6250, 'Cannot cancel processing payment: the user is authorising it right now. Try again shortly.');
        return { totals: { ...t, state: 'TERMINATED', cancelled: t.amount }, event: { name: 'TERMINATED', amount: t.amount } };
      }
      // Cancelling again what is already cancelled changes nothing and is answered as it stands.
      if (t.state === 'TERMINATED') return { totals: t };
      if (t.state !== 'AUTHORIZED') throw epaymentError(6190, `Payment cannot be cancelled: it is ${t.state}.`);
      if (a.transactionOnly) throw epaymentError(6060, 'Cannot cancel authorized payment: cancelTransactionOnly applies only before the user has authorised it.');
      if (t.cancelled > 0) return { totals: t };
      const remaining = t.authorized - t.captured;
      if (remaining <= 0) throw epaymentError(6040, 'Cannot cancel a captured payment: the whole amount is captured. Refund it instead.');
      return { totals: { ...t, cancelled: t.cancelled + remaining }, event: { name: 'CANCELLED', amount: remaining } };
    }
  }
}

