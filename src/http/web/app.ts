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
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PaymentDeps } from '../../operations/payment-deps.ts';
import { approve, NotApprovable } from '../../operations/approve.ts';
import { userCancel } from '../../operations/cancel.ts';
import { passLanding } from '../../operations/pass-landing.ts';
import { cardsOfUser, markAppOpened, paymentViewByTokenHash, paymentViewOfUser, pendingPaymentsOf, receiptsOf, type PaymentView } from '../../store/app-views.ts';
import { findUser } from '../../store/users.ts';
import { authenticateUser } from '../../operations/users.ts';
import { ApiError } from '../../domain/errors.ts';
import { authFailureLimit } from '../plugins/auth-failure-limit.ts';
import { sha256 } from '../../security/secrets.ts';
import { DEMO } from '../../operations/seed.ts';
import { applyPageHeaders, formBody, frameSourceOf, WebError, type PageHeaderOptions, type WebSecurity } from './security.ts';
import { brandMark, cardLabel, csrfField, escapeHtml, formatDateTime, formatNok, layout } from './layout.ts';
import { badge, effectiveState, merchantHeader, outcomeOf, storeLink } from './payment-views.ts';
import { normalizePhone } from './landing.ts';
import { applyFault } from '../plugins/faults.ts';

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
    isFailure: (error) => error instanceof LoginRefused,
  });

  function send(reply: FastifyReply, status: number, html: string, headers: PageHeaderOptions = {}): FastifyReply {
    applyPageHeaders(reply, { ...headers, hsts: security.hsts });
    return reply.code(status).type('text/html; charset=utf-8').send(html);
  }

  async function currentUser(request: FastifyRequest): Promise<AppUser | undefined> {
    const phone = security.sessionPhone(request, deps.clock.now());
    if (!phone) return undefined;
    const user = await findUser(db, phone);
    return user ? { phone: user.phone, name: user.name } : undefined;
  }

  function chrome(request: FastifyRequest, reply: FastifyReply, user: AppUser) {
    return { phone: user.phone, name: user.name, csrf: security.csrfToken(request, reply) };
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

  function loginPage(request: FastifyRequest, reply: FastifyReply, opts: { phone?: string; next?: string; error?: string; note?: string }): string {
    const csrf = security.csrfToken(request, reply);
    const described = opts.error ? 'login-hint login-error' : 'login-hint';
    return layout({
      title: 'Log in',
      body: `<h1>Log in to Vipps</h1>
${opts.note ? `<p class="center" role="status">${escapeHtml(opts.note)}</p>` : ''}
<form method="post" action="/app/login" data-progress="Logging in…">
${csrfField(csrf)}
${opts.next ? `<input type="hidden" name="next" value="${escapeHtml(opts.next)}">` : ''}
<label for="phone">Phone number</label>
<div class="phone"><span class="prefix" aria-hidden="true">+47</span><input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" maxlength="20" required value="${escapeHtml(opts.phone ?? '')}" aria-describedby="${described}"${opts.error ? ' aria-invalid="true"' : ''}></div>
<label for="pin">PIN</label>
<input id="pin" class="pin" name="pin" type="password" inputmode="numeric" autocomplete="current-password" pattern="[0-9]{4,6}" minlength="4" maxlength="6"${pinRequired ? ' required' : ''} aria-describedby="${described}"${opts.error ? ' aria-invalid="true"' : ''}>
<p id="login-hint" class="hint">The app simulator: log in as a test user to approve or reject their payment requests.${pinRequired
    ? ' The PIN is the one the operator set for the user.'
    : ` Users created without a PIN leave it empty. The demo user is ${DEMO.userPhone}.`}</p>
${opts.error ? `<p id="login-error" class="error" role="alert">${escapeHtml(opts.error)}</p>` : ''}
<div class="actions"><button type="submit" class="primary">Log in</button></div>
</form>`,
    });
  }

  app.post('/login', async (request, reply) => {
    const body = formBody(request.body);
    security.checkCsrf(request, body);
    const next = safeNext(body.next);
    const entered = (body.phone ?? '').trim();
    const phone = normalizePhone(entered);
    const again = (error: string) => send(reply, 400, loginPage(request, reply, { phone: entered.slice(0, 20), next, error }));
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
        return send(reply, 429, loginPage(request, reply, { phone: entered.slice(0, 20), next, error: `Too many failed logins. Try again in ${String(reply.getHeader('retry-after') ?? 60)} seconds.` }));
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

  function requestsFingerprint(pending: PaymentView[]): string {
    return pending.map((v) => `${v.payment.paymentId}:${v.payment.state}`).join(',') || 'none';
  }

  app.get('/', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const wanted = normalizePhone(typeof query.phone === 'string' ? query.phone : undefined);
    const next = safeNext(query.next);
    const user = await currentUser(request);
    if (!user || (wanted && wanted !== user.phone)) {
      const note = user ? `You are logged in as ${user.phone}. Log in as ${wanted} to see their payment requests.` : undefined;
      return send(reply, 200, loginPage(request, reply, { phone: wanted, next, note }));
    }
    const pending = await pendingPaymentsOf(db, user.phone, deps.clock.now());
    const items = pending.map((v) => `<li><a href="${paymentUrl(v.payment.paymentId)}"><span><span class="title">${escapeHtml(v.merchantName)}</span>`
      + `<span class="sub">${escapeHtml(v.payment.paymentText ?? '')}</span></span>`
      + `<span class="right"><span class="title">${escapeHtml(formatNok(v.payment.amount))}</span><span class="sub">${escapeHtml(outcomeOf(v.payment).badge)}</span></span></a></li>`);
    return send(reply, 200, layout({
      title: 'Payment requests',
      appUser: chrome(request, reply, user),
      watch: { url: '/app/requests/state', value: requestsFingerprint(pending) },
      body: `<h1>Payment requests</h1>
<p class="center muted">Logged in as ${escapeHtml(user.name)} (${escapeHtml(user.phone)})</p>
${items.length > 0
    ? `<ul class="list" aria-label="Payment requests">${items.join('\n')}</ul>`
    : '<p class="center" role="status">No payment requests right now.</p>'}
<p class="hint center">New requests appear here by themselves.</p>`,
    }));
  });

  app.get('/requests/state', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const user = await currentUser(request);
    if (!user) return reply.code(401).send({ v: 'LOGGED_OUT' });
    return { v: requestsFingerprint(await pendingPaymentsOf(db, user.phone, deps.clock.now())) };
  });

  // ---- a payment ----

  async function paymentScreen(request: FastifyRequest, reply: FastifyReply, user: AppUser, view: PaymentView): Promise<string> {
    const p = view.payment;
    const csrf = security.csrfToken(request, reply);
    const cards = await cardsOfUser(db, user.phone);
    let cardPart: string;
    if (cards.length === 0) {
      cardPart = '<p class="error" role="alert">You have no card to pay with. Add one with the operator API (POST /admin/users/{phone}/cards).</p>';
    } else if (cards.length === 1) {
      cardPart = `<p class="card-line">${brandMark(cards[0].brand)}<span>Pay with ${escapeHtml(cardLabel(cards[0]))}</span></p>
<input type="hidden" name="cardId" value="${escapeHtml(cards[0].cardId)}">`;
    } else {
      cardPart = `<fieldset><legend>Pay with</legend>
${cards.map((c, i) => `<label class="card-option"><input type="radio" name="cardId" value="${escapeHtml(c.cardId)}"${i === 0 ? ' checked' : ''}>${brandMark(c.brand)}<span>${escapeHtml(cardLabel(c))}</span></label>`).join('\n')}
</fieldset>`;
    }
    return layout({
      title: `Pay to ${view.merchantName}`,
      appUser: chrome(request, reply, user),
      watch: { url: `${paymentUrl(p.paymentId)}/state`, value: 'AWAITING_USER', noscriptRefresh: false },
      body: `${merchantHeader('Pay to', view.merchantName, p.msn, view.companyName)}
<section class="summary" aria-label="Summary">
<p class="amount">${escapeHtml(formatNok(p.amount))}</p>
${p.paymentText ? `<p class="text">${escapeHtml(p.paymentText)}</p>` : ''}
<p class="order">Order ID ${escapeHtml(p.merchantOrderId)}</p>
</section>
<div class="actions">
<form method="post" action="${paymentUrl(p.paymentId)}/pay" data-progress="Processing…">
${csrfField(csrf)}
${cardPart}
${cards.length > 0 ? '<button type="submit" class="primary">Pay</button>' : ''}
</form>
<form method="post" action="${paymentUrl(p.paymentId)}/reject" data-progress="Rejecting…">
${csrfField(csrf)}
<button type="submit" class="secondary">Reject</button>
</form>
</div>
<p id="progress" class="progress" role="status" hidden></p>`,
    });
  }

  function threeDsStep(request: FastifyRequest, reply: FastifyReply, user: AppUser, view: PaymentView): FastifyReply {
    const p = view.payment;
    const url = p.url3dSecure ?? '';
    const source = frameSourceOf(url);
    const csrf = security.csrfToken(request, reply);
    // Not sandboxed: the bank's page needs its own origin (cookies, scripts), and after its redirect
    // the frame holds this server's own /mobileintercept page. The CSP allows framing only its origin.
    const frame = source
      ? `<iframe class="threeds" src="${escapeHtml(url)}" title="3-D Secure verification" referrerpolicy="no-referrer"></iframe>
<p class="hint">The page does not show? <a href="${escapeHtml(url)}">Open the bank's page in this window</a>.</p>`
      : `<p class="footer-links"><a class="button primary" href="${escapeHtml(url)}">Open the bank's page</a></p>`;
    return send(reply, 200, layout({
      title: 'Verify the payment',
      appUser: chrome(request, reply, user),
      watch: { url: `${paymentUrl(p.paymentId)}/state`, value: 'AWAITING_3DS', noscriptRefresh: false },
      body: `<h1>Verify the payment</h1>
${merchantHeader('Pay to', view.merchantName, p.msn, view.companyName, 'h2')}
<p class="big-amount">${escapeHtml(formatNok(p.amount))}</p>
<p class="center" role="status">Your bank needs to confirm this payment (3-D Secure). The app continues by itself when you are done.</p>
${frame}
<div class="actions"><form method="post" action="${paymentUrl(p.paymentId)}/reject" data-progress="Cancelling…">
${csrfField(csrf)}
<button type="submit" class="secondary">Cancel payment</button>
</form></div>`,
    }), { frameSrc: source ? ["'self'", source] : undefined });
  }

  function processing(request: FastifyRequest, reply: FastifyReply, user: AppUser, view: PaymentView): FastifyReply {
    const p = view.payment;
    return send(reply, 200, layout({
      title: 'Processing',
      appUser: chrome(request, reply, user),
      watch: { url: `${paymentUrl(p.paymentId)}/state`, value: 'DELIVERING' },
      body: `<h1>Processing…</h1>
${merchantHeader('Pay to', view.merchantName, p.msn, view.companyName, 'h2')}
<p class="big-amount">${escapeHtml(formatNok(p.amount))}</p>
<p class="center" role="status">The payment is being processed. This page updates by itself.</p>`,
    }));
  }

  function receipt(request: FastifyRequest, reply: FastifyReply, user: AppUser, view: PaymentView, state: string): FastifyReply {
    const p = view.payment;
    const outcome = outcomeOf(p, state);
    const rows: Array<[string, string]> = [];
    if (view.card) rows.push([state === 'RESERVED' ? 'Paid with' : 'Card', cardLabel(view.card)]);
    rows.push(['Date', formatDateTime(p.updatedAt)]);
    if (state === 'RESERVED' && view.payerName) rows.push(['Paid by', view.payerName]);
    rows.push(['Transaction ID', p.pspTransactionId], ['Order ID', p.merchantOrderId]);
    if (p.paymentText) rows.push(['Text', p.paymentText]);
    return send(reply, 200, layout({
      title: outcome.heading,
      appUser: chrome(request, reply, user),
      body: `<h1>${escapeHtml(outcome.heading)}</h1>
<p class="status-line">${badge(outcome)}</p>
${merchantHeader(state === 'RESERVED' ? 'Paid to' : 'Payment to', view.merchantName, p.msn, view.companyName, 'h2')}
<p class="big-amount">${escapeHtml(formatNok(p.amount))}</p>
<p class="center" role="status">${escapeHtml(outcome.message)}</p>
<dl class="details">${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>
${storeLink(p)}
<p class="footer-links"><a href="/app">Payment requests</a> · <a href="/app/receipts">Receipts</a></p>`,
    }));
  }

  app.get('/payments/:id', async (request, reply) => {
    const user = await currentUser(request);
    const { id } = request.params as { id: string };
    if (!user) return send(reply, 200, loginPage(request, reply, { next: safeNext(paymentUrl(id)), note: 'Log in to see this payment request.' }));
    const view = await paymentOf(user, id);
    const state = effectiveState(view.payment, deps.clock.now());
    // For the operator's timeline: when the user first saw the request in the app.
    if (view.payment.appOpenedAt === null && state === 'AWAITING_USER') await markAppOpened(db, view.payment.paymentId, deps.clock.now());
    switch (state) {
      case 'AWAITING_USER': return send(reply, 200, await paymentScreen(request, reply, user, view));
      case 'AWAITING_3DS': return threeDsStep(request, reply, user, view);
      case 'DELIVERING': return processing(request, reply, user, view);
      // INITIATED with a phone cannot happen (the phone is set when the landing page is passed).
      default: return receipt(request, reply, user, view, state);
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
    if (!user) return send(reply, 200, loginPage(request, reply, { next: '/app/receipts', note: 'Log in to see your receipts.' }));
    const list = await receiptsOf(db, user.phone);
    const items = list.map((v) => {
      const o = outcomeOf(v.payment);
      return `<li><a href="${paymentUrl(v.payment.paymentId)}"><span><span class="title">${escapeHtml(v.merchantName)}</span>`
        + `<span class="sub">${escapeHtml(formatDateTime(v.payment.updatedAt))}${v.payment.paymentText ? ` · ${escapeHtml(v.payment.paymentText)}` : ''}</span></span>`
        + `<span class="right"><span class="title">${escapeHtml(formatNok(v.payment.amount))}</span><span class="sub">${escapeHtml(o.badge)}</span></span></a></li>`;
    });
    return send(reply, 200, layout({
      title: 'Receipts',
      appUser: chrome(request, reply, user),
      body: `<h1>Receipts</h1>
${items.length > 0 ? `<ul class="list" aria-label="Receipts">${items.join('\n')}</ul>` : '<p class="center" role="status">No receipts yet.</p>'}`,
    }));
  });

  // ---- the isApp deeplink ----

  app.get('/deeplink', async (request, reply) => {
    const raw = (request.query as Record<string, unknown>).token;
    const token = typeof raw === 'string' && raw.length > 0 && raw.length <= 200 ? raw : undefined;
    const view = token ? await paymentViewByTokenHash(db, sha256(token)) : undefined;
    if (!view || !token) {
      throw new WebError(404, 'Payment link not found', 'This link does not open any payment request. Go back to the store and start the payment again.');
    }
    const user = await currentUser(request);
    if (!user) {
      return send(reply, 200, loginPage(request, reply, {
        next: `/app/deeplink?token=${encodeURIComponent(token)}`, note: `Log in to pay ${formatNok(view.payment.amount)} to ${view.merchantName}.`,
      }));
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
