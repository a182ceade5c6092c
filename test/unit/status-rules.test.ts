import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  REJECTION_REASONS, decide, remainingToCapture, remainingToRefund,
  type Balance, type Decision, type StatusUpdate, type UpdateStatus,
} from '../../src/domain/psp-v3/status-rules.ts';
import { summarize, type LogEntry } from '../../src/domain/psp-v3/payment.ts';

const ENDED = ['FAILED', 'TIMEOUT', 'USER_CANCEL'] as const;
const NOT_RESERVED_YET = ['INITIATED', 'AWAITING_USER', 'AWAITING_3DS'] as const;
const STATUSES: readonly UpdateStatus[] = ['RESERVED', 'CAPTURED', 'CANCELLED', 'REFUNDED'];

const bal = (over: Partial<Balance> = {}): Balance => Object.freeze({ state: 'RESERVED', reserved: 10000, captured: 0, cancelled: 0, refunded: 0, ...over });
const upd = (status: UpdateStatus, amount: number, over: Partial<StatusUpdate> = {}): StatusUpdate =>
  ({ status, amount, currency: 'NOK', operationStatus: 'SUCCESS', ...over });

function applied(d: Decision): Extract<Decision, { kind: 'applied' }> {
  assert.equal(d.kind, 'applied', JSON.stringify(d));
  return d as Extract<Decision, { kind: 'applied' }>;
}

function rejected(d: Decision, reason: keyof typeof REJECTION_REASONS): void {
  assert.deepEqual(d, { kind: 'rejected', reason });
}

describe('decide: RESERVED', () => {
  it('reserves a payment not reserved yet, setting the reserved amount', () => {
    for (const state of NOT_RESERVED_YET) {
      const d = applied(decide(bal({ state, reserved: 0 }), upd('RESERVED', 49900)));
      assert.deepEqual(d.balance, { state: 'RESERVED', reserved: 49900, captured: 0, cancelled: 0, refunded: 0 });
      assert.deepEqual(d.entry, { operation: 'RESERVED', amount: 49900, success: true });
    }
  });

  it('is rejected on a payment already reserved', () => {
    rejected(decide(bal(), upd('RESERVED', 100)), 'ALREADY_RESERVED');
    rejected(decide(bal({ captured: 10000 }), upd('RESERVED', 100)), 'ALREADY_RESERVED');
    rejected(decide(bal({ state: 'AWAITING_USER', reserved: 500 }), upd('RESERVED', 100)), 'ALREADY_RESERVED');
  });

  it('is rejected while the token is being delivered', () => {
    rejected(decide(bal({ state: 'DELIVERING', reserved: 0 }), upd('RESERVED', 100)), 'PAYMENT_NOT_ACTIVE');
  });
});

describe('decide: CAPTURED', () => {
  it('allows partial and repeated captures up to reserved − captured − cancelled', () => {
    let b = bal();
    for (const amount of [1000, 2500, 6500]) {
      const d = applied(decide(b, upd('CAPTURED', amount)));
      assert.deepEqual(d.entry, { operation: 'CAPTURED', amount, success: true });
      assert.equal(d.balance.captured, b.captured + amount);
      b = Object.freeze(d.balance);
    }
    assert.deepEqual(b, { state: 'RESERVED', reserved: 10000, captured: 10000, cancelled: 0, refunded: 0 });
    rejected(decide(b, upd('CAPTURED', 1)), 'EXCEEDS_RESERVED');
  });

  it('allows capturing exactly what is left, not one øre more', () => {
    assert.equal(applied(decide(bal({ captured: 4000 }), upd('CAPTURED', 6000))).balance.captured, 10000);
    rejected(decide(bal({ captured: 4000 }), upd('CAPTURED', 6001)), 'EXCEEDS_RESERVED');
    rejected(decide(bal(), upd('CAPTURED', 10001)), 'EXCEEDS_RESERVED');
  });

  it('counts cancelled amounts as not capturable', () => {
    rejected(decide(bal({ captured: 3000, cancelled: 7000 }), upd('CAPTURED', 1)), 'EXCEEDS_RESERVED');
  });

  it('is rejected on a payment that is not reserved', () => {
    for (const state of [...NOT_RESERVED_YET, 'DELIVERING']) rejected(decide(bal({ state, reserved: 0 }), upd('CAPTURED', 100)), 'NOT_RESERVED');
  });
});

