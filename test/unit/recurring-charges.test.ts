import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cancel, capture, checkItem, isDueAt, osloDate, osloStartOf, refund, retryUntilOf, type ChargeAmounts } from '../../src/domain/recurring/charges.ts';
import { campaignEnd, validateDraft } from '../../src/domain/recurring/agreement.ts';
import { ApiError } from '../../src/domain/errors.ts';

describe('Recurring charges: amounts', () => {
  it('keeps refunded ≤ captured ≤ amount − cancelled through any sequence of captures, refunds and cancels', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('capture' as const), amount: fc.integer({ min: 1, max: 12_000 }) }),
      fc.record({ kind: fc.constant('refund' as const), amount: fc.integer({ min: 1, max: 12_000 }) }),
      fc.record({ kind: fc.constant('cancel' as const), amount: fc.constant(0) }),
    );
    fc.assert(fc.property(fc.integer({ min: 1, max: 10_000 }), fc.array(op, { maxLength: 12 }), (amount, ops) => {
      let c: ChargeAmounts = { amount, status: 'RESERVED', capturedAmount: 0, refundedAmount: 0, cancelledAmount: 0 };
      for (const o of ops) {
        const r = o.kind === 'capture' ? capture(c, o.amount) : o.kind === 'refund' ? refund(c, o.amount) : cancel(c);
        if ('refused' in r) continue;
        c = { ...c, ...r };
        assert.ok(c.refundedAmount <= c.capturedAmount, JSON.stringify(c));
        assert.ok(c.capturedAmount + c.cancelledAmount <= c.amount, JSON.stringify(c));
        if (c.status === 'CHARGED') assert.equal(c.capturedAmount, c.amount);
        if (c.status === 'CANCELLED') assert.equal(c.capturedAmount, 0);
        if (c.status === 'REFUNDED') assert.equal(c.refundedAmount, c.capturedAmount);
      }
    }));
  });

  it('refuses what a charge that was never paid cannot do', () => {
    const due: ChargeAmounts = { amount: 1000, status: 'DUE', capturedAmount: 0, refundedAmount: 0, cancelledAmount: 0 };
    assert.ok('refused' in capture(due, 1));
    assert.ok('refused' in refund(due, 1));
    assert.deepEqual(cancel(due), { status: 'CANCELLED', cancelledAmount: 1000 });
    assert.ok('refused' in cancel({ ...due, status: 'FAILED' }));
  });
});

describe('Recurring charges: dates in Norway', () => {
  it('starts a Norwegian day at 23:00 UTC in winter and 22:00 UTC in summer', () => {
    assert.equal(osloStartOf('2026-01-15').toISOString(), '2026-01-14T23:00:00.000Z');
    assert.equal(osloStartOf('2026-07-15').toISOString(), '2026-07-14T22:00:00.000Z');
    // The day summer time begins (29 March 2026) starts in winter time.
    assert.equal(osloStartOf('2026-03-29').toISOString(), '2026-03-28T23:00:00.000Z');
  });

  it('ends the retry window at the end of the last retry day, and counts a charge due from its date', () => {
    assert.equal(retryUntilOf('2026-01-10', 3).toISOString(), '2026-01-13T23:00:00.000Z');
    assert.equal(retryUntilOf('2026-12-31', 0).toISOString(), '2026-12-31T23:00:00.000Z');
    assert.equal(isDueAt('2026-01-10', new Date('2026-01-09T22:59:59Z')), false);
    assert.equal(isDueAt('2026-01-10', new Date('2026-01-09T23:00:00Z')), true);
    fc.assert(fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), (at) => {
      const d = osloDate(at);
      assert.ok(osloStartOf(d) <= at, `${d} ${at.toISOString()}`);
      assert.ok(at < retryUntilOf(d, 0), `${d} ${at.toISOString()}`);
    }));
  });
});

describe('Recurring: what a PSP sends', () => {
  it('takes or refuses any batch item without throwing, naming the fields it refuses', () => {
    fc.assert(fc.property(fc.anything(), (value) => {
      const r = checkItem(value, 0);
      if ('problems' in r) assert.ok(r.problems.length > 0 && r.problems.every((p) => p.name.startsWith('[0]')));
      else assert.ok(['RECURRING', 'UNSCHEDULED'].includes(r.item.type));
    }));
    const ok = checkItem({ agreementId: 'agr_1', chargeId: 'c-1', type: 'RECURRING', amount: 100, transactionType: 'DIRECT_CAPTURE', due: '2026-02-29', retryDays: 2 }, 3);
    assert.ok('problems' in ok && ok.problems.some((p) => p.name === '[3].due'), 'not a calendar date');
  });

  it('answers any draft with the draft or a 400 naming fields, never anything else', () => {
    fc.assert(fc.property(fc.anything(), (value) => {
      try {
        validateDraft(value, { allowHttp: false });
      } catch (err) {
        assert.ok(err instanceof ApiError && err.status === 400 && err.details.length > 0, String(err));
      }
    }));
  });
});

describe('Recurring: campaigns on the shared clock', () => {
  it('ends a price campaign at its end, an event campaign at its date, a period campaign a period after the start', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    assert.equal(campaignEnd({ type: 'PRICE_CAMPAIGN', price: 100, end: '2026-09-01T00:00:00Z' }, null, now)?.toISOString(), '2026-09-01T00:00:00.000Z');
    assert.equal(campaignEnd({ type: 'EVENT_CAMPAIGN', price: 100, eventDate: '2026-12-24T00:00:00Z', eventText: 'Christmas' }, null, now)?.toISOString(), '2026-12-24T00:00:00.000Z');
    const started = new Date('2026-01-31T12:00:00Z');
    assert.equal(campaignEnd({ type: 'PERIOD_CAMPAIGN', price: 100, period: { unit: 'WEEK', count: 2 } }, started, now)?.toISOString(), '2026-02-14T12:00:00.000Z');
    assert.equal(campaignEnd({ type: 'PERIOD_CAMPAIGN', price: 100, period: { unit: 'YEAR', count: 1 } }, started, now)?.toISOString(), '2027-01-31T12:00:00.000Z');
    // Not started yet: the whole period is ahead of now.
    assert.equal(campaignEnd({ type: 'PERIOD_CAMPAIGN', price: 100, period: { unit: 'DAY', count: 3 } }, null, now)?.toISOString(), '2026-06-04T00:00:00.000Z');
    assert.equal(campaignEnd(null, null, now), undefined);
  });
});
