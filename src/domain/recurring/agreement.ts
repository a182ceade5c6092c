// A Recurring agreement with card passthrough: the draft a PSP sends (POST /recurring/v3/agreements),
// the changes it may make (PATCH), and how an agreement reads (AgreementResponseV3). Pure.
// The published v3 draft (DraftAgreementV3) plus the PSP's cardPassthrough, and what is newer than the
// vendored 2.6.17 document: pricing type FLEXIBLE, interval optional with it, currencies beyond NOK
// (open-questions G7), country codes NO, DK and FI.
import type { FieldProblem } from '../errors.ts';
import { checkCardPassthroughFields, validCallbackUrl } from '../epayment/create-request.ts';
import { recurringSchemaError, badRequest } from './errors.ts';

export const AGREEMENT_STATUSES = ['PENDING', 'ACTIVE', 'STOPPED', 'EXPIRED'] as const;
export type AgreementStatus = (typeof AGREEMENT_STATUSES)[number];
/** allowedCardTypes of an agreement: ePayment's, and ELEC_DEBIT. */
export const RECURRING_CARD_TYPES = ['VISA_DEBIT', 'VISA_CREDIT', 'ELEC_DEBIT', 'MC_DEBIT', 'MC_CREDIT', 'DANKORT'] as const;
export const RECURRING_CURRENCIES = ['NOK', 'DKK', 'EUR', 'SEK', 'USD', 'GBP'] as const;
export const INTERVAL_UNITS = ['YEAR', 'MONTH', 'WEEK', 'DAY'] as const;
export const PRICING_TYPES = ['LEGACY', 'VARIABLE', 'FLEXIBLE'] as const;
export const CAMPAIGN_TYPES = ['PRICE_CAMPAIGN', 'PERIOD_CAMPAIGN', 'EVENT_CAMPAIGN', 'FULL_FLEX_CAMPAIGN'] as const;
export const TRANSACTION_TYPES = ['RESERVE_CAPTURE', 'DIRECT_CAPTURE'] as const;
/** An agreement not accepted within this long after its draft expires. */
export const AGREEMENT_EXPIRY_MS = 10 * 60_000;
/** The largest amount of a charge (minor units), as ePayment's. */
export const MAX_CHARGE_AMOUNT = 65_000_000;

export interface Interval { unit: (typeof INTERVAL_UNITS)[number]; count: number }

export interface Draft {
  pricing: { type: (typeof PRICING_TYPES)[number]; currency: string; amount: number | null; suggestedMaxAmount: number | null };
  interval: Interval | null;
  campaign: Record<string, unknown> | null;
  initialCharge: { amount: number; description: string; transactionType: (typeof TRANSACTION_TYPES)[number]; orderId: string | null; externalId: string | null } | null;
  productName: string;
  productDescription: string | null;
  merchantAgreementUrl: string;
  merchantRedirectUrl: string;
  externalId: string | null;
  countryCode: string;
  phoneNumber: string | null;
  extra: Record<string, unknown>;
  cardPassthrough: { pspReference: string; cardCallbackUrl: string; allowedCardTypes: string[]; preferVisaPartOfVisaDankort: boolean; publicEncryptionKeyId: string | null };
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-](2[0-3]|[01]\d):[0-5]\d)$/;
/** chargeId / orderId: the v3 orderId's characters, 1–50 (open-questions G3). */
export const CHARGE_ID_PATTERN = /^[a-zA-Z0-9-]{1,50}$/;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function str(problems: FieldProblem[], o: Obj, field: string, label: string, opts: { min?: number; max: number; required?: boolean; pattern?: RegExp }): string | null {
  const v = o[field];
  if (v === undefined || v === null) {
    if (opts.required) problems.push({ name: label, reason: `The ${label} is required: a string of ${opts.min ?? 1} to ${opts.max} characters.` });
    return null;
  }
  if (typeof v !== 'string' || v.length < (opts.min ?? 1) || v.length > opts.max || (opts.pattern && !opts.pattern.test(v))) {
    problems.push({ name: label, reason: `The ${label} must be a string of ${opts.min ?? 1} to ${opts.max} characters${opts.pattern ? ` matching ${opts.pattern.source}` : ''}.` });
    return null;
  }
  return v;
}

