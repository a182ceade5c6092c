// Go-live readiness: a real PSP (the stub) goes through the checklist's flows, and each item of
// GET /admin/psps/{pspId}/readiness flips from not met to met as the server records the evidence.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { adminHeaders, call, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { adminPayment, eventually, forceApprove, init, initBody, initOk } from '../support/payments.ts';
import { signedIn, textOf } from '../support/console.ts';

const PSP = DEMO.psp.pspId;

describe('go-live readiness', () => {
  let server: TestServer;
  let stub: PspStub;
  let h: Record<string, string>;

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer({ LANDING_TIMEOUT_SECONDS: '2', APP_TIMEOUT_SECONDS: '60', SWEEP_INTERVAL_MS: '100' });
    h = await pspHeaders(server.url);
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  /** The headers of a well-behaved integration: a fresh Idempotency-Key and the Vipps-System-* headers. */
  const good = () => ({ ...h, 'idempotency-key': randomUUID(), 'vipps-system-name': 'acme-shop', 'vipps-system-version': '2.6' });
  const report = async () => {
    const answer = await call(server.url, 'GET', `/admin/psps/${PSP}/readiness`, { headers: adminHeaders() });
    assert.equal(answer.status, 200, answer.text);
    return answer.body;
  };
  const item = async (id: string) => {
    const found = (await report()).items.find((i: any) => i.id === id);
    assert.ok(found, `no item ${id}`);
    return found;
  };
  /** Waits until the item is met (error answers are recorded just after they are sent). */
  const met = (id: string) => eventually(() => item(id), (i) => i.met === true);
  const reserve = async (overrides: Record<string, unknown> = {}) => {
    const body = initBody(stub.url, { amount: 10000, ...overrides });
    const { id, token } = await initOk(server.url, good(), body);
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    return id;
  };
  const update = async (transactions: object[]) => {
    assert.equal((await call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', { headers: h, body: { transactions } })).status, 200);
    assert.equal((await call(server.url, 'POST', '/admin/status-batch/run', { headers: adminHeaders() })).status, 200);
  };

  it('refuses without the operator token, and answers 404 for an unknown PSP', async () => {
    assert.equal((await call(server.url, 'GET', `/admin/psps/${PSP}/readiness`)).status, 401);
    const unknown = await call(server.url, 'GET', '/admin/psps/NO-SUCH-PSP/readiness', { headers: adminHeaders() });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.detail, 'No PSP with id NO-SUCH-PSP.');
  });

  it('starts with nothing met', async () => {
    const r = await report();
    assert.equal(r.pspId, PSP);
    assert.equal(r.met, 0);
    assert.equal(r.ready, false);
    assert.equal(r.total, 18);
    assert.match(r.markdown, /^# Go-live readiness: Demo PSP/);
  });

  it('a complete order: reserved, captured and refunded through updatestatus', async () => {
    const id = await reserve();
    await update([{ pspTransactionId: id, status: 'CAPTURED', amount: 10000 }]);
    assert.equal((await item('complete-order')).met, false, 'captured alone is not a complete order');
    assert.equal((await item('reservations-settled')).met, true, 'a captured reservation is settled');
    await update([{ pspTransactionId: id, status: 'REFUNDED', amount: 2500 }]);
    const done = await item('complete-order');
    assert.equal(done.met, true);
    const payment = await adminPayment(server.url, id);
    assert.equal(done.evidence[0].pspTransactionId, id);
    assert.equal(done.evidence[0].merchantOrderId, payment.merchantOrderId);
    assert.equal(done.evidence[0].consoleUrl, `/console/payments/${payment.paymentId}`);
  });

  it('an order cancelled through updatestatus', async () => {
    assert.equal((await item('cancelled-order')).met, false);
    const id = await reserve();
    await update([{ pspTransactionId: id, status: 'CANCELLED', amount: 10000 }]);
    const done = await item('cancelled-order');
    assert.equal(done.met, true);
    assert.equal(done.evidence[0].pspTransactionId, id);
  });

  it('each error code of the guide, once the PSP has received it', async () => {
    const r = await report();
    for (const i of r.items.filter((x: any) => x.group === 'Error codes')) assert.equal(i.met, false, i.id);

    // 21: the merchant is deactivated.
    assert.equal((await call(server.url, 'PATCH', `/admin/merchants/${DEMO.msn}`, { headers: adminHeaders(), body: { active: false } })).status, 200);
    const inactive = await init(server.url, good(), initBody(stub.url));
    assert.equal(inactive.status, 400);
    assert.equal(inactive.body[0].errorCode, '21');
    assert.equal((await call(server.url, 'PATCH', `/admin/merchants/${DEMO.msn}`, { headers: adminHeaders(), body: { active: true } })).status, 200);
    const e21 = await met('error-21');
    assert.equal(e21.met, true);
    assert.equal(e21.evidence[0].label, 'POST /psp/v3/psppayments/init → 400 21');
    assert.match(e21.evidence[0].detail, new RegExp(`contextId ${inactive.body[0].contextId}`));

    // 44 and 99: a pspTransactionId and a merchantOrderId used before.
    const first = initBody(stub.url);
    const used = await initOk(server.url, good(), first);
    // Approved, so that it does not expire into a TIMEOUT before that item's own test.
    assert.equal((await forceApprove(server.url, h, used.id, used.token)).status, 200);
    assert.equal((await init(server.url, good(), { ...initBody(stub.url), pspTransactionId: first.pspTransactionId })).body[0].errorCode, '44');
    assert.equal((await init(server.url, good(), { ...initBody(stub.url), merchantOrderId: first.merchantOrderId })).body[0].errorCode, '99');
    assert.equal((await met('error-44')).met, true);
    const e99 = await met('error-99');
    assert.equal(e99.met, true);
    assert.equal(e99.evidence[0].detail.startsWith('OrderId already exists'), true);

    // 51 (invalid request) and 51 (invalid pspRedirectUrl) are two items.
    assert.equal((await init(server.url, good(), initBody(stub.url, { customerMobileNumber: '1234567' }))).body[0].errorCode, '51');
    assert.equal((await met('error-51')).met, true);
    assert.equal((await item('error-51-redirect')).met, false, 'an invalid request is not an invalid pspRedirectUrl');
    assert.equal((await init(server.url, good(), initBody(stub.url, { pspRedirectUrl: 'no url' }))).body[0].errorMessage, 'Invalid pspRedirectUrl');
    assert.equal((await met('error-51-redirect')).met, true);

    // amount, currency and makePaymentUrl: two of them in one answer count for both.
    const both = await init(server.url, good(), initBody(stub.url, { amount: 0, currency: 'EUR' }));
    assert.deepEqual(both.body.map((d: any) => d.errorCode), ['amount', 'currency']);
    assert.equal((await met('error-amount')).met, true);
    const currency = await met('error-currency');
    assert.equal(currency.met, true);
    assert.equal(currency.evidence[0].label, 'POST /psp/v3/psppayments/init → 400 currency', 'named by the code it is evidence of');
    assert.equal((await init(server.url, good(), initBody('not-a-url'))).body[0].errorCode, 'makePaymentUrl');
    assert.equal((await met('error-makePaymentUrl')).met, true);
  });

  it("the PSP's own FAIL answers, by errorId", async () => {
    assert.equal((await item('make-payment-fail')).met, false);
    const body = initBody(stub.url);
    stub.on(body.pspTransactionId as string, { kind: 'fail', errorId: '82', errorText: 'Refused by Issuer' });
    const { id, token } = await initOk(server.url, good(), body);
    await forceApprove(server.url, h, id, token);
    const done = await item('make-payment-fail');
    assert.equal(done.met, true);
    assert.match(done.summary, /82 "Refused by Issuer" × 1/);
    assert.equal(done.evidence[0].pspTransactionId, id);
  });

  it('a soft decline completed through 3-D Secure', async () => {
    assert.equal((await item('soft-decline-3ds')).met, false);
    const body = initBody(stub.url);
    const id = body.pspTransactionId as string;
    stub.on(id, { kind: 'soft-decline', url3dSecure: stub.threeDsUrl, then: { kind: 'ok' } });
    const { token } = await initOk(server.url, good(), body);
    await forceApprove(server.url, h, id, token);
    assert.equal((await item('soft-decline-3ds')).met, false, 'not before the second makePayment');
    const success = stub.callsFor(id)[0].body.operations.find((o: any) => o.operation === '3dssuccess').url as string;
    assert.equal((await call('', 'GET', success)).status, 200);
    const done = await eventually(() => item('soft-decline-3ds'), (i) => i.met);
    assert.equal(done.met, true);
    assert.equal(done.evidence[0].pspTransactionId, id);
  });

  it('USER_CANCEL and TIMEOUT notifications answered', async () => {
    assert.equal((await item('user-cancel-notification')).met, false);
    assert.equal((await item('timeout-notification')).met, false);
    const cancelled = await initOk(server.url, good(), initBody(stub.url));
    assert.equal((await call(server.url, 'POST', `/admin/payments/${PSP}/${cancelled.id}/reject`, { headers: adminHeaders(), body: {} })).status, 200);
    const cancel = await eventually(() => item('user-cancel-notification'), (i) => i.met);
    assert.equal(cancel.met, true);
    assert.equal(cancel.evidence[0].pspTransactionId, cancelled.id);

    const expired = await initOk(server.url, good(), initBody(stub.url));
    const timeout = await eventually(() => item('timeout-notification'), (i) => i.met, 10_000);
    assert.equal(timeout.met, true);
    assert.equal(timeout.evidence[0].pspTransactionId, expired.id);
  });

  it('every makePayment answered with JSON in time, until one is not', async () => {
    const ok = await item('json-within-timeout');
    assert.equal(ok.met, true, JSON.stringify(ok));
    const id = await (async () => {
      const body = initBody(stub.url);
      stub.on(body.pspTransactionId as string, { kind: 'status', status: 500, body: 'oops' });
      const { id: tx, token } = await initOk(server.url, good(), body);
      await forceApprove(server.url, h, tx, token);
      return tx;
    })();
    const bad = await item('json-within-timeout');
    assert.equal(bad.met, false);
    assert.match(bad.summary, /1 of \d+ makePayment calls/);
    assert.equal(bad.problems[0].pspTransactionId, id);
    assert.match(bad.problems[0].detail, /^ACCEPTED: Answered with an HTTP status other than 200/);
  });

  it('Idempotency-Key and Vipps-System-* headers on every init, until one comes without', async () => {
    assert.equal((await item('idempotency-key')).met, true);
    assert.equal((await item('system-headers')).met, true);
    const bare = await initOk(server.url, h, initBody(stub.url));
    const key = await item('idempotency-key');
    assert.equal(key.met, false);
    assert.equal(key.problems[0].pspTransactionId, bare.id);
    assert.equal((await item('system-headers')).met, false);
  });

  it('a reservation left open for more than a day counts against the PSP', async () => {
    assert.equal((await item('reservations-settled')).met, true);
    const id = await reserve();
    assert.equal((await item('reservations-settled')).met, true, 'a fresh reservation is not overdue');
    await server.services.database.db.execute(sql`update payments set created_at = now() - interval '25 hours' where psp_transaction_id = ${id}`);
    const late = await item('reservations-settled');
    assert.equal(late.met, false);
    assert.match(late.summary, /^1 payment reserved more than 24 h ago is neither captured nor cancelled/);
    assert.equal(late.problems[0].pspTransactionId, id);
  });

  it('the Markdown report names the test IDs, and the console page shows the same report', async () => {
    const r = await report();
    assert.match(r.markdown, /- \[x\] A complete order: reserved, then captured and refunded through updatestatus/);
    assert.match(r.markdown, /- \[ \] Idempotency-Key/);
    assert.match(r.markdown, /Error 42 \(Invalid payment model type\) does not apply/);
    const first = r.items.find((i: any) => i.id === 'complete-order').evidence[0];
    assert.ok(r.markdown.includes(`pspTransactionId \`${first.pspTransactionId}\``));

    const browser = await signedIn(server.url);
    const page = await browser.get(`/console/readiness?pspId=${PSP}`);
    assert.equal(page.status, 200);
    const text = textOf(page.html);
    assert.ok(text.includes(`${r.met} of ${r.total} items met`), text.slice(0, 500));
    assert.ok(page.html.includes(`href="${first.consoleUrl}"`));
    assert.ok(text.includes('# Go-live readiness: Demo PSP'));
    const choose = await browser.get('/console/readiness');
    assert.equal(choose.status, 200);
    assert.ok(choose.html.includes(`href="/console/readiness?pspId=${PSP}"`));
    assert.equal((await browser.get('/console/readiness?pspId=NOPE')).status, 404);

    // The JSON download the page links to: the same report as the operator API's.
    const link = /<a id="readiness-json" href="([^"]+)" download>/.exec(page.html);
    assert.ok(link, 'the page links to the JSON export');
    const download = await browser.get(link[1].replace(/&amp;/g, '&'));
    assert.equal(download.status, 200);
    assert.match(download.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(download.headers.get('content-disposition') ?? '', new RegExp(`^attachment; filename="readiness-${PSP}-\\d{4}-\\d{2}-\\d{2}\\.json"$`));
    const exported = JSON.parse(download.html);
    assert.equal(exported.pspId, PSP);
    const timeless = (md: string) => md.replace(/Generated \S+/, 'Generated');
    assert.equal(timeless(exported.markdown), timeless(r.markdown), 'the same report (but its time)');
    assert.deepEqual(exported.items.map((i: any) => [i.id, i.met]), r.items.map((i: any) => [i.id, i.met]));
    assert.equal((await browser.get('/console/readiness.json?pspId=NOPE')).status, 404);
    assert.equal((await browser.get('/console/readiness.json')).status, 400);
    const anonymous = await fetch(`${server.url}${link[1].replace(/&amp;/g, '&')}`, { redirect: 'manual' });
    assert.notEqual(anonymous.status, 200, 'not without signing in');
    await anonymous.text();
  });
});
