import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminHeaders, call, createPsp, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { details, forceApprove, init, initBody, initOk, uniqueId } from '../support/payments.ts';

type Tx = { pspTransactionId: string; status: string; amount: number | string; currency?: string; paymentText?: string; operationStatus?: string };

describe('status updates and the batch', () => {
  let server: TestServer;
  let stub: PspStub;
  let h: Record<string, string>;

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer();
    h = await pspHeaders(server.url);
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  async function reserved(amount = 10000): Promise<string> {
    const { id, token } = await initOk(server.url, h, initBody(stub.url, { amount }));
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    return id;
  }
  const post = (transactions: Tx[], headers = h, path = '/psp/v3/psppayments/updatestatus') =>
    call(server.url, 'POST', path, { headers, body: { transactions } });
  const run = async () => {
    const answer = await call(server.url, 'POST', '/admin/status-batch/run', { headers: adminHeaders() });
    assert.equal(answer.status, 200, answer.text);
    return answer.body;
  };
  const log = async (id: string) => (await details(server.url, h, id)).body;

  it('answers 9000 SUCCESS at once and shows nothing in details before a run', async () => {
    const id = await reserved();
    const answer = await post([{ pspTransactionId: id, status: 'CAPTURED', amount: '4000', paymentText: 'First capture' }]);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { responseInfo: { responseCode: '9000', responseMessage: 'SUCCESS' } });
    const before = await log(id);
    assert.equal(before.transactionLogHistory.length, 1);
    assert.equal(before.transactionSummary.capturedAmount, 0);
    const summary = await run();
    assert.equal(summary.applied, 1);
    assert.equal(summary.rejected, 0);
    assert.equal(typeof summary.durationMs, 'number');
    const after = await log(id);
    assert.deepEqual(after.transactionSummary, { capturedAmount: 4000, remainingAmountToCapture: 6000, refundedAmount: 0, remainingAmountToRefund: 4000 });
    const entry = after.transactionLogHistory[1];
    assert.equal(entry.operation, 'CAPTURED');
    assert.equal(entry.amount, 4000);
    assert.equal(entry.paymentText, 'First capture');
    assert.equal(entry.operationSuccess, true);
  });

  it('keeps every paymentText exactly as sent, also quotes, backslashes, braces, commas, "NULL", emoji and an empty one', async () => {
    const id = await reserved(10000);
    const texts = ['say "hi", {now}', 'back\\slash \\"', 'NULL', '', ' padded ', 'æøå 😀', "it's"];
    const answer = await post([
      ...texts.map((paymentText) => ({ pspTransactionId: id, status: 'CAPTURED', amount: 100, paymentText })),
      { pspTransactionId: id, status: 'CAPTURED', amount: 100 },
    ]);
    assert.equal(answer.status, 200, answer.text);
    assert.equal((await run()).applied, texts.length + 1);
    const captured = (await log(id)).transactionLogHistory.filter((e: { operation: string }) => e.operation === 'CAPTURED');
    // Details show a capture sent without a paymentText with an empty one.
    assert.deepEqual(captured.map((e: { paymentText: string }) => e.paymentText), [...texts, '']);
  });

  it('applies in arrival order: partial and repeated captures and refunds, then a cancel releases the rest', async () => {
    const id = await reserved(10000);
    assert.equal((await post([
      { pspTransactionId: id, status: 'CAPTURED', amount: 3000 },
      { pspTransactionId: id, status: 'REFUNDED', amount: 1000 },
    ], h, '/psp/v3/psppayments/updateStatus')).status, 200);
    assert.equal((await post([
      { pspTransactionId: id, status: 'CAPTURED', amount: 2000 },
      { pspTransactionId: id, status: 'REFUNDED', amount: 4000 },
      { pspTransactionId: id, status: 'CANCELLED', amount: 1 },
      { pspTransactionId: id, status: 'CAPTURED', amount: 1 },
    ])).status, 200);
    const summary = await run();
    assert.equal(summary.applied, 5);
    assert.equal(summary.rejected, 1);
    assert.deepEqual(summary.rejectedByReason, { EXCEEDS_RESERVED: 1 });
    const d = await log(id);
    assert.deepEqual(d.transactionLogHistory.map((e: any) => [e.operation, e.amount, e.operationSuccess]), [
      ['RESERVED', 10000, true], ['CAPTURED', 3000, true], ['REFUNDED', 1000, true], ['CAPTURED', 2000, true],
      ['REFUNDED', 4000, true], ['CANCELLED', 5000, true],
    ]);
    assert.deepEqual(d.transactionSummary, { capturedAmount: 5000, remainingAmountToCapture: 0, refundedAmount: 5000, remainingAmountToRefund: 0 });
  });

  it('rejects with a reason and changes nothing: over-capture, over-refund, cancel with nothing left, bad currency, amount < 1', async () => {
    const id = await reserved(5000);
    await post([
      { pspTransactionId: id, status: 'CAPTURED', amount: 5001 },
      { pspTransactionId: id, status: 'REFUNDED', amount: 1 },
      { pspTransactionId: id, status: 'CAPTURED', amount: 100, currency: 'SEK' },
      { pspTransactionId: id, status: 'CAPTURED', amount: 0 },
      { pspTransactionId: id, status: 'RESERVED', amount: 5000 },
      { pspTransactionId: id, status: 'CAPTURED', amount: 5000 },
      { pspTransactionId: id, status: 'CANCELLED', amount: 5000 },
    ]);
    const summary = await run();
    assert.equal(summary.applied, 1);
    assert.deepEqual(summary.rejectedByReason, {
      EXCEEDS_RESERVED: 1, EXCEEDS_CAPTURED: 1, CURRENCY: 1, AMOUNT_LESS_THAN_ONE: 1, ALREADY_RESERVED: 1, NOTHING_TO_CANCEL: 1,
    });
    const d = await log(id);
    assert.deepEqual(d.transactionLogHistory.map((e: any) => e.operation), ['RESERVED', 'CAPTURED']);
    const rejected = await call(server.url, 'GET', `/admin/status-batch/rejected?runId=${summary.runId}`, { headers: adminHeaders() });
    assert.equal(rejected.status, 200);
    assert.equal(rejected.body.rejected.length, 6);
    for (const r of rejected.body.rejected) {
      assert.equal(r.pspTransactionId, id);
      assert.ok(r.reason && r.reasonText, 'each rejection carries its reason');
    }
  });

  it('operationStatus FAILED adds an unsuccessful entry and changes no amounts', async () => {
    const id = await reserved(5000);
    await post([{ pspTransactionId: id, status: 'CAPTURED', amount: 2000, operationStatus: 'FAILED', paymentText: 'Capture failed' }]);
    await run();
    const d = await log(id);
    assert.deepEqual(d.transactionLogHistory[1], { ...d.transactionLogHistory[1], operation: 'CAPTURED', amount: 2000, operationSuccess: false, paymentText: 'Capture failed' });
    assert.equal(d.transactionSummary.capturedAmount, 0);
    assert.equal(d.transactionSummary.remainingAmountToCapture, 5000);
  });

  it('rejects updates for unknown, failed, expired-or-cancelled and other PSPs\' payments', async () => {
    const failedBody = initBody(stub.url);
    stub.on(failedBody.pspTransactionId as string, { kind: 'fail', errorId: '82', errorText: 'Refused by Issuer' });
    const failed = await initOk(server.url, h, failedBody);
    await forceApprove(server.url, h, failed.id, failed.token);
    const cancelled = await initOk(server.url, h, initBody(stub.url));
    await call(server.url, 'POST', `/admin/payments/${DEMO.psp.pspId}/${cancelled.id}/reject`, { headers: adminHeaders() });
    const mine = await reserved(5000);

    const other = await createPsp(server.url, 'Batch rival');
    const created = await call(server.url, 'POST', '/merchant-management/psp/v1/merchants', {
      headers: { ...(await pspHeaders(server.url, other, undefined)), 'Idempotency-Key': uniqueId('k') },
      body: {
        organizationNumber: '333333333', name: 'Rival', mccCode: '5411', logo: (await import('../support/server.ts')).pngLogo(),
        address: { addressLine1: 'Gate 3', city: 'Oslo', postCode: '0150', country: 'NO' }, companyName: 'Rival AS', companyEmail: 'c@rival.example',
      },
    });
    const oh = await pspHeaders(server.url, other, created.body.merchantSerialNumber);

    await post([
      { pspTransactionId: 'does-not-exist', status: 'CAPTURED', amount: 100 },
      { pspTransactionId: failed.id, status: 'CAPTURED', amount: 100 },
      { pspTransactionId: cancelled.id, status: 'CAPTURED', amount: 100 },
    ]);
    assert.equal((await post([{ pspTransactionId: mine, status: 'CAPTURED', amount: 100 }], oh)).status, 200);
    const summary = await run();
    assert.deepEqual(summary.rejectedByReason, { UNKNOWN_PAYMENT: 1, PAYMENT_NOT_ACTIVE: 2, OTHER_PSP: 1 });
    assert.equal(summary.applied, 0);
    assert.equal((await log(mine)).transactionSummary.capturedAmount, 0);
  });

  it('RESERVED on a payment not reserved yet sets the reserved amount', async () => {
    const { id } = await initOk(server.url, h, initBody(stub.url, { amount: 8000 }));
    await post([{ pspTransactionId: id, status: 'RESERVED', amount: 8000 }, { pspTransactionId: id, status: 'CAPTURED', amount: 8000 }]);
    const summary = await run();
    assert.equal(summary.applied, 2);
    const d = await log(id);
    assert.deepEqual(d.transactionLogHistory.map((e: any) => e.operation), ['RESERVED', 'CAPTURED']);
    assert.deepEqual(d.transactionSummary, { capturedAmount: 8000, remainingAmountToCapture: 0, refundedAmount: 0, remainingAmountToRefund: 8000 });
  });

  it('bad payloads → 400 ErrorDetails and nothing stored', async () => {
    const id = await reserved(5000);
    const bad: unknown[] = [
      {}, { transactions: 'x' }, [],
      { transactions: [{ pspTransactionId: id, status: 'CAPTURED' }] },
      { transactions: [{ pspTransactionId: id, status: 'SHIPPED', amount: 1 }] },
      { transactions: [{ pspTransactionId: id, status: 'CAPTURED', amount: 'ten' }] },
      { transactions: [{ pspTransactionId: id, status: 'CAPTURED', amount: 1.5 }] },
      { transactions: [{ pspTransactionId: id, status: 'CAPTURED', amount: 100, operationStatus: 'MAYBE' }] },
      { transactions: [{ pspTransactionId: id, status: 'CAPTURED', amount: 100 }, { status: 'CAPTURED', amount: 1 }] },
    ];
    for (const body of bad) {
      const answer = await call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', { headers: h, body });
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.ok(Array.isArray(answer.body) && answer.body[0].errorCode, JSON.stringify(body));
    }
    const runs = await call(server.url, 'GET', '/admin/status-batch/runs', { headers: adminHeaders() });
    assert.equal(runs.body.pending, 0, 'nothing from the bad payloads was stored');
  });

  it('one request with 10,000 transactions is accepted and applied', async () => {
    const ids = await Promise.all(Array.from({ length: 4 }, () => reserved(10_000)));
    const transactions: Tx[] = Array.from({ length: 10_000 }, (_, i) => ({ pspTransactionId: ids[i % 4], status: 'CAPTURED', amount: 1 }));
    const answer = await post(transactions);
    assert.equal(answer.status, 200, answer.text.slice(0, 200));
    const summary = await run();
    assert.equal(summary.applied, 10_000);
    for (const id of ids) assert.equal((await log(id)).transactionSummary.capturedAmount, 2500);
  });

  it('needs the same auth as every PSP API route', async () => {
    const answer = await call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', {
      headers: { ...h, authorization: 'Bearer nope' }, body: { transactions: [] },
    });
    assert.equal(answer.status, 401);
  });

  it('lists runs with their counts', async () => {
    const runs = await call(server.url, 'GET', '/admin/status-batch/runs', { headers: adminHeaders() });
    assert.equal(runs.status, 200);
    assert.ok(runs.body.runs.length >= 5);
    assert.equal(runs.body.schedule.cron, '0 2 * * *');
    assert.equal(runs.body.schedule.timeZone, 'Europe/Oslo');
    for (const r of runs.body.runs) {
      assert.equal(r.trigger, 'manual');
      assert.ok(r.finishedAt);
    }
  });
});