function url(problems: FieldProblem[], o: Obj, field: string, allowHttp: boolean, required: boolean): string | null {
  const v = str(problems, o, field, field, { max: 1024, required });
  if (v === null) return null;
  let u: URL;
  try { u = new URL(v); } catch { problems.push({ name: field, reason: `The ${field} must be an absolute URL.` }); return null; }
  const customScheme = /^[a-z][a-z0-9+.-]*:$/i.test(u.protocol) && !['http:', 'https:', 'javascript:', 'data:'].includes(u.protocol);
  if (!(u.protocol === 'https:' || (u.protocol === 'http:' && allowHttp) || (field === 'merchantRedirectUrl' && customScheme))) {
    problems.push({ name: field, reason: `The ${field} must be an https:// URL${allowHttp ? ' (or http://)' : ''}.` });
    return null;
  }
  return v;
}

export function checkInterval(value: unknown, label: string, problems: FieldProblem[]): Interval | null {
  if (!isObject(value)) { problems.push({ name: label, reason: `The ${label} must be an object: {"unit": "MONTH", "count": 1}.` }); return null; }
  const before = problems.length;
  if (typeof value.unit !== 'string' || !(INTERVAL_UNITS as readonly string[]).includes(value.unit)) {
    problems.push({ name: `${label}.unit`, reason: `The unit must be one of ${INTERVAL_UNITS.join(', ')}.` });
  }
  if (!isInt(value.count) || value.count < 1 || value.count > 31) problems.push({ name: `${label}.count`, reason: 'The count must be an integer from 1 to 31.' });
  return problems.length === before ? { unit: value.unit as Interval['unit'], count: value.count as number } : null;
}

function checkCampaign(value: unknown, problems: FieldProblem[]): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) { problems.push({ name: 'campaign', reason: 'The campaign must be an object.' }); return null; }
  const before = problems.length;
  const type = value.type;
  if (typeof type !== 'string' || !(CAMPAIGN_TYPES as readonly string[]).includes(type)) {
    problems.push({ name: 'campaign.type', reason: `The campaign type must be one of ${CAMPAIGN_TYPES.join(', ')}.` });
    return null;
  }
  if (!isInt(value.price) || value.price < 0 || value.price > MAX_CHARGE_AMOUNT) problems.push({ name: 'campaign.price', reason: 'The campaign price is required: an integer amount in minor units.' });
  const date = (field: string) => {
    if (typeof value[field] !== 'string' || !RFC3339.test(value[field] as string) || Number.isNaN(Date.parse(value[field] as string))) {
      problems.push({ name: `campaign.${field}`, reason: `The campaign ${field} is required: an RFC 3339 date-time.` });
    }
  };
  const out: Record<string, unknown> = { type, price: value.price };
  switch (type) {
    case 'PRICE_CAMPAIGN': date('end'); out.end = value.end; break;
    case 'PERIOD_CAMPAIGN': out.period = checkInterval(value.period, 'campaign.period', problems); break;
    case 'EVENT_CAMPAIGN':
      date('eventDate');
      if (typeof value.eventText !== 'string' || value.eventText.length < 1 || value.eventText.length > 100) problems.push({ name: 'campaign.eventText', reason: 'The eventText is required: 1 to 100 characters.' });
      out.eventDate = value.eventDate; out.eventText = value.eventText;
      break;
    case 'FULL_FLEX_CAMPAIGN': date('end'); out.end = value.end; out.interval = checkInterval(value.interval, 'campaign.interval', problems); break;
  }
  return problems.length === before ? out : null;
}

/**
 * A draft's problems, all at once (400 with each field named); the rules between fields after them.
 * `allowHttp`: http:// (and private hosts) allowed for URLs, as for ePayment's cardCallbackUrl.
 */
