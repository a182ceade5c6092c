// Validation of POST /epayment/v1/payments bodies from a PSP (card passthrough). Schema errors (a
// field of the wrong type, shape or pattern) are collected and answered together, naming each field;
// then the domain rules answer with their published code, the first that applies.
import type { FieldProblem } from '../errors.ts';
import { epaymentError, schemaError, type EpaymentCode } from './errors.ts';

export const CURRENCIES = ['NOK', 'DKK', 'EUR', 'SEK', 'USD', 'GBP'] as const;
export type Currency = (typeof CURRENCIES)[number];
export const USER_FLOWS = ['PUSH_MESSAGE', 'NATIVE_REDIRECT', 'WEB_REDIRECT', 'QR'] as const;
export const CARD_TYPES = ['VISA_DEBIT', 'VISA_CREDIT', 'MC_DEBIT', 'MC_CREDIT', 'DANKORT'] as const;
export type CardType = (typeof CARD_TYPES)[number];
export const QR_FORMATS = ['TEXT/TARGETURL', 'IMAGE/SVG+XML', 'IMAGE/PNG'] as const;
const SCOPES = ['name', 'address', 'email', 'phoneNumber', 'birthDate', 'nin'];

export const REFERENCE_PATTERN = /^[a-zA-Z0-9-]{8,64}$/;
export const MAX_AMOUNT = 65_000_000;
/** The smallest amount per currency, in minor units (6010 below it). */
export const MINIMUM_AMOUNT: Record<Currency, number> = { NOK: 100, SEK: 100, DKK: 1, EUR: 1, USD: 1, GBP: 1 };
/** Without expiresAt a payment expires 10 minutes after it is created. */
export const DEFAULT_EXPIRY_MS = 10 * 60_000;
/** A long-living payment's expiresAt: more than 10 minutes and at most 28 days ahead. */
export const LONG_LIVING_MIN_MS = 10 * 60_000;
export const LONG_LIVING_MAX_MS = 28 * 24 * 3600_000;

export interface Amount {
  currency: Currency;
  value: number;
}

export interface CreatePayment {
  amount: Amount;
  reference: string;
  userFlow: (typeof USER_FLOWS)[number];
  paymentMethod: 'CARD_PASSTHROUGH';
  returnUrl?: string;
  paymentDescription?: string;
  customerPhone?: string;
  customerInteraction: 'CUSTOMER_PRESENT' | 'CUSTOMER_NOT_PRESENT';
  expiresAt?: Date;
  qrFormat?: { format: (typeof QR_FORMATS)[number]; size?: number };
  metadata?: Record<string, string>;
  cardPassthrough: {
    pspReference: string;
    cardCallbackUrl: string;
    allowedCardTypes: CardType[];
    preferVisaPartOfVisaDankort: boolean;
    publicEncryptionKeyId?: string;
  };
  /** The other fields as sent (profile, receipt, receiptUrl, industryData, minimumUserAge). */
  extra: Record<string, unknown>;
}

export interface CreateOptions {
  /** http:// (and private hosts) allowed for cardCallbackUrl and returnUrl, as for v3's makePaymentUrl. */
  allowHttp: boolean;
  now: Date;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-](2[0-3]|[01]\d):[0-5]\d)$/;

/** Checks an Amount object: schema problems into `problems`; a domain code (4040 decimals) returned. */
export function checkAmount(value: unknown, field: string, problems: FieldProblem[], currencies: readonly string[] = CURRENCIES): EpaymentCode | undefined {
  if (!isObject(value)) {
    problems.push({ name: field, reason: `The ${field} field is required and must be an object with currency and value.` });
    return undefined;
  }
  if (typeof value.currency !== 'string' || !currencies.includes(value.currency)) {
    problems.push({ name: `${field}.currency`, reason: `The currency must be one of ${currencies.join(', ')}.` });
  }
  if (typeof value.value !== 'number' || !Number.isFinite(value.value)) {
    problems.push({ name: `${field}.value`, reason: 'The value is required: an integer amount in minor units (øre, cents).' });
    return undefined;
  }
  if (!Number.isInteger(value.value)) return 4040;
  if (value.value < 0 || value.value > MAX_AMOUNT) {
    problems.push({ name: `${field}.value`, reason: `The value must be between 0 and ${MAX_AMOUNT}.` });
  }
  return undefined;
}

