// Helpers for payment tests: init bodies, the token of a vippsRedirectUrl, force approve, details.
import { randomBytes } from 'node:crypto';
import { adminHeaders, call, DEMO, type Answer } from './server.ts';

let counter = 0;
export function uniqueId(prefix = 'tx'): string {
  counter += 1;
  return `${prefix}${counter}${randomBytes(4).toString('hex')}`;
}

export function initBody(makePaymentUrl: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pspTransactionId: uniqueId('tx'),
    merchantOrderId: uniqueId('order-'),
    customerMobileNumber: DEMO.userPhone,
    amount: '49900',
    currency: 'NOK',
    pspRedirectUrl: 'https://example.com/return',
    makePaymentUrl,
    makePaymentToken: 'WCAG6W5HYWGg4',
    paymentText: 'One pair of socks',
    isApp: false,
    ...overrides,
  };
}

export function tokenOf(vippsRedirectUrl: string): string {
  const token = new URL(vippsRedirectUrl.replace(/^vipps(MT)?:\/\//, 'http://deeplink/')).searchParams.get('token');
  if (!token) throw new Error(`no token in ${vippsRedirectUrl}`);
  return token;
}

export async function init(base: string, headers: Record<string, string>, body: Record<string, unknown>): Promise<Answer> {
  return call(base, 'POST', '/psp/v3/psppayments/init', { headers, body });
}

export async function initOk(base: string, headers: Record<string, string>, body: Record<string, unknown>): Promise<{ id: string; token: string; url: string }> {
  const answer = await init(base, headers, body);
  if (answer.status !== 200) throw new Error(`init failed: ${answer.status} ${answer.text}`);
  return { id: answer.body.pspTransactionId, token: tokenOf(answer.body.vippsRedirectUrl), url: answer.body.vippsRedirectUrl };
}

export async function forceApprove(base: string, headers: Record<string, string>, id: string, token: string, phone: string = DEMO.userPhone): Promise<Answer> {
  return call(base, 'POST', `/psp/v3/integration-test/psppayments/${id}/approve`, { headers, body: { customerPhoneNumber: phone, token } });
}

export async function details(base: string, headers: Record<string, string>, id: string): Promise<Answer> {
  return call(base, 'GET', `/psp/v3/psppayments/${id}/details`, { headers });
}

export async function adminPayment(base: string, id: string, pspId: string = DEMO.psp.pspId): Promise<any> {
  const answer = await call(base, 'GET', `/admin/payments/${pspId}/${id}`, { headers: adminHeaders() });
  if (answer.status !== 200) throw new Error(`admin payment failed: ${answer.status} ${answer.text}`);
  return answer.body;
}

/** Polls until `check` passes or `ms` elapse. */
export async function eventually<T>(fn: () => Promise<T>, check: (value: T) => boolean, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  let last = await fn();
  while (!check(last)) {
    if (Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, 100));
    last = await fn();
  }
  return last;
}
