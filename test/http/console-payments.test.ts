// The console's payments over HTTP: pages through ~30 payments without gaps or duplicates, filters and
// search, the live stream, a payment's timeline (init headers, attempts with the token masked), the
// actions and their effect on the PSP, the operator API's actions, and API errors recorded as events.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminHeaders, call, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { eventually, forceApprove, initBody, initOk } from '../support/payments.ts';
import { PspStub } from '../support/psp-stub.ts';
import { signedIn, textOf, type ConsoleBrowser } from '../support/console.ts';

function idsOn(html: string): string[] {
  return [...html.matchAll(/<tr id="payment-([0-9a-f-]{36})"/g)].map((m) => m[1]);
}

function nextLink(html: string): string | undefined {
  const m = /<a rel="next" href="([^"]+)"/.exec(html);
  return m ? m[1].replace(/&amp;/g, '&') : undefined;
}

async function paymentIdOf(browser: ConsoleBrowser, pspTransactionId: string): Promise<string> {
  const page = await browser.get(`/console/payments?q=${encodeURIComponent(pspTransactionId)}`);
  const [id] = idsOn(page.html);
  assert.ok(id, `no payment ${pspTransactionId}`);
  return id;
}

describe('operator console: payments', () => {
  let server: TestServer;
  let stub: PspStub;
  let h: Record<string, string>;
  let browser: ConsoleBrowser;
  const created: string[] = [];

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer({ MAKE_PAYMENT_TIMEOUT_MS: '1500' });
    h = await pspHeaders(server.url);
    for (let i = 0; i < 30; i++) {
      const { id } = await initOk(server.url, h, initBody(stub.url, { amount: String(1000 + i) }));
      created.push(id);
    }
    browser = await signedIn(server.url);
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  it('pages through every payment once, newest first, and filters and search narrow the list', async () => {
    const seen: string[] = [];
    let path: string | undefined = '/console/payments';
    let pages = 0;
    while (path && pages < 10) {
      const page = await browser.get(path);
      assert.equal(page.status, 200, path);
      seen.push(...idsOn(page.html));
      path = nextLink(page.html);
      pages++;
    }
    assert.equal(pages, 2);
    assert.equal(seen.length, 30);
    assert.equal(new Set(seen).size, 30, 'no duplicates');
    const first = await browser.get('/console/payments');
    assert.match(textOf(first.html), new RegExp(created[29]), 'the newest is on the first page');

    const search = await browser.get(`/console/payments?q=${created[3]}`);
    assert.equal(idsOn(search.html).length, 1);
    assert.match(search.html, new RegExp(created[3]));
    const byState = await browser.get('/console/payments?state=INITIATED');
    assert.equal(idsOn(byState.html).length, 25);
    assert.equal(idsOn((await browser.get('/console/payments?state=RESERVED')).html).length, 0);
    assert.equal(idsOn((await browser.get(`/console/payments?psp=${DEMO.psp.pspId}&msn=${DEMO.msn}&state=INITIATED`)).html).length, 25);
    assert.equal(idsOn((await browser.get('/console/payments?msn=99999')).html).length, 0);
    assert.equal(idsOn((await browser.get(`/console/payments?psp=NOPE&msn=${DEMO.msn}`)).html).length, 0, 'the MSN is not of that PSP');
    assert.equal(idsOn((await browser.get('/console/payments?from=2999-01-01T00:00')).html).length, 0);
    assert.equal((await browser.get('/console/payments?state=NOPE')).status, 400);
    assert.equal((await browser.get('/console/payments?after=garbage')).status, 400);
  });

  it('GET /admin/payments pages through the same list with a next cursor, and takes the same filters', async () => {
    const list = (query: string) => call(server.url, 'GET', `/admin/payments${query}`, { headers: adminHeaders() });
    const seen: Array<{ pspTransactionId: string; createdAt: string }> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const answer = await list(`?limit=12${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(answer.status, 200, answer.text);
      assert.ok(answer.body.payments.length <= 12);
      seen.push(...answer.body.payments);
      cursor = answer.body.next;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    const ours = seen.filter((p) => created.includes(p.pspTransactionId));
    assert.deepEqual(ours.map((p) => p.pspTransactionId).sort(), [...created].sort(), 'every payment once');
    // Newest first. Two payments created in the same millisecond may come in either order (the time
    // stamps are milliseconds); the payments were created one after another, so apart from such ties
    // the order is the reverse of theirs.
    for (let i = 1; i < ours.length; i++) {
      const [a, b] = [Date.parse(ours[i - 1].createdAt), Date.parse(ours[i].createdAt)];
      assert.ok(a >= b, `newest first: ${ours[i - 1].createdAt} before ${ours[i].createdAt}`);
      if (a > b) assert.ok(created.indexOf(ours[i - 1].pspTransactionId) > created.indexOf(ours[i].pspTransactionId), 'a later time is a later payment');
    }
    const newest = (await list('?limit=1')).body.payments[0];
    assert.equal(newest.pspId, DEMO.psp.pspId);
    assert.equal(newest.merchantSerialNumber, DEMO.msn);
    assert.match(newest.consoleUrl, /^\/console\/payments\/[0-9a-f-]{36}$/);
    assert.equal(typeof newest.amount, 'number');

    const found = await list(`?search=${created[3]}`);
    assert.deepEqual(found.body.payments.map((p: { pspTransactionId: string }) => p.pspTransactionId), [created[3]]);
    assert.equal(found.body.next, null);
    const byOrder = await list(`?search=${encodeURIComponent(found.body.payments[0].merchantOrderId)}`);
    assert.equal(byOrder.body.payments.length, 1);
    assert.equal((await list('?state=INITIATED&limit=100')).body.payments.length >= 30, true);
    assert.equal((await list('?state=RESERVED&limit=100')).body.payments.filter((p: { pspTransactionId: string }) => created.includes(p.pspTransactionId)).length, 0);
    assert.equal((await list(`?psp=${DEMO.psp.pspId.toLowerCase()}&msn=${DEMO.msn}&limit=100`)).body.payments.length >= 30, true);
    assert.equal((await list('?psp=NOPE')).body.payments.length, 0);
    assert.equal((await list('?msn=99999')).body.payments.length, 0);
    assert.equal((await list('?since=2999-01-01T00:00:00Z')).body.payments.length, 0);
    assert.equal((await list('?until=2000-01-01T00:00:00Z')).body.payments.length, 0);
    assert.ok((await list('?since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z')).body.payments.length > 0);

    for (const bad of ['?state=NOPE', '?limit=0', '?limit=101', '?limit=ten', '?after=garbage!', '?after=Z2FyYmFnZQ', '?since=yesterday', '?colour=red']) {
      const answer = await list(bad);
      assert.equal(answer.status, 400, bad);
      assert.equal(answer.body.status, 400, bad);
    }
    assert.equal((await call(server.url, 'GET', '/admin/payments')).status, 401);
  });

  it('the event stream delivers a payment created after the page', async () => {
    const page = await browser.get('/console/payments');
    const m = /data-events-url="([^"]+)"/.exec(page.html);
    assert.ok(m);
    const controller = new AbortController();
    const response = await fetch(`${server.url}${m[1].replace(/&amp;/g, '&')}`, {
      headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), accept: 'text/event-stream' }, signal: controller.signal,
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    const { id } = await initOk(server.url, h, initBody(stub.url));
    const reader = response.body!.getReader();
    let text = '';
    const deadline = Date.now() + 8000;
    while (!text.includes(id) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    assert.match(text, /event: payment/);
    assert.ok(text.includes(id), 'the new payment arrives');
    // Only the new one: the page's payments are not sent again.
    assert.ok(!text.includes(created[29]));
    const unauthenticated = await fetch(`${server.url}/console/payments/events`, { headers: { accept: 'text/event-stream' } });
    assert.equal(unauthenticated.status, 401);
    await unauthenticated.text();
  });

  it("a payment's timeline shows the init headers and each makePayment with the token masked", async () => {
    const body = initBody(stub.url);
    const answer = await call(server.url, 'POST', '/psp/v3/psppayments/init', {
      headers: { ...h, 'Idempotency-Key': 'key-timeline-1', 'Vipps-System-Name': 'shopsys', 'Vipps-System-Plugin-Version': '1.2.3' }, body,
    });
    assert.equal(answer.status, 200);
    const token = new URL(answer.body.vippsRedirectUrl).searchParams.get('token')!;
    assert.equal((await forceApprove(server.url, h, body.pspTransactionId as string, token)).status, 200);
    const id = await paymentIdOf(browser, body.pspTransactionId as string);
    const page = await browser.get(`/console/payments/${id}`);
    assert.equal(page.status, 200);
    const text = textOf(page.html);
    assert.match(text, /idempotency-key key-timeline-1/);
    assert.match(text, /vipps-system-name shopsys/);
    assert.match(text, /vipps-system-plugin-version 1\.2\.3/);
    assert.match(text, /Approved: makePayment with the network token/);
    assert.match(text, /Outcome RESERVED/);
    assert.match(text, /Latency \d+ ms/);
    assert.match(text, /"cryptogram": "\[redacted\]"/);
    const sent = stub.callsFor(body.pspTransactionId as string)[0].body.networkToken.number as string;
    assert.ok(!text.includes(sent), 'the full token number is not shown');
    assert.match(text, /\d{6}\*+\d{4}/);
    assert.match(text, /GET details, as the PSP gets it/);
    assert.match(text, /"transactionLogHistory"/);
    assert.match(page.html, /<textarea id="curl"[^>]*readonly>curl -sS/);
  });

  it('expire now asks first, then ends the payment and sends TIMEOUT to the PSP', async () => {
    const { id: tx } = await initOk(server.url, h, initBody(stub.url));
    const id = await paymentIdOf(browser, tx);
    const confirm = await browser.get(`/console/payments/${id}/expire`);
    assert.equal(confirm.status, 200);
    assert.match(textOf(confirm.html), /Expire now\?/);
    assert.equal(stub.callsFor(tx).length, 0, 'nothing happens before the confirmation');
    const forged = await browser.request('POST', `/console/payments/${id}/expire`, { form: { _csrf: 'x' } });
    assert.equal(forged.status, 403);
    const done = await browser.post(`/console/payments/${id}/expire`);
    assert.equal(done.status, 303);
    const calls = await stub.waitForCalls(tx, 1);
    assert.equal(calls[0].body.paymentState, 'TIMEOUT');
    const page = await browser.get(done.location!);
    const text = textOf(page.html);
    assert.match(text, /Expired: the PSP was sent TIMEOUT/);
    assert.match(text, /Operator expired the payment \(console\)/);
    assert.match(text, /TIMEOUT notification/);
    const again = await browser.post(`/console/payments/${id}/expire`);
    assert.equal(again.status, 409);
  });

  it('reject as the user sends USER_CANCEL; approve as the user delivers the token', async () => {
    const { id: tx1 } = await initOk(server.url, h, initBody(stub.url));
    const id1 = await paymentIdOf(browser, tx1);
    await browser.get(`/console/payments/${id1}/reject`);
    assert.equal((await browser.post(`/console/payments/${id1}/reject`)).status, 303);
    assert.equal((await stub.waitForCalls(tx1, 1))[0].body.paymentState, 'USER_CANCEL');

    const { id: tx2 } = await initOk(server.url, h, initBody(stub.url));
    const id2 = await paymentIdOf(browser, tx2);
    const confirm = await browser.get(`/console/payments/${id2}/approve`);
    assert.match(confirm.html, new RegExp(`value="${DEMO.userPhone}"`));
    assert.equal((await browser.post(`/console/payments/${id2}/approve`, { phone: DEMO.userPhone })).status, 303);
    assert.equal((await stub.waitForCalls(tx2, 1))[0].body.paymentState, 'ACCEPTED');
    assert.match(textOf((await browser.get(`/console/payments/${id2}`)).html), /State RESERVED/);
  });

  it('redeliver sends a notification that was not delivered once more', async () => {
    const { id: tx } = await initOk(server.url, h, initBody(stub.url));
    stub.on(tx, { kind: 'hang', notifications: true });
    const id = await paymentIdOf(browser, tx);
    await browser.get(`/console/payments/${id}/expire`);
    await browser.post(`/console/payments/${id}/expire`);
    await eventually(() => browser.get(`/console/payments/${id}`), (p) => /Outcome NOT_DELIVERED/.test(textOf(p.html)));
    stub.on(tx, { kind: 'ok' });
    const page = await browser.get(`/console/payments/${id}`);
    assert.match(page.html, new RegExp(`/console/payments/${id}/redeliver`));
    await browser.get(`/console/payments/${id}/redeliver`);
    assert.equal((await browser.post(`/console/payments/${id}/redeliver`)).status, 303);
    const calls = await stub.waitForCalls(tx, 2);
    assert.equal(calls[1].body.paymentState, 'TIMEOUT');
    const after = textOf((await browser.get(`/console/payments/${id}`)).html);
    assert.match(after, /Outcome NOTIFIED/);
    assert.match(after, /Operator sent the notification again/);
    assert.equal((await browser.post(`/console/payments/${id}/redeliver`)).status, 409, 'a delivered notification is not sent again');
  });

  it('the operator API expires and redelivers too, with or without a body', async () => {
    const { id: tx } = await initOk(server.url, h, initBody(stub.url));
    const expired = await call(server.url, 'POST', `/admin/payments/${DEMO.psp.pspId}/${tx}/expire`, { headers: adminHeaders() });
    assert.equal(expired.status, 200, expired.text);
    assert.equal(expired.body.state, 'TIMEOUT');
    assert.equal((await stub.waitForCalls(tx, 1))[0].body.paymentState, 'TIMEOUT');
    const twice = await call(server.url, 'POST', `/admin/payments/${DEMO.psp.pspId}/${tx}/expire`, { headers: adminHeaders(), body: {} });
    assert.equal(twice.status, 409);
    const redeliver = await call(server.url, 'POST', `/admin/payments/${DEMO.psp.pspId}/${tx}/redeliver`, { headers: adminHeaders() });
    assert.equal(redeliver.status, 409, 'the TIMEOUT was delivered');
    assert.equal((await call(server.url, 'POST', `/admin/payments/${DEMO.psp.pspId}/nope/expire`, { headers: adminHeaders() })).status, 404);
    assert.equal((await call(server.url, 'POST', `/admin/payments/${DEMO.psp.pspId}/${tx}/expire`)).status, 401);
  });

  it('status updates and what the batch did with them are in the timeline', async () => {
    const { id: tx, token } = await initOk(server.url, h, initBody(stub.url, { amount: '5000' }));
    assert.equal((await forceApprove(server.url, h, tx, token)).status, 200);
    const post = (transactions: unknown[]) => call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', { headers: h, body: { transactions } });
    assert.equal((await post([{ pspTransactionId: tx, status: 'CAPTURED', amount: 3000 }, { pspTransactionId: tx, status: 'REFUNDED', amount: 9000 }])).status, 200);
    const id = await paymentIdOf(browser, tx);
    const waiting = textOf((await browser.get(`/console/payments/${id}`)).html);
    assert.match(waiting, /Status update received: CAPTURED/);
    assert.match(waiting, /waiting for the next run/);
    const overview = textOf((await browser.get('/console')).html);
    assert.match(overview, /Updates waiting [1-9]/);
    assert.equal((await call(server.url, 'POST', '/admin/status-batch/run', { headers: adminHeaders() })).status, 200);
    const done = textOf((await browser.get(`/console/payments/${id}`)).html);
    assert.match(done, /run \d+ at [^:]+:\d\d:\d\d[^)]*: APPLIED/);
    assert.match(done, /Status update received: REFUNDED .*REJECTED/);
    assert.match(done, /Log: CAPTURE succeeded|Log: CAPTURED succeeded/);
  });

  it('the overview counts payments by state and deliveries that did not arrive', async () => {
    const text = textOf((await browser.get('/console')).html);
    assert.match(text, /INITIATED \d+ \d+/);
    assert.match(text, /RESERVED \d+ \d+/);
    assert.match(text, /Not delivered [1-9]/, 'the hung TIMEOUT notification');
    assert.match(text, /Next scheduled run \d{4}-\d\d-\d\d/);
    assert.match(text, /Last runs .*manual/);
  });

  it('an error answer to an authenticated PSP is recorded as an api.error event', async () => {
    const answer = await call(server.url, 'GET', '/psp/v3/psppayments/no-such-payment/details', { headers: h });
    assert.equal(answer.status, 404);
    const contextId = answer.body[0].contextId as string;
    const events = await eventually(
      () => server.services.database.query<{ kind: string; data: any; psp_id: string }>('t', `select kind, data, psp_id from events where kind = 'api.error'`, []),
      (rows) => rows.some((r) => r.data.contextId === contextId),
    );
    const e = events.find((r) => r.data.contextId === contextId)!;
    assert.equal(e.psp_id, DEMO.psp.pspId);
    assert.equal(e.data.status, 404);
    assert.equal(e.data.method, 'GET');
    assert.equal(e.data.route, '/psp/v3/psppayments/:pspTransactionId/details');
    assert.equal(e.data.pspTransactionId, 'no-such-payment');
    assert.equal(e.data.msn, DEMO.msn);
    assert.equal(e.data.errorCode, answer.body[0].errorCode);
  });
});
