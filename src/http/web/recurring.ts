// The user's side of Recurring agreements, in the app simulator:
//   GET  /recurring/confirm?agreement=…&token=…   the vippsConfirmationUrl: on to the app (log in first)
//   GET  /app/agreements                          the user's agreements
//   GET  /app/agreements/:id[?token=…]            an agreement to accept (with the token of its
//                                                 confirmation URL), or the user's own as it stands
//   POST /app/agreements/:id/accept               cardId → the sign-up card callback; RESERVE → ACTIVE;
//                                                 FAIL → try again (or not); SOFT_DECLINE → the PSP's 3-D Secure page
//   POST /app/agreements/:id/change-card          cardId → a zero-amount card callback
//   POST /app/agreements/:id/stop                 the user stops the agreement (or rejects a PENDING one)
//   GET  /recurring/soft-decline-completed?agreement=…&ref=…   where 3-D Secure returns: the second callback
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PaymentDeps } from '../../operations/payment-deps.ts';
import { brandInfo } from '../../domain/cards.ts';
import { campaignEnd, intervalText } from '../../domain/recurring/agreement.ts';
import { ApiError } from '../../domain/errors.ts';
import { safeEqual } from '../../security/secrets.ts';
import { agreementById, agreementsOfPhone, callbacksOfAgreement, findCharge, type AgreementRow } from '../../store/recurring.ts';
import { findMerchant } from '../../store/merchants.ts';
import { findCard } from '../../store/users.ts';
import { cardsFor, sendAgreementCallback, stopByUser } from '../../operations/recurring/sign-up.ts';
import { formBody, WebError, type WebSecurity } from './security.ts';
import { cardLabel, sendPage } from './layout.ts';
import { brandOf, formatAmount } from './epayment.ts';
import { UNSAFE_SCHEMES } from './payment-views.ts';

const AGREEMENT_ID = /^[A-Za-z0-9_-]{1,36}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const agreementUrl = (id: string, token?: string): string => `/app/agreements/${encodeURIComponent(id)}${token ? `?token=${encodeURIComponent(token)}` : ''}`;

function tokenOk(deps: PaymentDeps, id: string, token: unknown): token is string {
  return typeof token === 'string' && token.length <= 100 && safeEqual(token, deps.paymentTokens.agreementToken(id));
}

const STATUS_VIEW: Record<string, { badge: string; tone: string }> = {
  PENDING: { badge: 'Waiting for you', tone: 'neutral' }, ACTIVE: { badge: 'Active', tone: 'ok' },
  STOPPED: { badge: 'Stopped', tone: 'neutral' }, EXPIRED: { badge: 'Expired', tone: 'neutral' },
};

function priceOf(a: AgreementRow): string {
  if (a.pricingType === 'LEGACY') return formatAmount(a.amount ?? 0, a.currency);
  if (a.pricingType === 'VARIABLE') return `Up to ${formatAmount(a.maxAmount ?? a.suggestedMaxAmount ?? 0, a.currency)}`;
  return 'Price varies with use';
}

/** The campaign as the app shows it; once it has ended on the shared clock, it says so. */
function campaignOf(a: AgreementRow, now: Date): string | undefined {
  const c = a.campaign as { type?: string; price?: number; eventText?: string; period?: { unit: string; count: number } } | null;
  if (!c || typeof c.price !== 'number') return undefined;
  const end = campaignEnd(a.campaign, a.startedAt, now);
  if (end && end <= now) return `ended ${end.toISOString().slice(0, 10)}; the price is the agreement's`;
  const price = formatAmount(c.price, a.currency);
  const until = end ? ` until ${end.toISOString().slice(0, 10)}` : '';
  switch (c.type) {
    case 'PERIOD_CAMPAIGN': return `${price} for the first ${c.period ? intervalText(c.period).replace('every ', '') : 'period'}${a.startedAt ? until : ''}`;
    case 'EVENT_CAMPAIGN': return `${price} until ${c.eventText}${end ? ` (${end.toISOString().slice(0, 10)})` : ''}`;
    default: return `${price}${until}`;
  }
}

function storeUrlOf(a: AgreementRow): string | undefined {
  try {
    return UNSAFE_SCHEMES.has(new URL(a.merchantRedirectUrl).protocol) ? undefined : a.merchantRedirectUrl;
  } catch {
    return undefined;
  }
}

