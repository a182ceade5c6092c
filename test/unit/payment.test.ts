import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  APPROVABLE, FINAL, STATES, WAITING,
  interpretAnswer, isApprovable, isWaiting, outcomeOf, summarize,
  type LogEntry, type PspAnswer,
} from '../../src/domain/psp-v3/payment.ts';

const json = (v: unknown): string => JSON.stringify(v);
const answer = (paymentInfo: unknown, errorMessage?: unknown): string =>
  json(errorMessage === undefined ? { paymentInfo } : { errorMessage, paymentInfo });

describe('interpretAnswer', () => {
  it('200 with paymentInfo.status OK is ok', () => {
    assert.deepEqual(interpretAnswer(200, answer({ pspTransactionId: 'abc', status: 'OK' })), { kind: 'ok' });
    assert.deepEqual(interpretAnswer(200, answer({ status: 'OK' }, { errorId: null, errorText: null })), { kind: 'ok' });
  });

  it('FAIL keeps errorId (a number or a string, as a string) and errorText', () => {
    // The guide's example response.
    assert.deepEqual(
      interpretAnswer(200, answer({ pspTransactionId: '7686f7788898767977', status: 'FAIL' }, { errorId: 82, errorText: 'Refused by Issuer' })),
      { kind: 'fail', errorId: '82', errorText: 'Refused by Issuer' },
    );
    assert.deepEqual(
      interpretAnswer(200, answer({ status: 'FAIL' }, { errorId: '85', errorText: 'Response received too late' })),
      { kind: 'fail', errorId: '85', errorText: 'Response received too late' },
    );
    assert.deepEqual(interpretAnswer(200, answer({ status: 'FAIL' }, { errorId: 0 })), { kind: 'fail', errorId: '0', errorText: undefined });
  });

  it('FAIL without an errorMessage has neither id nor text', () => {
    assert.deepEqual(interpretAnswer(200, answer({ status: 'FAIL' })), { kind: 'fail', errorId: undefined, errorText: undefined });
    assert.deepEqual(interpretAnswer(200, answer({ status: 'FAIL' }, null)), { kind: 'fail', errorId: undefined, errorText: undefined });
    assert.deepEqual(interpretAnswer(200, answer({ status: 'FAIL' }, 'oops')), { kind: 'fail', errorId: undefined, errorText: undefined });
  });

  it('FAIL with a null or non-scalar errorId or a non-string errorText drops them (no "null" ids)', () => {
    // Serializers that write nulls (e.g. Jackson) send {"errorId": null, "errorText": null}.
    assert.deepEqual(interpretAnswer(200, answer({ status: 'FAIL' }, { errorId: null, errorText: null })), { kind: 'fail', errorId: undefined, errorText: undefined });
    assert.deepEqual(interpretAnswer(200, answer({ status: 'FAIL' }, { errorId: { a: 1 }, errorText: 5 })), { kind: 'fail', errorId: undefined, errorText: undefined });
    assert.deepEqual(interpretAnswer(200, answer({ status: 'FAIL' }, { errorId: [82], errorText: ['x'] })), { kind: 'fail', errorId: undefined, errorText: undefined });
    assert.deepEqual(interpretAnswer(200, answer({ status: 'FAIL' }, { errorId: true, errorText: 'x' })), { kind: 'fail', errorId: undefined, errorText: 'x' });
  });

  it('property: FAIL keeps any numeric or string errorId as its string form, and any errorText', () => {
    fc.assert(fc.property(fc.oneof(fc.integer(), fc.string()), fc.string(), (errorId, errorText) => {
      assert.deepEqual(interpretAnswer(200, answer({ status: 'FAIL' }, { errorId, errorText })), { kind: 'fail', errorId: String(errorId), errorText });
    }), { numRuns: 200 });
  });

  it('SOFT_DECLINE with an http(s) url3dSecure is a soft decline', () => {
    for (const url of ['https://psp.example/3ds?ref=1', 'http://127.0.0.1:9000/3ds', 'HTTPS://PSP.EXAMPLE/3DS']) {
      assert.deepEqual(interpretAnswer(200, answer({ status: 'SOFT_DECLINE', url3dSecure: url })), { kind: 'soft-decline', url3dSecure: url }, url);
    }
  });

  it('SOFT_DECLINE without a usable url3dSecure is an error', () => {
    for (const url of [undefined, null, '', 42, {}, ['https://psp.example/3ds'], 'ftp://psp.example/3ds', 'javascript:alert(1)', 'psp.example/3ds', ' https://psp.example/3ds', '//psp.example/3ds']) {
      const a = interpretAnswer(200, answer(url === undefined ? { status: 'SOFT_DECLINE' } : { status: 'SOFT_DECLINE', url3dSecure: url }));
      assert.equal(a.kind, 'error', json(url));
      assert.equal((a as { reason: string }).reason, 'SOFT_DECLINE without a valid url3dSecure');
    }
  });

  it('a status other than 200 is an error, whatever the body says', () => {
    for (const status of [201, 202, 204, 301, 400, 401, 404, 409, 500, 502, 503, undefined]) {
      assert.deepEqual(interpretAnswer(status, answer({ status: 'OK' })), { kind: 'error', reason: `HTTP ${status}` });
    }
  });

  it('a body that is not JSON, or not a JSON object, is an error', () => {
    for (const body of [undefined, '', 'OK', '<html>OK</html>', '{"paymentInfo":', '{paymentInfo: {status: "OK"}}']) {
      assert.deepEqual(interpretAnswer(200, body), { kind: 'error', reason: 'response is not JSON' }, json(body));
    }
    for (const body of ['null', '42', '"OK"', 'true']) {
      assert.deepEqual(interpretAnswer(200, body), { kind: 'error', reason: 'response is not a JSON object' }, body);
    }
    // An array is an object to JSON.parse but has no paymentInfo.
    for (const body of ['[]', json([{ paymentInfo: { status: 'OK' } }])]) {
      assert.equal(interpretAnswer(200, body).kind, 'error', body);
    }
  });

  it('a missing or unknown paymentInfo.status is an error', () => {
    assert.deepEqual(interpretAnswer(200, '{}'), { kind: 'error', reason: 'paymentInfo.status is missing' });
    assert.deepEqual(interpretAnswer(200, json({ paymentInfo: null })), { kind: 'error', reason: 'paymentInfo.status is missing' });
    assert.deepEqual(interpretAnswer(200, json({ paymentInfo: 'OK' })), { kind: 'error', reason: 'paymentInfo.status is missing' });
    assert.deepEqual(interpretAnswer(200, json({ paymentInfo: {} })), { kind: 'error', reason: 'paymentInfo.status is missing' });
    assert.deepEqual(interpretAnswer(200, json({ status: 'OK' })), { kind: 'error', reason: 'paymentInfo.status is missing' });
    assert.deepEqual(interpretAnswer(200, answer({ status: 'ok' })), { kind: 'error', reason: 'unknown paymentInfo.status "ok"' });
    assert.deepEqual(interpretAnswer(200, answer({ status: 'RESERVED' })), { kind: 'error', reason: 'unknown paymentInfo.status "RESERVED"' });
    assert.deepEqual(interpretAnswer(200, answer({ status: null })), { kind: 'error', reason: 'unknown paymentInfo.status null' });
    assert.deepEqual(interpretAnswer(200, answer({ status: 1 })), { kind: 'error', reason: 'unknown paymentInfo.status 1' });
  });

  it('a transport error is an error, even with a 200 OK body', () => {
    assert.deepEqual(interpretAnswer(undefined, undefined, 'ECONNREFUSED'), { kind: 'error', reason: 'ECONNREFUSED' });
    assert.deepEqual(interpretAnswer(200, answer({ status: 'OK' }), 'timeout after 10000 ms'), { kind: 'error', reason: 'timeout after 10000 ms' });
  });

  it('property: never throws, and anything but 200 with status OK/FAIL/SOFT_DECLINE is an error', () => {
    fc.assert(fc.property(
      fc.option(fc.integer({ min: 100, max: 599 }), { nil: undefined }),
      fc.option(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => json({ paymentInfo: v })), fc.jsonValue().map((v) => json({ paymentInfo: { status: v } }))), { nil: undefined }),
      (status, body) => {
        const a = interpretAnswer(status, body);
        assert.ok(['ok', 'fail', 'soft-decline', 'error'].includes(a.kind));
        if (a.kind !== 'error') {
          assert.equal(status, 200);
          const s = (JSON.parse(body as string) as { paymentInfo: { status: unknown } }).paymentInfo.status;
          assert.equal(s, { ok: 'OK', fail: 'FAIL', 'soft-decline': 'SOFT_DECLINE' }[a.kind]);
        } else {
          assert.equal(typeof a.reason, 'string');
        }
      },
    ), { numRuns: 500 });
  });
});