export function validateDraft(body: unknown, opts: { allowHttp: boolean }): Draft {
  if (!isObject(body)) throw recurringSchemaError([{ name: 'body', reason: 'The body must be a JSON object: the draft agreement.' }]);
  const problems: FieldProblem[] = [];

  let pricing: Draft['pricing'] | null = null;
  const p = body.pricing;
  if (!isObject(p)) {
    problems.push({ name: 'pricing', reason: 'The pricing is required: {"type": "LEGACY", "currency": "NOK", "amount": 10000}.' });
  } else {
    const before = problems.length;
    const type = p.type ?? 'LEGACY';
    if (typeof type !== 'string' || !(PRICING_TYPES as readonly string[]).includes(type)) problems.push({ name: 'pricing.type', reason: `The pricing type must be one of ${PRICING_TYPES.join(', ')}.` });
    if (typeof p.currency !== 'string' || !(RECURRING_CURRENCIES as readonly string[]).includes(p.currency)) {
      problems.push({ name: 'pricing.currency', reason: `The currency must be one of ${RECURRING_CURRENCIES.join(', ')}.` });
    }
    const amount = p.amount ?? null;
    const suggested = p.suggestedMaxAmount ?? null;
    if (type === 'LEGACY' && (!isInt(amount) || amount < 100 || amount > MAX_CHARGE_AMOUNT)) {
      problems.push({ name: 'pricing.amount', reason: `The amount is required with pricing type LEGACY: an integer from 100 to ${MAX_CHARGE_AMOUNT} (minor units).` });
    }
    if (type === 'VARIABLE' && (!isInt(suggested) || suggested < 100 || suggested > 2_000_000)) {
      problems.push({ name: 'pricing.suggestedMaxAmount', reason: 'The suggestedMaxAmount is required with pricing type VARIABLE: an integer from 100 to 2000000 (minor units).' });
    }
    if (type !== 'LEGACY' && amount !== null) problems.push({ name: 'pricing.amount', reason: `The amount is only for pricing type LEGACY; with ${String(type)} the charges' amounts vary.` });
    if (type !== 'VARIABLE' && suggested !== null) problems.push({ name: 'pricing.suggestedMaxAmount', reason: 'The suggestedMaxAmount is only for pricing type VARIABLE.' });
    if (problems.length === before) {
      pricing = { type: type as Draft['pricing']['type'], currency: p.currency as string, amount: amount as number | null, suggestedMaxAmount: suggested as number | null };
    }
  }

  // FLEXIBLE (pay per use) may leave the interval out; the others need one.
  const interval = body.interval === undefined || body.interval === null
    ? (pricing?.type === 'FLEXIBLE' ? null : (problems.push({ name: 'interval', reason: 'The interval is required: {"unit": "MONTH", "count": 1} (only pricing type FLEXIBLE may leave it out).' }), null))
    : checkInterval(body.interval, 'interval', problems);

  const campaign = checkCampaign(body.campaign, problems);

  let initialCharge: Draft['initialCharge'] = null;
  const ic = body.initialCharge;
  if (ic !== undefined && ic !== null) {
    if (!isObject(ic)) {
      problems.push({ name: 'initialCharge', reason: 'The initialCharge must be an object: {"amount", "description", "transactionType"}.' });
    } else {
      const before = problems.length;
      if (!isInt(ic.amount) || ic.amount < 100 || ic.amount > MAX_CHARGE_AMOUNT) problems.push({ name: 'initialCharge.amount', reason: `The initial charge's amount is required: an integer from 100 to ${MAX_CHARGE_AMOUNT} (minor units).` });
      const description = str(problems, ic, 'description', 'initialCharge.description', { max: 45, required: true });
      if (typeof ic.transactionType !== 'string' || !(TRANSACTION_TYPES as readonly string[]).includes(ic.transactionType)) {
        problems.push({ name: 'initialCharge.transactionType', reason: `The transactionType is required: ${TRANSACTION_TYPES.join(' or ')}.` });
      }
      const orderId = str(problems, ic, 'orderId', 'initialCharge.orderId', { max: 50, pattern: CHARGE_ID_PATTERN });
      const externalId = str(problems, ic, 'externalId', 'initialCharge.externalId', { max: 64 });
      if (problems.length === before) {
        initialCharge = { amount: ic.amount as number, description: description!, transactionType: ic.transactionType as (typeof TRANSACTION_TYPES)[number], orderId, externalId };
      }
    }
  }

  const productName = str(problems, body, 'productName', 'productName', { max: 45, required: true });
  const productDescription = str(problems, body, 'productDescription', 'productDescription', { max: 100 });
  const merchantAgreementUrl = url(problems, body, 'merchantAgreementUrl', opts.allowHttp, true);
  const merchantRedirectUrl = url(problems, body, 'merchantRedirectUrl', opts.allowHttp, true);
  const externalId = str(problems, body, 'externalId', 'externalId', { max: 64 });
  const phoneNumber = str(problems, body, 'phoneNumber', 'phoneNumber', { min: 8, max: 15, pattern: /^\d+$/ });
  const countryCode = body.countryCode ?? 'NO';
  if (typeof countryCode !== 'string' || !['NO', 'DK', 'FI'].includes(countryCode)) problems.push({ name: 'countryCode', reason: 'The countryCode must be NO, DK or FI.' });
  const extra: Record<string, unknown> = {};
  for (const flag of ['isApp', 'skipLandingPage'] as const) {
    const v = body[flag];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'boolean') problems.push({ name: flag, reason: `The ${flag} must be true or false.` });
    else extra[flag] = v;
  }
  const scope = str(problems, body, 'scope', 'scope', { max: 255 });
  if (scope !== null) extra.scope = scope;

  let cardPassthrough: Draft['cardPassthrough'] | null = null;
  const cp = body.cardPassthrough;
  if (!isObject(cp)) {
    problems.push({ name: 'cardPassthrough', reason: 'The cardPassthrough is required with PSP credentials: {"pspReference", "cardCallbackUrl", "allowedCardTypes"}.' });
  } else {
    const fields = checkCardPassthroughFields(cp, RECURRING_CARD_TYPES, problems);
    const urlOk = typeof cp.cardCallbackUrl === 'string' && cp.cardCallbackUrl.length <= 2048 && validCallbackUrl(cp.cardCallbackUrl, opts.allowHttp);
    if (!urlOk) {
      problems.push({ name: 'cardPassthrough.cardCallbackUrl', reason: `The cardCallbackUrl is required: ${opts.allowHttp ? 'an absolute http:// or https:// URL' : 'an absolute https:// URL'} without credentials or fragment.` });
    }
    if (fields && urlOk) cardPassthrough = { ...fields, cardCallbackUrl: cp.cardCallbackUrl as string };
  }
  if (problems.length > 0) throw recurringSchemaError(problems);

  // Rules between fields.
  if (pricing!.type === 'VARIABLE' && campaign !== null) throw badRequest('A campaign cannot be used with pricing type VARIABLE.', [{ name: 'campaign', reason: 'Not with VARIABLE pricing.' }]);
  if (campaign !== null && pricing!.type === 'LEGACY' && (campaign.price as number) >= pricing!.amount!) {
    throw badRequest('The campaign price must be lower than the agreement\'s price.', [{ name: 'campaign.price', reason: `Must be lower than pricing.amount (${pricing!.amount}).` }]);
  }
  if (campaign?.type === 'PERIOD_CAMPAIGN' || campaign?.type === 'FULL_FLEX_CAMPAIGN' || campaign?.type === 'PRICE_CAMPAIGN') {
    if (interval === null) throw badRequest('A campaign needs the agreement\'s interval.', [{ name: 'interval', reason: 'Required with a campaign.' }]);
  }
  return {
    pricing: pricing!, interval, campaign, initialCharge, productName: productName!, productDescription, merchantAgreementUrl: merchantAgreementUrl!,
    merchantRedirectUrl: merchantRedirectUrl!, externalId, countryCode: countryCode as string, phoneNumber, extra, cardPassthrough: cardPassthrough!,
  };
}

