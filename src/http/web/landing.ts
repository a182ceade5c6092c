// The landing page at the vippsRedirectUrl (/landing?token=…): the user confirms or enters the phone
// number the payment request goes to, then completes the payment in the app. Works without script.
//
//   GET  /landing?token=…        the form (INITIATED), "Complete in Vipps" (sent to the app), or a
//                                 clear page for an expired (410), finished (410) or unknown (404) link
//   POST /landing                 token, phone: INITIATED → AWAITING_USER, then back to GET (303)
//   POST /landing/cancel          token: the user cancels on the landing page (USER_CANCEL)
//   GET  /landing/state?token=…   {"v": state}, polled by the page's script
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PaymentDeps } from '../../operations/payment-deps.ts';
import { passLanding } from '../../operations/pass-landing.ts';
import { userCancel } from '../../operations/cancel.ts';
import { NotApprovable } from '../../operations/approve.ts';
import { paymentViewByTokenHash, type PaymentView } from '../../store/app-views.ts';
import { sha256 } from '../../security/secrets.ts';
import { applyPageHeaders, formBody, WebError, type WebSecurity } from './security.ts';
import { csrfField, escapeHtml, formatNok, layout } from './layout.ts';
import { effectiveState, outcomeOf, storeLink } from './payment-views.ts';
import { DEMO } from '../../operations/seed.ts';

/** "92929292", "+47 929 29 292", "0047-92929292" → "92929292"; anything else → undefined. */
export function normalizePhone(input: string | undefined): string | undefined {
  if (input === undefined) return undefined;
  let digits = input.replace(/[\s\u00a0().-]/g, '');
  if (/^\+47\d{8}$/.test(digits)) digits = digits.slice(3);
  else if (/^0047\d{8}$/.test(digits)) digits = digits.slice(4);
  return /^\d{8}$/.test(digits) ? digits : undefined;
}

function tokenParam(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 200 ? value : undefined;
}

function landingUrl(token: string): string {
  return `/landing?token=${encodeURIComponent(token)}`;
}

