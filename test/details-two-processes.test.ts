// Details are never older than a change whose answer has returned, in any process: two server
// processes on one PostgreSQL database, a change made through one and details read through the other
// at once (and read there first, so anything one of them keeps in memory is warm).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { persistentStorage, startChild, type Child, type Storage } from './support/child.ts';
import { adminHeaders, call, pspHeaders } from './support/server.ts';
import { PspStub } from './support/psp-stub.ts';
import { details, forceApprove, initBody, initOk } from './support/payments.ts';

const pg = process.env.DATABASE_URL ? describe : describe.skip;

pg('details across two processes on one PostgreSQL', () => {
  let storage: Storage;
  let stub: PspStub;
  let a: Child;
  let b: Child;
  let h: Record<string, string>;

  before(async () => {
    storage = await persistentStorage();
    stub = await PspStub.start();
    // Processes behind one address share PUBLIC_URL (the issuer of the access tokens they accept).
    const shared = { ...storage.env, PUBLIC_URL: 'http://vipps-psp.test' };
    a = await startChild(shared);
    b = await startChild(shared);
    h = await pspHeaders(a.url);
  });
  after(async () => {
    for (const child of [a, b]) {
      if (child && child.process.exitCode === null) {
        child.kill('SIGTERM');
        await child.exited;
      }
    }
    await stub?.close();
    await storage?.drop();
  });

  const operations = async (base: string, id: string) =>
    ((await details(base, h, id)).body.transactionLogHistory as Array<{ operation: string; amount: number; operationSuccess: boolean }>)
      .map((e) => [e.operation, e.amount, e.operationSuccess]);

  it('an approval answered by one process shows at once in details from the other', async () => {
    const made = await Promise.all(Array.from({ length: 20 }, (_, i) => initOk(a.url, h, initBody(stub.url, { amount: 3000 + i }))));
    // Warm both processes on the payment's empty history.
    for (const m of made) {
      assert.deepEqual(await operations(b.url, m.id), []);
      assert.deepEqual(await operations(a.url, m.id), []);
    }
    await Promise.all(made.map(async (m, i) => {
      const answer = await forceApprove(a.url, h, m.id, m.token);
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(await operations(b.url, m.id), [['RESERVED', 3000 + i, true]]);
    }));
  });

  it('a batch run answered by one process shows at once in details from the other', async () => {
    const made = await Promise.all(Array.from({ length: 10 }, () => initOk(b.url, h, initBody(stub.url, { amount: 10_000 }))));
    for (const m of made) assert.equal((await forceApprove(b.url, h, m.id, m.token)).status, 200);
    for (const m of made) assert.deepEqual(await operations(b.url, m.id), [['RESERVED', 10_000, true]]);

    const stored = await call(a.url, 'POST', '/psp/v3/psppayments/updatestatus', {
      headers: h,
      body: { transactions: made.map((m) => ({ pspTransactionId: m.id, status: 'CAPTURED', amount: 4000, currency: 'NOK', operationStatus: 'SUCCESS' })) },
    });
    assert.equal(stored.status, 200, stored.text);
    // Stored, not applied: both processes still show the reservation only.
    for (const m of made) assert.deepEqual(await operations(b.url, m.id), [['RESERVED', 10_000, true]]);

    // Reads through b run while a applies the batch; once a's answer returns, every read through b has it.
    let reading = true;
    const background = (async () => {
      while (reading) await Promise.all(made.map((m) => details(b.url, h, m.id)));
    })();
    const run = await call(a.url, 'POST', '/admin/status-batch/run', { headers: adminHeaders() });
    assert.equal(run.status, 200, run.text);
    for (const m of made) {
      assert.deepEqual(await operations(b.url, m.id), [['RESERVED', 10_000, true], ['CAPTURED', 4000, true]]);
    }
    reading = false;
    await background;
    const summary = (await details(b.url, h, made[0].id)).body.transactionSummary;
    assert.equal(summary.capturedAmount, 4000);
    assert.equal(summary.remainingAmountToCapture, 6000);
  });
});
