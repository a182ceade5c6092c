// The user's side of ePayment payments, on the same landing page and app simulator as PSP API v3's:
//   /landing?token=…            the redirectUrl of a WEB_REDIRECT (or TEXT/TARGETURL QR) payment: the
//                               phone number the request goes to (landing.ts hands ePayment tokens here)
//   GET  /app/epayments/:id     the payment screen (the cards allowedCardTypes permits), the result
//   POST /app/epayments/:id/pay     cardId → the card callback; RESERVE → paid; FAIL → try again (or
//                                   not); SOFT_DECLINE → a link to the PSP's 3-D Secure page (softDeclineUrl)
//   POST /app/epayments/:id/reject  → ABORTED
//   GET  /qr/v1?token=…         the QR image of a QR payment (its target: the landing page)
//   /mobileintercept?transactionId=…  softDeclineCompletedRedirectUrl: the second callback, then back
//                                     to the payment (the v3 route hands ePayment references on)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import type { PaymentDeps } from '../../operations/payment-deps.ts';
import { cardsFor, enterPhone, payInApp, rejectByUser, userState } from '../../operations/epayment/user.ts';
import { findEpaymentById, findEpaymentByTokenHash, pendingEpaymentsOf, type EpaymentRow } from '../../store/epayments.ts';
import { findMerchant } from '../../store/merchants.ts';
import { brandInfo } from '../../domain/cards.ts';
import { sha256 } from '../../security/secrets.ts';
import { DEMO } from '../../operations/seed.ts';
import { formBody, WebError, type WebSecurity } from './security.ts';
import { cardLabel, formatDateTime, formatNok, sendPage, type FrameData } from './layout.ts';
import { UNSAFE_SCHEMES, type Outcome } from './payment-views.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An amount in minor units as the app shows it: "499,00 kr" (NOK, DKK, SEK), "4,99 €", "$4.99", "£4.99". */
export function formatAmount(value: number, currency: string): string {
  const whole = Math.floor(Math.abs(value) / 100).toLocaleString('en-US');
  const cents = (Math.abs(value) % 100).toString().padStart(2, '0');
  const sign = value < 0 ? '−' : '';
  switch (currency) {
    case 'EUR': return formatNok(value).replace(/kr$/, '€');
    case 'USD': return `${sign}$${whole}.${cents}`;
    case 'GBP': return `${sign}£${whole}.${cents}`;
    default: return formatNok(value);
  }
}

/** The brand the user sees: MobilePay for DKK and EUR (Denmark and Finland), Vipps otherwise. */
export function brandOf(p: { currency: string }): { brand?: 'mobilepay'; brandName: string } {
  return p.currency === 'DKK' || p.currency === 'EUR' ? { brand: 'mobilepay', brandName: 'MobilePay' } : { brandName: 'Vipps' };
}

export function epaymentUrl(id: string): string {
  return `/app/epayments/${encodeURIComponent(id)}`;
}

/** The way back to the merchant (returnUrl), where it may be linked. */
function returnUrlOf(p: EpaymentRow): string | undefined {
  if (!p.returnUrl) return undefined;
  try {
    return UNSAFE_SCHEMES.has(new URL(p.returnUrl).protocol) ? undefined : p.returnUrl;
  } catch {
    return undefined;
  }
}

function outcomeOf(p: EpaymentRow, state: string): Outcome {
  const amount = formatAmount(p.amount, p.currency);
  switch (state) {
    case 'AUTHORIZED': return { heading: 'Payment approved', badge: 'Paid', tone: 'ok', message: `${amount} is reserved. The store will complete your order.` };
    case 'ABORTED': return { heading: 'Payment rejected', badge: 'Rejected', tone: 'neutral', message: 'The payment request was rejected. Nothing was paid.' };
    case 'EXPIRED': return { heading: 'Payment request expired', badge: 'Expired', tone: 'neutral', message: 'The time to approve the payment ran out. Nothing was paid.' };
    case 'TERMINATED': return { heading: 'Payment cancelled', badge: 'Cancelled', tone: 'neutral', message: 'The store cancelled the payment. Nothing was paid.' };
    default:
      return p.closedReason !== null
        ? { heading: 'Payment not completed', badge: 'Not completed', tone: 'bad', message: 'Something went wrong with the payment. Check the status of the payment with the store you came from.' }
        : { heading: 'Waiting for approval', badge: 'Waiting', tone: 'neutral', message: 'The payment request is waiting in the app.' };
  }
}

