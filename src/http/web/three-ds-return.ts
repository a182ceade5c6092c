// The page of the 3-D Secure operations URL (/mobileintercept?transactionId=…&responsecode=…), where
// the PSP's 3-D Secure page sends the user back. It usually opens inside the app simulator's frame,
// so it is the one page that may be framed (by this origin only); the app around it continues by
// itself, and the page links back into the app.
import type { FastifyReply } from 'fastify';
import type { ThreeDsResult } from '../../operations/psp-v3/three-ds.ts';
import { formatNok, sendPage } from './layout.ts';
import { outcomeOf } from './payment-views.ts';

export function sendThreeDsReturnPage(reply: FastifyReply, result: ThreeDsResult | 'missing', hsts: boolean): FastifyReply {
  const send = (status: number, data: object) => sendPage(reply, status, 'three-ds-return', data, { frameAncestors: 'self', hsts });
  if (result === 'missing') {
    return send(400, { heading: 'Unknown 3-D Secure return', message: 'This link is missing its parameters.', backUrl: '/app' });
  }
  if (result.kind === 'unknown') {
    return send(404, { heading: 'Unknown payment', message: 'This 3-D Secure link does not belong to any payment.', backUrl: '/app' });
  }
  const p = result.payment;
  const message = p.state === 'RESERVED' ? 'The payment is approved.'
    : p.state === 'USER_CANCEL' ? 'The payment was cancelled.'
    : p.state === 'FAILED' ? `The payment failed${p.errorText ? `: ${p.errorText}` : '.'}`
    : p.state === 'TIMEOUT' ? 'The payment request expired.'
    : `The payment is ${p.state}.`;
  return send(200, {
    heading: result.kind === 'done' ? '3-D Secure complete' : outcomeOf(p).heading,
    amount: formatNok(p.amount),
    message,
    backUrl: `/app/payments/${encodeURIComponent(p.paymentId)}`,
  });
}