/** A URL the API accepts for returnUrl: https:// or a custom scheme (http:// only where allowed). */
export function validReturnUrl(value: string, allowHttp: boolean): boolean {
  let url: URL;
  try { url = new URL(value); } catch { return false; }
  if (url.protocol === 'http:') return allowHttp;
  if (url.protocol === 'https:') return url.hostname !== '';
  return /^[a-z][a-z0-9+.-]*:$/i.test(url.protocol) && url.protocol !== 'javascript:' && url.protocol !== 'data:';
}

/** cardCallbackUrl: an absolute https:// URL (http:// only where allowed), no credentials, no fragment. */
export function validCallbackUrl(value: string, allowHttp: boolean): boolean {
  let url: URL;
  try { url = new URL(value); } catch { return false; }
  if (url.username || url.password || url.hash) return false;
  return url.hostname !== '' && (url.protocol === 'https:' || (allowHttp && url.protocol === 'http:'));
}

function text(problems: FieldProblem[], body: Obj, field: string, min: number, max: number, label = field): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length < min || v.length > max) {
    problems.push({ name: label, reason: `The field ${label} must be a string of ${min} to ${max} characters.` });
    return undefined;
  }
  return v;
}

/**
 * The fields of a cardPassthrough object but its cardCallbackUrl (ePayment and Recurring tell a bad
 * URL each in their own way): problems into `problems`, or the fields. `types`: the allowedCardTypes
 * the API takes.
 */
export function checkCardPassthroughFields(cp: Obj, types: readonly string[], problems: FieldProblem[]):
  { pspReference: string; allowedCardTypes: string[]; preferVisaPartOfVisaDankort: boolean; publicEncryptionKeyId: string | null } | undefined {
  const before = problems.length;
  if (typeof cp.pspReference !== 'string' || cp.pspReference.length < 1 || cp.pspReference.length > 100 || /[\u0000-\u001f\u007f]/.test(cp.pspReference)) {
    problems.push({ name: 'cardPassthrough.pspReference', reason: 'The pspReference is required: 1 to 100 printable characters.' });
  }
  const allowed = cp.allowedCardTypes;
  if (!Array.isArray(allowed) || allowed.length === 0 || allowed.length > types.length || allowed.some((t) => typeof t !== 'string' || !types.includes(t))) {
    problems.push({ name: 'cardPassthrough.allowedCardTypes', reason: `The allowedCardTypes are required: a list of ${types.join(', ')}.` });
  }
  if (cp.preferVisaPartOfVisaDankort !== undefined && cp.preferVisaPartOfVisaDankort !== null && typeof cp.preferVisaPartOfVisaDankort !== 'boolean') {
    problems.push({ name: 'cardPassthrough.preferVisaPartOfVisaDankort', reason: 'The preferVisaPartOfVisaDankort must be true or false.' });
  }
  if (cp.publicEncryptionKeyId !== undefined && cp.publicEncryptionKeyId !== null && (typeof cp.publicEncryptionKeyId !== 'string' || !GUID.test(cp.publicEncryptionKeyId))) {
    problems.push({ name: 'cardPassthrough.publicEncryptionKeyId', reason: 'The publicEncryptionKeyId must be a GUID.' });
  }
  if (problems.length > before) return undefined;
  return {
    pspReference: cp.pspReference as string,
    allowedCardTypes: [...new Set(allowed as string[])],
    preferVisaPartOfVisaDankort: cp.preferVisaPartOfVisaDankort === true,
    publicEncryptionKeyId: typeof cp.publicEncryptionKeyId === 'string' ? cp.publicEncryptionKeyId.toLowerCase() : null,
  };
}

