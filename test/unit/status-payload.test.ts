import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_TRANSACTIONS, validateStatusPayload, type ParsedUpdate } from '../../src/domain/psp-v3/status-payload.ts';
import type { FieldProblem } from '../../src/domain/errors.ts';

const tx = (over: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ pspTransactionId: '7686f7788898767977', status: 'CAPTURED', amount: 49900, currency: 'NOK', paymentText: 'One pair of Vipps socks', operationStatus: 'SUCCESS', ...over });

function updatesOf(body: unknown): ParsedUpdate[] {
  const r = validateStatusPayload(body);
  assert.ok(r.ok, JSON.stringify(r));
  return r.updates;
}

function problemsOf(body: unknown): FieldProblem[] {
  const r = validateStatusPayload(body);
  assert.equal(r.ok, false, `expected problems for ${JSON.stringify(body)}`);
  return (r as { problems: FieldProblem[] }).problems;
}

describe('validateStatusPayload: valid payloads', () => {
  it('accepts the full form', () => {
    assert.deepEqual(updatesOf({ transactions: [tx()] }), [{
      pspTransactionId: '7686f7788898767977', status: 'CAPTURED', amount: 49900, currency: 'NOK', paymentText: 'One pair of Vipps socks', operationStatus: 'SUCCESS',
    }]);
  });

  it('defaults currency to NOK, operationStatus to SUCCESS and paymentText to null', () => {
    const minimal = { pspTransactionId: 'abc', status: 'REFUNDED', amount: 100 };
    const expected = [{ pspTransactionId: 'abc', status: 'REFUNDED', amount: 100, currency: 'NOK', paymentText: null, operationStatus: 'SUCCESS' }];
    assert.deepEqual(updatesOf({ transactions: [minimal] }), expected);
    assert.deepEqual(updatesOf({ transactions: [{ ...minimal, currency: null, paymentText: null, operationStatus: null }] }), expected);
  });

  it('reads amounts given as strings of digits', () => {
    assert.deepEqual(updatesOf({ transactions: [tx({ amount: '49900' }), tx({ amount: ' 100 ' }), tx({ amount: '-5' })] }).map((u) => u.amount), [49900, 100, -5]);
  });

  it('accepts every status, FAILED operations, and the int32 limits (the business rules come later)', () => {
    const list = [
      tx({ status: 'RESERVED' }), tx({ status: 'CAPTURED' }), tx({ status: 'CANCELLED' }), tx({ status: 'REFUNDED', operationStatus: 'FAILED' }),
      tx({ amount: 0 }), tx({ amount: -2_147_483_648 }), tx({ amount: 2_147_483_647 }), tx({ currency: 'SEK' }), tx({ currency: '' }),
    ];
    const u = updatesOf({ transactions: list });
    assert.deepEqual(u.map((x) => x.status), ['RESERVED', 'CAPTURED', 'CANCELLED', 'REFUNDED', 'CAPTURED', 'CAPTURED', 'CAPTURED', 'CAPTURED', 'CAPTURED']);
    assert.equal(u[3].operationStatus, 'FAILED');
    assert.deepEqual(u.slice(4, 7).map((x) => x.amount), [0, -2_147_483_648, 2_147_483_647]);
    assert.equal(u[7].currency, 'SEK');
  });

  it('keeps the order, duplicates included, and ignores unknown fields', () => {
    const list = [tx({ pspTransactionId: 'b' }), tx({ pspTransactionId: 'a', extra: true }), tx({ pspTransactionId: 'b', status: 'REFUNDED' })];
    assert.deepEqual(updatesOf({ transactions: list, other: 1 }).map((u) => `${u.pspTransactionId}:${u.status}`), ['b:CAPTURED', 'a:CAPTURED', 'b:REFUNDED']);
  });

  it('accepts an empty list and the maximum number of transactions', () => {
    assert.deepEqual(updatesOf({ transactions: [] }), []);
    assert.equal(updatesOf({ transactions: new Array(MAX_TRANSACTIONS).fill(tx()) }).length, MAX_TRANSACTIONS);
  });

  it('accepts the longest allowed texts', () => {
    assert.equal(updatesOf({ transactions: [tx({ pspTransactionId: 'x'.repeat(36), paymentText: 'x'.repeat(1000) })] }).length, 1);
  });
});