export interface EpaymentPages {
  /** The landing page for an ePayment token; undefined when the token is not one. */
  landing(request: FastifyRequest, reply: FastifyReply, token: string): Promise<FastifyReply | undefined>;
  landingPost(request: FastifyRequest, reply: FastifyReply, token: string, phone: string | undefined, entered: string): Promise<FastifyReply | undefined>;
  landingCancel(reply: FastifyReply, token: string): Promise<FastifyReply | undefined>;
  landingState(token: string): Promise<string | undefined>;
  /**
   * The app opened by an ePayment payment's deeplink: the payment goes to the logged-in user (who is
   * asked to log in first). Undefined when the token is not an ePayment payment's.
   */
  deeplink(request: FastifyRequest, reply: FastifyReply, token: string, user: { phone: string } | undefined, login: (note: string) => FastifyReply): Promise<FastifyReply | undefined>;
  /** The user's waiting ePayment requests, for the app's list. */
  pendingItems(phone: string): Promise<Array<{ id: string; url: string; merchantName: string; paymentText: string; amount: string; badge: string; state: string }>>;
}

export function epaymentPages(deps: PaymentDeps, security: WebSecurity): EpaymentPages {
  const db = deps.database.db;
  const send = (reply: FastifyReply, status: number, view: string, data: object) => sendPage(reply, status, view, data, { hsts: security.hsts });
  const landingUrl = (token: string) => `/landing?token=${encodeURIComponent(token)}`;

  async function merchantName(p: EpaymentRow): Promise<{ name: string; msn: string; companyName: string }> {
    const m = await findMerchant(db, p.msn);
    return { name: m?.name ?? `Sales unit ${p.msn}`, msn: p.msn, companyName: m?.companyName ?? '' };
  }

  async function summary(p: EpaymentRow) {
    return { amount: formatAmount(p.amount, p.currency), merchantName: (await merchantName(p)).name, paymentText: p.paymentDescription };
  }

  const watch = (token: string, value: string): FrameData['watch'] => ({ url: `/landing/state?token=${encodeURIComponent(token)}`, value });

  return {
    async landing(request, reply, token) {
      const p = await findEpaymentByTokenHash(db, sha256(token));
      if (!p) return undefined;
      const state = userState(p, deps.clock.now());
      if (state === 'CREATED' && p.closedReason === null) {
        if (p.phone === null) {
          const prefill = p.customerPhone ?? '';
          return send(reply, 200, 'landing-form', { ...brandOf(p), summary: await summary(p), token, phone: prefill, csrf: security.csrfToken(request, reply), watch: watch(token, 'CREATED') });
        }
        return send(reply, 200, 'landing-waiting', { ...brandOf(p), summary: await summary(p), phone: p.phone, watch: watch(token, 'CREATED') });
      }
      if (state === 'EXPIRED') return send(reply, 410, 'landing-expired', { ...brandOf(p), summary: await summary(p), storeUrl: returnUrlOf(p) });
      return send(reply, 410, 'landing-finished', { ...brandOf(p), summary: await summary(p), outcome: outcomeOf(p, state), storeUrl: returnUrlOf(p) });
    },

    async landingPost(request, reply, token, phone, entered) {
      const p = await findEpaymentByTokenHash(db, sha256(token));
      if (!p) return undefined;
      const again = async (error: string) => send(reply, 400, 'landing-form', {
        ...brandOf(p), summary: await summary(p), token, phone: entered.slice(0, 20), error, csrf: security.csrfToken(request, reply), watch: watch(token, 'CREATED'),
      });
      if (userState(p, deps.clock.now()) !== 'CREATED' || p.phone !== null) return reply.redirect(landingUrl(token), 303);
      if (!phone) return again('Enter a Norwegian mobile number with 8 digits.');
      const result = await enterPhone(deps, p, phone);
      if (result === 'unknown-user') {
        return again(`No user has the number ${phone}. Check the number${deps.config.vippsEnv === 'test' ? ` (the demo user is ${DEMO.userPhone})` : ''}.`);
      }
      return reply.redirect(landingUrl(token), 303);
    },

    async landingCancel(reply, token) {
      const p = await findEpaymentByTokenHash(db, sha256(token));
      if (!p) return undefined;
      if (userState(p, deps.clock.now()) === 'CREATED') await rejectByUser(deps, p);
      return reply.redirect(landingUrl(token), 303);
    },

    async landingState(token) {
      const p = await findEpaymentByTokenHash(db, sha256(token));
      if (!p) return undefined;
      const state = userState(p, deps.clock.now());
      return state === 'CREATED' ? (p.phone === null ? 'CREATED' : 'IN_APP') : state;
    },

    async deeplink(_request, reply, token, user, login) {
      const p = await findEpaymentByTokenHash(db, sha256(token));
      if (!p) return undefined;
      if (!user) return login(`Log in to pay ${formatAmount(p.amount, p.currency)} to ${(await merchantName(p)).name}.`);
      const state = userState(p, deps.clock.now());
      if (state === 'EXPIRED') throw new WebError(410, 'Payment link expired', 'This payment request has expired, and nothing was paid. Go back to the store to start the payment again.');
      if (state === 'CREATED' && p.phone === null) await enterPhone(deps, p, user.phone);
      const now = await findEpaymentById(db, p.paymentId);
      if (now?.phone === user.phone) return reply.redirect(epaymentUrl(p.paymentId), 303);
      throw new WebError(410, 'Payment link already used', 'This payment request has already been opened by another user or is finished.');
    },

    async pendingItems(phone) {
      const list = await pendingEpaymentsOf(db, phone, deps.clock.now());
      const out = [];
      for (const p of list) {
        if (p.closedReason !== null) continue;
        out.push({
          id: p.paymentId, url: epaymentUrl(p.paymentId), merchantName: (await merchantName(p)).name, paymentText: p.paymentDescription ?? '',
          amount: formatAmount(p.amount, p.currency), badge: 'Waiting', state: p.state,
        });
      }
      return out;
    },
  };
}