describe('decide: REFUNDED', () => {
  it('allows partial and repeated refunds up to captured − refunded', () => {
    const b = bal({ captured: 6000 });
    const d1 = applied(decide(b, upd('REFUNDED', 2000)));
    assert.deepEqual(d1.balance, { ...b, refunded: 2000 });
    assert.deepEqual(d1.entry, { operation: 'REFUNDED', amount: 2000, success: true });
    const d2 = applied(decide(d1.balance, upd('REFUNDED', 4000)));
    assert.equal(d2.balance.refunded, 6000);
    rejected(decide(d2.balance, upd('REFUNDED', 1)), 'EXCEEDS_CAPTURED');
  });

  it('refuses refunding what was not captured', () => {
    rejected(decide(bal(), upd('REFUNDED', 1)), 'EXCEEDS_CAPTURED');
    rejected(decide(bal({ captured: 500, refunded: 200 }), upd('REFUNDED', 301)), 'EXCEEDS_CAPTURED');
    assert.equal(applied(decide(bal({ captured: 500, refunded: 200 }), upd('REFUNDED', 300))).balance.refunded, 500);
  });

  it('is allowed after the rest was cancelled', () => {
    assert.equal(applied(decide(bal({ captured: 500, cancelled: 9500 }), upd('REFUNDED', 500))).balance.refunded, 500);
  });

  it('is rejected on a payment that is not reserved', () => {
    rejected(decide(bal({ state: 'INITIATED', reserved: 0 }), upd('REFUNDED', 100)), 'NOT_RESERVED');
  });
});

describe('decide: CANCELLED', () => {
  it('releases all that is left to capture, whatever amount is sent', () => {
    for (const amount of [1, 3000, 10000, 999999]) {
      const d = applied(decide(bal({ captured: 3000 }), upd('CANCELLED', amount)));
      assert.deepEqual(d.balance, { state: 'RESERVED', reserved: 10000, captured: 3000, cancelled: 7000, refunded: 0 });
      assert.deepEqual(d.entry, { operation: 'CANCELLED', amount: 7000, success: true });
    }
  });

  it('is rejected when nothing is left to capture', () => {
    rejected(decide(bal({ captured: 10000 }), upd('CANCELLED', 100)), 'NOTHING_TO_CANCEL');
    rejected(decide(bal({ cancelled: 10000 }), upd('CANCELLED', 100)), 'NOTHING_TO_CANCEL');
    rejected(decide(bal({ captured: 4000, cancelled: 6000 }), upd('CANCELLED', 100)), 'NOTHING_TO_CANCEL');
  });

  it('is rejected on a payment that is not reserved', () => {
    rejected(decide(bal({ state: 'AWAITING_3DS', reserved: 0 }), upd('CANCELLED', 100)), 'NOT_RESERVED');
  });
});

describe('decide: operationStatus FAILED', () => {
  it('logs an unsuccessful entry and changes no amounts, even if the amount rules would refuse it', () => {
    const b = bal({ captured: 2000 });
    for (const [status, amount] of [['CAPTURED', 500], ['CAPTURED', 999999], ['REFUNDED', 5000], ['CANCELLED', 3], ['RESERVED', 100]] as const) {
      const d = applied(decide(b, upd(status, amount, { operationStatus: 'FAILED' })));
      assert.deepEqual(d.balance, b, `${status} ${amount}`);
      assert.deepEqual(d.entry, { operation: status, amount, success: false });
    }
    const initiated = bal({ state: 'INITIATED', reserved: 0 });
    assert.deepEqual(applied(decide(initiated, upd('RESERVED', 100, { operationStatus: 'FAILED' }))).balance, initiated);
  });

  it('is still rejected for an ended payment, another currency or an amount below 1', () => {
    rejected(decide(bal({ state: 'FAILED' }), upd('CAPTURED', 100, { operationStatus: 'FAILED' })), 'PAYMENT_NOT_ACTIVE');
    rejected(decide(bal(), upd('CAPTURED', 100, { operationStatus: 'FAILED', currency: 'SEK' })), 'CURRENCY');
    rejected(decide(bal(), upd('CAPTURED', 0, { operationStatus: 'FAILED' })), 'AMOUNT_LESS_THAN_ONE');
  });
});