describe('outcomeOf', () => {
  const soft: PspAnswer = { kind: 'soft-decline', url3dSecure: 'https://psp.example/3ds' };

  it('ok reserves, in either round', () => {
    assert.deepEqual(outcomeOf({ kind: 'ok' }, 1), { state: 'RESERVED' });
    assert.deepEqual(outcomeOf({ kind: 'ok' }, 2), { state: 'RESERVED' });
  });

  it('a first-round soft decline waits for 3-D Secure', () => {
    assert.deepEqual(outcomeOf(soft, 1), { state: 'AWAITING_3DS', url3dSecure: 'https://psp.example/3ds' });
  });

  it('a second-round soft decline fails with SECOND_SOFT_DECLINE', () => {
    for (const round of [2, 3]) {
      assert.deepEqual(outcomeOf(soft, round), {
        state: 'FAILED', errorId: null, errorText: 'Second soft decline after 3-D Secure', reason: 'SECOND_SOFT_DECLINE',
      });
    }
  });

  it('fail fails, keeping the PSP ids', () => {
    assert.deepEqual(outcomeOf({ kind: 'fail', errorId: '82', errorText: 'Refused by Issuer' }, 1), {
      state: 'FAILED', errorId: '82', errorText: 'Refused by Issuer', reason: 'PSP_FAIL',
    });
    assert.deepEqual(outcomeOf({ kind: 'fail' }, 2), { state: 'FAILED', errorId: null, errorText: null, reason: 'PSP_FAIL' });
  });

  it('an error fails with the delivery error as reason', () => {
    assert.deepEqual(outcomeOf({ kind: 'error', reason: 'HTTP 500' }, 1), {
      state: 'FAILED', errorId: null, errorText: null, reason: 'DELIVERY_ERROR: HTTP 500',
    });
    assert.deepEqual(outcomeOf({ kind: 'error', reason: 'ECONNRESET' }, 2).state, 'FAILED');
  });

  it('property: the outcome of an interpreted answer is a final state or AWAITING_3DS (round 1 only)', () => {
    fc.assert(fc.property(
      fc.constantFrom('OK', 'FAIL', 'SOFT_DECLINE', 'X'), fc.integer({ min: 1, max: 3 }), fc.boolean(),
      (status, round, withUrl) => {
        const out = outcomeOf(interpretAnswer(200, answer(withUrl ? { status, url3dSecure: 'https://p.example/3ds' } : { status })), round);
        if (out.state === 'AWAITING_3DS') assert.equal(round, 1);
        else assert.ok((FINAL as readonly string[]).includes(out.state));
      },
    ), { numRuns: 100 });
  });
});

