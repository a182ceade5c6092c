// The app simulator: the Vipps app in a browser. A test user logs in with a phone number and a PIN
// (the PIN only for users that have one in the test environment; always in production; failed
// logins limited per number and per address) and sees
// the payment requests sent to them, approves (with a card of theirs) or rejects, goes through 3-D
// Secure when the PSP asks for it, and keeps receipts.
//
//   GET  /app                       log in, or the user's payment requests (refreshed by themselves)
//   POST /app/login, /app/logout
//   GET  /app/payments/:id          the payment screen, the 3-D Secure step, or the result/receipt
//   POST /app/payments/:id/pay      cardId → approve(); answers when makePayment is over
//   POST /app/payments/:id/reject   → USER_CANCEL
//   GET  /app/receipts              the user's finished payments, newest first
//   GET  /app/deeplink?token=…      the isApp deeplink (vippsMT://?token=… rewritten to this URL)
//   GET  /app/requests/state, /app/payments/:id/state   {"v": …} for the pages' polling script
//   /app/epayments/:id…             an ePayment payment's screens (epayment.ts)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PaymentDeps } from '../../operations/payment-deps.ts';
import { approve, NotApprovable } from '../../operations/psp-v3/approve.ts';
import { userCancel } from '../../operations/psp-v3/cancel.ts';
import { passLanding } from '../../operations/psp-v3/pass-landing.ts';
import { cardsOfUser, markAppOpened, paymentViewByTokenHash, paymentViewOfUser, pendingPaymentsOf, receiptsOf, type PaymentView } from '../../store/app-views.ts';
import { findUser } from '../../store/users.ts';
import { authenticateUser } from '../../operations/users.ts';
import { ApiError } from '../../domain/errors.ts';
import { authFailureLimit } from '../plugins/auth-failure-limit.ts';
import { sha256 } from '../../security/secrets.ts';
import { DEMO } from '../../operations/seed.ts';
import { formBody, frameSourceOf, WebError, type PageHeaderOptions, type WebSecurity } from './security.ts';
import { cardLabel, formatDateTime, formatNok, sendPage, type FrameData } from './layout.ts';
import { effectiveState, merchantOf, outcomeOf, storeUrl } from './payment-views.ts';
import { normalizePhone } from './landing.ts';
import { applyFault } from '../plugins/faults.ts';
import { brandInfo } from '../../domain/cards.ts';
import { epaymentPages, registerEpaymentAppRoutes } from './epayment.ts';
import { registerRecurringAppRoutes } from './recurring.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface AppUser {
  phone: string;
  name: string;
}

/** Where to go after logging in: only back into the app. */
function safeNext(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/app(\/[A-Za-z0-9/_-]*)?(\?[A-Za-z0-9=_&%.-]*)?$/.test(value) && value.length <= 300 ? value : undefined;
}

function paymentUrl(id: string): string {
  return `/app/payments/${encodeURIComponent(id)}`;
}

/** A login refused for a wrong number or PIN: one answer for both. */
class LoginRefused extends Error {}

