// Exactly one card callback per attempt across processes: two server processes on one PostgreSQL
// database, each asked at the same moment to approve the same ePayment payments (force approve, as an
// app would confirm on two devices at once). The PSP's endpoint is slow, so both requests overlap the
// whole callback; one callback goes out per payment, and the other request is told the payment is
// being authorised.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { persistentStorage, startChild, type Child, type Storage } from './support/child.ts';
import { call, DEMO, pspHeaders } from './support/server.ts';
import { CardCallbackStub } from './support/card-callback-stub.ts';

const pg = process.env.DATABASE_URL ? describe : describe.skip;

pg('ePayment card callbacks across two processes on one PostgreSQL', () => {
  let storage: Storage;
  let stub: CardCallbackStub;
  let a: Child;
  let b: Child;
  let h: Record<string, string>;

  before(async () => {
    storage = await persistentStorage();
    stub = await CardCallbackStub.start(DEMO.psp.clientSecret);
    stub.defaultBehaviour = { kind: 'slow', ms: 300, then: { kind: 'reserve' } };
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

  it('sends one callback per payment when both processes approve it at once', async () => {
    const refs = Array.from({ length: 10 }, () => `two-${randomUUID().slice(0, 18)}`);
    for (const ref of refs) {
      const created = await call(a.url, 'POST', '/epayment/v1/payments', {
        headers: { ...h, 'idempotency-key': ref },
        body: {
          amount: { currency: 'NOK', value: 1000 }, paymentMethod: { type: 'CARD_PASSTHROUGH' }, reference: ref, userFlow: 'WEB_REDIRECT',
          returnUrl: 'https://shop.example/return',
          cardPassthrough: { pspReference: `psp-${ref}`, cardCallbackUrl: stub.url, allowedCardTypes: ['VISA_DEBIT'] },
        },
      });
      assert.equal(created.status, 201, created.text);
    }
    const approve = (base: string, ref: string) => call(base, 'POST', `/epayment/v1/test/payments/${ref}/approve`, {
      headers: h, body: { customer: { phoneNumber: DEMO.userPhone } },
    });
    const answers = await Promise.all(refs.flatMap((ref) => [approve(a.url, ref), approve(b.url, ref)]));
    for (let i = 0; i < refs.length; i++) {
      const pair = [answers[2 * i], answers[2 * i + 1]];
      const ok = pair.filter((x) => x.status === 200);
      assert.equal(ok.length, 1, `exactly one approval of ${refs[i]} went through: ${pair.map((x) => `${x.status} ${x.text}`).join(' | ')}`);
      const other = pair.find((x) => x.status !== 200)!;
      const code = other.body.extraDetails?.find((d: { name: string }) => d.name === 'ErrorCode')?.reason;
      assert.ok(code === '6160' || code === '10020', `the other request is told the payment is being (or was) authorised: ${other.text}\n${a.output()}${b.output()}`);
      assert.equal(stub.callsFor(`psp-${refs[i]}`).length, 1, `one callback for ${refs[i]}`);
      const got = await call(b.url, 'GET', `/epayment/v1/payments/${refs[i]}`, { headers: h });
      assert.equal(got.body.state, 'AUTHORIZED');
      const events = await call(a.url, 'GET', `/epayment/v1/payments/${refs[i]}/events`, { headers: h });
      assert.deepEqual(events.body.map((e: { name: string }) => e.name), ['CREATED', 'AUTHORIZED']);
    }
  });
});
