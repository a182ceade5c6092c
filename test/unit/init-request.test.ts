import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_AMOUNT, MIN_AMOUNT, parseAmount, validateInit } from '../../src/domain/psp-v3/init-request.ts';
import type { FieldProblem } from '../../src/domain/errors.ts';

const TEST_RULES = { allowPrivateCallbacks: true };
const PROD_RULES = { allowPrivateCallbacks: false };

/** A valid body, as in the guide's example. */
function body(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pspTransactionId: '7686f7788898767977',
    merchantOrderId: 'acme-shop-123-order123abc',
    customerMobileNumber: '92929292',
    amount: 49900,
    currency: 'NOK',
    pspRedirectUrl: 'https://example.com/psp-redirect',
    makePaymentUrl: 'https://example.com/psp-makepayment',
    makePaymentToken: 'lfkhwef3op48yufpcno3fh34qp8fyncpf83hy4',
    paymentText: 'One pair of Vipps socks',
    isApp: false,
    skipLandingPage: false,
    merchantAgreementUrl: 'https://example.com/agreements/acme-shop-123-order123abc',
    ...over,
  };
}

function problemsOf(b: unknown, rules = TEST_RULES): FieldProblem[] {
  const r = validateInit(b, rules);
  assert.equal(r.ok, false, `expected problems for ${JSON.stringify(b)}`);
  return (r as { problems: FieldProblem[] }).problems;
}

/** The single problem a body has. */
function onlyProblem(b: unknown, rules = TEST_RULES): FieldProblem {
  const p = problemsOf(b, rules);
  assert.equal(p.length, 1, JSON.stringify(p));
  return p[0];
}

describe('validateInit: valid bodies', () => {
  it('accepts the guide example and returns it', () => {
    const r = validateInit(body(), TEST_RULES);
    assert.deepEqual(r, {
      ok: true,
      value: {
        pspTransactionId: '7686f7788898767977',
        merchantOrderId: 'acme-shop-123-order123abc',
        customerMobileNumber: '92929292',
        amount: 49900,
        currency: 'NOK',
        pspRedirectUrl: 'https://example.com/psp-redirect',
        makePaymentUrl: 'https://example.com/psp-makepayment',
        makePaymentToken: 'lfkhwef3op48yufpcno3fh34qp8fyncpf83hy4',
        paymentText: 'One pair of Vipps socks',
        isApp: false,
        skipLandingPage: false,
        merchantAgreementUrl: 'https://example.com/agreements/acme-shop-123-order123abc',
      },
    });
    assert.equal(validateInit(body(), PROD_RULES).ok, true);
  });

  it('accepts the amount as a number or as a string of digits', () => {
    for (const amount of [49900, '49900', ' 49900 ', '100', 100, MAX_AMOUNT, String(MAX_AMOUNT)]) {
      const r = validateInit(body({ amount }), TEST_RULES);
      assert.ok(r.ok, JSON.stringify(amount));
      assert.equal(r.value.amount, Number(String(amount).trim()));
      assert.equal(typeof r.value.amount, 'number');
    }
  });

  it('normalises a minimal body: currency NOK, booleans false, optional fields null', () => {
    const minimal = {
      pspTransactionId: 'abc-123', merchantOrderId: 'order-1', amount: '1000',
      pspRedirectUrl: 'https://example.com/back', makePaymentUrl: 'https://example.com/makepayment',
    };
    assert.deepEqual(validateInit(minimal, TEST_RULES), {
      ok: true,
      value: {
        ...minimal, amount: 1000, currency: 'NOK', customerMobileNumber: null, makePaymentToken: null, paymentText: null,
        isApp: false, skipLandingPage: false, merchantAgreementUrl: null,
      },
    });
    const nulls = { ...minimal, currency: null, customerMobileNumber: null, makePaymentToken: null, paymentText: null, isApp: null, skipLandingPage: null, merchantAgreementUrl: null };
    assert.deepEqual(validateInit(nulls, TEST_RULES), validateInit(minimal, TEST_RULES));
    assert.deepEqual(validateInit({ ...minimal, customerMobileNumber: '' }, TEST_RULES), validateInit(minimal, TEST_RULES));
  });

  it('reads "true"/"false" strings as booleans', () => {
    const r = validateInit(body({ isApp: 'true', skipLandingPage: 'false' }), TEST_RULES);
    assert.ok(r.ok);
    assert.equal(r.value.isApp, true);
    assert.equal(r.value.skipLandingPage, false);
  });

  it('accepts upper-case pspTransactionIds (as the Postman collection sends) and the other allowed characters', () => {
    for (const id of ['ABC123', 'a', '1', 'a.b_c~d-e', 'x'.repeat(36), '7686F7788898767977']) {
      assert.ok(validateInit(body({ pspTransactionId: id }), TEST_RULES).ok, id);
    }
  });

  it('ignores unknown fields', () => {
    assert.ok(validateInit(body({ somethingElse: { deep: [1, 2] }, merchantSerialNumber: '123456' }), TEST_RULES).ok);
  });
});

