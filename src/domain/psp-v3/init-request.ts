// Validation of POST /psp/v3/psppayments/init bodies, with the guide's error codes:
// `amount` amount.less.than.one, `currency` transaction.currency.invalid, `51` Invalid pspRedirectUrl,
// `makePaymentUrl` Invalid makePaymentUrl, and `51` Invalid request for everything else.
// Pure: resolving the callback host (production) happens in the delivery module.
import type { FieldProblem } from '../errors.ts';
import { isValidHttpUrl } from '../url.ts';

export interface InitRequest {
  pspTransactionId: string;
  merchantOrderId: string;
  customerMobileNumber: string | null;
  amount: number;
  currency: 'NOK';
  pspRedirectUrl: string;
  makePaymentUrl: string;
  makePaymentToken: string | null;
  paymentText: string | null;
  isApp: boolean;
  skipLandingPage: boolean;
  merchantAgreementUrl: string | null;
}

export interface InitRules {
  /** Callback URLs may be http and point at localhost (the test environment's default). */
  allowPrivateCallbacks: boolean;
}

export const MIN_AMOUNT = 100;
export const MAX_AMOUNT = 2_147_483_647;
const PSP_TRANSACTION_ID = /^[A-Za-z0-9._~-]{1,36}$/;
const MERCHANT_ORDER_ID = /^[a-zA-Z0-9-]{1,50}$/;
const PHONE = /^\d{8}$/;

function invalid(field: string, why: string): FieldProblem {
  return { name: '51', reason: `Invalid request: ${field} ${why}` };
}

/** Reads an int32 amount from a number or a numeric string. */
export function parseAmount(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d{1,12}\s*$/.test(value)) return Number(value.trim());
  return undefined;
}

function optionalString(body: Record<string, unknown>, field: string, max: number, problems: FieldProblem[]): string | null {
  const v = body[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') {
    problems.push(invalid(field, 'must be a string'));
    return null;
  }
  if (v.length > max) problems.push(invalid(field, `must be at most ${max} characters`));
  return v;
}

function optionalBoolean(body: Record<string, unknown>, field: string, problems: FieldProblem[]): boolean {
  const v = body[field];
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  problems.push(invalid(field, 'must be true or false'));
  return false;
}

export function validateInit(body: unknown, rules: InitRules): { ok: true; value: InitRequest } | { ok: false; problems: FieldProblem[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, problems: [{ name: '51', reason: 'Invalid request: the body must be a JSON object' }] };
  }
  const b = body as Record<string, unknown>;
  const problems: FieldProblem[] = [];

  const pspTransactionId = b.pspTransactionId;
  if (typeof pspTransactionId !== 'string' || pspTransactionId === '') problems.push(invalid('pspTransactionId', 'is required'));
  else if (!PSP_TRANSACTION_ID.test(pspTransactionId) || !/[a-z0-9]/i.test(pspTransactionId)) {
    // The spec's pattern is "[a-z0-9]" (unanchored); the official Postman collection sends upper-case
    // ids, so it is applied without regard to case.
    problems.push(invalid('pspTransactionId', 'must be 1-36 characters of letters, digits, ".", "_", "~" or "-", with at least one letter or digit'));
  }

  const merchantOrderId = b.merchantOrderId;
  if (typeof merchantOrderId !== 'string' || merchantOrderId === '') problems.push(invalid('merchantOrderId', 'is required'));
  else if (!MERCHANT_ORDER_ID.test(merchantOrderId)) problems.push(invalid('merchantOrderId', 'must match ^[a-zA-Z0-9-]{1,50}$'));

  let customerMobileNumber: string | null = null;
  if (b.customerMobileNumber !== undefined && b.customerMobileNumber !== null && b.customerMobileNumber !== '') {
    if (typeof b.customerMobileNumber !== 'string' || !PHONE.test(b.customerMobileNumber)) {
      problems.push(invalid('customerMobileNumber', 'must be 8 digits'));
    } else customerMobileNumber = b.customerMobileNumber;
  }

  const amount = parseAmount(b.amount);
  if (b.amount === undefined || b.amount === null) problems.push({ name: 'amount', reason: 'amount is required' });
  else if (amount === undefined) problems.push({ name: 'amount', reason: 'amount must be an integer number of øre, as a number or a string of digits' });
  else if (amount < 1) problems.push({ name: 'amount', reason: 'amount.less.than.one' });
  else if (amount < MIN_AMOUNT) problems.push({ name: 'amount', reason: `amount.less.than.minimum: the minimum amount is ${MIN_AMOUNT} øre (1 NOK)` });
  else if (amount > MAX_AMOUNT) problems.push({ name: 'amount', reason: 'amount must fit in a 32-bit integer' });

  const currency = b.currency === undefined || b.currency === null ? 'NOK' : b.currency;
  if (currency !== 'NOK') problems.push({ name: 'currency', reason: 'transaction.currency.invalid' });

  const isApp = optionalBoolean(b, 'isApp', problems);
  const skipLandingPage = optionalBoolean(b, 'skipLandingPage', problems);

  const pspRedirectUrl = b.pspRedirectUrl;
  if (typeof pspRedirectUrl !== 'string' || pspRedirectUrl === '') problems.push({ name: '51', reason: 'Invalid pspRedirectUrl: pspRedirectUrl is required' });
  else if (!isApp && !isValidHttpUrl(pspRedirectUrl)) problems.push({ name: '51', reason: 'Invalid pspRedirectUrl' });

  const makePaymentUrl = b.makePaymentUrl;
  if (!isValidHttpUrl(makePaymentUrl, { allowLocalhost: rules.allowPrivateCallbacks, httpsOnly: !rules.allowPrivateCallbacks })) {
    problems.push({ name: 'makePaymentUrl', reason: rules.allowPrivateCallbacks ? 'Invalid makePaymentUrl' : 'Invalid makePaymentUrl: it must be a public https URL' });
  }

  const makePaymentToken = optionalString(b, 'makePaymentToken', 255, problems);
  const paymentText = optionalString(b, 'paymentText', 100, problems);
  const merchantAgreementUrl = optionalString(b, 'merchantAgreementUrl', 2048, problems);

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      pspTransactionId: pspTransactionId as string,
      merchantOrderId: merchantOrderId as string,
      customerMobileNumber,
      amount: amount as number,
      currency: 'NOK',
      pspRedirectUrl: pspRedirectUrl as string,
      makePaymentUrl: makePaymentUrl as string,
      makePaymentToken,
      paymentText,
      isApp,
      skipLandingPage,
      merchantAgreementUrl,
    },
  };
}
