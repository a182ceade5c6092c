import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ERROR_CHECKS, errorMatches, evaluateReadiness, readinessMarkdown,
  type ErrorRef, type PaymentRef, type ReadinessFacts, type ReadinessItem,
} from '../../src/domain/readiness.ts';

const NOW = new Date('2026-11-26T12:00:00Z');

function pay(id: string, detail?: string): PaymentRef {
  return { paymentId: `uuid-${id}`, pspTransactionId: id, merchantOrderId: `order-${id}`, at: new Date('2026-11-26T10:00:00Z'), ...(detail ? { detail } : {}) };
}

function err(code: string, message: string, over: Partial<ErrorRef> = {}): ErrorRef {
  return {
    eventId: 1, at: new Date('2026-11-26T10:00:00Z'), method: 'POST', route: '/psp/v3/psppayments/init', status: 400,
    errorCode: code, errorMessage: message, contextId: 'ctx-1', pspTransactionId: 'tx-err', paymentId: null, merchantOrderId: null, ...over,
  };
}

function empty(): ReadinessFacts {
  return {
    pspId: 'PSP1', pspName: 'Test PSP',
    completeOrders: [], cancelledOrders: [], errorAnswers: {}, failAnswers: [], threeDsCompleted: [],
    notifications: { TIMEOUT: { notified: [], failed: [] }, USER_CANCEL: { notified: [], failed: [] } },
    answers: { paymentsLookedAt: 0, calls: 0, problemCount: 0, problemsByReason: {}, problems: [], timeoutMs: 15000 },
    settlement: { settled: [], overdueCount: 0, overdue: [] },
    initHeaders: { inits: 0, withIdempotencyKey: 0, withSystemHeaders: 0, withoutIdempotencyKey: [], withoutSystemHeaders: [], example: [] },
  };
}

/** Facts that meet every item. */
function complete(): ReadinessFacts {
  const f = empty();
  f.completeOrders = [pay('full')];
  f.cancelledOrders = [pay('cancel')];
  for (const c of ERROR_CHECKS) f.errorAnswers[c.id] = [err(c.code, c.message)];
  f.failAnswers = [{ errorId: '82', errorText: 'Refused by Issuer', count: 2, examples: [pay('f82')] }];
  f.threeDsCompleted = [pay('3ds')];
  f.notifications.TIMEOUT.notified = [pay('timeout')];
  f.notifications.USER_CANCEL.notified = [pay('cancelled-by-user')];
  f.answers = { paymentsLookedAt: 10, calls: 12, problemCount: 0, problemsByReason: {}, problems: [], timeoutMs: 15000 };
  f.settlement = { settled: [pay('full')], overdueCount: 0, overdue: [] };
  f.initHeaders = { inits: 10, withIdempotencyKey: 10, withSystemHeaders: 10, withoutIdempotencyKey: [], withoutSystemHeaders: [], example: [pay('full')] };
  return f;
}

function item(f: ReadinessFacts, id: string): ReadinessItem {
  const found = evaluateReadiness(f, NOW).items.find((i) => i.id === id);
  assert.ok(found, `no item ${id}`);
  return found;
}