describe('validateInit: the guide error codes', () => {
  it('amount: amount.less.than.one for 0 and negative amounts', () => {
    for (const amount of [0, -1, -100, -49900, '0', '-1', '-49900']) {
      assert.deepEqual(onlyProblem(body({ amount })), { name: 'amount', reason: 'amount.less.than.one' }, JSON.stringify(amount));
    }
  });

  it('amount: below the 100 øre minimum for 1-99', () => {
    assert.equal(MIN_AMOUNT, 100);
    for (const amount of [1, 2, 50, 99, '1', '99']) {
      const p = onlyProblem(body({ amount }));
      assert.equal(p.name, 'amount');
      assert.match(p.reason, /minimum amount is 100 øre/, JSON.stringify(amount));
    }
  });

  it('amount: required, an integer, and at most int32', () => {
    for (const amount of [undefined, null]) assert.deepEqual(onlyProblem(body({ amount })), { name: 'amount', reason: 'amount is required' });
    for (const amount of [1.5, 100.01, Number.NaN, Number.POSITIVE_INFINITY, '49900.00', '4,99', '1e5', 'abc', '', true, [49900], { value: 1 }]) {
      assert.equal(onlyProblem(body({ amount })).name, 'amount', String(amount));
    }
    for (const amount of [MAX_AMOUNT + 1, 1e15, '2147483648', '999999999999']) {
      assert.deepEqual(onlyProblem(body({ amount })), { name: 'amount', reason: 'amount must fit in a 32-bit integer' }, String(amount));
    }
  });

  it('currency: transaction.currency.invalid for anything but NOK', () => {
    for (const currency of ['SEK', 'EUR', 'nok', 'NOK ', '', 578, true, ['NOK']]) {
      assert.deepEqual(onlyProblem(body({ currency })), { name: 'currency', reason: 'transaction.currency.invalid' }, JSON.stringify(currency));
    }
  });

  it('51 Invalid pspRedirectUrl for a missing or invalid URL', () => {
    for (const pspRedirectUrl of [undefined, null, '', 42]) {
      const p = onlyProblem(body({ pspRedirectUrl }));
      assert.equal(p.name, '51');
      assert.match(p.reason, /^Invalid pspRedirectUrl/);
    }
    for (const pspRedirectUrl of ['example.com', 'ftp://example.com', 'http://localhost/back', 'https://shop', 'vipps://back', 'https://example.com/a b']) {
      assert.deepEqual(onlyProblem(body({ pspRedirectUrl })), { name: '51', reason: 'Invalid pspRedirectUrl' }, pspRedirectUrl);
    }
  });

  it('pspRedirectUrl is not validated as a URL when isApp (an app-switch URL), but is still required', () => {
    for (const pspRedirectUrl of ['vipps://back', 'myapp://return?x=1', 'not a url']) {
      const r = validateInit(body({ isApp: true, pspRedirectUrl }), TEST_RULES);
      assert.ok(r.ok, pspRedirectUrl);
      assert.equal(r.value.pspRedirectUrl, pspRedirectUrl);
      assert.equal(r.value.isApp, true);
    }
    assert.ok(validateInit(body({ isApp: 'true', pspRedirectUrl: 'vipps://back' }), TEST_RULES).ok);
    assert.match(onlyProblem(body({ isApp: true, pspRedirectUrl: '' })).reason, /^Invalid pspRedirectUrl/);
    assert.match(onlyProblem(body({ isApp: true, pspRedirectUrl: undefined })).reason, /^Invalid pspRedirectUrl/);
  });

  it('makePaymentUrl: Invalid makePaymentUrl', () => {
    for (const makePaymentUrl of [undefined, null, '', 42, 'example.com/mp', 'ftp://example.com/mp', 'https://psp', 'javascript:alert(1)']) {
      assert.deepEqual(onlyProblem(body({ makePaymentUrl })), { name: 'makePaymentUrl', reason: 'Invalid makePaymentUrl' }, String(makePaymentUrl));
    }
  });

  it('51 Invalid request for every other field', () => {
    const cases: Array<[string, unknown]> = [
      ['pspTransactionId', undefined], ['pspTransactionId', ''], ['pspTransactionId', 123], ['pspTransactionId', 'x'.repeat(37)],
      ['pspTransactionId', 'has space'], ['pspTransactionId', '...'], ['pspTransactionId', 'a/b'],
      ['merchantOrderId', undefined], ['merchantOrderId', ''], ['merchantOrderId', 42], ['merchantOrderId', 'x'.repeat(51)],
      ['merchantOrderId', 'order_1'], ['merchantOrderId', 'order 1'], ['merchantOrderId', 'ordre-æ'],
      ['customerMobileNumber', '1234567'], ['customerMobileNumber', '123456789'], ['customerMobileNumber', '+4792929292'],
      ['customerMobileNumber', 92929292], ['customerMobileNumber', '9292929a'],
      ['isApp', 'yes'], ['isApp', 1], ['isApp', 'TRUE'], ['skipLandingPage', 0], ['skipLandingPage', {}],
      ['makePaymentToken', 'x'.repeat(256)], ['makePaymentToken', 42],
      ['paymentText', 'x'.repeat(101)], ['paymentText', ['socks']],
      ['merchantAgreementUrl', 'x'.repeat(2049)], ['merchantAgreementUrl', false],
    ];
    for (const [field, value] of cases) {
      const p = onlyProblem(body({ [field]: value }));
      assert.equal(p.name, '51', `${field}=${JSON.stringify(value)}`);
      assert.match(p.reason, new RegExp(`^Invalid request: ${field} `), `${field}=${JSON.stringify(value)}`);
    }
  });

  it('the longest allowed optional fields pass', () => {
    assert.ok(validateInit(body({ makePaymentToken: 'x'.repeat(255), paymentText: 'x'.repeat(100), merchantAgreementUrl: 'x'.repeat(2048), merchantOrderId: 'x'.repeat(50) }), TEST_RULES).ok);
  });

  it('a body that is not a JSON object is 51 Invalid request', () => {
    for (const b of [undefined, null, 'x', 42, true, [], [body()]]) {
      assert.deepEqual(onlyProblem(b), { name: '51', reason: 'Invalid request: the body must be a JSON object' }, JSON.stringify(b));
    }
  });

  it('reports every problem at once', () => {
    const p = problemsOf({ amount: 0, currency: 'SEK' });
    assert.deepEqual(p.map((x) => x.name).sort(), ['51', '51', '51', 'amount', 'currency', 'makePaymentUrl']);
  });
});

