// The console's test users of the app simulator: the list with their cards, adding a user (with a
// first card and, optionally, an app login PIN) and adding a card to a user.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleContext } from './index.ts';
import { PIN_PATTERN, type CardBrand } from '../../operations/users.ts';
import { brandInfo, CARD_BRANDS } from '../../domain/cards.ts';
import { ApiError } from '../../domain/errors.ts';
import { WebError, type FormBody } from '../web/security.ts';

const PER_PAGE = 50;
const PHONE = /^\d{8}$/;
const PIN = new RegExp(PIN_PATTERN);
const BRANDS: readonly CardBrand[] = CARD_BRANDS;

const NOTICES: Record<string, string> = {
  'user-added': 'The test user was added.',
  'card-added': 'The card was added.',
};

interface CardFields { brand: CardBrand; last4?: string; expiryMonth?: string; expiryYear?: string }

/** A card from a form, or the reason it is not one. */
function cardFrom(form: FormBody): CardFields | string {
  const brand = form.brand as CardBrand;
  if (!BRANDS.includes(brand)) return 'Choose Visa or Mastercard.';
  const last4 = (form.last4 ?? '').trim();
  const month = (form.expiryMonth ?? '').trim();
  const year = (form.expiryYear ?? '').trim();
  if (last4 !== '' && !/^\d{4}$/.test(last4)) return 'The last four digits are 4 digits.';
  if (month !== '' && !/^(0[1-9]|1[0-2])$/.test(month)) return 'The expiry month is 01 to 12.';
  if (year !== '' && !/^20\d{2}$/.test(year)) return 'The expiry year is four digits, 20xx.';
  return {
    brand, ...(last4 ? { last4 } : {}), ...(month ? { expiryMonth: month } : {}), ...(year ? { expiryYear: year } : {}),
  };
}

export function registerUserPages(scope: FastifyInstance, ctx: ConsoleContext): void {
  const users = ctx.services.users;

  async function listPage(request: FastifyRequest, reply: FastifyReply, extra: {
    status?: number; error?: { form: string; phone?: string; message: string }; values?: Record<string, string>; notice?: string;
  } = {}) {
    const q = request.query as Record<string, unknown>;
    const after = typeof q.after === 'string' && PHONE.test(q.after) ? q.after : undefined;
    if (q.after !== undefined && q.after !== '' && after === undefined) throw new WebError(400, 'Request not accepted', 'The page in the address is not valid.');
    const found = await users.page(after, PER_PAGE + 1, ctx.scope(request));
    const shown = found.slice(0, PER_PAGE);
    return ctx.page(request, reply, {
      view: 'console/users', title: 'Test users', section: 'users', status: extra.status, notice: extra.notice,
      data: {
        users: shown, paged: after !== undefined, next: found.length > PER_PAGE ? shown[shown.length - 1].phone : null,
        error: extra.error ?? null, values: extra.values ?? {}, brands: BRANDS, brandLabels: Object.fromEntries(CARD_BRANDS.map((b) => [b, brandInfo(b).label])), pinPattern: PIN_PATTERN,
        production: ctx.services.config.vippsEnv === 'production',
      },
    });
  }

  scope.get('/users', async (request, reply) => {
    const done = (request.query as Record<string, unknown>).done;
    return listPage(request, reply, { notice: typeof done === 'string' && Object.hasOwn(NOTICES, done) ? NOTICES[done] : undefined });
  });

  scope.post('/users', async (request, reply) => {
    const form = ctx.form(request);
    const phone = (form.phone ?? '').trim();
    const name = (form.name ?? '').trim();
    const pin = (form.pin ?? '').trim();
    const values = { phone, name, brand: form.brand ?? 'VISA' };
    const refuse = (message: string, status = 400) => listPage(request, reply, { status, error: { form: 'user', message }, values });
    if (!PHONE.test(phone)) return refuse('The phone number is 8 digits.');
    if (name.length > 100) return refuse('The name is at most 100 characters.');
    if (pin !== '' && !PIN.test(pin)) return refuse('The PIN is 4 to 6 digits.');
    const card = cardFrom(form);
    if (typeof card === 'string') return refuse(card);
    try {
      await users.create(phone, name || `Test user ${phone}`, [card], pin === '' ? undefined : pin, ctx.scope(request));
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) return refuse(err.message, err.status);
      throw err;
    }
    request.log.info({ phone }, 'test user added from the console');
    return reply.redirect(`/console/users?done=user-added#user-${phone}`, 303);
  });

  scope.post('/users/:phone/cards', async (request, reply) => {
    const form = ctx.form(request);
    const { phone } = request.params as { phone: string };
    if (!PHONE.test(phone)) throw new WebError(404, 'Not found', 'There is no such test user.');
    const card = cardFrom(form);
    const refuse = (message: string, status = 400) => listPage(request, reply, { status, error: { form: 'card', phone, message } });
    if (typeof card === 'string') return refuse(card);
    try {
      await users.addCard(phone, card, ctx.scope(request));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new WebError(404, 'Not found', err.message);
      if (err instanceof ApiError && err.status < 500) return refuse(err.message, err.status);
      throw err;
    }
    return reply.redirect(`/console/users?done=card-added#user-${phone}`, 303);
  });
}
