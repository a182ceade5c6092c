// parseMakePayment: every body the spec allows parses to itself; a body with one field made wrong is
// refused with a message that names that field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MakePaymentParseError, parseMakePayment } from '../../src/client/index.ts';

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

const accepted = fc.record({
  pspTransactionId: fc.string({ minLength: 1, maxLength: 36 }),
  merchantSerialNumber: digits(6, 6),
  paymentState: fc.constant('ACCEPTED' as const),
  binNumber: digits(6, 8),
  operations: fc.array(fc.record({
    url: fc.webUrl(),
    operation: fc.constantFrom('3dssuccess' as const, '3dscancel' as const, '3dsfailure' as const),
  }, { noNullPrototype: true }), { maxLength: 3 }),
  paymentInstrument: fc.constant('TOKEN' as const),
  networkToken: fc.record({
    number: digits(12, 19),
    cryptogram: fc.base64String({ minLength: 4, maxLength: 40 }),
    expiryMonth: fc.integer({ min: 1, max: 12 }).map((m) => String(m).padStart(2, '0')),
    expiryYear: fc.integer({ min: 2000, max: 2099 }).map(String),
    tokenType: fc.constantFrom('VISA' as const, 'MASTERCARD' as const),
    eci: digits(1, 2),
  }, { noNullPrototype: true }),
}, { noNullPrototype: true, requiredKeys: ['pspTransactionId', 'merchantSerialNumber', 'paymentState', 'binNumber', 'operations', 'paymentInstrument', 'networkToken'] })
  .chain((body) => fc.option(fc.string(), { nil: undefined }).map((userToken) => (userToken === undefined ? body : { ...body, userToken })));

const notification = fc.record({
  pspTransactionId: fc.string({ minLength: 1, maxLength: 36 }),
  merchantSerialNumber: digits(6, 6),
  paymentState: fc.constantFrom('TIMEOUT' as const, 'USER_CANCEL' as const),
}, { noNullPrototype: true });

/** Values that no field of a makePayment accepts in place of its own. */
const wrongValue = fc.oneof(fc.constant(null), fc.constant(undefined), fc.integer(), fc.boolean(), fc.constant(''), fc.constant({}), fc.constant('not valid at all'));

/** The paths of the fields a mutation may break, for an ACCEPTED body. */
const ACCEPTED_FIELDS = [
  'pspTransactionId', 'merchantSerialNumber', 'paymentState', 'binNumber', 'operations', 'paymentInstrument', 'networkToken',
  'networkToken.number', 'networkToken.cryptogram', 'networkToken.expiryMonth', 'networkToken.expiryYear', 'networkToken.tokenType', 'networkToken.eci',
];

function withField(body: Record<string, unknown>, field: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(body);
  const [head, tail] = field.split('.');
  const target = tail === undefined ? copy : copy[head] as Record<string, unknown>;
  const key = tail ?? head;
  if (value === undefined) delete target[key];
  else target[key] = value;
  return copy;
}

describe('parseMakePayment', () => {
  it('accepts every valid ACCEPTED body and every notification, as they are', () => {
    fc.assert(fc.property(fc.oneof(accepted, notification), (body) => {
      assert.deepEqual(parseMakePayment(body), body);
      assert.deepEqual(parseMakePayment(JSON.stringify(body)), body);
    }), { numRuns: 300 });
  });

  it('refuses a body with one field made wrong, naming that field', () => {
    fc.assert(fc.property(accepted, fc.constantFrom(...ACCEPTED_FIELDS), wrongValue, (body, field, value) => {
      // Any non-empty string is a valid pspTransactionId.
      fc.pre(!(field === 'pspTransactionId' && value === 'not valid at all'));
      const broken = withField(body, field, value);
      assert.throws(() => parseMakePayment(broken), (err: unknown) => {
        assert.ok(err instanceof MakePaymentParseError, String(err));
        assert.ok(err.problems.some((p) => p.startsWith(field)), `${err.message} names ${field}`);
        assert.match(err.message, /^Not a valid makePayment body: /);
        return true;
      });
    }), { numRuns: 500 });
  });

  it('lists every problem at once and says what it got', () => {
    try {
      parseMakePayment({ pspTransactionId: 'tx1', merchantSerialNumber: '12', paymentState: 'ACCEPTED', binNumber: 'abc', operations: [{ url: 'x', operation: 'pay' }], paymentInstrument: 'TOKEN', networkToken: { number: '4111111111111111', cryptogram: 'c', expiryMonth: '13', expiryYear: '2030', tokenType: 'AMEX', eci: '07' } });
      assert.fail('refused');
    } catch (err) {
      assert.ok(err instanceof MakePaymentParseError);
      assert.deepEqual(err.problems, [
        'merchantSerialNumber must be an MSN of 5 or 6 digits, got "12"',
        'binNumber must be a BIN of 6-8 digits, got "abc"',
        'operations[0].url must be a URL, got "x"',
        'operations[0].operation must be one of 3dssuccess, 3dscancel, 3dsfailure, got "pay"',
        'networkToken.expiryMonth must be a month 01-12, got "13"',
        'networkToken.tokenType must be one of VISA, MASTERCARD, got "AMEX"',
      ]);
    }
    assert.throws(() => parseMakePayment('{'), /the body is not JSON/);
    assert.throws(() => parseMakePayment([]), /must be a JSON object, got \[\]/);
    assert.throws(() => parseMakePayment({ pspTransactionId: 'tx', merchantSerialNumber: '123456', paymentState: 'DONE' }), /paymentState must be one of ACCEPTED, TIMEOUT, USER_CANCEL, got "DONE"/);
  });
});