/** The app simulator's routes of an ePayment payment (registered in the app's scope, with its session). */
export function registerEpaymentAppRoutes(
  app: FastifyInstance, deps: PaymentDeps, security: WebSecurity,
  session: { user(request: FastifyRequest): Promise<{ phone: string; name: string } | undefined>; loginPage(request: FastifyRequest, reply: FastifyReply, next: string): FastifyReply },
): void {
  const db = deps.database.db;
  const send = (reply: FastifyReply, status: number, view: string, data: object) => sendPage(reply, status, view, data, { hsts: security.hsts });
  const notFound = () => new WebError(404, 'Payment not found', 'There is no such payment request for you. It may belong to another user.');

  async function paymentOf(phone: string, id: string): Promise<EpaymentRow> {
    const p = UUID.test(id) ? await findEpaymentById(db, id) : undefined;
    if (!p || p.phone !== phone) throw notFound();
    return p;
  }

  app.get('/epayments/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const user = await session.user(request);
    if (!user) return session.loginPage(request, reply, epaymentUrl(id));
    const p = await paymentOf(user.phone, id);
    const state = userState(p, deps.clock.now());
    const m = await findMerchant(db, p.msn);
    const merchant = { name: m?.name ?? `Sales unit ${p.msn}`, msn: p.msn, companyName: m?.companyName ?? '' };
    const appUser = { csrf: security.csrfToken(request, reply) };
    if (state === 'CREATED' && p.closedReason === null) {
      if (p.softDeclineUrl !== null && p.pendingAttemptId !== null) {
        // Waiting for the bank: the PSP's 3-D Secure page, in a new navigation.
        return send(reply, 200, 'app-epayment-3ds', { ...brandOf(p), appUser, merchant, amount: formatAmount(p.amount, p.currency), softDeclineUrl: p.softDeclineUrl, paymentUrl: epaymentUrl(p.paymentId), csrf: appUser.csrf });
      }
      const cards = await cardsFor(deps, p, user.phone);
      return send(reply, 200, 'app-payment', {
        ...brandOf(p), appUser, csrf: appUser.csrf, merchant, amount: formatAmount(p.amount, p.currency), paymentText: p.paymentDescription, orderId: p.reference, orderLabel: 'Reference',
        paymentUrl: epaymentUrl(p.paymentId), error: p.failureMessage ? `The payment was declined: ${p.failureMessage}. Try again, or pay with another card.` : undefined,
        noCardsMessage: `You have no card that ${merchant.name} accepts here (${p.allowedCardTypes.join(', ')}).`,
        cards: cards.map((c) => ({
          cardId: c.cardId, brand: c.brand, mark: brandInfo(c.brand).mark,
          label: `${cardLabel(c)}${c.brand === 'VISA_DANKORT' ? ` · as ${c.cardType === 'DANKORT' ? 'Dankort' : 'Visa'}` : ''}`,
        })),
      });
    }
    const rows: Array<[string, string]> = [['Date', formatDateTime(p.updatedAt)], ['Reference', p.reference]];
    if (p.paymentDescription) rows.push(['Text', p.paymentDescription]);
    return send(reply, 200, 'app-receipt', {
      ...brandOf(p), appUser, outcome: outcomeOf(p, state), eyebrow: state === 'AUTHORIZED' ? 'Paid to' : 'Payment to', merchant,
      amount: formatAmount(p.amount, p.currency), rows, storeUrl: returnUrlOf(p),
    });
  });

  app.post('/epayments/:id/pay', async (request, reply) => {
    const body = formBody(request.body);
    security.checkCsrf(request, body);
    const { id } = request.params as { id: string };
    const user = await session.user(request);
    if (!user) return reply.redirect('/app', 303);
    const p = await paymentOf(user.phone, id);
    const cardId = body.cardId;
    if (cardId !== undefined && !UUID.test(cardId)) throw new WebError(400, 'Choose a card', 'The chosen card is not one of yours.');
    await payInApp(deps, p, user.phone, cardId);
    // After a SOFT_DECLINE the payment's page leads to the PSP's 3-D Secure page (a form's answer may
    // not redirect to another origin: the pages' CSP form-action).
    return reply.redirect(epaymentUrl(p.paymentId), 303);
  });

  app.post('/epayments/:id/reject', async (request, reply) => {
    security.checkCsrf(request, formBody(request.body));
    const { id } = request.params as { id: string };
    const user = await session.user(request);
    if (!user) return reply.redirect('/app', 303);
    const p = await paymentOf(user.phone, id);
    await rejectByUser(deps, p);
    return reply.redirect(epaymentUrl(p.paymentId), 303);
  });
}