export async function registerAppRoutes(app: FastifyInstance, deps: PaymentDeps, security: WebSecurity): Promise<void> {
  const db = deps.database.db;
  /** Production asks every user for a PIN; the test environment only users that have one. */
  const pinRequired = deps.config.vippsEnv !== 'test';
  // Failed logins are limited per phone number and per client address, whether the number exists or not.
  const logins = await authFailureLimit(app, {
    perKey: deps.config.appLoginFailureLimitPerNumber,
    perAddress: deps.config.authFailureLimitPerAddress,
    windowSeconds: deps.config.authFailureWindowSeconds,
    keyOf: (request) => normalizePhone(formBody(request.body).phone),
    credentialOf: (request) => formBody(request.body).pin,
    failureOf: (error) => (error instanceof LoginRefused ? 'key' : undefined),
  });

  function send(reply: FastifyReply, status: number, view: string, data: object, headers: PageHeaderOptions = {}): FastifyReply {
    return sendPage(reply, status, view, data, { ...headers, hsts: security.hsts });
  }

  async function currentUser(request: FastifyRequest): Promise<AppUser | undefined> {
    const phone = security.sessionPhone(request, deps.clock.now());
    if (!phone) return undefined;
    const user = await findUser(db, phone);
    return user ? { phone: user.phone, name: user.name } : undefined;
  }

  function chrome(request: FastifyRequest, reply: FastifyReply): FrameData['appUser'] {
    return { csrf: security.csrfToken(request, reply) };
  }

  function stateWatch(id: string, value: string, noscriptRefresh?: boolean): FrameData['watch'] {
    return { url: `${paymentUrl(id)}/state`, value, noscriptRefresh };
  }

  function notFound(): WebError {
    return new WebError(404, 'Payment not found', 'There is no such payment request for you. It may belong to another user.');
  }

  async function paymentOf(user: AppUser, id: string): Promise<PaymentView> {
    if (!UUID.test(id)) throw notFound();
    const view = await paymentViewOfUser(db, id, user.phone);
    if (!view) throw notFound();
    return view;
  }

  // ---- log in ----

  function loginPage(request: FastifyRequest, reply: FastifyReply, status: number, opts: { phone?: string; next?: string; error?: string; note?: string }): FastifyReply {
    return send(reply, status, 'app-login', {
      csrf: security.csrfToken(request, reply), phone: opts.phone ?? '', next: opts.next, note: opts.note, error: opts.error,
      pinRequired, demoPhone: DEMO.userPhone,
    });
  }

  app.post('/login', async (request, reply) => {
    const body = formBody(request.body);
    security.checkCsrf(request, body);
    const next = safeNext(body.next);
    const entered = (body.phone ?? '').trim();
    const phone = normalizePhone(entered);
    const again = (error: string) => loginPage(request, reply, 400, { phone: entered.slice(0, 20), next, error });
    if (!phone) return again('Enter a Norwegian mobile number with 8 digits.');
    const pin = body.pin ?? '';
    if ((pin !== '' || pinRequired) && !/^\d{4,6}$/.test(pin)) return again('Enter the PIN: 4 to 6 digits.');
    try {
      // An unknown number and a wrong PIN get the same answer after the same work (one scrypt).
      await logins.attempt(request, reply, async () => {
        const user = await authenticateUser(db, phone, pin, { pinRequired });
        if (!user) throw new LoginRefused();
        return user;
      });
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) {
        request.log.info('app simulator login refused: too many failed attempts');
        return loginPage(request, reply, 429, { phone: entered.slice(0, 20), next, error: `Too many failed logins. Try again in ${String(reply.getHeader('retry-after') ?? 60)} seconds.` });
      }
      if (!(err instanceof LoginRefused)) throw err;
      request.log.info('app simulator login refused');
      return again('The phone number or the PIN is wrong.');
    }
    security.startSession(reply, phone, deps.clock.now());
    request.log.info('app simulator login');
    return reply.redirect(next ?? '/app', 303);
  });

  app.post('/logout', async (request, reply) => {
    security.checkCsrf(request, formBody(request.body));
    security.endSession(reply);
    return reply.redirect('/app', 303);
  });

  // ---- the list of payment requests ----

  const epayments = epaymentPages(deps, security);
  registerEpaymentAppRoutes(app, deps, security, {
    user: currentUser,
    loginPage: (request, reply, next) => loginPage(request, reply, 200, { next: safeNext(next), note: 'Log in to see this payment request.' }),
  });

  registerRecurringAppRoutes(app, deps, security, {
    user: currentUser,
    loginPage: (request, reply, next) => loginPage(request, reply, 200, { next: safeNext(next), note: 'Log in to see this agreement.' }),
  });

  function requestsFingerprint(pending: PaymentView[], others: Array<{ id: string; state: string }>): string {
    return [...pending.map((v) => `${v.payment.paymentId}:${v.payment.state}`), ...others.map((o) => `${o.id}:${o.state}`)].join(',') || 'none';
  }

  app.get('/', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const wanted = normalizePhone(typeof query.phone === 'string' ? query.phone : undefined);
    const next = safeNext(query.next);
    const user = await currentUser(request);
    if (!user || (wanted && wanted !== user.phone)) {
      const note = user ? `You are logged in as ${user.phone}. Log in as ${wanted} to see their payment requests.` : undefined;
      return loginPage(request, reply, 200, { phone: wanted, next, note });
    }
    const pending = await pendingPaymentsOf(db, user.phone, deps.clock.now());
    const others = await epayments.pendingItems(user.phone);
    return send(reply, 200, 'app-requests', {
      appUser: chrome(request, reply),
      watch: { url: '/app/requests/state', value: requestsFingerprint(pending, others) },
      user,
      items: [
        ...pending.map((v) => ({
          url: paymentUrl(v.payment.paymentId), merchantName: v.merchantName, paymentText: v.payment.paymentText ?? '',
          amount: formatNok(v.payment.amount), badge: outcomeOf(v.payment).badge,
        })),
        ...others,
      ],
    });
  });

  app.get('/requests/state', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const user = await currentUser(request);
    if (!user) return reply.code(401).send({ v: 'LOGGED_OUT' });
    return { v: requestsFingerprint(await pendingPaymentsOf(db, user.phone, deps.clock.now()), await epayments.pendingItems(user.phone)) };
  });

  // ---- a payment ----

  async function paymentScreen(request: FastifyRequest, reply: FastifyReply, user: AppUser, view: PaymentView): Promise<FastifyReply> {
    const p = view.payment;
    const cards = await cardsOfUser(db, user.phone);
    return send(reply, 200, 'app-payment', {
      appUser: chrome(request, reply),
      watch: stateWatch(p.paymentId, 'AWAITING_USER', false),
      csrf: security.csrfToken(request, reply),
      merchant: merchantOf(view),
      amount: formatNok(p.amount),
      paymentText: p.paymentText,
      orderId: p.merchantOrderId,
      paymentUrl: paymentUrl(p.paymentId),
      cards: cards.map((c) => ({ cardId: c.cardId, brand: c.brand, mark: brandInfo(c.brand).mark, label: cardLabel(c) })),
    });
  }

  function threeDsStep(request: FastifyRequest, reply: FastifyReply, view: PaymentView): FastifyReply {
    const p = view.payment;
    const url = p.url3dSecure ?? '';
    const source = frameSourceOf(url);
    // Not sandboxed: the bank's page needs its own origin (cookies, scripts), and after its redirect
    // the frame holds this server's own /mobileintercept page. The CSP allows framing only its origin.
    return send(reply, 200, 'app-3ds', {
      appUser: chrome(request, reply),
      watch: stateWatch(p.paymentId, 'AWAITING_3DS', false),
      csrf: security.csrfToken(request, reply),
      merchant: merchantOf(view),
      amount: formatNok(p.amount),
      paymentUrl: paymentUrl(p.paymentId),
      url3dSecure: url,
      framed: source !== undefined,
    }, { frameSrc: source ? ["'self'", source] : undefined });
  }

  function processing(request: FastifyRequest, reply: FastifyReply, view: PaymentView): FastifyReply {
    const p = view.payment;
    return send(reply, 200, 'app-processing', {
      appUser: chrome(request, reply),
      watch: stateWatch(p.paymentId, 'DELIVERING'),
      merchant: merchantOf(view),
      amount: formatNok(p.amount),
    });
  }

  function receipt(request: FastifyRequest, reply: FastifyReply, view: PaymentView, state: string): FastifyReply {
    const p = view.payment;
    const rows: Array<[string, string]> = [];
    if (view.card) rows.push([state === 'RESERVED' ? 'Paid with' : 'Card', cardLabel(view.card)]);
    rows.push(['Date', formatDateTime(p.updatedAt)]);
    if (state === 'RESERVED' && view.payerName) rows.push(['Paid by', view.payerName]);
    rows.push(['Transaction ID', p.pspTransactionId], ['Order ID', p.merchantOrderId]);
    if (p.paymentText) rows.push(['Text', p.paymentText]);
    return send(reply, 200, 'app-receipt', {
      appUser: chrome(request, reply),
      outcome: outcomeOf(p, state),
      eyebrow: state === 'RESERVED' ? 'Paid to' : 'Payment to',
      merchant: merchantOf(view),
      amount: formatNok(p.amount),
      rows,
      storeUrl: storeUrl(p),
    });
  }

  app.get('/payments/:id', async (request, reply) => {
    const user = await currentUser(request);
    const { id } = request.params as { id: string };
    if (!user) return loginPage(request, reply, 200, { next: safeNext(paymentUrl(id)), note: 'Log in to see this payment request.' });
    const view = await paymentOf(user, id);
    const state = effectiveState(view.payment, deps.clock.now());
    // For the operator's timeline: when the user first saw the request in the app.
    if (view.payment.appOpenedAt === null && state === 'AWAITING_USER') await markAppOpened(db, view.payment.paymentId, deps.clock.now());
    switch (state) {
      case 'AWAITING_USER': return paymentScreen(request, reply, user, view);
      case 'AWAITING_3DS': return threeDsStep(request, reply, view);
      case 'DELIVERING': return processing(request, reply, view);
      // INITIATED with a phone cannot happen (the phone is set when the landing page is passed).
      default: return receipt(request, reply, view, state);
    }
  });

  app.get('/payments/:id/state', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const user = await currentUser(request);
    if (!user) return reply.code(401).send({ v: 'LOGGED_OUT' });
    const { id } = request.params as { id: string };
    const view = UUID.test(id) ? await paymentViewOfUser(db, id, user.phone) : undefined;
    if (!view) return reply.code(404).send({ v: 'UNKNOWN' });
    return { v: effectiveState(view.payment, deps.clock.now()) };
  });

  app.post('/payments/:id/pay', async (request, reply) => {
    const body = formBody(request.body);
    security.checkCsrf(request, body);
    const { id } = request.params as { id: string };
    const user = await currentUser(request);
    if (!user) return reply.redirect('/app', 303);
    const view = await paymentOf(user, id);
    // A fault rule for approve (test environment) answers here, once the payment names its PSP, before anything changes.
    if (deps.controls?.has('approve')) {
      const p = view.payment;
      const rule = await deps.controls.take('approve', { pspId: p.pspId, msn: p.msn, pspTransactionIds: [p.pspTransactionId] });
      if (rule && await applyFault(rule, request, reply, deps.controls.shutdown)) return reply;
    }
    if (effectiveState(view.payment, deps.clock.now()) === 'AWAITING_USER') {
      const cardId = body.cardId;
      if (cardId !== undefined && !UUID.test(cardId)) throw new WebError(400, 'Choose a card', 'The chosen card is not one of yours.');
      try {
        const after = await approve(deps, view.payment.paymentId, user.phone, cardId);
        request.log.info({ pspTransactionId: after.pspTransactionId, state: after.state }, 'approved in the app simulator');
      } catch (err) {
        // Expired, rejected or approved elsewhere meanwhile: the payment's page shows what happened.
        if (!(err instanceof NotApprovable)) throw err;
      }
    }
    return reply.redirect(paymentUrl(view.payment.paymentId), 303);
  });

  app.post('/payments/:id/reject', async (request, reply) => {
    const body = formBody(request.body);
    security.checkCsrf(request, body);
    const { id } = request.params as { id: string };
    const user = await currentUser(request);
    if (!user) return reply.redirect('/app', 303);
    const view = await paymentOf(user, id);
    const state = effectiveState(view.payment, deps.clock.now());
    if (state === 'AWAITING_USER' || state === 'AWAITING_3DS') {
      try {
        await userCancel(deps, view.payment.paymentId);
      } catch (err) {
        if (!(err instanceof NotApprovable)) throw err;
      }
    }
    return reply.redirect(paymentUrl(view.payment.paymentId), 303);
  });

  // ---- receipts ----

  app.get('/receipts', async (request, reply) => {
    const user = await currentUser(request);
    if (!user) return loginPage(request, reply, 200, { next: '/app/receipts', note: 'Log in to see your receipts.' });
    const list = await receiptsOf(db, user.phone);
    return send(reply, 200, 'app-receipts', {
      appUser: chrome(request, reply),
      items: list.map((v) => ({
        url: paymentUrl(v.payment.paymentId), merchantName: v.merchantName, date: formatDateTime(v.payment.updatedAt),
        paymentText: v.payment.paymentText, amount: formatNok(v.payment.amount), badge: outcomeOf(v.payment).badge,
      })),
    });
  });

  // ---- the isApp deeplink ----

  app.get('/deeplink', async (request, reply) => {
    const raw = (request.query as Record<string, unknown>).token;
    const token = typeof raw === 'string' && raw.length > 0 && raw.length <= 200 ? raw : undefined;
    const view = token ? await paymentViewByTokenHash(db, sha256(token)) : undefined;
    if (!view && token) {
      // An ePayment payment's NATIVE_REDIRECT deeplink (vippsMT://?token=…).
      // A reply is thenable (awaiting it gives no reply back): whether a page went is reply.sent.
      await epayments.deeplink(request, reply, token, await currentUser(request), (note) => loginPage(request, reply, 200, {
        next: `/app/deeplink?token=${encodeURIComponent(token)}`, note,
      }));
      if (reply.sent) return reply;
    }
    if (!view || !token) {
      throw new WebError(404, 'Payment link not found', 'This link does not open any payment request. Go back to the store and start the payment again.');
    }
    const user = await currentUser(request);
    if (!user) {
      return loginPage(request, reply, 200, {
        next: `/app/deeplink?token=${encodeURIComponent(token)}`, note: `Log in to pay ${formatNok(view.payment.amount)} to ${view.merchantName}.`,
      });
    }
    let payment = view.payment;
    if (effectiveState(payment, deps.clock.now()) === 'INITIATED') {
      const result = await passLanding(deps, payment.paymentId, user.phone);
      if (result.kind === 'passed') return reply.redirect(paymentUrl(payment.paymentId), 303);
      if (result.kind === 'expired' || result.kind === 'already-used') payment = result.payment;
    }
    if (effectiveState(payment, deps.clock.now()) === 'TIMEOUT') {
      throw new WebError(410, 'Payment link expired', 'This payment request has expired, and nothing was paid. Go back to the store to start the payment again.');
    }
    if (payment.phone === user.phone) return reply.redirect(paymentUrl(payment.paymentId), 303);
    throw new WebError(410, 'Payment link already used', 'This payment request has already been opened by another user or is finished.');
  });
}
