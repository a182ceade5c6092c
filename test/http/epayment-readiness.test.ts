// The go-live report's ePayment checklist: every item unmet on a fresh PSP, each met by doing what it
// asks (with evidence linked to the console's ePayment pages), and a callback answered 500 held against
// the PSP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { adminHeaders, call, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { CardCallbackStub } from '../support/card-callback-stub.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { signedIn, textOf } from '../support/console.ts';

describe('go-live readiness: the ePayment checklist', () => {
  let server: TestServer;
  let stub: CardCallbackStub;
  let receiver: WebhookReceiver;
  let h: Record<string, string>;
  const system = { 'vipps-system-name': 'acme-psp', 'vipps-system-version': '2.1' };

  const report = async () => {
    const answer = await call(server.url, 'GET', `/admin/psps/${DEMO.psp.pspId}/readiness`, { headers: adminHeaders() });
    assert.equal(answer.status, 200, answer.text);
    return answer.body;
  };
  const item = (r: { epayment: { items: Array<{ id: string }> } }, id: string) => r.epayment.items.find((i) => i.id === id) as unknown as {
    met: boolean; summary: string; evidence: Array<{ label: string; consoleUrl: string | null }>; problems: Array<{ label: string; detail: string }>;
  };
  const post = (path: string, body?: unknown, key: string | null = randomUUID()) =>
    call(server.url, 'POST', path, { headers: { ...h, ...system, ...(key ? { 'idempotency-key': key } : {}) }, ...(body === undefined ? {} : { body }) });
  const create = async (pspReference: string, key = randomUUID()) => {
    const reference = `rd-${randomUUID().slice(0, 20)}`;
    const body = {
      amount: { currency: 'NOK', value: 10000 }, paymentMethod: { type: 'CARD_PASSTHROUGH' }, reference, userFlow: 'WEB_REDIRECT',
      returnUrl: 'https://shop.example/r', cardPassthrough: { pspReference, cardCallbackUrl: stub.url, allowedCardTypes: ['VISA_DEBIT'] },
    };
    const created = await post('/epayment/v1/payments', body, key);
    assert.equal(created.status, 201, created.text);
    return { reference, body, key };
  };
  const approve = (reference: string) => post(`/epayment/v1/test/payments/${reference}/approve`, { customer: { phoneNumber: DEMO.userPhone } }, null);
  const amount = (value: number) => ({ modificationAmount: { currency: 'NOK', value } });

  before(async () => {
    stub = await CardCallbackStub.start(DEMO.psp.clientSecret);
    receiver = await WebhookReceiver.start();
    server = await startTestServer({ CARD_CALLBACK_TIMEOUT_MS: '1000' });
    h = await pspHeaders(server.url);
  });
  after(async () => {
    await server?.close();
    await stub?.close();
    await receiver?.close();
  });

  it('starts with nothing met and says how to meet each item', async () => {
    const r = await report();
    assert.equal(r.epayment.met, 0);
    assert.equal(r.epayment.ready, false);
    assert.deepEqual(r.epayment.items.map((i: { id: string }) => i.id), [
      'epayment-reserved-captured', 'epayment-partial-capture', 'epayment-refund', 'epayment-cancel-before', 'epayment-cancel-after',
      'epayment-soft-decline', 'epayment-fail', 'epayment-callback-answers', 'epayment-webhooks', 'epayment-idempotent-retry', 'epayment-system-headers',
    ]);
    for (const i of r.epayment.items) assert.ok(i.how.length > 20, i.id);
    assert.match(r.markdown, /# The ePayment PSP API \(card passthrough\)\n\n0 of 11 items met\./);
  });

  it('meets every item by doing what it asks, with evidence linked to the payments', async () => {
    const registered = await call(server.url, 'POST', '/webhooks/v1/webhooks', { headers: h, body: { url: receiver.url, events: ['epayments.payment.captured.v1'] } });
    assert.equal(registered.status, 201);
    receiver.secret = registered.body.secret;

    const a = await create('rd-a');
    assert.equal((await post('/epayment/v1/payments', a.body, a.key)).status, 201, 'a retry with the same key');
    assert.equal((await approve(a.reference)).status, 200);
    assert.equal((await post(`/epayment/v1/payments/${a.reference}/capture`, amount(4000))).status, 200);
    assert.equal((await post(`/epayment/v1/payments/${a.reference}/capture`, amount(6000))).status, 200);
    assert.equal((await post(`/epayment/v1/payments/${a.reference}/refund`, amount(1000))).status, 200);

    const b = await create('rd-b');
    assert.equal((await approve(b.reference)).status, 200);
    assert.equal((await post(`/epayment/v1/payments/${b.reference}/cancel`)).status, 200);
    const c = await create('rd-c');
    assert.equal((await post(`/epayment/v1/payments/${c.reference}/cancel`)).status, 200);

    stub.on('rd-d', { kind: 'sequence', steps: [{ kind: 'soft-decline', softDeclineUrl: 'https://psp.example/3ds' }, { kind: 'reserve' }] });
    const d = await create('rd-d');
    assert.equal((await approve(d.reference)).status, 200);
    stub.on('rd-e', { kind: 'fail', errorCode: 300, errorMessage: 'Refused by Issuer' });
    const e = await create('rd-e');
    assert.equal((await approve(e.reference)).status, 400);
    await receiver.until(2);
    for (let i = 0; i < 40 && !item(await report(), 'epayment-webhooks').met; i++) await new Promise((r) => setTimeout(r, 50));

    const r = await report();
    const unmet = r.epayment.items.filter((i: { met: boolean }) => !i.met).map((i: { id: string; summary: string }) => `${i.id}: ${i.summary}`);
    assert.deepEqual(unmet, []);
    assert.equal(r.epayment.ready, true);
    assert.equal(item(r, 'epayment-reserved-captured').evidence[0].label, a.reference);
    assert.match(item(r, 'epayment-reserved-captured').evidence[0].consoleUrl ?? '', /^\/console\/epayments\/[0-9a-f-]{36}$/);
    assert.equal(item(r, 'epayment-cancel-after').evidence[0].label, b.reference);
    assert.equal(item(r, 'epayment-cancel-before').evidence[0].label, c.reference);
    assert.equal(item(r, 'epayment-soft-decline').evidence[0].label, d.reference);
    assert.equal(item(r, 'epayment-fail').evidence[0].label, e.reference);
    assert.equal(item(r, 'epayment-idempotent-retry').evidence[0].label, a.reference);
    assert.match(r.markdown, /- \[x\] A soft decline completed/);

    const browser = await signedIn(server.url);
    const page = textOf((await browser.get(`/console/readiness?pspId=${DEMO.psp.pspId}`)).html);
    assert.match(page, /The ePayment PSP API \(card passthrough\) 11 of 11 items met\./);
  });

  it('holds a card callback answered 500, and a create without the Vipps-System headers, against the PSP', async () => {
    stub.on('rd-f', { kind: 'status', status: 500 });
    const f = await create('rd-f');
    assert.equal((await approve(f.reference)).status, 400);
    const bare = `rd-${randomUUID().slice(0, 20)}`;
    const created = await call(server.url, 'POST', '/epayment/v1/payments', {
      headers: { ...h, 'idempotency-key': randomUUID() },
      body: { amount: { currency: 'NOK', value: 100 }, paymentMethod: { type: 'CARD_PASSTHROUGH' }, reference: bare, userFlow: 'WEB_REDIRECT', returnUrl: 'https://shop.example/r', cardPassthrough: { pspReference: 'x', cardCallbackUrl: stub.url, allowedCardTypes: ['VISA_DEBIT'] } },
    });
    assert.equal(created.status, 201);
    const r = await report();
    const answers = item(r, 'epayment-callback-answers');
    assert.equal(answers.met, false);
    assert.equal(answers.problems[0].label, f.reference);
    assert.match(answers.problems[0].detail, /HTTP 500/);
    const headers = item(r, 'epayment-system-headers');
    assert.equal(headers.met, false);
    assert.deepEqual(headers.problems.map((p) => p.label), [bare]);
  });
});

describe('the test-only operator actions on ePayment payments in production', () => {
  let production: TestServer;
  before(async () => { production = await startTestServer({ VIPPS_ENV: 'production' }); });
  after(async () => { await production?.close(); });

  it('refuses reject and expire with 403', async () => {
    for (const how of ['reject', 'expire']) {
      const answer = await call(production.url, 'POST', `/admin/epayments/123456/some-reference-1/${how}`, { headers: adminHeaders() });
      assert.equal(answer.status, 403, answer.text);
      assert.match(answer.body.detail, /test environment/);
    }
  });
});
