// The Webhooks API: registrations (POST, GET, DELETE /webhooks/v1/webhooks) and the deliveries of
// every ePayment event, signed with the registration's secret, retried on the shared clock, and not
// held up by another registration's dead receiver.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { adminHeaders, call, createPsp, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { CardCallbackStub } from '../support/card-callback-stub.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { ConsoleBrowser, signedIn, textOf } from '../support/console.ts';
import { dereference } from '../support/openapi.ts';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { createConfig, lintFromString } from '@redocly/openapi-core';

const ALL = [
  'epayments.payment.created.v1', 'epayments.payment.aborted.v1', 'epayments.payment.expired.v1', 'epayments.payment.cancelled.v1',
  'epayments.payment.captured.v1', 'epayments.payment.refunded.v1', 'epayments.payment.authorized.v1', 'epayments.payment.terminated.v1',
];

describe('Webhooks API', () => {
  let server: TestServer;
  let stub: CardCallbackStub;
  let h: Record<string, string>;
  let pspWide: Record<string, string>;

  const register = (body: unknown, headers = h) => call(server.url, 'POST', '/webhooks/v1/webhooks', { headers, body });
  const list = (headers = h) => call(server.url, 'GET', '/webhooks/v1/webhooks', { headers });
  const remove = (id: string, headers = h) => call(server.url, 'DELETE', `/webhooks/v1/webhooks/${id}`, { headers });

  async function receiverFor(events: string[], headers = h): Promise<WebhookReceiver & { id: string }> {
    const receiver = await WebhookReceiver.start();
    const answer = await register({ url: receiver.url, events }, headers);
    if (answer.status !== 201) {
      await receiver.close();
      assert.fail(`registration failed: ${answer.status} ${answer.text}`);
    }
    receiver.secret = answer.body.secret;
    return Object.assign(receiver, { id: answer.body.id as string });
  }

  function createBody(overrides: Record<string, unknown> = {}) {
    const reference = `wh-${randomUUID().slice(0, 20)}`;
    return {
      amount: { currency: 'NOK', value: 10000 }, paymentMethod: { type: 'CARD_PASSTHROUGH' },
      cardPassthrough: { pspReference: `psp-${reference}`, cardCallbackUrl: stub.url, allowedCardTypes: ['VISA_DEBIT'] },
      reference, userFlow: 'WEB_REDIRECT', returnUrl: 'https://shop.example/return', paymentDescription: 'Webhooks', ...overrides,
    };
  }
  const post = (path: string, body?: unknown, key: string | null = randomUUID()) =>
    call(server.url, 'POST', path, { headers: { ...h, ...(key ? { 'idempotency-key': key } : {}) }, ...(body === undefined ? {} : { body }) });
  async function create(overrides: Record<string, unknown> = {}) {
    const body = createBody(overrides);
    const created = await post('/epayment/v1/payments', body);
    assert.equal(created.status, 201, created.text);
    return { reference: body.reference, redirectUrl: created.body.redirectUrl as string };
  }
  const approve = (reference: string) => post(`/epayment/v1/test/payments/${reference}/approve`, { customer: { phoneNumber: DEMO.userPhone } }, null);
  const amount = (value: number) => ({ modificationAmount: { currency: 'NOK', value } });

  before(async () => {
    stub = await CardCallbackStub.start(DEMO.psp.clientSecret);
    server = await startTestServer();
    h = await pspHeaders(server.url);
    const { 'merchant-serial-number': _msn, ...rest } = h;
    pspWide = rest;
  });
  after(async () => {
    await server?.close();
    await stub?.close();
  });

  it('registers a webhook (201 with id and secret), lists it in its scope, and deletes it (204, then 404)', async () => {
    const created = await register({ url: 'https://psp.example/hooks?shop=1', events: ['epayments.payment.captured.v1', 'epayments.payment.refunded.v1'] });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(Object.keys(created.body).sort(), ['id', 'secret']);
    assert.match(created.body.id, /^[0-9a-f-]{36}$/);
    assert.equal(created.body.secret.length, 88);
    const listed = await list();
    assert.equal(listed.status, 200);
    const mine = listed.body.webhooks.find((w: { id: string }) => w.id === created.body.id);
    assert.deepEqual(mine, { id: created.body.id, url: 'https://psp.example/hooks?shop=1', events: ['epayments.payment.captured.v1', 'epayments.payment.refunded.v1'] });
    // Without Merchant-Serial-Number: the PSP's own registrations, a separate list.
    assert.ok(!(await list(pspWide)).body.webhooks.some((w: { id: string }) => w.id === created.body.id));
    assert.equal((await remove(created.body.id, pspWide)).status, 404, 'a sales unit\'s registration is deleted with its MSN');
    assert.equal((await remove(created.body.id)).status, 204);
    const again = await remove(created.body.id);
    assert.equal(again.status, 404);
    assert.match(again.headers.get('content-type') ?? '', /^application\/problem\+json/);
  });

  it('serves the Webhooks document: the published one, pointing at this server, valid OpenAPI, describing its answers', async () => {
    const answer = await fetch(`${server.url}/openapi/webhooks.yaml`);
    assert.equal(answer.status, 200);
    const text = await answer.text();
    const config = await createConfig({ rules: { struct: 'error', 'no-unresolved-refs': 'error', 'security-defined': 'error', 'path-parameters-defined': 'error' } });
    const problems = (await lintFromString({ source: text, absoluteRef: '/webhooks.yaml', config })).filter((p) => p.severity === 'error');
    assert.deepEqual(problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`), []);
    const doc = parse(text);
    assert.deepEqual(doc.servers.map((x: { url: string }) => x.url), [`${server.services.config.publicUrl}/webhooks`]);
    assert.ok(doc.paths['/v1/webhooks'].post.parameters.some((p: { name: string }) => p.name === 'Psp-Id'));
    const ajv = new Ajv({ strict: false });
    addFormats.default(ajv);
    const created = await register({ url: 'https://psp.example/doc', events: ['epayments.payment.created.v1'] });
    const schema = dereference(doc.paths['/v1/webhooks'].post.responses['201'].content['application/json'].schema, doc) as object;
    const id: string = created.body.id;
    assert.ok(ajv.validate(schema, created.body as unknown), ajv.errorsText());
    const listed = await list();
    const listSchema = dereference(doc.paths['/v1/webhooks'].get.responses['200'].content['application/json'].schema, doc) as object;
    assert.ok(ajv.validate(listSchema, listed.body as unknown), ajv.errorsText());
    assert.equal((await remove(id)).status, 204);
  });

  it('answers bad registrations with 400 problems naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ events: ['epayments.payment.captured.v1'] }, 'url'],
      [{ url: 'ftp://psp.example/x', events: ['epayments.payment.captured.v1'] }, 'url'],
      [{ url: 'https://psp.example/x' }, 'events'],
      [{ url: 'https://psp.example/x', events: [] }, 'events'],
      [{ url: 'https://psp.example/x', events: ['epayments.payment.shipped.v1'] }, 'events[0]'],
      [{ url: 'https://psp.example/x', events: ['epayments.payment.captured.v1'], secret: 'x' }, 'secret'],
      [[1, 2], 'body'],
    ];
    for (const [body, field] of cases) {
      const answer = await register(body);
      assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
      assert.equal(answer.body.status, 400);
      assert.equal(answer.body.instance, '/v1/webhooks');
      assert.match(answer.body.traceId, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      assert.ok(answer.body.extraDetails.some((d: { name: string }) => d.name === field), `${field} named: ${answer.text}`);
    }
    assert.equal((await remove('not-a-guid')).status, 400);
    // The PSP's headers as for ePayment: a wrong Psp-Id, another PSP's MSN.
    assert.equal((await register({ url: 'https://psp.example/x', events: ALL }, { ...h, 'psp-id': 'F00' })).status, 403);
  });

  it('keeps at most 25 registrations per event type in a scope', async () => {
    const other = await createPsp(server.url, 'Limit PSP');
    const token = await call(server.url, 'POST', '/accesstoken/get', { headers: { client_id: other.clientId, client_secret: other.clientSecret, 'ocp-apim-subscription-key': other.subscriptionKey } });
    const headers = { authorization: `Bearer ${token.body.access_token}`, 'ocp-apim-subscription-key': other.subscriptionKey, 'psp-id': other.pspId };
    for (let i = 0; i < 25; i++) assert.equal((await register({ url: `https://psp.example/${i}`, events: ['epayments.payment.captured.v1'] }, headers)).status, 201);
    const refused = await register({ url: 'https://psp.example/26', events: ['epayments.payment.refunded.v1', 'epayments.payment.captured.v1'] }, headers);
    assert.equal(refused.status, 400, refused.text);
    assert.match(refused.body.detail, /at most 25/);
    assert.equal((await register({ url: 'https://psp.example/26', events: ['epayments.payment.refunded.v1'] }, headers)).status, 201);
  });

  it('delivers every ePayment event once, signed with the registration\'s secret, in order, with the published payload', async () => {
    const receiver = await receiverFor(ALL);
    const wide = await receiverFor(['epayments.payment.captured.v1'], pspWide);
    const elsewhere = await receiverFor(ALL, { ...h, 'merchant-serial-number': DEMO.secondMsn });
    try {
      // CREATED, AUTHORIZED, CAPTURED, REFUNDED, CANCELLED
      const a = await create();
      assert.equal((await approve(a.reference)).status, 200);
      assert.equal((await post(`/epayment/v1/payments/${a.reference}/capture`, amount(6000))).status, 200);
      assert.equal((await post(`/epayment/v1/payments/${a.reference}/refund`, amount(1000))).status, 200);
      assert.equal((await post(`/epayment/v1/payments/${a.reference}/cancel`)).status, 200);
      // TERMINATED: cancelled before authorisation.
      const b = await create();
      assert.equal((await post(`/epayment/v1/payments/${b.reference}/cancel`)).status, 200);
      // ABORTED: the user cancels on the landing page.
      const c = await create();
      const browser = new ConsoleBrowser(server.url);
      const landing = await browser.get(new URL(c.redirectUrl).pathname + new URL(c.redirectUrl).search);
      assert.equal(landing.status, 200);
      const token = new URL(c.redirectUrl).searchParams.get('token')!;
      assert.equal((await browser.post('/landing/cancel', { token })).status, 303);
      // EXPIRED: 10 minutes later on the shared clock.
      const d = await create();
      assert.equal((await call(server.url, 'POST', '/admin/clock/advance', { headers: adminHeaders(), body: { seconds: 660 } })).status, 200);

      // Every event, the EXPIRED one included.
      const expected = 5 + 2 + 2 + 2;
      const got = await receiver.until(expected);
      assert.equal(got.length, expected, JSON.stringify(got.map((r) => r.body?.name)));
      for (const r of got) {
        assert.equal(r.signatureProblem, undefined, 'the signature verifies with the registration\'s secret');
        assert.equal(r.path, '/webhooks/vipps');
        assert.match(String(r.headers.authorization), /^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=/);
        assert.match(String(r.headers['content-type']), /^application\/json/);
      }
      const names = (reference: string) => got.filter((r) => r.body.reference === reference).map((r) => r.body.name);
      assert.deepEqual(names(a.reference), ['CREATED', 'AUTHORIZED', 'CAPTURED', 'REFUNDED', 'CANCELLED']);
      assert.deepEqual(names(b.reference), ['CREATED', 'TERMINATED']);
      assert.deepEqual(names(c.reference), ['CREATED', 'ABORTED']);
      assert.deepEqual(names(d.reference), ['CREATED', 'EXPIRED']);

      const captured = got.find((r) => r.body.reference === a.reference && r.body.name === 'CAPTURED')!.body;
      assert.deepEqual(Object.keys(captured).sort(), ['amount', 'idempotencyKey', 'msn', 'name', 'pspReference', 'reference', 'success', 'timestamp']);
      assert.equal(captured.msn, DEMO.msn);
      assert.deepEqual(captured.amount, { currency: 'NOK', value: 6000 });
      assert.equal(captured.success, true);
      assert.match(captured.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      const events = await call(server.url, 'GET', `/epayment/v1/payments/${a.reference}/events`, { headers: h });
      const capturedEvent = events.body.find((e: { name: string }) => e.name === 'CAPTURED');
      assert.equal(captured.pspReference, capturedEvent.pspReference, 'the event\'s own pspReference');
      assert.equal(captured.idempotencyKey, capturedEvent.idempotencyKey);

      // The PSP's own registration gets the captures of all its sales units; another sales unit's, none of these.
      await wide.until(1);
      assert.deepEqual(wide.received.map((r) => [r.body.reference, r.body.name]), [[a.reference, 'CAPTURED']]);
      assert.equal(wide.received[0].signatureProblem, undefined);
      assert.equal(elsewhere.received.length, 0);
      // Nothing more comes: each once.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(receiver.received.length, expected);
    } finally {
      for (const r of [receiver, wide, elsewhere]) { await remove(r.id, r === wide ? pspWide : r === elsewhere ? { ...h, 'merchant-serial-number': DEMO.secondMsn } : h); await r.close(); }
    }
  });

  it('tries a failed delivery again on the published schedule, on the shared clock', async () => {
    const receiver = await receiverFor(['epayments.payment.created.v1']);
    receiver.script.push(500, 503);
    try {
      const p = await create();
      await receiver.until(1);
      assert.equal(receiver.received.length, 1);
      // The second attempt is due 2 s later: advancing the clock makes it due at once.
      await call(server.url, 'POST', '/admin/clock/advance', { headers: adminHeaders(), body: { seconds: 3 } });
      await receiver.until(2);
      await call(server.url, 'POST', '/admin/clock/advance', { headers: adminHeaders(), body: { seconds: 3 } });
      await receiver.until(3);
      assert.deepEqual(receiver.received.map((r) => r.body.reference), [p.reference, p.reference, p.reference]);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(receiver.received.length, 3, 'answered 200 the third time: no more');
    } finally {
      await remove(receiver.id);
      await receiver.close();
    }
  });

  it('shows the operator each registration\'s deliveries and the payment\'s, and a re-send arrives again', async () => {
    const receiver = await receiverFor(['epayments.payment.created.v1', 'epayments.payment.authorized.v1']);
    receiver.script.push(500);
    try {
      const p = await create();
      assert.equal((await approve(p.reference)).status, 200);
      // CREATED failed once: AUTHORIZED waits behind it (order per payment), until the retry.
      await receiver.until(1);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(receiver.received.length, 1, 'AUTHORIZED waits while CREATED is not delivered');
      await call(server.url, 'POST', '/admin/clock/advance', { headers: adminHeaders(), body: { seconds: 3 } });
      await receiver.until(3);
      assert.deepEqual(receiver.received.map((r) => r.body.name), ['CREATED', 'CREATED', 'AUTHORIZED']);

      const admin = (method: string, path: string) => call(server.url, method, path, { headers: adminHeaders() });
      // The receiver has answered; its answer is recorded a moment later.
      let mine: { merchantSerialNumber: string; delivered: number } | undefined;
      for (let i = 0; i < 50 && mine?.delivered !== 2; i++) {
        const regs = await admin('GET', `/admin/webhooks?psp=${DEMO.psp.pspId}`);
        assert.equal(regs.status, 200, regs.text);
        mine = regs.body.webhooks.find((w: { id: string }) => w.id === receiver.id);
        if (mine?.delivered !== 2) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(mine);
      assert.equal(mine.merchantSerialNumber, DEMO.msn);
      assert.equal(mine.delivered, 2);
      const page = await admin('GET', `/admin/webhooks/${receiver.id}/deliveries`);
      assert.equal(page.status, 200, page.text);
      const [authorized, created] = page.body.deliveries;
      assert.equal(created.eventType, 'epayments.payment.created.v1');
      assert.equal(created.status, 'DELIVERED');
      assert.equal(created.attempts, 2);
      assert.equal(created.responseStatus, 200);
      assert.match(created.requestHeaders.authorization, /^HMAC-SHA256 /);
      assert.equal(created.payload.reference, p.reference);
      assert.equal(authorized.eventType, 'epayments.payment.authorized.v1');
      const view = await admin('GET', `/admin/epayments/${DEMO.msn}/${p.reference}`);
      assert.deepEqual(view.body.webhooks.map((d: { eventType: string }) => d.eventType), ['epayments.payment.created.v1', 'epayments.payment.authorized.v1']);

      const resent = await admin('POST', `/admin/webhook-deliveries/${created.deliveryId}/resend`);
      assert.equal(resent.status, 202, resent.text);
      await receiver.until(4);
      assert.equal(receiver.received[3].body.name, 'CREATED');
      assert.equal(receiver.received[3].signatureProblem, undefined);
      assert.equal((await admin('POST', '/admin/webhook-deliveries/999999999/resend')).status, 404);
      assert.equal((await admin('GET', `/admin/webhooks/${randomUUID()}/deliveries`)).status, 404);
    } finally {
      await remove(receiver.id);
      await receiver.close();
    }
  });

  it('takes fault rules that fail a webhook delivery or a card callback, as if the PSP had answered so', async () => {
    const receiver = await receiverFor(['epayments.payment.created.v1']);
    const admin = (method: string, path: string, body?: unknown) => call(server.url, method, path, { headers: adminHeaders(), ...(body ? { body } : {}) });
    try {
      const body = createBody();
      const rule = await admin('POST', '/admin/faults', { route: 'webhook', pspTransactionId: body.reference, status: 503, times: 1 });
      assert.equal(rule.status, 201, rule.text);
      assert.equal((await post('/epayment/v1/payments', body)).status, 201);
      // Failed without a call; the retry (2 s later on the shared clock) arrives.
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(receiver.received.length, 0);
      const [failed] = (await admin('GET', `/admin/webhooks/${receiver.id}/deliveries`)).body.deliveries;
      assert.equal(failed.status, 'PENDING');
      assert.equal(failed.responseStatus, 503);
      assert.equal(failed.attempts, 1);
      await admin('POST', '/admin/clock/advance', { seconds: 3 });
      await receiver.until(1);
      assert.equal(receiver.received[0].body.reference, body.reference);

      // A card callback failed with HTTP 500: the attempt fails as after a real 500, and nothing reaches the PSP.
      const failing = createBody();
      assert.equal((await admin('POST', '/admin/faults', { route: 'cardCallback', pspTransactionId: failing.reference, status: 500, times: 1 })).status, 201);
      assert.equal((await post('/epayment/v1/payments', failing)).status, 201);
      const approved = await approve(failing.reference);
      assert.equal(approved.status, 400, approved.text);
      assert.match(approved.body.detail, /HTTP 500/);
      assert.equal(stub.callsFor(failing.cardPassthrough.pspReference).length, 0);
      const view = await admin('GET', `/admin/epayments/${DEMO.msn}/${failing.reference}`);
      assert.equal(view.body.cardCallbacks[0].responseStatus, 500);
      // makePayment stays delay-only; a Retry-After is not for these routes.
      assert.equal((await admin('POST', '/admin/faults', { route: 'makePayment', status: 500 })).status, 400);
      assert.equal((await admin('POST', '/admin/faults', { route: 'webhook', status: 503, retryAfterSeconds: 5 })).status, 400);
    } finally {
      await admin('DELETE', '/admin/faults');
      await remove(receiver.id);
      await receiver.close();
    }
  });

  it('shows the console the registrations, their deliveries and the payment\'s, and re-sends one from there', async () => {
    const receiver = await receiverFor(['epayments.payment.created.v1']);
    try {
      const p = await create({ paymentDescription: 'Console <webhook>' });
      await receiver.until(1);
      const browser = await signedIn(server.url);
      const listPage = await browser.get('/console/webhooks');
      assert.equal(listPage.status, 200);
      assert.ok(listPage.html.includes(`/console/webhooks/${receiver.id}`));
      assert.match(textOf(listPage.html), new RegExp(receiver.url.replace(/[/.?]/g, '\\$&')));
      let page = await browser.get(`/console/webhooks/${receiver.id}`);
      for (let i = 0; i < 40 && !/DELIVERED/.test(textOf(page.html)); i++) {
        await new Promise((r) => setTimeout(r, 50));
        page = await browser.get(`/console/webhooks/${receiver.id}`);
      }
      const text = textOf(page.html);
      assert.match(text, new RegExp(`epayments\\.payment\\.created\\.v1 · ${p.reference} · DELIVERED · 1 attempt · HTTP 200`));
      assert.match(text, /HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256/);
      const action = /action="(\/console\/webhooks\/[^"]+\/resend)"/.exec(page.html);
      assert.ok(action, 'a Send again form');
      const resent = await browser.post(action[1]);
      assert.equal(resent.status, 303);
      assert.equal(resent.location, `/console/webhooks/${receiver.id}?done=resent`);
      await receiver.until(2);
      assert.equal(receiver.received[1].body.reference, p.reference);
      assert.equal((await browser.request('POST', action[1], { form: { _csrf: 'wrong' } })).status, 403);

      const { paymentId } = (await call(server.url, 'GET', `/admin/epayments/${DEMO.msn}/${p.reference}`, { headers: adminHeaders() })).body;
      const paymentPage = await browser.get(`/console/epayments/${paymentId}`);
      assert.match(textOf(paymentPage.html), /Webhooks\s+\S+ epayments\.payment\.created\.v1 · (PENDING|DELIVERED)/);
    } finally {
      await remove(receiver.id);
      await receiver.close();
    }
  });

  it('does not let a dead receiver hold up another registration\'s deliveries', async () => {
    const dead = await receiverFor(['epayments.payment.created.v1']);
    dead.answer = 'hang';
    const alive = await receiverFor(['epayments.payment.created.v1']);
    try {
      const started = Date.now();
      const refs: string[] = [];
      for (let i = 0; i < 40; i++) refs.push((await create()).reference);
      await alive.until(40);
      assert.equal(alive.received.length, 40);
      assert.ok(dead.received.length >= 1, 'the dead receiver was called');
      assert.ok(Date.now() - started < 8000, `all 40 arrived in ${Date.now() - started} ms, while the dead receiver holds its calls for 10 s`);
    } finally {
      await remove(dead.id);
      await remove(alive.id);
      await dead.close();
      await alive.close();
    }
  });
});