describe('summarize', () => {
  const e = (operation: LogEntry['operation'], amount: number, success = true): LogEntry => ({ operation, amount, success });

  it('an empty log is all zeros', () => {
    assert.deepEqual(summarize([]), { capturedAmount: 0, remainingAmountToCapture: 0, refundedAmount: 0, remainingAmountToRefund: 0 });
  });

  it('a reservation leaves all of it to capture', () => {
    assert.deepEqual(summarize([e('RESERVED', 49900)]), { capturedAmount: 0, remainingAmountToCapture: 49900, refundedAmount: 0, remainingAmountToRefund: 0 });
  });

  it('partial captures and refunds', () => {
    assert.deepEqual(
      summarize([e('RESERVED', 49900), e('CAPTURED', 10000), e('CAPTURED', 20000), e('REFUNDED', 5000)]),
      { capturedAmount: 30000, remainingAmountToCapture: 19900, refundedAmount: 5000, remainingAmountToRefund: 25000 },
    );
  });

  it('a cancel releases what is left to capture', () => {
    assert.deepEqual(
      summarize([e('RESERVED', 49900), e('CAPTURED', 10000), e('CANCELLED', 39900)]),
      { capturedAmount: 10000, remainingAmountToCapture: 0, refundedAmount: 0, remainingAmountToRefund: 10000 },
    );
  });

  it('failed entries do not count', () => {
    assert.deepEqual(
      summarize([e('RESERVED', 1000), e('CAPTURED', 1000, false), e('CAPTURED', 400), e('REFUNDED', 400, false), e('CANCELLED', 600, false)]),
      { capturedAmount: 400, remainingAmountToCapture: 600, refundedAmount: 0, remainingAmountToRefund: 400 },
    );
    assert.deepEqual(summarize([e('RESERVED', 1000, false)]), summarize([]));
  });

  it('remaining amounts never go below zero, even for an inconsistent log', () => {
    assert.deepEqual(
      summarize([e('RESERVED', 100), e('CAPTURED', 300), e('REFUNDED', 500)]),
      { capturedAmount: 300, remainingAmountToCapture: 0, refundedAmount: 500, remainingAmountToRefund: 0 },
    );
  });

  const entry = fc.record({
    operation: fc.constantFrom<LogEntry['operation']>('RESERVED', 'CAPTURED', 'CANCELLED', 'REFUNDED'),
    amount: fc.integer({ min: 0, max: 2_147_483_647 }),
    success: fc.boolean(),
  });
  const log = fc.array(entry, { maxLength: 30 });

  it('property: failed entries never count', () => {
    fc.assert(fc.property(log, log, fc.infiniteStream(fc.nat(30)), (ok, failed, positions) => {
      const successful = ok.map((x) => ({ ...x, success: true }));
      const mixed = [...successful];
      const it = positions[Symbol.iterator]();
      for (const f of failed) mixed.splice(it.next().value % (mixed.length + 1), 0, { ...f, success: false });
      assert.deepEqual(summarize(mixed), summarize(successful));
    }), { numRuns: 200 });
  });

  it('property: the four numbers are never negative', () => {
    fc.assert(fc.property(log, (l) => {
      for (const [k, v] of Object.entries(summarize(l))) assert.ok(v >= 0, `${k} = ${v}`);
    }), { numRuns: 300 });
  });

  it('property: capturedAmount is the sum of the successful CAPTURED entries, refundedAmount of REFUNDED', () => {
    fc.assert(fc.property(log, (l) => {
      const sum = (op: LogEntry['operation']) => l.filter((x) => x.success && x.operation === op).reduce((s, x) => s + x.amount, 0);
      const s = summarize(l);
      assert.equal(s.capturedAmount, sum('CAPTURED'));
      assert.equal(s.refundedAmount, sum('REFUNDED'));
      assert.equal(s.remainingAmountToCapture, Math.max(0, sum('RESERVED') - sum('CAPTURED') - sum('CANCELLED')));
      assert.equal(s.remainingAmountToRefund, Math.max(0, sum('CAPTURED') - sum('REFUNDED')));
    }), { numRuns: 300 });
  });

  it('property: the order of the log does not matter', () => {
    fc.assert(fc.property(log, (l) => {
      assert.deepEqual(summarize([...l].reverse()), summarize(l));
    }), { numRuns: 100 });
  });
});