export function validateCreate(body: unknown, opts: CreateOptions): CreatePayment {
  if (!isObject(body)) throw schemaError([{ name: 'body', reason: 'The request body must be a JSON object.' }]);
  const problems: FieldProblem[] = [];
  const domain: Array<[EpaymentCode, string]> = [];

  const amountCode = checkAmount(body.amount, 'amount', problems);
  if (amountCode) domain.push([amountCode, 'The amount must be an integer in minor units (øre, cents), without decimals.']);

  let method: string | undefined;
  if (!isObject(body.paymentMethod) || typeof body.paymentMethod.type !== 'string') {
    problems.push({ name: 'paymentMethod', reason: 'The paymentMethod field is required: {"type": "CARD_PASSTHROUGH"}.' });
  } else if (!['WALLET', 'CARD', 'CARD_PASSTHROUGH'].includes(body.paymentMethod.type)) {
    problems.push({ name: 'paymentMethod.type', reason: 'The type must be one of WALLET, CARD, CARD_PASSTHROUGH.' });
  } else {
    method = body.paymentMethod.type;
  }

  if (typeof body.reference !== 'string' || !REFERENCE_PATTERN.test(body.reference)) {
    problems.push({ name: 'reference', reason: "The field Reference must match the regular expression '^[a-zA-Z0-9-]{8,64}$'." });
  }
  if (typeof body.userFlow !== 'string' || !(USER_FLOWS as readonly string[]).includes(body.userFlow)) {
    problems.push({ name: 'userFlow', reason: `The userFlow must be one of ${USER_FLOWS.join(', ')}.` });
  }
  const userFlow = body.userFlow as CreatePayment['userFlow'];

  const returnUrl = text(problems, body, 'returnUrl', 1, 2048);
  if (returnUrl !== undefined && !validReturnUrl(returnUrl, opts.allowHttp)) {
    domain.push([4090, `Invalid returnUrl: ${opts.allowHttp ? 'an absolute URL' : 'an https:// URL or a custom URL scheme'} is required.`]);
  }
  const paymentDescription = text(problems, body, 'paymentDescription', 3, 100);

  let customerPhone: string | undefined;
  if (body.customer !== undefined && body.customer !== null) {
    const c = body.customer;
    const kinds = isObject(c) ? ['phoneNumber', 'personalQr', 'customerToken'].filter((k) => c[k] !== undefined) : [];
    if (!isObject(c) || kinds.length !== 1) {
      problems.push({ name: 'customer', reason: 'The customer must have exactly one of phoneNumber, personalQr and customerToken.' });
    } else if (kinds[0] === 'phoneNumber') {
      if (typeof c.phoneNumber !== 'string' || !/^\d{8,15}$/.test(c.phoneNumber)) {
        domain.push([4070, 'Invalid phone number: digits only, with the country code (MSISDN), e.g. 4792929292.']);
      } else {
        customerPhone = c.phoneNumber;
      }
    } else {
      domain.push([7010, `Customer not found: this server knows its test users by phone number only (customer.${kinds[0]} is not supported).`]);
    }
  }

  let customerInteraction: CreatePayment['customerInteraction'] = 'CUSTOMER_NOT_PRESENT';
  if (body.customerInteraction !== undefined && body.customerInteraction !== null) {
    if (body.customerInteraction !== 'CUSTOMER_PRESENT' && body.customerInteraction !== 'CUSTOMER_NOT_PRESENT') {
      problems.push({ name: 'customerInteraction', reason: 'The customerInteraction must be CUSTOMER_PRESENT or CUSTOMER_NOT_PRESENT.' });
    } else {
      customerInteraction = body.customerInteraction;
    }
  }

  let expiresAt: Date | undefined;
  if (body.expiresAt !== undefined && body.expiresAt !== null) {
    if (typeof body.expiresAt !== 'string' || !RFC3339.test(body.expiresAt) || Number.isNaN(Date.parse(body.expiresAt))) {
      problems.push({ name: 'expiresAt', reason: 'The expiresAt must be a date and time in RFC 3339 format, e.g. 2023-02-26T17:32:28Z.' });
    } else {
      expiresAt = new Date(body.expiresAt);
    }
  }

  let qrFormat: CreatePayment['qrFormat'];
  if (body.qrFormat !== undefined && body.qrFormat !== null) {
    const q = body.qrFormat;
    if (!isObject(q) || typeof q.format !== 'string' || !(QR_FORMATS as readonly string[]).includes(q.format)) {
      problems.push({ name: 'qrFormat.format', reason: `The format must be one of ${QR_FORMATS.join(', ')}.` });
    } else if (q.size !== undefined && q.size !== null && (typeof q.size !== 'number' || !Number.isInteger(q.size) || q.size < 100 || q.size > 2000)) {
      problems.push({ name: 'qrFormat.size', reason: 'The size must be an integer from 100 to 2000.' });
    } else {
      qrFormat = { format: q.format as (typeof QR_FORMATS)[number], ...(typeof q.size === 'number' ? { size: q.size } : {}) };
    }
  }

  let metadata: Record<string, string> | undefined;
  if (body.metadata !== undefined && body.metadata !== null) {
    const m = body.metadata;
    if (!isObject(m) || Object.values(m).some((v) => typeof v !== 'string')) {
      problems.push({ name: 'metadata', reason: 'The metadata must be an object of string values.' });
    } else {
      const entries = Object.entries(m) as Array<[string, string]>;
      if (entries.length > 5) domain.push([4100, 'Metadata capacity exceeded: at most 5 key-value pairs.']);
      else if (entries.some(([k]) => k.length > 100)) domain.push([4120, 'Metadata key length exceeded: keys are at most 100 characters.']);
      else if (entries.some(([, v]) => v.length > 500)) domain.push([4130, 'Metadata value length exceeded: values are at most 500 characters.']);
      else metadata = Object.fromEntries(entries);
    }
  }

  const extra: Record<string, unknown> = {};
  if (body.profile !== undefined && body.profile !== null) {
    const p = body.profile;
    if (!isObject(p) || (p.scope !== undefined && typeof p.scope !== 'string')) {
      problems.push({ name: 'profile.scope', reason: 'The scope must be a space-separated string.' });
    } else if (typeof p.scope === 'string') {
      const unknown = p.scope.split(' ').filter((s) => s !== '' && !SCOPES.includes(s));
      if (unknown.length > 0) domain.push([4080, `Invalid scope: ${unknown.join(' ')}. Possible values: ${SCOPES.join(', ')}.`]);
      extra.profile = { scope: p.scope };
    }
  }
  if (body.receiptUrl !== undefined && body.receiptUrl !== null) {
    if (typeof body.receiptUrl !== 'string' || !validReturnUrl(body.receiptUrl, opts.allowHttp)) domain.push([4090, 'Invalid receiptUrl.']);
    else extra.receiptUrl = body.receiptUrl;
  }
  if (body.receipt !== undefined && body.receipt !== null) {
    if (checkReceipt(body.receipt, problems)) extra.receipt = body.receipt;
  }
  if (body.industryData !== undefined && body.industryData !== null) {
    if (checkIndustryData(body.industryData, problems)) extra.industryData = body.industryData;
  }
  if (body.minimumUserAge !== undefined && body.minimumUserAge !== null) {
    if (typeof body.minimumUserAge !== 'number' || !Number.isInteger(body.minimumUserAge) || body.minimumUserAge < 0 || body.minimumUserAge > 100) {
      problems.push({ name: 'minimumUserAge', reason: 'The minimumUserAge must be an integer from 0 to 100.' });
    } else {
      extra.minimumUserAge = body.minimumUserAge;
    }
  }
  if (qrFormat) extra.qrFormat = qrFormat;
  extra.customerInteraction = customerInteraction;

  let cardPassthrough: CreatePayment['cardPassthrough'] | undefined;
  const cp = body.cardPassthrough;
  if (cp !== undefined && cp !== null) {
    if (!isObject(cp)) {
      problems.push({ name: 'cardPassthrough', reason: 'The cardPassthrough must be an object.' });
    } else {
      const before = problems.length;
      const fields = checkCardPassthroughFields(cp, CARD_TYPES, problems);
      if (typeof cp.cardCallbackUrl !== 'string' || cp.cardCallbackUrl.length > 2048) {
        problems.push({ name: 'cardPassthrough.cardCallbackUrl', reason: 'The cardCallbackUrl is required: the URL this server POSTs the card data to.' });
      } else if (!validCallbackUrl(cp.cardCallbackUrl, opts.allowHttp)) {
        domain.push([4090, `Invalid cardCallbackUrl: ${opts.allowHttp ? 'an absolute http:// or https:// URL' : 'an absolute https:// URL'} without credentials or fragment is required.`]);
      }
      if (problems.length === before && fields) {
        cardPassthrough = {
          pspReference: fields.pspReference,
          cardCallbackUrl: cp.cardCallbackUrl as string,
          allowedCardTypes: fields.allowedCardTypes as CardType[],
          preferVisaPartOfVisaDankort: fields.preferVisaPartOfVisaDankort,
          ...(fields.publicEncryptionKeyId !== null ? { publicEncryptionKeyId: fields.publicEncryptionKeyId } : {}),
        };
      }
    }
  }

  if (problems.length > 0) throw schemaError(problems);

  // The domain rules, in the order a PSP most needs to hear them.
  if (method !== 'CARD_PASSTHROUGH') {
    throw epaymentError(4160, `Invalid payment method type: ${method}. A PSP creates payments with paymentMethod.type CARD_PASSTHROUGH.`);
  }
  if (!cardPassthrough && (cp === undefined || cp === null)) throw epaymentError(4140, 'Missing required parameter: cardPassthrough (required with paymentMethod.type CARD_PASSTHROUGH).');
  if (userFlow === 'WEB_REDIRECT' && returnUrl === undefined) throw epaymentError(4140, 'Missing required parameter: returnUrl (required with userFlow WEB_REDIRECT).');
  if (userFlow === 'PUSH_MESSAGE' && customerPhone === undefined && !domain.some(([c]) => c === 4070 || c === 7010)) {
    throw epaymentError(4140, 'Missing required parameter: customer.phoneNumber (required with userFlow PUSH_MESSAGE).');
  }
  if (domain.length > 0) throw epaymentError(domain[0][0], domain[0][1]);
  const amount = body.amount as unknown as Amount;
  if (amount.value < MINIMUM_AMOUNT[amount.currency]) {
    throw epaymentError(6010, `Amount too small: the smallest ${amount.currency} amount is ${MINIMUM_AMOUNT[amount.currency]} (minor units).`);
  }
  if (qrFormat && userFlow !== 'QR') throw epaymentError(4140, 'qrFormat applies only with userFlow QR.');
  if (expiresAt) {
    const ahead = expiresAt.getTime() - opts.now.getTime();
    if (ahead <= LONG_LIVING_MIN_MS) throw epaymentError(6120, 'Expiration date is too soon: expiresAt must be more than 10 minutes ahead.');
    if (ahead > LONG_LIVING_MAX_MS) throw epaymentError(6110, 'Expiration date is too late: expiresAt may be at most 28 days ahead.');
    if (extra.receipt === undefined) throw epaymentError(6130, 'Long living payments require a receipt: send receipt with expiresAt.');
  }

  return {
    amount: { currency: amount.currency, value: amount.value },
    reference: body.reference as string,
    userFlow,
    paymentMethod: 'CARD_PASSTHROUGH',
    ...(returnUrl !== undefined ? { returnUrl } : {}),
    ...(paymentDescription !== undefined ? { paymentDescription } : {}),
    ...(customerPhone !== undefined ? { customerPhone } : {}),
    customerInteraction,
    ...(expiresAt ? { expiresAt } : {}),
    ...(qrFormat ? { qrFormat } : {}),
    ...(metadata ? { metadata } : {}),
    cardPassthrough: cardPassthrough!,
    extra,
  };
}

