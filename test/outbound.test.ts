// Outbound makePayments: every attempt is recorded before it is sent (a kill -9 mid-call leaves an
// ABANDONED record, never a gap, and nothing is sent twice), and one PSP's hanging endpoint does not
// delay another PSP's TIMEOUT notifications.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, createPsp, DEMO, merchantBody, pspHeaders, startTestServer, type PspClient } from './support/server.ts';
import { PspStub } from './support/psp-stub.ts';
import { adminPayment, eventually, forceApprove, initBody, initOk, uniqueId } from './support/payments.ts';
import { persistentStorage, startChild } from './support/child.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

describe('write-ahead attempt records', () => {
  it('a kill -9 while makePayments are in flight leaves ABANDONED attempts, and nothing is sent again', async () => {
    const storage = await persistentStorage();
    cleanups.push(() => storage.drop());
    const stub = await PspStub.start();
    cleanups.push(() => stub.close());
    const env = { ...storage.env, MAKE_PAYMENT_TIMEOUT_MS: '2000', SWEEP_INTERVAL_MS: '100', LANDING_TIMEOUT_SECONDS: '1' };
    let server = await startChild(env);
    cleanups.push(async () => { server.kill('SIGKILL'); await server.exited; });

    const h = await pspHeaders(server.url);
    // One payment is approved and its token delivery hangs; the other expires and its TIMEOUT hangs.
    const approved = initBody(stub.url);
    const expiring = initBody(stub.url);
    stub.on(approved.pspTransactionId as string, { kind: 'hang' });
    stub.on(expiring.pspTransactionId as string, { kind: 'hang', notifications: true });
    const e = await initOk(server.url, h, expiring);
    await stub.waitForCalls(e.id, 1, 8000);
    assert.equal(stub.callsFor(e.id)[0].body.paymentState, 'TIMEOUT');
    // Approved within its landing deadline, so init it only now.
    const a = await initOk(server.url, h, approved);
    void forceApprove(server.url, h, a.id, a.token).catch(() => {});
    await stub.waitForCalls(a.id, 1, 5000);
    server.kill('SIGKILL');
    await server.exited;

    server = await startChild(env, server.port);
    const first = await adminPayment(server.url, a.id);
    assert.equal(first.deliveries.length, 1, 'the ACCEPTED attempt was recorded before it was sent');
    assert.equal(first.deliveries[0].paymentState, 'ACCEPTED');
    assert.ok(['IN_FLIGHT', 'ABANDONED'].includes(first.deliveries[0].outcome), first.deliveries[0].outcome);
    assert.ok(first.deliveries[0].sentAt, 'sentAt');
    assert.match(first.deliveries[0].request.networkToken.number, /\*/, 'the recorded token number is masked');

    const abandoned = await eventually(() => adminPayment(server.url, a.id), (v) => v.deliveries[0].outcome === 'ABANDONED', 15_000);
    assert.equal(abandoned.deliveries[0].outcome, 'ABANDONED');
    assert.ok(abandoned.deliveries[0].completedAt, 'when it was found abandoned');
    assert.equal(abandoned.state, 'FAILED');

    const timedOut = await eventually(() => adminPayment(server.url, e.id), (v) => v.deliveries[0]?.outcome === 'ABANDONED', 15_000);
    assert.equal(timedOut.state, 'TIMEOUT');
    assert.equal(timedOut.deliveries.length, 1);
    assert.equal(timedOut.deliveries[0].paymentState, 'TIMEOUT');
    assert.equal(timedOut.deliveries[0].outcome, 'ABANDONED');
    assert.ok(timedOut.deliveries[0].completedAt);

    await new Promise((r) => setTimeout(r, 500));
    assert.equal(stub.callsFor(a.id).length, 1, 'the token is never delivered twice');
    assert.equal(stub.callsFor(e.id).length, 1, 'exactly one TIMEOUT makePayment');
    server.kill('SIGTERM');
    await server.exited;
  });

  it('SIGTERM while a notification is in flight waits for its answer and records it before exiting', async () => {
    const storage = await persistentStorage();
    cleanups.push(() => storage.drop());
    const stub = await PspStub.start();
    cleanups.push(() => stub.close());
    const env = { ...storage.env, MAKE_PAYMENT_TIMEOUT_MS: '1500', SWEEP_INTERVAL_MS: '100', LANDING_TIMEOUT_SECONDS: '1' };
    let server = await startChild(env);
    cleanups.push(async () => { server.kill('SIGKILL'); await server.exited; });
    const h = await pspHeaders(server.url);
    const body = initBody(stub.url);
    stub.on(body.pspTransactionId as string, { kind: 'hang', notifications: true });
    const { id } = await initOk(server.url, h, body);
    await stub.waitForCalls(id, 1, 8000);
    server.kill('SIGTERM');
    assert.equal(await server.exited, 0);

    server = await startChild(env, server.port);
    const view = await adminPayment(server.url, id);
    assert.equal(view.deliveries.length, 1);
    assert.equal(view.deliveries[0].outcome, 'NOT_DELIVERED', 'the call ended (no answer in time) and was recorded before the exit');
    assert.match(view.deliveries[0].error, /no answer within 1500 ms/);
    server.kill('SIGTERM');
    await server.exited;
  });

  it('a TIMEOUT notification is recorded as sent and answered: exactly one per payment', async () => {
    const stub = await PspStub.start();
    const server = await startTestServer({ LANDING_TIMEOUT_SECONDS: '1', SWEEP_INTERVAL_MS: '100' });
    try {
      const h = await pspHeaders(server.url);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await initOk(server.url, h, initBody(stub.url))).id);
      for (const id of ids) {
        const view = await eventually(() => adminPayment(server.url, id), (v) => v.deliveries[0]?.outcome === 'NOTIFIED');
        assert.equal(view.state, 'TIMEOUT');
        assert.equal(view.deliveries.length, 1, `one attempt for ${id}`);
        const [attempt] = view.deliveries;
        assert.equal(attempt.paymentState, 'TIMEOUT');
        assert.equal(attempt.outcome, 'NOTIFIED');
        assert.equal(attempt.responseStatus, 200);
        assert.deepEqual(attempt.request, { pspTransactionId: id, merchantSerialNumber: DEMO.msn, paymentState: 'TIMEOUT' });
        assert.ok(Date.parse(attempt.completedAt) >= Date.parse(attempt.sentAt));
      }
      await new Promise((r) => setTimeout(r, 400));
      for (const id of ids) assert.equal(stub.callsFor(id).length, 1, `exactly one TIMEOUT makePayment for ${id}`);
    } finally {
      await server.close();
      await stub.close();
    }
  });
});