describe('validateInit: callback rules', () => {
  it('allowPrivateCallbacks true (the test environment) accepts http and localhost makePaymentUrls', () => {
    for (const makePaymentUrl of ['http://localhost:3000/makepayment', 'http://127.0.0.1:9/x', 'http://psp.example.com/mp', 'https://localhost/mp']) {
      assert.ok(validateInit(body({ makePaymentUrl }), TEST_RULES).ok, makePaymentUrl);
    }
  });

  it('allowPrivateCallbacks false refuses http and localhost makePaymentUrls', () => {
    for (const makePaymentUrl of ['http://localhost:3000/makepayment', 'https://localhost/mp', 'http://psp.example.com/mp', 'http://127.0.0.1:9/x']) {
      assert.deepEqual(onlyProblem(body({ makePaymentUrl }), PROD_RULES), { name: 'makePaymentUrl', reason: 'Invalid makePaymentUrl: it must be a public https URL' }, makePaymentUrl);
    }
    assert.ok(validateInit(body({ makePaymentUrl: 'https://psp.example.com/mp' }), PROD_RULES).ok);
  });

  it('the redirect URL follows the same rules in both environments (http allowed, localhost not)', () => {
    for (const rules of [TEST_RULES, PROD_RULES]) {
      assert.ok(validateInit(body({ pspRedirectUrl: 'http://127.0.0.1:8080/back' }), rules).ok);
      assert.deepEqual(onlyProblem(body({ pspRedirectUrl: 'http://localhost:8080/back' }), rules), { name: '51', reason: 'Invalid pspRedirectUrl' });
    }
  });
});

