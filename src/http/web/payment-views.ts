// What the pages show about a payment, as plain data for the templates: the state as the user sees
// it, the outcome of a finished payment, the merchant's header, the one-line summary and the way back
// to the store. Shared by the landing page, the app simulator and the 3-D Secure return page.
import { isWaiting } from '../../domain/psp-v3/payment.ts';
import type { PaymentRow } from '../../store/payments.ts';
import type { PaymentView } from '../../store/app-views.ts';
import { formatNok } from './layout.ts';

/** The state as the user must see it: a waiting payment past its deadline has expired, swept or not. */
export function effectiveState(p: PaymentRow, now: Date): string {
  if (isWaiting(p.state) && p.expiresAt !== null && p.expiresAt.getTime() <= now.getTime()) return 'TIMEOUT';
  return p.state;
}

export interface Outcome {
  heading: string;
  badge: string;
  tone: 'ok' | 'bad' | 'neutral';
  message: string;
}

/** How a finished payment is told to the user. */
export function outcomeOf(p: PaymentRow, state: string = p.state): Outcome {
  switch (state) {
    case 'RESERVED':
      return { heading: 'Payment approved', badge: 'Paid', tone: 'ok', message: `${formatNok(p.amount)} is reserved. The store will complete your order.` };
    case 'FAILED':
      if (p.failureReason === 'CARD_NOT_ELIGIBLE') {
        return { heading: 'Card not eligible', badge: 'Failed', tone: 'bad', message: 'This card cannot be used for the payment. Nothing was paid.' };
      }
      return {
        heading: 'Payment failed', badge: 'Failed', tone: 'bad',
        message: p.errorText ? `The payment was declined: ${p.errorText}` : 'The payment could not be completed. Nothing was paid.',
      };
    case 'USER_CANCEL':
      return { heading: 'Payment rejected', badge: 'Rejected', tone: 'neutral', message: 'The payment request was rejected. Nothing was paid.' };
    case 'TIMEOUT':
      return { heading: 'Payment request expired', badge: 'Expired', tone: 'neutral', message: 'The time to approve the payment ran out. Nothing was paid.' };
    case 'AWAITING_3DS':
      return { heading: 'Verification needed', badge: 'Waiting', tone: 'neutral', message: 'Your bank needs to verify the payment (3-D Secure).' };
    case 'DELIVERING':
      return { heading: 'Processing…', badge: 'Processing', tone: 'neutral', message: 'The payment is being processed.' };
    default:
      return { heading: 'Waiting for approval', badge: 'Waiting', tone: 'neutral', message: 'The payment request is waiting in the Vipps app.' };
  }
}

/** Schemes a page never links to, whatever URL a PSP gave. */
export const UNSAFE_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:', 'filesystem:']);

/**
 * The link back to the store (pspRedirectUrl), or undefined for skipLandingPage payments, which have
 * no result page. With isApp the URL may be an app's own scheme; script-ish schemes are never linked.
 */
export function storeUrl(p: PaymentRow): string | undefined {
  if (p.skipLandingPage) return undefined;
  let url: URL;
  try { url = new URL(p.pspRedirectUrl); } catch { return undefined; }
  if (UNSAFE_SCHEMES.has(url.protocol)) return undefined;
  return p.pspRedirectUrl;
}

/** The merchant as the app's header names it: "Merchant / #MSN · COMPANY". */
export function merchantOf(view: PaymentView): { name: string; msn: string; companyName: string } {
  return { name: view.merchantName, msn: view.payment.msn, companyName: view.companyName };
}

/** The payment in one line (amount, merchant, text), as the landing pages show it. */
export function summaryOf(view: PaymentView): { amount: string; merchantName: string; paymentText: string | null } {
  return { amount: formatNok(view.payment.amount), merchantName: view.merchantName, paymentText: view.payment.paymentText };
}