export interface Patch {
  productName?: string;
  productDescription?: string;
  merchantAgreementUrl?: string;
  externalId?: string;
  status?: 'STOPPED';
  amount?: number;
  suggestedMaxAmount?: number;
  interval?: Interval;
}

/** PATCH /recurring/v3/agreements/{id}: PatchAgreementV3. */
export function validatePatch(body: unknown, opts: { allowHttp: boolean }): Patch {
  if (!isObject(body)) throw recurringSchemaError([{ name: 'body', reason: 'The body must be a JSON object: the fields to change, or {"status": "STOPPED"}.' }]);
  const problems: FieldProblem[] = [];
  const out: Patch = {};
  const known = new Set(['productName', 'productDescription', 'merchantAgreementUrl', 'externalId', 'status', 'pricing', 'interval']);
  for (const k of Object.keys(body)) if (!known.has(k)) problems.push({ name: k, reason: 'Is not a field an agreement update may change.' });
  const productName = str(problems, body, 'productName', 'productName', { max: 45 });
  if (productName !== null) out.productName = productName;
  const productDescription = str(problems, body, 'productDescription', 'productDescription', { max: 100 });
  if (productDescription !== null) out.productDescription = productDescription;
  const agreementUrl = url(problems, body, 'merchantAgreementUrl', opts.allowHttp, false);
  if (agreementUrl !== null) out.merchantAgreementUrl = agreementUrl;
  const externalId = str(problems, body, 'externalId', 'externalId', { max: 64 });
  if (externalId !== null) out.externalId = externalId;
  if (body.status !== undefined && body.status !== null) {
    if (body.status !== 'STOPPED') problems.push({ name: 'status', reason: 'The status may only be set to STOPPED.' });
    else out.status = 'STOPPED';
  }
  if (body.pricing !== undefined && body.pricing !== null) {
    const p = body.pricing;
    if (!isObject(p)) problems.push({ name: 'pricing', reason: 'The pricing must be an object: {"amount"} or {"suggestedMaxAmount"}.' });
    else {
      if (p.amount !== undefined && p.amount !== null) {
        if (!isInt(p.amount) || p.amount < 100 || p.amount > MAX_CHARGE_AMOUNT) problems.push({ name: 'pricing.amount', reason: `The amount must be an integer from 100 to ${MAX_CHARGE_AMOUNT}.` });
        else out.amount = p.amount;
      }
      if (p.suggestedMaxAmount !== undefined && p.suggestedMaxAmount !== null) {
        if (!isInt(p.suggestedMaxAmount) || p.suggestedMaxAmount < 100 || p.suggestedMaxAmount > 2_000_000) problems.push({ name: 'pricing.suggestedMaxAmount', reason: 'The suggestedMaxAmount must be an integer from 100 to 2000000.' });
        else out.suggestedMaxAmount = p.suggestedMaxAmount;
      }
    }
  }
  if (body.interval !== undefined && body.interval !== null) {
    const i = body.interval;
    // PatchAgreementV3 nests it: {"type": "RECURRING", "period": {"unit", "count"}}; {"unit", "count"} is taken too.
    const period = isObject(i) && isObject(i.period) ? i.period : i;
    const checked = checkInterval(period, isObject(i) && isObject(i.period) ? 'interval.period' : 'interval', problems);
    if (checked) out.interval = checked;
  }
  if (problems.length > 0) throw recurringSchemaError(problems);
  if (Object.keys(out).length === 0) throw recurringSchemaError([{ name: 'body', reason: 'Nothing to change: send the fields to change, or {"status": "STOPPED"}.' }]);
  return out;
}