describe('STATUS_BATCH_MODE=immediate', () => {
  it('applies each request right after it is stored', async () => {
    const stub = await PspStub.start();
    const server = await startTestServer({ STATUS_BATCH_MODE: 'immediate' });
    try {
      const h = await pspHeaders(server.url);
      const { id, token } = await initOk(server.url, h, initBody(stub.url, { amount: 3000 }));
      await forceApprove(server.url, h, id, token);
      await call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', { headers: h, body: { transactions: [{ pspTransactionId: id, status: 'CAPTURED', amount: 3000 }] } });
      const d = await details(server.url, h, id);
      assert.equal(d.body.transactionSummary.capturedAmount, 3000);
    } finally {
      await server.close();
      await stub.close();
    }
  });

  it('adds its runs up in one row per minute instead of a row per request', async () => {
    const stub = await PspStub.start();
    const server = await startTestServer({ STATUS_BATCH_MODE: 'immediate' });
    try {
      const h = await pspHeaders(server.url);
      const { id, token } = await initOk(server.url, h, initBody(stub.url, { amount: 3000 }));
      await forceApprove(server.url, h, id, token);
      const requests = 12;
      for (let i = 0; i < requests; i++) {
        const r = await call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', { headers: h, body: { transactions: [{ pspTransactionId: id, status: 'CAPTURED', amount: 100 }] } });
        assert.equal(r.status, 200);
      }
      assert.equal((await details(server.url, h, id)).body.transactionSummary.capturedAmount, requests * 100);
      const runs = (await call(server.url, 'GET', '/admin/status-batch/runs', { headers: adminHeaders() })).body.runs as Array<{ trigger: string; invocations: number; applied: number; status: string }>;
      assert.ok(runs.length <= 2, `${runs.length} run rows for ${requests} requests`);
      assert.ok(runs.every((r) => r.trigger === 'immediate' && r.status === 'finished'));
      assert.equal(runs.reduce((n, r) => n + r.invocations, 0), requests);
      assert.equal(runs.reduce((n, r) => n + r.applied, 0), requests);
    } finally {
      await server.close();
      await stub.close();
    }
  });
});

describe('the scheduled batch', () => {
  it('runs on STATUS_BATCH_CRON', async () => {
    const stub = await PspStub.start();
    const server = await startTestServer({ STATUS_BATCH_CRON: '*/2 * * * * *', STATUS_BATCH_TZ: 'UTC' });
    try {
      const h = await pspHeaders(server.url);
      const { id, token } = await initOk(server.url, h, initBody(stub.url, { amount: 3000 }));
      await forceApprove(server.url, h, id, token);
      await call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', { headers: h, body: { transactions: [{ pspTransactionId: id, status: 'CAPTURED', amount: 1000 }] } });
      const deadline = Date.now() + 10_000;
      let captured = 0;
      while (Date.now() < deadline) {
        captured = (await details(server.url, h, id)).body.transactionSummary.capturedAmount;
        if (captured > 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.equal(captured, 1000);
      const runs = await call(server.url, 'GET', '/admin/status-batch/runs', { headers: adminHeaders() });
      assert.equal(runs.body.runs[0].trigger, 'schedule');
    } finally {
      await server.close();
      await stub.close();
    }
  });
});

void init;