describe('evaluateReadiness', () => {
  it('meets nothing for a PSP that has done nothing, and says how to produce each item', () => {
    const r = evaluateReadiness(empty(), NOW);
    assert.equal(r.met, 0);
    assert.equal(r.ready, false);
    assert.equal(r.total, r.items.length);
    for (const i of r.items) {
      assert.equal(i.met, false, i.id);
      assert.ok(i.how.length > 20, i.id);
    }
    assert.equal(r.generatedAt, NOW.toISOString());
  });

  it('is ready when every item has its evidence', () => {
    const r = evaluateReadiness(complete(), NOW);
    assert.deepEqual(r.items.filter((i) => !i.met).map((i) => i.id), []);
    assert.equal(r.ready, true);
    assert.equal(r.met, r.total);
  });

  it('has one item per applicable error code of the guide, 51 twice (invalid request, invalid pspRedirectUrl)', () => {
    const ids = evaluateReadiness(empty(), NOW).items.filter((i) => i.group === 'Error codes').map((i) => i.id);
    assert.deepEqual(ids, ['error-21', 'error-44', 'error-51', 'error-51-redirect', 'error-99', 'error-amount', 'error-currency', 'error-makePaymentUrl']);
    const na = evaluateReadiness(empty(), NOW).notApplicable.map((n) => n.code);
    assert.deepEqual(na, ['42', '121', '122', '123', '124']);
  });

  it('shows an error answer as evidence with its request and contextId', () => {
    const f = empty();
    f.errorAnswers['44'] = [err('44', 'PSP Transaction ID already exists', { paymentId: 'uuid-x', merchantOrderId: 'o-1' })];
    const i = item(f, 'error-44');
    assert.equal(i.met, true);
    assert.equal(i.evidence[0].label, 'POST /psp/v3/psppayments/init → 400 44');
    assert.equal(i.evidence[0].paymentId, 'uuid-x');
    assert.match(i.evidence[0].detail ?? '', /contextId ctx-1/);
    assert.equal(item(f, 'error-99').met, false);
  });

  it('needs a makePayment answered properly, and no problem among the calls looked at', () => {
    const f = empty();
    assert.equal(item(f, 'json-within-timeout').met, false);
    f.answers = { paymentsLookedAt: 5, calls: 6, problemCount: 0, problemsByReason: {}, problems: [], timeoutMs: 15000 };
    assert.equal(item(f, 'json-within-timeout').met, true);
    f.answers = {
      paymentsLookedAt: 5, calls: 6, problemCount: 2, problemsByReason: { NOT_JSON: 1, NO_ANSWER: 1 }, timeoutMs: 15000,
      problems: [{ ...pay('bad'), attemptId: 7, paymentState: 'ACCEPTED', reason: 'NOT_JSON', detail: 'HTTP 200' }],
    };
    const i = item(f, 'json-within-timeout');
    assert.equal(i.met, false);
    assert.match(i.summary, /2 of 6 makePayment calls/);
    assert.match(i.summary, /not JSON: 1/);
    assert.equal(i.problems[0].pspTransactionId, 'bad');
    assert.match(i.problems[0].detail ?? '', /^ACCEPTED: Answered with a body that is not JSON/);
  });

  it('needs a settled reservation and none open past the deadline', () => {
    const f = empty();
    assert.equal(item(f, 'reservations-settled').met, false);
    f.settlement = { settled: [pay('a')], overdueCount: 0, overdue: [] };
    assert.equal(item(f, 'reservations-settled').met, true);
    f.settlement = { settled: [pay('a')], overdueCount: 3, overdue: [pay('old')] };
    const i = item(f, 'reservations-settled');
    assert.equal(i.met, false);
    assert.match(i.summary, /^3 payments reserved more than 24 h ago are neither captured nor cancelled/);
    assert.equal(i.problems[0].pspTransactionId, 'old');
  });

  it('needs every init of those looked at to carry the headers', () => {
    const f = empty();
    f.initHeaders = { inits: 4, withIdempotencyKey: 3, withSystemHeaders: 4, withoutIdempotencyKey: [pay('nokey')], withoutSystemHeaders: [], example: [pay('good')] };
    assert.equal(item(f, 'idempotency-key').met, false);
    assert.equal(item(f, 'idempotency-key').problems[0].pspTransactionId, 'nokey');
    assert.equal(item(f, 'system-headers').met, true);
    assert.equal(item(f, 'system-headers').evidence[0].pspTransactionId, 'good');
  });

  it('counts a notification only when it was answered; unanswered ones are listed against it', () => {
    const f = empty();
    f.notifications.TIMEOUT.failed = [pay('lost')];
    const i = item(f, 'timeout-notification');
    assert.equal(i.met, false);
    assert.match(i.summary, /never answered/);
    f.notifications.TIMEOUT.notified = [pay('ok')];
    assert.equal(item(f, 'timeout-notification').met, true);
    assert.equal(item(f, 'user-cancel-notification').met, false);
  });

  it('lists the FAIL answers by errorId in numeric order', () => {
    const f = empty();
    f.failAnswers = [
      { errorId: '85', errorText: null, count: 1, examples: [pay('late')] },
      { errorId: '9', errorText: 'x', count: 4, examples: [pay('nine')] },
    ];
    const i = item(f, 'make-payment-fail');
    assert.equal(i.met, true);
    assert.match(i.summary, /9 "x" × 4, 85 × 1/);
    assert.deepEqual(i.evidence.map((e) => e.detail), ['errorId 9: x', 'errorId 85']);
  });
});

describe('errorMatches', () => {
  const c51 = ERROR_CHECKS.find((c) => c.id === '51')!;
  const redirect = ERROR_CHECKS.find((c) => c.id === '51-redirect')!;
  it('tells the two meanings of 51 apart by the message', () => {
    assert.equal(errorMatches(c51, '51', 'Invalid request: customerMobileNumber must be 8 digits'), true);
    assert.equal(errorMatches(c51, '51', 'Invalid pspRedirectUrl'), false);
    assert.equal(errorMatches(redirect, '51', 'Invalid pspRedirectUrl: pspRedirectUrl is required'), true);
    assert.equal(errorMatches(redirect, '51', 'Invalid request'), false);
    assert.equal(errorMatches(c51, '51', null), true);
    assert.equal(errorMatches(c51, '44', 'Invalid request'), false);
  });
});

describe('readinessMarkdown', () => {
  it('writes a checklist with the test IDs Vipps asks for, and no links into this server', () => {
    const f = complete();
    f.errorAnswers['21'] = [];
    const md = readinessMarkdown(evaluateReadiness(f, NOW), 'https://psp-sim.example');
    assert.match(md, /^# Go-live readiness: Test PSP \(PSP id `PSP1`\)/);
    assert.match(md, /17 of 18 items met/);
    assert.match(md, /- \[x\] A complete order: reserved, then captured and refunded through updatestatus/);
    assert.match(md, /pspTransactionId `full`, merchantOrderId `order-full`/);
    assert.match(md, /- \[ \] Error 21: Merchant not available or active/);
    assert.match(md, /Error 42 \(Invalid payment model type\) does not apply/);
    assert.doesNotMatch(md, /\/console\//);
  });

  it('keeps hostile text from breaking out of its code span or line', () => {
    const f = empty();
    f.pspName = 'Evil *PSP*\n# injected';
    f.completeOrders = [{ ...pay('x'), pspTransactionId: 'a`b\nc' }];
    const md = readinessMarkdown(evaluateReadiness(f, NOW), 'here');
    assert.match(md, /^# Go-live readiness: Evil \\\*PSP\\\* # injected/);
    assert.doesNotMatch(md, /^# injected/m);
    assert.match(md, /pspTransactionId `` a`b c ``/);
  });
});