/** An interval in words, as the app shows it ("every month", "every 2 weeks"). */
export function intervalText(i: { unit: string; count: number } | null): string {
  if (!i) return 'when used';
  const unit = i.unit.toLowerCase();
  return i.count === 1 ? `every ${unit}` : `every ${i.count} ${unit}s`;
}

/**
 * When an agreement's campaign ends, on the shared clock: a price or full-flex campaign at its `end`,
 * an event campaign at its `eventDate`, a period campaign one `period` after the agreement started (or,
 * before it did, after `now`: the whole period is ahead). Undefined for a campaign with no end.
 */
export function campaignEnd(campaign: Record<string, unknown> | null, startedAt: Date | null, now: Date): Date | undefined {
  if (!campaign) return undefined;
  const at = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v) : undefined);
  switch (campaign.type) {
    case 'PRICE_CAMPAIGN':
    case 'FULL_FLEX_CAMPAIGN': return at(campaign.end);
    case 'EVENT_CAMPAIGN': return at(campaign.eventDate);
    case 'PERIOD_CAMPAIGN': {
      const p = campaign.period as Interval | undefined;
      if (!p) return undefined;
      const end = new Date((startedAt ?? now).getTime());
      if (p.unit === 'YEAR') end.setUTCFullYear(end.getUTCFullYear() + p.count);
      else if (p.unit === 'MONTH') end.setUTCMonth(end.getUTCMonth() + p.count);
      else end.setUTCDate(end.getUTCDate() + p.count * (p.unit === 'WEEK' ? 7 : 1));
      return end;
    }
    default: return undefined;
  }
}