/** The Order Management Receipt, as far as this server reads it: order lines and a bottom line. */
function checkReceipt(value: unknown, problems: FieldProblem[]): boolean {
  const before = problems.length;
  if (!isObject(value) || !Array.isArray(value.orderLines) || !isObject(value.bottomLine)) {
    problems.push({ name: 'receipt', reason: 'The receipt must have orderLines (a list) and bottomLine (an object).' });
    return false;
  }
  if (value.orderLines.length > 1000) problems.push({ name: 'receipt.orderLines', reason: 'At most 1000 order lines.' });
  value.orderLines.slice(0, 1000).forEach((line, i) => {
    const at = `receipt.orderLines[${i}]`;
    if (!isObject(line)) { problems.push({ name: at, reason: 'An order line must be an object.' }); return; }
    if (typeof line.name !== 'string' || line.name === '') problems.push({ name: `${at}.name`, reason: 'The name is required.' });
    if (typeof line.id !== 'string' || line.id === '') problems.push({ name: `${at}.id`, reason: 'The id is required.' });
    for (const f of ['totalAmount', 'totalAmountExcludingTax', 'totalTaxAmount']) {
      if (typeof line[f] !== 'number' || !Number.isInteger(line[f])) problems.push({ name: `${at}.${f}`, reason: `The ${f} is required: an integer in minor units.` });
    }
    const pct = line.taxPercentage;
    const rate = line.taxRate;
    const pctOk = typeof pct === 'number' && pct >= 0 && pct <= 100;
    const rateOk = typeof rate === 'number' && Number.isInteger(rate) && rate >= 0 && rate <= 10000;
    if (!pctOk && !rateOk) problems.push({ name: `${at}.taxRate`, reason: 'Either taxRate (0 to 10000) or taxPercentage (0 to 100) is required.' });
  });
  if (typeof value.bottomLine.currency !== 'string' || !(CURRENCIES as readonly string[]).includes(value.bottomLine.currency)) {
    problems.push({ name: 'receipt.bottomLine.currency', reason: `The currency must be one of ${CURRENCIES.join(', ')}.` });
  }
  return problems.length === before;
}

function checkIndustryData(value: unknown, problems: FieldProblem[]): boolean {
  const before = problems.length;
  if (!isObject(value) || !isObject(value.airlineData)) {
    problems.push({ name: 'industryData.airlineData', reason: 'The industryData must hold airlineData.' });
    return false;
  }
  const a = value.airlineData;
  const limits: Array<[string, number, number, boolean]> = [
    ['agencyInvoiceNumber', 1, 6, true], ['airlineCode', 3, 3, true], ['airlineDesignatorCode', 2, 2, true],
    ['passengerName', 1, 49, true], ['ticketNumber', 1, 150, false],
  ];
  for (const [field, min, max, required] of limits) {
    const v = a[field];
    if (v === undefined || v === null) {
      if (required) problems.push({ name: `industryData.airlineData.${field}`, reason: `The ${field} is required.` });
    } else if (typeof v !== 'string' || v.length < min || v.length > max) {
      problems.push({ name: `industryData.airlineData.${field}`, reason: `The ${field} must be ${min === max ? `${min}` : `${min} to ${max}`} characters.` });
    }
  }
  return problems.length === before;
}