describe('decide: rejections', () => {
  it('ended payments (FAILED, TIMEOUT, USER_CANCEL) reject everything', () => {
    for (const state of ENDED) {
      for (const status of STATUSES) {
        rejected(decide(bal({ state }), upd(status, 100)), 'PAYMENT_NOT_ACTIVE');
        rejected(decide(bal({ state, reserved: 0 }), upd(status, 100)), 'PAYMENT_NOT_ACTIVE');
      }
    }
  });

  it('only NOK is supported', () => {
    for (const currency of ['SEK', 'EUR', 'nok', '', 'NOKK']) rejected(decide(bal(), upd('CAPTURED', 100, { currency })), 'CURRENCY');
  });

  it('an amount below 1 is rejected', () => {
    for (const amount of [0, -1, -10000]) {
      for (const status of STATUSES) rejected(decide(bal({ captured: 5000 }), upd(status, amount)), 'AMOUNT_LESS_THAN_ONE');
    }
  });

  it('checks in order: ended payment, then currency, then amount', () => {
    rejected(decide(bal({ state: 'TIMEOUT' }), upd('CAPTURED', 0, { currency: 'SEK' })), 'PAYMENT_NOT_ACTIVE');
    rejected(decide(bal(), upd('CAPTURED', 0, { currency: 'SEK' })), 'CURRENCY');
  });

  it('every reason has a message', () => {
    for (const [k, v] of Object.entries(REJECTION_REASONS)) assert.ok(v.length > 0, k);
  });
});