describe('isWaiting / isApprovable', () => {
  it('waiting states are INITIATED, AWAITING_USER and AWAITING_3DS', () => {
    assert.deepEqual(STATES.filter(isWaiting), ['INITIATED', 'AWAITING_USER', 'AWAITING_3DS']);
    assert.deepEqual(STATES.filter(isWaiting), [...WAITING]);
  });

  it('approvable states are INITIATED and AWAITING_USER', () => {
    assert.deepEqual(STATES.filter(isApprovable), ['INITIATED', 'AWAITING_USER']);
    assert.deepEqual(STATES.filter(isApprovable), [...APPROVABLE]);
  });

  it('DELIVERING and the final states are neither waiting nor approvable', () => {
    for (const s of ['DELIVERING', ...FINAL]) {
      assert.equal(isWaiting(s), false, s);
      assert.equal(isApprovable(s), false, s);
    }
  });

  it('every approvable state is waiting, and no final state is', () => {
    for (const s of APPROVABLE) assert.ok(isWaiting(s), s);
    for (const s of FINAL) assert.ok(!(WAITING as readonly string[]).includes(s), s);
  });

  it('unknown strings and other casings are neither', () => {
    for (const s of ['', 'initiated', 'Initiated', 'AWAITING_3DS ', 'RESERVED_', 'unknown']) {
      assert.equal(isWaiting(s), false, s);
      assert.equal(isApprovable(s), false, s);
    }
  });
});