describe('validateStatusPayload: invalid payloads', () => {
  it('a body that is not an object with a transactions array', () => {
    for (const body of [undefined, null, 42, 'x', [], [tx()]]) {
      assert.deepEqual(problemsOf(body), [{ name: '51', reason: 'Invalid request: the body must be a JSON object with a transactions array' }], JSON.stringify(body));
    }
    for (const body of [{}, { transactions: null }, { transactions: tx() }, { transactions: 'x' }, { transaction: [tx()] }]) {
      assert.deepEqual(problemsOf(body), [{ name: '51', reason: 'Invalid request: transactions must be an array' }], JSON.stringify(body));
    }
  });

  it('more than the maximum number of transactions', () => {
    assert.deepEqual(problemsOf({ transactions: new Array(MAX_TRANSACTIONS + 1).fill(tx()) }), [{ name: '51', reason: `Invalid request: at most ${MAX_TRANSACTIONS} transactions per request` }]);
  });

  it('an item that is not an object', () => {
    for (const item of [null, 1, 'x', true, [tx()]]) {
      assert.deepEqual(problemsOf({ transactions: [tx(), item] }), [{ name: '51', reason: 'Invalid request: transactions[1] must be an object' }], JSON.stringify(item));
    }
  });

  it('each invalid field is named as transactions[i].field', () => {
    const cases: Array<[string, unknown]> = [
      ['pspTransactionId', undefined], ['pspTransactionId', null], ['pspTransactionId', ''], ['pspTransactionId', 42], ['pspTransactionId', 'x'.repeat(37)],
      ['status', undefined], ['status', 'captured'], ['status', 'SETTLED'], ['status', 1], ['status', ['CAPTURED']],
      ['amount', undefined], ['amount', null], ['amount', 1.5], ['amount', '1.5'], ['amount', 'abc'], ['amount', ''], ['amount', true],
      ['amount', 2_147_483_648], ['amount', -2_147_483_649], ['amount', '99999999999'], ['amount', Number.NaN],
      ['currency', 'NOKK'], ['currency', 578], ['currency', {}],
      ['paymentText', 'x'.repeat(1001)], ['paymentText', 42],
      ['operationStatus', 'failed'], ['operationStatus', 'OK'], ['operationStatus', false],
    ];
    for (const [field, value] of cases) {
      const problems = problemsOf({ transactions: [tx(), tx(), tx({ [field]: value })] });
      assert.equal(problems.length, 1, `${field}=${JSON.stringify(value)}: ${JSON.stringify(problems)}`);
      assert.equal(problems[0].name, '51');
      assert.ok(problems[0].reason.startsWith(`Invalid request: transactions[2].${field} `), problems[0].reason);
    }
  });

  it('reports every bad field of an item, and of every item', () => {
    const problems = problemsOf({ transactions: [tx({ status: 'X', amount: 'y' }), tx(), tx({ currency: 'NOKK' })] });
    assert.deepEqual(problems.map((p) => p.reason.split(' ')[2]), ['transactions[0].status', 'transactions[0].amount', 'transactions[2].currency']);
  });

  it('stops listing after 20 problems', () => {
    const problems = problemsOf({ transactions: new Array(100).fill({}) });
    assert.ok(problems.length >= 20 && problems.length <= 23, String(problems.length));
    const many = problemsOf({ transactions: new Array(100).fill(null) });
    assert.equal(many.length, 20);
  });
});

describe('validateStatusPayload: properties', () => {
  const anything = fc.anything({ maxDepth: 3, maxKeys: 8, withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withSparseArray: true });

  function check(body: unknown): void {
    const r = validateStatusPayload(body);
    if (r.ok) {
      for (const u of r.updates) {
        assert.equal(typeof u.pspTransactionId, 'string');
        assert.ok(['RESERVED', 'CAPTURED', 'CANCELLED', 'REFUNDED'].includes(u.status));
        assert.ok(Number.isInteger(u.amount));
        assert.equal(typeof u.currency, 'string');
        assert.ok(['SUCCESS', 'FAILED'].includes(u.operationStatus));
      }
    } else {
      assert.ok(r.problems.length > 0 && r.problems.length <= 20);
      for (const p of r.problems) {
        assert.equal(p.name, '51');
        assert.ok(p.reason.startsWith('Invalid request: '), p.reason);
      }
    }
  }

  it('property: never throws for any value', () => {
    fc.assert(fc.property(anything, check), { numRuns: 300 });
  });

  it('property: never throws for a transactions array of anything', () => {
    fc.assert(fc.property(fc.array(anything, { maxLength: 5 }), (list) => check({ transactions: list })), { numRuns: 300 });
  });

  it('property: never throws when any field of a valid item is replaced by anything', () => {
    const field = fc.constantFrom('pspTransactionId', 'status', 'amount', 'currency', 'paymentText', 'operationStatus');
    fc.assert(fc.property(fc.array(fc.tuple(field, anything), { maxLength: 3 }), (changes) => {
      const item = tx();
      for (const [k, v] of changes) item[k] = v;
      check({ transactions: [tx(), item] });
    }), { numRuns: 300 });
  });

  it('property: valid items pass with their values, the amount as a number or a string', () => {
    const item = fc.record({
      pspTransactionId: fc.string({ minLength: 1, maxLength: 36 }),
      status: fc.constantFrom('RESERVED', 'CAPTURED', 'CANCELLED', 'REFUNDED'),
      amount: fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }),
      asString: fc.boolean(),
      currency: fc.option(fc.string({ maxLength: 3 }), { nil: undefined }),
      paymentText: fc.option(fc.string({ maxLength: 1000 }), { nil: undefined }),
      operationStatus: fc.option(fc.constantFrom('SUCCESS', 'FAILED'), { nil: undefined }),
    });
    fc.assert(fc.property(fc.array(item, { maxLength: 10 }), (items) => {
      const body = { transactions: items.map(({ asString, amount, ...rest }) => ({ ...rest, amount: asString ? String(amount) : amount })) };
      assert.deepEqual(updatesOf(body), items.map((i) => ({
        pspTransactionId: i.pspTransactionId, status: i.status, amount: i.amount, currency: i.currency ?? 'NOK',
        paymentText: i.paymentText ?? null, operationStatus: i.operationStatus ?? 'SUCCESS',
      })));
    }), { numRuns: 200 });
  });
});