describe('parseAmount', () => {
  it('reads integers and digit strings, nothing else', () => {
    assert.equal(parseAmount(49900), 49900);
    assert.equal(parseAmount('49900'), 49900);
    assert.equal(parseAmount('-5'), -5);
    assert.equal(parseAmount(' 7 '), 7);
    for (const v of [1.5, '1.5', '', ' ', '0x10', '1e3', '+5', '1234567890123', null, undefined, {}, [], true, 10n]) {
      assert.equal(parseAmount(v), undefined, String(v));
    }
  });
});

describe('validateInit: properties', () => {
  const NAMES = new Set(['51', 'amount', 'currency', 'makePaymentUrl']);
  const anything = fc.anything({ maxDepth: 3, maxKeys: 8, withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withSparseArray: true });
  const rules = fc.record({ allowPrivateCallbacks: fc.boolean() });

  function check(b: unknown, r: { allowPrivateCallbacks: boolean }) {
    const result = validateInit(b, r);
    if (result.ok) return;
    assert.ok(result.problems.length > 0);
    for (const p of result.problems) {
      assert.ok(NAMES.has(p.name), p.name);
      assert.equal(typeof p.reason, 'string');
    }
  }

  it('property: never throws for any value; every problem is named 51, amount, currency or makePaymentUrl', () => {
    fc.assert(fc.property(anything, rules, check), { numRuns: 300 });
  });

  it('property: the same for valid bodies with any field replaced by anything', () => {
    const field = fc.constantFrom(...Object.keys(body()), 'extra');
    fc.assert(fc.property(fc.array(fc.tuple(field, anything), { maxLength: 4 }), rules, (changes, r) => {
      const b = body();
      for (const [k, v] of changes) b[k] = v;
      check(b, r);
    }), { numRuns: 300 });
  });

  it('property: a valid body with any amount in 100..2147483647, as a number or a string, passes unchanged', () => {
    fc.assert(fc.property(fc.integer({ min: MIN_AMOUNT, max: MAX_AMOUNT }), fc.boolean(), rules, (amount, asString, r) => {
      const result = validateInit(body({ amount: asString ? String(amount) : amount }), r);
      assert.ok(result.ok);
      assert.equal(result.value.amount, amount);
    }), { numRuns: 300 });
  });

  it('property: any amount below 100 or above int32 is refused with name "amount" only', () => {
    const bad = fc.oneof(fc.integer({ min: -2_147_483_648, max: MIN_AMOUNT - 1 }), fc.integer({ min: MAX_AMOUNT + 1, max: Number.MAX_SAFE_INTEGER }));
    fc.assert(fc.property(bad, (amount) => {
      const p = onlyProblem(body({ amount }));
      assert.equal(p.name, 'amount');
      if (amount < 1) assert.equal(p.reason, 'amount.less.than.one');
    }), { numRuns: 200 });
  });

  it('property: validation does not modify the body', () => {
    fc.assert(fc.property(fc.dictionary(fc.constantFrom(...Object.keys(body())), fc.jsonValue({ maxDepth: 2 })), (over) => {
      const b = body(over);
      const copy = structuredClone(b);
      validateInit(b, TEST_RULES);
      assert.deepEqual(b, copy);
    }), { numRuns: 100 });
  });
});