/**
 * GET /qr/v1?token=… — the QR code of a QR payment's redirectUrl: an image (SVG by default, PNG with
 * qrFormat IMAGE/PNG at its size, 1024 by default) of the payment's landing page URL, which a phone's
 * camera opens. 404 for a token that is no QR payment's.
 */
export function registerQrRoute(app: FastifyInstance, deps: PaymentDeps): void {
  app.get('/qr/v1', async (request, reply) => {
    const raw = (request.query as Record<string, unknown>).token;
    const token = typeof raw === 'string' && raw.length > 0 && raw.length <= 200 ? raw : undefined;
    const p = token ? await findEpaymentByTokenHash(deps.database.db, sha256(token)) : undefined;
    if (!p || !token || p.userFlow !== 'QR') return reply.code(404).type('text/plain; charset=utf-8').send('No QR payment has this token.');
    const target = `${deps.config.publicUrl}/landing?token=${encodeURIComponent(token)}`;
    const format = p.extra.qrFormat as { format?: string; size?: number } | undefined;
    reply.header('cache-control', 'no-store');
    if (format?.format === 'IMAGE/PNG') {
      const png = await QRCode.toBuffer(target, { type: 'png', width: format.size ?? 1024, margin: 2, errorCorrectionLevel: 'M' });
      return reply.type('image/png').send(png);
    }
    const svg = await QRCode.toString(target, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
    return reply.type('image/svg+xml').send(svg);
  });
}