/** A second PSP with a merchant of its own, made through the operator and Signup APIs. */
async function otherPsp(base: string): Promise<{ client: PspClient; msn: string }> {
  const client = await createPsp(base, 'Hanging PSP');
  const merchant = await call(base, 'POST', '/merchant-management/psp/v1/merchants', {
    headers: { ...(await pspHeaders(base, client, undefined)), 'Idempotency-Key': uniqueId('k') },
    body: merchantBody({ organizationNumber: '222222222', name: 'Hanging Shop' }),
  });
  assert.equal(merchant.status, 200, merchant.text);
  return { client, msn: merchant.body.merchantSerialNumber as string };
}

describe('tenants do not wait for each other', () => {
  // TENANT_HANGING_PAYMENTS=1000 measures the figure of the README; the suite uses fewer.
  const hanging = Number(process.env.TENANT_HANGING_PAYMENTS ?? 120);

  it("one PSP's hanging endpoint does not delay another PSP's TIMEOUT notifications", async (t) => {
    const stubA = await PspStub.start();
    const stubB = await PspStub.start();
    stubB.defaultBehaviour = { kind: 'hang', notifications: true };
    const server = await startTestServer({
      LANDING_TIMEOUT_SECONDS: '3', SWEEP_INTERVAL_MS: '100', MAKE_PAYMENT_TIMEOUT_MS: '30000', MAKE_PAYMENT_CONCURRENCY_PER_PSP: '4',
    });
    try {
      const hA = await pspHeaders(server.url);
      const b = await otherPsp(server.url);
      const hB = await pspHeaders(server.url, b.client, b.msn);
      // B's payments are due first, so every sweep meets them before A's.
      const bIds: string[] = [];
      for (let i = 0; i < hanging; i += 50) {
        const batch = await Promise.all(Array.from({ length: Math.min(50, hanging - i) }, () => initOk(server.url, hB, initBody(stubB.url))));
        bIds.push(...batch.map((x) => x.id));
      }
      const aIds: string[] = [];
      for (let i = 0; i < 5; i++) aIds.push((await initOk(server.url, hA, initBody(stubA.url))).id);

      const delays: number[] = [];
      for (const id of aIds) {
        const [timeout] = await stubA.waitForCalls(id, 1, 15_000);
        assert.equal(timeout.body.paymentState, 'TIMEOUT');
        const view = await adminPayment(server.url, id);
        delays.push(timeout.at - Date.parse(view.expiresAt));
      }
      const worst = Math.max(...delays);
      t.diagnostic(`${hanging} payments of a hanging PSP expiring; the other PSP's TIMEOUTs arrived at most ${worst} ms after their deadline`);
      assert.ok(worst < 2000, `another PSP's TIMEOUT came ${worst} ms after its deadline`);

      // B's notifications wait their turn: at most its own slots are in flight, the rest are recorded as pending.
      await eventually(async () => stubB.calls.length, (n) => n >= 4, 5000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(stubB.calls.length, 4, 'at most MAKE_PAYMENT_CONCURRENCY_PER_PSP calls in flight to one PSP');
      const waiting = await adminPayment(server.url, bIds[bIds.length - 1], b.client.pspId);
      assert.equal(waiting.state, 'TIMEOUT');
      assert.equal(waiting.deliveries.length, 1);
      assert.equal(waiting.deliveries[0].outcome, 'PENDING');
    } finally {
      await stubB.close();
      await server.close();
      await stubA.close();
    }
  });
});