/** /recurring/confirm and /recurring/soft-decline-completed (registered with the prefix /recurring). */
export function registerRecurringRootRoutes(app: FastifyInstance, deps: PaymentDeps): void {
  app.get('/confirm', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const id = typeof q.agreement === 'string' && AGREEMENT_ID.test(q.agreement) ? q.agreement : undefined;
    if (!id || !tokenOk(deps, id, q.token)) throw new WebError(404, 'Agreement not found', 'This link is not an agreement\'s. Go back to the store and start again.');
    return reply.redirect(agreementUrl(id, q.token as string), 303);
  });

  app.get('/soft-decline-completed', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const id = typeof q.agreement === 'string' && AGREEMENT_ID.test(q.agreement) ? q.agreement : undefined;
    if (!id || typeof q.ref !== 'string' || !safeEqual(q.ref, deps.paymentTokens.agreementSoftDeclineRef(id))) {
      throw new WebError(404, 'Agreement not found', 'This link is not an agreement\'s.');
    }
    const a = await agreementById(deps.database.db, id);
    const last = a ? (await callbacksOfAgreement(deps.database.db, id)).at(-1) : undefined;
    if (a && last && last.outcome === 'SOFT_DECLINE' && last.cardId && last.phone) {
      const card = (await cardsFor(deps, a, last.phone)).find((c) => c.cardId === last.cardId);
      if (card) {
        await sendAgreementCallback(deps, {
          agreement: a, card, phone: last.phone, purpose: last.purpose as 'SIGNUP' | 'CARD_CHANGE', round: 2, authorizationAttemptId: last.authorizationAttemptId,
        });
      }
    }
    return reply.redirect(agreementUrl(id), 303);
  });
}

