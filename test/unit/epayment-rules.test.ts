import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { adjust, type Adjustment, type Totals } from '../../src/domain/epayment/payment.ts';
import { EpaymentError } from '../../src/domain/epayment/errors.ts';

const authorized = (amount: number): Totals => ({ state: 'AUTHORIZED', amount, authorized: amount, captured: 0, refunded: 0, cancelled: 0, authorizing: false });

const adjustment: fc.Arbitrary<Adjustment> = fc.oneof(
  fc.record({ kind: fc.constant('capture' as const), value: fc.integer({ min: 1, max: 120_000 }) }),
  fc.record({ kind: fc.constant('refund' as const), value: fc.integer({ min: 1, max: 120_000 }) }),
  fc.record({ kind: fc.constant('cancel' as const), transactionOnly: fc.boolean() }),
);

describe('ePayment capture, refund and cancel rules', () => {
  it('never lets the aggregate break its bounds, whatever the sequence; a refused step changes nothing', () => {
    fc.assert(fc.property(fc.integer({ min: 100, max: 100_000 }), fc.array(adjustment, { maxLength: 30 }), (amount, steps) => {
      let t = authorized(amount);
      for (const step of steps) {
        let next: Totals;
        try {
          const outcome = adjust(t, step);
          next = outcome.totals;
          if (outcome.event) assert.ok(outcome.event.amount > 0);
        } catch (err) {
          assert.ok(err instanceof EpaymentError, String(err));
          continue;
        }
        t = next;
        assert.equal(t.state, 'AUTHORIZED');
        assert.ok(t.captured + t.cancelled <= t.authorized, 'captured and cancelled never exceed the authorised amount');
        assert.ok(t.refunded <= t.captured, 'never more refunded than captured');
      }
    }));
  });

  it('answers each refused step with its published code', () => {
    const codeOf = (t: Totals, a: Adjustment) => { try { adjust(t, a); return undefined; } catch (e) { return (e as EpaymentError).epaymentCode; } };
    const created: Totals = { ...authorized(1000), state: 'CREATED', authorized: 0 };
    assert.equal(codeOf(created, { kind: 'capture', value: 1 }), 6080);
    assert.equal(codeOf(created, { kind: 'refund', value: 1 }), 6020);
    assert.equal(codeOf({ ...created, authorizing: true }, { kind: 'cancel', transactionOnly: false }), 6250);
    assert.equal(codeOf(authorized(1000), { kind: 'capture', value: 1001 }), 6090);
    assert.equal(codeOf({ ...authorized(1000), captured: 500 }, { kind: 'refund', value: 501 }), 6150);
    assert.equal(codeOf({ ...authorized(1000), captured: 1000 }, { kind: 'cancel', transactionOnly: false }), 6040);
    assert.equal(codeOf(authorized(1000), { kind: 'cancel', transactionOnly: true }), 6060);
    assert.equal(codeOf({ ...authorized(1000), cancelled: 1000 }, { kind: 'capture', value: 1 }), 6070);
    assert.equal(codeOf({ ...created, state: 'EXPIRED' }, { kind: 'cancel', transactionOnly: false }), 6190);
    assert.equal(codeOf({ ...created, state: 'ABORTED' }, { kind: 'capture', value: 1 }), 6200);
  });
});
