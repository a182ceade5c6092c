// Validation of the makePayment body a PSP's makePaymentUrl receives (MakePaymentRequest in
// psp-api.openapi.yaml): the token of an approved payment (ACCEPTED), or the notification of one
// that ended without a token (TIMEOUT, USER_CANCEL: pspTransactionId, merchantSerialNumber and
// paymentState only).
import type { MakePaymentCall, MakePaymentNotification, MakePaymentRequest } from './types.ts';

/** The body is not a makePayment call; `problems` lists each field that is wrong. */
export class MakePaymentParseError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Not a valid makePayment body: ${problems.join('; ')}`);
    this.name = 'MakePaymentParseError';
    this.problems = problems;
  }
}

const STATES = ['ACCEPTED', 'TIMEOUT', 'USER_CANCEL'];
const OPERATIONS = ['3dssuccess', '3dscancel', '3dsfailure'];
const TOKEN_TYPES = ['VISA', 'MASTERCARD'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return `got ${text === undefined ? typeof value : text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

/**
 * Checks a makePayment body (the parsed JSON, or its text) and returns it typed, or throws a
 * MakePaymentParseError naming every problem. Fields the spec does not name are kept as they are.
 */
export function parseMakePayment(body: unknown): MakePaymentCall {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new MakePaymentParseError(['the body is not JSON']);
    }
  }
  if (!isObject(value)) throw new MakePaymentParseError([`the body must be a JSON object, ${show(value)}`]);
  const b = value;
  const problems: string[] = [];
  const text = (field: string, pattern: RegExp, what: string, from: Record<string, unknown> = b, prefix = ''): void => {
    const v = from[field];
    if (typeof v !== 'string' || !pattern.test(v)) problems.push(`${prefix}${field} must be ${what}, ${show(v)}`);
  };
  text('pspTransactionId', /^.{1,64}$/s, 'a string of 1-64 characters');
  // The spec's pattern is six digits; MSNs of five digits exist as well.
  text('merchantSerialNumber', /^\d{5,6}$/, 'an MSN of 5 or 6 digits');
  const state = b.paymentState;
  if (typeof state !== 'string' || !STATES.includes(state)) {
    problems.push(`paymentState must be one of ${STATES.join(', ')}, ${show(state)}`);
  }
  if (state === 'ACCEPTED') {
    text('binNumber', /^\d{6,8}$/, 'a BIN of 6-8 digits');
    if (b.userToken !== undefined && typeof b.userToken !== 'string') problems.push(`userToken must be a string when present, ${show(b.userToken)}`);
    if (b.paymentInstrument !== 'TOKEN') problems.push(`paymentInstrument must be TOKEN, ${show(b.paymentInstrument)}`);
    if (!Array.isArray(b.operations)) {
      problems.push(`operations must be an array, ${show(b.operations)}`);
    } else {
      b.operations.forEach((o, i) => {
        if (!isObject(o)) {
          problems.push(`operations[${i}] must be an object, ${show(o)}`);
          return;
        }
        if (typeof o.url !== 'string' || !URL.canParse(o.url)) problems.push(`operations[${i}].url must be a URL, ${show(o.url)}`);
        if (typeof o.operation !== 'string' || !OPERATIONS.includes(o.operation)) {
          problems.push(`operations[${i}].operation must be one of ${OPERATIONS.join(', ')}, ${show(o.operation)}`);
        }
      });
    }
    const token = b.networkToken;
    if (!isObject(token)) {
      problems.push(`networkToken must be an object, ${show(token)}`);
    } else {
      text('number', /^\d{12,19}$/, 'a number of 12-19 digits', token, 'networkToken.');
      text('cryptogram', /^\S+$/, 'a non-empty string', token, 'networkToken.');
      text('expiryMonth', /^(0[1-9]|1[0-2])$/, 'a month 01-12', token, 'networkToken.');
      text('expiryYear', /^\d{4}$/, 'a year of 4 digits', token, 'networkToken.');
      text('eci', /^\d{1,2}$/, 'an ECI of 1-2 digits', token, 'networkToken.');
      if (typeof token.tokenType !== 'string' || !TOKEN_TYPES.includes(token.tokenType)) {
        problems.push(`networkToken.tokenType must be one of ${TOKEN_TYPES.join(', ')}, ${show(token.tokenType)}`);
      }
    }
  }
  if (problems.length > 0) throw new MakePaymentParseError(problems);
  return state === 'ACCEPTED' ? b as MakePaymentRequest & { paymentState: 'ACCEPTED' } : b as unknown as MakePaymentNotification;
}
