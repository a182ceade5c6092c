// Pieces of HTML about a payment, shared by the landing page, the app simulator and the 3-D Secure
// return page: the outcome of a finished payment, the merchant's header, the way back to the store.
import { isWaiting } from '../../domain/payment.ts';
import type { PaymentRow } from '../../store/payments.ts';
import { escapeHtml, formatNok } from './layout.ts';

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

export function badge(o: Outcome): string {
  return `<span class="badge ${o.tone}">${escapeHtml(o.badge)}</span>`;
}

const UNSAFE_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:', 'filesystem:']);

/**
 * The link back to the store (pspRedirectUrl), or '' for skipLandingPage payments, which have no
 * result page. With isApp the URL may be an app's own scheme; script-ish schemes are never linked.
 */
export function storeLink(p: PaymentRow): string {
  if (p.skipLandingPage) return '';
  let url: URL;
  try { url = new URL(p.pspRedirectUrl); } catch { return ''; }
  if (UNSAFE_SCHEMES.has(url.protocol)) return '';
  return `<p class="footer-links"><a class="button secondary" href="${escapeHtml(p.pspRedirectUrl)}">Back to the store</a></p>`;
}

/** "Pay to / Merchant / #MSN · COMPANY", as at the top of the app's payment screen. */
export function merchantHeader(eyebrow: string, merchantName: string, msn: string, companyName: string, headingLevel: 'h1' | 'h2' = 'h1'): string {
  return `<p class="eyebrow">${escapeHtml(eyebrow)}</p>
<${headingLevel} class="merchant">${escapeHtml(merchantName)}</${headingLevel}>
<p class="org">#${escapeHtml(msn)}${companyName ? ` · ${escapeHtml(companyName)}` : ''}</p>`;
}