/** The app simulator's agreement routes (registered in the app's scope, with its session). */
export function registerRecurringAppRoutes(
  app: FastifyInstance, deps: PaymentDeps, security: WebSecurity,
  session: { user(request: FastifyRequest): Promise<{ phone: string; name: string } | undefined>; loginPage(request: FastifyRequest, reply: FastifyReply, next: string): FastifyReply },
): void {
  const db = deps.database.db;
  const send = (reply: FastifyReply, status: number, view: string, data: object) => sendPage(reply, status, view, data, { hsts: security.hsts });
  const notFound = () => new WebError(404, 'Agreement not found', 'There is no such agreement for you. It may belong to another user.');

  /** The agreement the user may see: one they accepted, or a PENDING one whose link (token) they hold. */
  async function agreementFor(phone: string, id: string, token: unknown): Promise<AgreementRow> {
    const a = AGREEMENT_ID.test(id) ? await agreementById(db, id) : undefined;
    if (!a) throw notFound();
    if (a.phone === phone) return a;
    if (a.phone === null && tokenOk(deps, id, token)) return a;
    throw notFound();
  }

  async function page(request: FastifyRequest, reply: FastifyReply, phone: string, a: AgreementRow, token: string | undefined, status = 200, error?: string): Promise<FastifyReply> {
    const m = await findMerchant(db, a.msn);
    const merchant = { name: m?.name ?? `Sales unit ${a.msn}`, msn: a.msn, companyName: m?.companyName ?? '' };
    const callbacks = await callbacksOfAgreement(db, a.agreementId);
    const last = callbacks.at(-1);
    const softDeclineUrl = last?.outcome === 'SOFT_DECLINE' && (a.status === 'PENDING' || a.status === 'ACTIVE')
      ? (() => { try { const u = JSON.parse(last.responseBody ?? '{}').softDeclineUrl; return typeof u === 'string' && /^https?:\/\//i.test(u) ? u : undefined; } catch { return undefined; } })()
      : undefined;
    const initial = a.initialChargeId ? await findCharge(db, a.msn, a.initialChargeId) : undefined;
    const current = a.cardId ? await findCard(db, a.cardId) : undefined;
    const cards = (await cardsFor(deps, a, phone)).filter((c) => a.status !== 'ACTIVE' || c.cardId !== a.cardId);
    let notice: string | undefined;
    if (a.status === 'PENDING' && a.closedReason !== null) notice = 'The agreement could not be set up. Check with the store you came from.';
    if (a.status === 'PENDING' && a.failureMessage && a.closedReason === null) error ??= `The card was declined: ${a.failureMessage}. Try again, or use another card.`;
    if (a.status === 'ACTIVE' && last?.purpose === 'CARD_CHANGE' && last.outcome !== 'RESERVE' && last.outcome !== 'SOFT_DECLINE') error ??= 'The new card was declined; the agreement keeps its card.';
    return send(reply, status, 'app-agreement', {
      ...brandOf(a), appUser: { csrf: security.csrfToken(request, reply) }, csrf: security.csrfToken(request, reply), merchant,
      agreement: {
        productName: a.productName, productDescription: a.productDescription, price: priceOf(a), interval: intervalText(a.intervalUnit ? { unit: a.intervalUnit, count: a.intervalCount! } : null),
        campaign: campaignOf(a, deps.clock.now()), initialCharge: initial ? `${formatAmount(initial.amount, initial.currency)} (${initial.description})` : undefined,
        status: a.status, ...STATUS_VIEW[a.status], card: current ? cardLabel(current) : undefined,
      },
      actionUrl: `/app/agreements/${encodeURIComponent(a.agreementId)}`, token: a.status === 'PENDING' ? token : undefined,
      cards: a.closedReason !== null ? [] : cards.map((c) => ({ cardId: c.cardId, brand: c.brand, mark: brandInfo(c.brand).mark, label: `${cardLabel(c)}${c.brand === 'VISA_DANKORT' ? ` · as ${c.cardType === 'DANKORT' ? 'Dankort' : 'Visa'}` : ''}` })),
      error, notice, softDeclineUrl, storeUrl: a.status === 'PENDING' ? undefined : storeUrlOf(a),
    });
  }

  app.get('/agreements', async (request, reply) => {
    const user = await session.user(request);
    if (!user) return session.loginPage(request, reply, '/app/agreements');
    const list = await agreementsOfPhone(db, user.phone);
    const items = [];
    for (const a of list) {
      const m = await findMerchant(db, a.msn);
      items.push({ url: agreementUrl(a.agreementId), merchantName: m?.name ?? `Sales unit ${a.msn}`, productName: a.productName, price: priceOf(a), ...STATUS_VIEW[a.status] });
    }
    return send(reply, 200, 'app-agreements', { appUser: { csrf: security.csrfToken(request, reply) }, items });
  });

  app.get('/agreements/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const token = (request.query as Record<string, unknown>).token;
    const user = await session.user(request);
    if (!user) return session.loginPage(request, reply, agreementUrl(id, typeof token === 'string' ? token : undefined));
    const a = await agreementFor(user.phone, id, token);
    return page(request, reply, user.phone, a, typeof token === 'string' ? token : undefined);
  });

  const act = (name: string, run: (a: AgreementRow, phone: string, cardId: string | undefined) => Promise<unknown>) =>
    app.post(`/agreements/:id/${name}`, async (request, reply) => {
      const body = formBody(request.body);
      security.checkCsrf(request, body);
      const { id } = request.params as { id: string };
      const user = await session.user(request);
      if (!user) return reply.redirect('/app', 303);
      const a = await agreementFor(user.phone, id, body.token);
      const cardId = body.cardId;
      if (cardId !== undefined && !UUID.test(cardId)) throw new WebError(400, 'Choose a card', 'The chosen card is not one of yours.');
      try {
        await run(a, user.phone, cardId);
      } catch (err) {
        // A refusal the user can act on is shown on the agreement's page.
        if (err instanceof ApiError && err.status < 500) {
          const now = (await agreementById(db, a.agreementId))!;
          return page(request, reply, user.phone, now, body.token, 400, err.message);
        }
        throw err;
      }
      return reply.redirect(agreementUrl(a.agreementId, a.status === 'PENDING' ? body.token : undefined), 303);
    });

  act('accept', async (a, phone, cardId) => {
    if (a.status !== 'PENDING') return;
    const card = (await cardsFor(deps, a, phone)).find((c) => c.cardId === cardId) ?? (cardId === undefined ? (await cardsFor(deps, a, phone))[0] : undefined);
    if (!card) throw new ApiError(400, 'no_card', 'Choose one of your cards that the agreement allows.');
    await sendAgreementCallback(deps, { agreement: a, card, phone, purpose: 'SIGNUP', round: 1 });
  });
  act('change-card', async (a, phone, cardId) => {
    if (a.status !== 'ACTIVE') return;
    // The outcome shows on the page, from the callback: a declined card, or the PSP's 3-D Secure step.
    const card = (await cardsFor(deps, a, phone)).find((c) => c.cardId === cardId && c.cardId !== a.cardId);
    if (!card) throw new ApiError(400, 'no_card', 'Choose another of your cards that the agreement allows.');
    await sendAgreementCallback(deps, { agreement: a, card, phone, purpose: 'CARD_CHANGE', round: 1 });
  });
  // Stop an ACTIVE agreement, or reject a PENDING one (it ends STOPPED by the user).
  act('stop', async (a) => {
    if (a.status === 'ACTIVE' || a.status === 'PENDING') await stopByUser(deps, a.agreementId);
  });
}
