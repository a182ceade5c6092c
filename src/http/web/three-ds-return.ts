// The page of the 3-D Secure operations URL (/mobileintercept?transactionId=…&responsecode=…), where
// the PSP's 3-D Secure page sends the user back. It usually opens inside the app simulator's frame,
// so it is the one page that may be framed (by this origin only); the app around it continues by
// itself, and the page links back into the app.
import type { FastifyReply } from 'fastify';
import type { ThreeDsResult } from '../../operations/three-ds.ts';
import { applyPageHeaders } from './security.ts';
import { escapeHtml, formatNok, layout } from './layout.ts';
import { outcomeOf } from './payment-views.ts';

export function sendThreeDsReturnPage(reply: FastifyReply, result: ThreeDsResult | 'missing', hsts: boolean): FastifyReply {
  applyPageHeaders(reply, { frameAncestors: 'self', hsts });
  reply.type('text/html; charset=utf-8');
  const back = '<p class="footer-links"><a class="button primary" href="/app" target="_top">Back to the app</a></p>';
  if (result === 'missing') {
    return reply.code(400).send(layout({ title: '3-D Secure', body: `<h1>Unknown 3-D Secure return</h1><p class="center">This link is missing its parameters.</p>${back}` }));
  }
  if (result.kind === 'unknown') {
    return reply.code(404).send(layout({ title: '3-D Secure', body: `<h1>Unknown payment</h1><p class="center">This 3-D Secure link does not belong to any payment.</p>${back}` }));
  }
  const p = result.payment;
  const outcome = outcomeOf(p);
  const message = p.state === 'RESERVED' ? 'The payment is approved.'
    : p.state === 'USER_CANCEL' ? 'The payment was cancelled.'
    : p.state === 'FAILED' ? `The payment failed${p.errorText ? `: ${p.errorText}` : '.'}`
    : p.state === 'TIMEOUT' ? 'The payment request expired.'
    : `The payment is ${p.state}.`;
  const link = `<p class="footer-links"><a class="button primary" href="/app/payments/${encodeURIComponent(p.paymentId)}" target="_top">Back to the app</a></p>`;
  return reply.code(200).send(layout({
    title: '3-D Secure',
    body: `<h1>${result.kind === 'done' ? '3-D Secure complete' : escapeHtml(outcome.heading)}</h1>
<p class="big-amount">${escapeHtml(formatNok(p.amount))}</p>
<p class="center" role="status">${escapeHtml(message)}</p>
${link}`,
  }));
}
