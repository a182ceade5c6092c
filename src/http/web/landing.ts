// The landing page at the vippsRedirectUrl (/landing?token=…): the user confirms or enters the phone
// number the payment request goes to, then completes the payment in the app. Works without script.
//
//   GET  /landing?token=…        the form (INITIATED), "Complete in Vipps" (sent to the app), or a
//                                 clear page for an expired (410), finished (410) or unknown (404) link
//   POST /landing                 token, phone: INITIATED → AWAITING_USER, then back to GET (303)
//   POST /landing/cancel          token: the user cancels on the landing page (USER_CANCEL)
//   GET  /landing/state?token=…   {"v": state}, polled by the page's script
// A token of an ePayment payment (its redirectUrl) is served by epayment.ts's pages, on the same paths.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PaymentDeps } from '../../operations/payment-deps.ts';
import { passLanding } from '../../operations/psp-v3/pass-landing.ts';
import { userCancel } from '../../operations/psp-v3/cancel.ts';
import { NotApprovable } from '../../operations/psp-v3/approve.ts';
import { paymentViewByTokenHash, type PaymentView } from '../../store/app-views.ts';
import { sha256 } from '../../security/secrets.ts';
import { formBody, WebError, type WebSecurity } from './security.ts';
import { sendPage, type FrameData } from './layout.ts';
import { effectiveState, outcomeOf, storeUrl, summaryOf } from './payment-views.ts';
import { DEMO } from '../../operations/seed.ts';
import { epaymentPages } from './epayment.ts';

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
  const epayment = epaymentPages(deps, security);

  async function find(token: string | undefined): Promise<PaymentView> {
    const view = token ? await paymentViewByTokenHash(db, sha256(token)) : undefined;
    if (!view) {
      throw new WebError(404, 'Payment link not found',
        'This payment link is not valid. Check that you opened the whole link, or go back to the store and start the payment again.');
    }
    return view;
  }

  function send(reply: FastifyReply, status: number, view: string, data: object): FastifyReply {
    return sendPage(reply, status, view, data, { hsts: security.hsts });
  }

  function stateWatch(token: string, value: string, noscriptRefresh?: boolean): FrameData['watch'] {
    return { url: `/landing/state?token=${encodeURIComponent(token)}`, value, noscriptRefresh };
  }

  function formPage(request: FastifyRequest, reply: FastifyReply, status: number, view: PaymentView, token: string, phone: string, error?: string): FastifyReply {
    return send(reply, status, 'landing-form', {
      summary: summaryOf(view), token, phone, error, csrf: security.csrfToken(request, reply),
      watch: stateWatch(token, 'INITIATED', false),
    });
  }

  /** The page for the link's payment in its current state. */
  function pageFor(request: FastifyRequest, reply: FastifyReply, view: PaymentView, token: string): FastifyReply {
    const state = effectiveState(view.payment, deps.clock.now());
    switch (state) {
      case 'INITIATED':
        return formPage(request, reply, 200, view, token, view.payment.customerMobileNumber ?? '');
      case 'AWAITING_USER':
      case 'DELIVERING':
      case 'AWAITING_3DS':
        return send(reply, 200, 'landing-waiting', { summary: summaryOf(view), phone: view.payment.phone ?? '', watch: stateWatch(token, state) });
      case 'TIMEOUT':
        return send(reply, 410, 'landing-expired', { summary: summaryOf(view), storeUrl: storeUrl(view.payment) });
      default:
        return send(reply, 410, 'landing-finished', { summary: summaryOf(view), outcome: outcomeOf(view.payment, state), storeUrl: storeUrl(view.payment) });
    }
  }

  app.get('/', async (request, reply) => {
    const token = tokenParam((request.query as Record<string, unknown>).token);
    const view = token ? await paymentViewByTokenHash(db, sha256(token)) : undefined;
    if (view) return pageFor(request, reply, view, token!);
    // An ePayment payment's page is sent by epayment.landing (a reply is thenable: awaiting it gives
    // no reply back, so whether a page went is reply.sent).
    if (token) await epayment.landing(request, reply, token);
    if (reply.sent) return reply;
    return pageFor(request, reply, await find(token), token!);
  });

  app.get('/state', async (request, reply) => {
    const token = tokenParam((request.query as Record<string, unknown>).token);
    const view = token ? await paymentViewByTokenHash(db, sha256(token)) : undefined;
    reply.header('cache-control', 'no-store');
    if (!view) {
      const state = token ? await epayment.landingState(token) : undefined;
      return state ? { v: state } : reply.code(404).send({ v: 'UNKNOWN' });
    }
    return { v: effectiveState(view.payment, deps.clock.now()) };
  });

  app.post('/', async (request, reply) => {
    const body = formBody(request.body);
    security.checkCsrf(request, body);
    const token = tokenParam(body.token);
    const entered = (body.phone ?? '').trim();
    const phone = normalizePhone(entered);
    if (token && !(await paymentViewByTokenHash(db, sha256(token)))) {
      await epayment.landingPost(request, reply, token, phone, entered);
      if (reply.sent) return reply;
    }
    const view = await find(token);
    const state = effectiveState(view.payment, deps.clock.now());
    if (state !== 'INITIATED') return reply.redirect(landingUrl(token!), 303);
    if (!phone) {
      return formPage(request, reply, 400, view, token!, entered.slice(0, 20), 'Enter a Norwegian mobile number with 8 digits.');
    }
    const result = await passLanding(deps, view.payment.paymentId, phone);
    switch (result.kind) {
      case 'unknown-user':
        return formPage(request, reply, 400, view, token!, entered.slice(0, 20),
          `No Vipps user has the number ${phone}. Check the number${deps.config.vippsEnv === 'test' ? ` (the demo user is ${DEMO.userPhone})` : ''}.`);
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
    if (token && !(await paymentViewByTokenHash(db, sha256(token)))) {
      await epayment.landingCancel(reply, token);
      if (reply.sent) return reply;
    }
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