describe('decide: properties', () => {
  const update: fc.Arbitrary<StatusUpdate> = fc.record({
    status: fc.constantFrom(...STATUSES),
    amount: fc.integer({ min: -5, max: 20000 }),
    currency: fc.oneof({ arbitrary: fc.constant('NOK'), weight: 9 }, { arbitrary: fc.constantFrom('SEK', 'EUR', 'nok', ''), weight: 1 }),
    operationStatus: fc.oneof({ arbitrary: fc.constant<'SUCCESS'>('SUCCESS'), weight: 4 }, { arbitrary: fc.constant<'FAILED'>('FAILED'), weight: 1 }),
  });
  const updates = fc.array(update, { maxLength: 40 });

  function checkInvariants(b: Balance): void {
    const text = JSON.stringify(b);
    assert.ok(b.captured >= 0 && b.cancelled >= 0 && b.refunded >= 0 && b.reserved >= 0, text);
    assert.ok(b.captured + b.cancelled <= b.reserved, text);
    assert.ok(b.refunded <= b.captured, text);
    assert.ok(remainingToCapture(b) >= 0 && remainingToRefund(b) >= 0, text);
    for (const k of ['reserved', 'captured', 'cancelled', 'refunded'] as const) assert.ok(Number.isInteger(b[k]), text);
  }

  /** Applies the updates one by one, checking every step; returns the final balance and the log. */
  function run(start: Balance, list: readonly StatusUpdate[]): { balance: Balance; log: LogEntry[] } {
    let b = Object.freeze({ ...start });
    const log: LogEntry[] = [];
    for (const u of list) {
      const before = { ...b };
      const d = decide(b, u);
      assert.deepEqual(b, before, 'decide must not modify the balance it is given');
      if (d.kind === 'rejected') {
        assert.ok(d.reason in REJECTION_REASONS);
        // A rejection changes nothing: the caller keeps `b`. It must be for a reason that holds.
        if (d.reason === 'CURRENCY') assert.notEqual(u.currency, 'NOK');
        if (d.reason === 'AMOUNT_LESS_THAN_ONE') assert.ok(u.amount < 1);
        if (d.reason === 'EXCEEDS_RESERVED') assert.ok(u.status === 'CAPTURED' && u.amount > remainingToCapture(b));
        if (d.reason === 'EXCEEDS_CAPTURED') assert.ok(u.status === 'REFUNDED' && u.amount > remainingToRefund(b));
        if (d.reason === 'NOTHING_TO_CANCEL') assert.ok(u.status === 'CANCELLED' && remainingToCapture(b) === 0);
        if (d.reason === 'PAYMENT_NOT_ACTIVE') assert.ok((ENDED as readonly string[]).includes(b.state) || (u.status === 'RESERVED' && b.state === 'DELIVERING'));
        checkInvariants(b);
        continue;
      }
      assert.equal(u.currency, 'NOK');
      assert.ok(u.amount >= 1);
      assert.ok(!(ENDED as readonly string[]).includes(b.state));
      if (u.operationStatus === 'FAILED') {
        assert.deepEqual(d.balance, b, 'a FAILED operation never changes amounts');
        assert.deepEqual(d.entry, { operation: u.status, amount: u.amount, success: false });
      } else {
        assert.equal(d.entry.success, true);
        assert.equal(d.entry.operation, u.status);
        assert.ok(d.entry.amount >= 1);
        const delta = {
          reserved: d.balance.reserved - b.reserved, captured: d.balance.captured - b.captured,
          cancelled: d.balance.cancelled - b.cancelled, refunded: d.balance.refunded - b.refunded,
        };
        const expected = { reserved: 0, captured: 0, cancelled: 0, refunded: 0 };
        expected[({ RESERVED: 'reserved', CAPTURED: 'captured', CANCELLED: 'cancelled', REFUNDED: 'refunded' } as const)[u.status]] = d.entry.amount;
        assert.deepEqual(delta, expected, 'exactly the logged amount moves, in the logged column');
        if (u.status !== 'CANCELLED') assert.equal(d.entry.amount, u.amount);
        assert.equal(d.balance.state, 'RESERVED');
      }
      log.push(d.entry);
      b = Object.freeze({ ...d.balance });
      checkInvariants(b);
    }
    return { balance: b, log };
  }

  it('property: from a RESERVED balance, every step keeps 0 ≤ captured + cancelled ≤ reserved and 0 ≤ refunded ≤ captured', () => {
    fc.assert(fc.property(fc.integer({ min: 100, max: 50000 }), updates, (reserved, list) => {
      run(bal({ reserved }), list);
    }), { numRuns: 300 });
  });

  it('property: the same from a payment not reserved yet, reserved by a status update', () => {
    fc.assert(fc.property(fc.constantFrom(...NOT_RESERVED_YET, 'DELIVERING'), updates, (state, list) => {
      run(bal({ state, reserved: 0 }), list);
    }), { numRuns: 200 });
  });

  it('property: the summary of the applied log matches the running balance', () => {
    fc.assert(fc.property(fc.integer({ min: 100, max: 50000 }), updates, (reserved, list) => {
      const { balance, log } = run(bal({ reserved }), list);
      assert.deepEqual(summarize([{ operation: 'RESERVED', amount: reserved, success: true }, ...log]), {
        capturedAmount: balance.captured,
        remainingAmountToCapture: remainingToCapture(balance),
        refundedAmount: balance.refunded,
        remainingAmountToRefund: remainingToRefund(balance),
      });
    }), { numRuns: 200 });
  });

  it('property: ended states (FAILED, TIMEOUT, USER_CANCEL) reject every update', () => {
    const amounts = fc.nat(50000);
    fc.assert(fc.property(fc.constantFrom(...ENDED), amounts, amounts, amounts, update, (state, reserved, captured, refunded, u) => {
      assert.deepEqual(decide(bal({ state, reserved, captured, refunded }), u), { kind: 'rejected', reason: 'PAYMENT_NOT_ACTIVE' });
    }), { numRuns: 300 });
  });

  it('property: a FAILED operationStatus never changes the balance', () => {
    fc.assert(fc.property(fc.integer({ min: 100, max: 50000 }), fc.nat(100), fc.nat(100), update, (reserved, capPct, refPct, u) => {
      const captured = Math.floor((reserved * capPct) / 100);
      const b = bal({ reserved, captured, refunded: Math.floor((captured * refPct) / 100) });
      const d = decide(b, { ...u, operationStatus: 'FAILED' });
      if (d.kind === 'applied') {
        assert.deepEqual(d.balance, b);
        assert.equal(d.entry.success, false);
      } else {
        assert.ok(d.reason === 'CURRENCY' || d.reason === 'AMOUNT_LESS_THAN_ONE', d.reason);
      }
    }), { numRuns: 300 });
  });

  it('property: capturing everything in any split reaches exactly the reserved amount, and nothing more fits', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }), (parts) => {
      const reserved = parts.reduce((s, p) => s + p, 0);
      let b = bal({ reserved });
      for (const p of parts) b = applied(decide(b, upd('CAPTURED', p))).balance;
      assert.equal(b.captured, reserved);
      rejected(decide(b, upd('CAPTURED', 1)), 'EXCEEDS_RESERVED');
      rejected(decide(b, upd('CANCELLED', 1)), 'NOTHING_TO_CANCEL');
      for (const p of parts) b = applied(decide(b, upd('REFUNDED', p))).balance;
      assert.equal(b.refunded, reserved);
      rejected(decide(b, upd('REFUNDED', 1)), 'EXCEEDS_CAPTURED');
    }), { numRuns: 200 });
  });
});