export function registerLandingRoutes(app: FastifyInstance, deps: PaymentDeps, security: WebSecurity): void {
  const db = deps.database.db;

  async function find(token: string | undefined): Promise<PaymentView> {
    const view = token ? await paymentViewByTokenHash(db, sha256(token)) : undefined;
    if (!view) {
      throw new WebError(404, 'Payment link not found',
        'This payment link is not valid. Check that you opened the whole link, or go back to the store and start the payment again.');
    }
    return view;
  }

  function send(reply: FastifyReply, status: number, html: string): FastifyReply {
    applyPageHeaders(reply, { hsts: security.hsts });
    return reply.code(status).type('text/html; charset=utf-8').send(html);
  }

  function summaryLine(view: PaymentView): string {
    return `<p class="amount-line"><strong>${escapeHtml(formatNok(view.payment.amount))}</strong> to ${escapeHtml(view.merchantName)}</p>
${view.payment.paymentText ? `<p class="center muted">${escapeHtml(view.payment.paymentText)}</p>` : ''}`;
  }

  function formPage(request: FastifyRequest, reply: FastifyReply, view: PaymentView, token: string, phone: string, error?: string): string {
    const csrf = security.csrfToken(request, reply);
    const described = error ? 'phone-hint phone-error' : 'phone-hint';
    return layout({
      title: 'Pay',
      watch: { url: `/landing/state?token=${encodeURIComponent(token)}`, value: 'INITIATED', noscriptRefresh: false },
      body: `<h1>Pay</h1>
${summaryLine(view)}
<form method="post" action="/landing" data-progress="Sending…">
${csrfField(csrf)}
<input type="hidden" name="token" value="${escapeHtml(token)}">
<label for="phone">Phone number</label>
<div class="phone"><span class="prefix" aria-hidden="true">+47</span><input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" maxlength="20" required value="${escapeHtml(phone)}" aria-describedby="${described}"${error ? ' aria-invalid="true"' : ''}></div>
<p id="phone-hint" class="hint">The payment request is sent to the Vipps app of this number.</p>
${error ? `<p id="phone-error" class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<div class="actions"><button type="submit" class="primary">Next</button></div>
</form>
<form method="post" action="/landing/cancel" class="center" data-progress="Cancelling…">
${csrfField(csrf)}
<input type="hidden" name="token" value="${escapeHtml(token)}">
<button type="submit" class="link-button">Cancel</button>
</form>`,
    });
  }

  function waitingPage(view: PaymentView, token: string, state: string): string {
    const phone = view.payment.phone ?? '';
    return layout({
      title: 'Complete in Vipps',
      watch: { url: `/landing/state?token=${encodeURIComponent(token)}`, value: state },
      body: `<h1>Complete in Vipps</h1>
${summaryLine(view)}
<div class="phone-art" aria-hidden="true"><span>vipps</span></div>
<p class="center" role="status">A payment request was sent to <strong>${escapeHtml(phone)}</strong>. Open the Vipps app and follow the instructions.</p>
<p class="footer-links"><a class="button primary" href="/app?phone=${encodeURIComponent(phone)}">Open the Vipps app simulator</a></p>
<p class="hint center">This page updates by itself when the payment is done.</p>`,
    });
  }

  function expiredPage(view: PaymentView): string {
    return layout({
      title: 'Payment link expired',
      body: `<h1>This payment link has expired</h1>
${summaryLine(view)}
<p class="center" role="status">The payment was not completed in time, and nothing was paid. Go back to the store to start the payment again.</p>
${storeLink(view.payment)}`,
    });
  }

  function finishedPage(view: PaymentView, state: string): string {
    const outcome = outcomeOf(view.payment, state);
    return layout({
      title: outcome.heading,
      body: `<h1>${escapeHtml(outcome.heading)}</h1>
${summaryLine(view)}
<p class="center" role="status">${escapeHtml(outcome.message)}</p>
<p class="center muted">This payment link has already been used and cannot be used again.</p>
${storeLink(view.payment)}`,
    });
  }

  /** The page for the link's payment in its current state. */
  function pageFor(request: FastifyRequest, reply: FastifyReply, view: PaymentView, token: string): FastifyReply {
    const state = effectiveState(view.payment, deps.clock.now());
    switch (state) {
      case 'INITIATED':
        return send(reply, 200, formPage(request, reply, view, token, view.payment.customerMobileNumber ?? ''));
      case 'AWAITING_USER':
      case 'DELIVERING':
      case 'AWAITING_3DS':
        return send(reply, 200, waitingPage(view, token, state));
      case 'TIMEOUT':
        return send(reply, 410, expiredPage(view));
      default:
        return send(reply, 410, finishedPage(view, state));
    }
  }

  app.get('/', async (request, reply) => {
    const token = tokenParam((request.query as Record<string, unknown>).token);
    const view = await find(token);
    return pageFor(request, reply, view, token!);
  });

  app.get('/state', async (request, reply) => {
    const token = tokenParam((request.query as Record<string, unknown>).token);
    const view = token ? await paymentViewByTokenHash(db, sha256(token)) : undefined;
    reply.header('cache-control', 'no-store');
    if (!view) return reply.code(404).send({ v: 'UNKNOWN' });
    return { v: effectiveState(view.payment, deps.clock.now()) };
  });

  app.post('/', async (request, reply) => {
    const body = formBody(request.body);
    security.checkCsrf(request, body);
    const token = tokenParam(body.token);
    const view = await find(token);
    const state = effectiveState(view.payment, deps.clock.now());
    if (state !== 'INITIATED') return reply.redirect(landingUrl(token!), 303);
    const entered = (body.phone ?? '').trim();
    const phone = normalizePhone(entered);
    if (!phone) {
      return send(reply, 400, formPage(request, reply, view, token!, entered.slice(0, 20), 'Enter a Norwegian mobile number with 8 digits.'));
    }
    const result = await passLanding(deps, view.payment.paymentId, phone);
    switch (result.kind) {
      case 'unknown-user':
        return send(reply, 400, formPage(request, reply, view, token!, entered.slice(0, 20),
          `No Vipps user has the number ${phone}. Check the number${deps.config.vippsEnv === 'test' ? ` (the demo user is ${DEMO.userPhone})` : ''}.`));
      case 'unknown-payment':
        throw new WebError(404, 'Payment link not found', 'This payment link is not valid.');
      default:
        // Passed, expired or used meanwhile: the GET page tells which.
        return reply.redirect(landingUrl(token!), 303);
    }
  });

  app.post('/cancel', async (request, reply) => {
    const body = formBody(request.body);
    security.checkCsrf(request, body);
    const token = tokenParam(body.token);
    const view = await find(token);
    if (effectiveState(view.payment, deps.clock.now()) === 'INITIATED') {
      try {
        await userCancel(deps, view.payment.paymentId);
      } catch (err) {
        if (!(err instanceof NotApprovable)) throw err;
      }
    }
    return reply.redirect(landingUrl(token!), 303);
  });
}
