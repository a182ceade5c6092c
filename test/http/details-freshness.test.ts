// Details are never older than a change whose answer has returned: read a payment's details, change
// its log in each way the server can, and read again (on the embedded database the first read fills
// the details read model; on PostgreSQL every read goes to the database).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminHeaders, call, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { details, forceApprove, initBody, initOk } from '../support/payments.ts';

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
