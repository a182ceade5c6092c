// Recurring across two server processes on one PostgreSQL database: both asked at the same moment to
// accept the same agreements send one sign-up callback per agreement; and when the clock passes the
// retry days of many unreported charges, both processes sweep, and each charge fails once (one FAIL
// in its history).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { persistentStorage, startChild, type Child, type Storage } from './support/child.ts';
import { adminHeaders, call, DEMO, pspHeaders } from './support/server.ts';
import { CardCallbackStub } from './support/card-callback-stub.ts';

const pg = process.env.DATABASE_URL ? describe : describe.skip;

pg('Recurring across two processes on one PostgreSQL', () => {
  let storage: Storage;
  let stub: CardCallbackStub;
  let a: Child;
  let b: Child;
  let h: Record<string, string>;
  const key = () => ({ 'idempotency-key': randomUUID().slice(0, 36) });

  before(async () => {
    storage = await persistentStorage();
    stub = await CardCallbackStub.start(DEMO.psp.clientSecret);
    stub.defaultBehaviour = { kind: 'slow', ms: 300, then: { kind: 'reserve' } };
    const shared = { ...storage.env, PUBLIC_URL: 'http://vipps-psp.test', SWEEP_INTERVAL_MS: '50' };
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

  const ids: string[] = [];

  it('sends one sign-up callback per agreement when both processes accept it at once', async () => {
    for (let i = 0; i < 6; i++) {
      const drafted = await call(a.url, 'POST', '/recurring/v3/agreements', {
        headers: { ...h, ...key() },
        body: {
          pricing: { type: 'VARIABLE', currency: 'NOK', suggestedMaxAmount: 100000 }, interval: { unit: 'MONTH', count: 1 },
          merchantRedirectUrl: 'https://shop.example/r', merchantAgreementUrl: 'https://shop.example/a', productName: `Two ${i}`,
          cardPassthrough: { pspReference: `two-${i}-${randomUUID().slice(0, 8)}`, cardCallbackUrl: stub.url, allowedCardTypes: ['VISA_DEBIT'] },
        },
      });
      assert.equal(drafted.status, 201, drafted.text);
      ids.push(drafted.body.agreementId);
    }
    const accept = (base: string, id: string) => call(base, 'PATCH', `/recurring/v3/agreements/${id}/accept`, { headers: { ...h, ...key() }, body: { phoneNumber: DEMO.userPhone } });
    const answers = await Promise.all(ids.flatMap((id) => [accept(a.url, id), accept(b.url, id)]));
    for (let i = 0; i < ids.length; i++) {
      const pair = [answers[2 * i], answers[2 * i + 1]];
      const view = await call(b.url, 'GET', `/admin/agreements/${ids[i]}`, { headers: adminHeaders() });
      assert.equal(view.body.cardCallbacks.length, 1, `one callback for ${ids[i]}: ${pair.map((x) => `${x.status} ${x.text}`).join(' | ')}`);
      assert.equal(view.body.agreement.status, 'ACTIVE');
      assert.ok(pair.some((x) => x.status === 204), pair.map((x) => x.text).join(' | '));
      for (const other of pair.filter((x) => x.status !== 204)) assert.equal(other.status, 409, other.text);
    }
  });

  it('fails each unreported charge once when its retry days are over, with both processes sweeping', async () => {
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Oslo' }).format(new Date((await call(a.url, 'GET', '/admin/clock', { headers: adminHeaders() })).body.now));
    const charges = ids.flatMap((agreementId, i) => Array.from({ length: 8 }, (_, j) => ({
      agreementId, chargeId: `t-${i}-${j}-${randomUUID().slice(0, 6)}`, type: 'RECURRING', amount: 1000 + j, transactionType: 'DIRECT_CAPTURE', due: today, retryDays: 1,
    })));
    for (let i = 0; i < charges.length; i += 50) {
      const batch = await call(i % 100 === 0 ? a.url : b.url, 'POST', '/recurring/v4/agreements/charges', { headers: { ...h, ...key() }, body: charges.slice(i, i + 50) });
      assert.equal(batch.body.successfulCharges.length, Math.min(50, charges.length - i), batch.text);
    }
    const advanced = await call(a.url, 'POST', '/admin/clock/advance', { headers: adminHeaders(), body: { seconds: 3 * 24 * 3600 } });
    assert.equal(advanced.status, 200, advanced.text);
    // Process b follows the moved clock within about a second; its tokens before that are outdated after.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await call(b.url, 'GET', '/admin/clock', { headers: adminHeaders() })).body.offsetSeconds < 3 * 24 * 3600) {
      await new Promise((r) => setTimeout(r, 100));
    }
    let hb = await pspHeaders(b.url);
    let failed: Array<{ id: string; status: string; history: Array<{ event: string }> }> = [];
    while (Date.now() < deadline) {
      failed = [];
      for (const id of ids) {
        const listed = await call(b.url, 'GET', `/recurring/v3/agreements/${id}/charges?status=FAILED`, { headers: hb });
        if (listed.status === 401) hb = await pspHeaders(b.url);
        if (listed.status === 200) failed.push(...listed.body);
      }
      if (failed.length === charges.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(failed.length, charges.length, 'every charge failed');
    for (const c of failed) assert.deepEqual(c.history.map((e) => e.event), ['CREATE', 'FAIL'], c.id);
  });
});
