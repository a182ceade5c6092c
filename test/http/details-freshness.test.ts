// Details are never older than a change whose answer has returned: read a payment's details, change
// its log in each way the server can, and read again (on the embedded database the first read fills
// the details read model; on PostgreSQL every read goes to the database).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminHeaders, call, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { adminPayment, details, forceApprove, initBody, initOk } from '../support/payments.ts';

describe('details after a change', () => {
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

  const operations = async (id: string) =>
    ((await details(server.url, h, id)).body.transactionLogHistory as Array<{ operation: string; amount: number; operationSuccess: boolean }>)
      .map((e) => [e.operation, e.amount, e.operationSuccess]);

  it('an approval shows at once', async () => {
    const { id, token } = await initOk(server.url, h, initBody(stub.url, { amount: 5000 }));
    assert.deepEqual(await operations(id), []);
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    assert.deepEqual(await operations(id), [['RESERVED', 5000, true]]);
  });

  it('approvals answered at the same moment are each recorded (they share one statement)', async () => {
    const made = await Promise.all(Array.from({ length: 24 }, (_, i) => initOk(server.url, h, initBody(stub.url, { amount: 1000 + i }))));
    for (const m of made) assert.deepEqual(await operations(m.id), []);
    const answers = await Promise.all(made.map((m) => forceApprove(server.url, h, m.id, m.token)));
    for (const a of answers) assert.equal(a.status, 200);
    for (const [i, m] of made.entries()) {
      assert.deepEqual(await operations(m.id), [['RESERVED', 1000 + i, true]]);
      const view = await adminPayment(server.url, m.id);
      assert.equal(view.state, 'RESERVED');
      assert.equal(view.deliveries.length, 1);
      assert.equal(view.deliveries[0].outcome, 'RESERVED');
      assert.equal(view.deliveries[0].responseStatus, 200);
    }
  });

  it('answers recorded in one statement each reach their own payment, and a late one is marked late', async () => {
    const { beginDelivery, recordDelivery } = await import('../../src/store/attempts.ts');
    const database = server.services.database;
    const made = await Promise.all(Array.from({ length: 6 }, (_, i) => initOk(server.url, h, initBody(stub.url, { amount: 2000 + i }))));
    const now = new Date();
    const lease = new Date(now.getTime() + 60_000);
    const started: Array<{ paymentId: string; attemptId: number }> = [];
    for (const m of made) {
      const view = await adminPayment(server.url, m.id);
      const attemptId = await beginDelivery(database, {
        paymentId: view.paymentId, from: ['INITIATED'], phone: null, cardId: null, round: 1, lease, now, url: stub.url, requestBody: { test: true },
      });
      assert.ok(attemptId);
      started.push({ paymentId: view.paymentId, attemptId });
      assert.deepEqual(await operations(m.id), []);
    }
    // The last payment's lease ran out first: the sweeper resolved it, so its answer comes late.
    await database.query('test_fail_one', `update payments set state = 'FAILED' where payment_id = $1`, [started[5].paymentId]);
    const outcomes: Array<'RESERVED' | 'FAILED'> = ['RESERVED', 'FAILED', 'RESERVED', 'FAILED', 'RESERVED', 'RESERVED'];
    // Called in one turn of the event loop, so they are written together.
    const updated = await Promise.all(started.map((s, i) => recordDelivery(database, s.attemptId, {
      paymentId: s.paymentId, state: outcomes[i], expiresAt: null, errorId: outcomes[i] === 'FAILED' ? '93' : null,
      errorText: null, failureReason: outcomes[i] === 'FAILED' ? 'PSP_FAIL' : null, url3dSecure: null,
      responseStatus: 200, responseBody: `{"n":${i}}`, latencyMs: i, error: null, now: new Date(),
    })));
    assert.deepEqual(updated, [true, true, true, true, true, false]);
    for (const [i, m] of made.entries()) {
      const view = await adminPayment(server.url, m.id);
      const late = i === 5;
      assert.equal(view.state, late ? 'FAILED' : outcomes[i]);
      assert.equal(view.deliveries[0].outcome, late ? 'LATE (payment already resolved)' : outcomes[i]);
      assert.equal(view.deliveries[0].responseBody, `{"n":${i}}`);
      assert.deepEqual(await operations(m.id), late ? [] : [['RESERVED', 2000 + i, outcomes[i] === 'RESERVED']]);
      if (!late && outcomes[i] === 'FAILED') assert.equal(view.errorId, '93');
    }
  });

  it('a card that is not eligible shows at once', async () => {
    const { id, token } = await initOk(server.url, h, initBody(stub.url, { amount: 3100 }));
    assert.deepEqual(await operations(id), []);
    await forceApprove(server.url, h, id, token);
    assert.deepEqual(await operations(id), [['RESERVED', 3100, false]]);
  });

  it('a failed 3-D Secure shows at once', async () => {
    const body = initBody(stub.url, { amount: 4000 });
    const id = body.pspTransactionId as string;
    stub.on(id, { kind: 'soft-decline', url3dSecure: stub.threeDsUrl });
    const { token } = await initOk(server.url, h, body);
    await forceApprove(server.url, h, id, token);
    assert.deepEqual(await operations(id), [], 'waiting for 3-D Secure, nothing logged yet');
    const fail = stub.callsFor(id)[0].body.operations.find((o: { operation: string }) => o.operation === '3dsfailure').url as string;
    await call('', 'GET', fail);
    assert.deepEqual(await operations(id), [['RESERVED', 4000, false]]);
  });

  it('a batch run shows once its answer has returned, also while details are read all through it', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { id, token } = await initOk(server.url, h, initBody(stub.url, { amount: 100_000 }));
      await forceApprove(server.url, h, id, token);
      ids.push(id);
    }
    for (const id of ids) assert.equal((await details(server.url, h, id)).body.transactionSummary.capturedAmount, 0);
    const transactions = Array.from({ length: 5000 }, (_, i) => ({ pspTransactionId: ids[i % ids.length], status: 'CAPTURED', amount: 1 }));
    assert.equal((await call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', { headers: h, body: { transactions } })).status, 200);

    let reading = true;
    const readers = Array.from({ length: 4 }, async () => {
      while (reading) for (const id of ids) await details(server.url, h, id);
    });
    const run = await call(server.url, 'POST', '/admin/status-batch/run', { headers: adminHeaders() });
    assert.equal(run.status, 200);
    for (const id of ids) {
      const d = (await details(server.url, h, id)).body;
      assert.equal(d.transactionSummary.capturedAmount, 1000, `captured on ${id} right after the run answered`);
      assert.equal(d.transactionLogHistory.length, 1001);
    }
    reading = false;
    await Promise.all(readers);
  });
});
