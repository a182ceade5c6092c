// The test environment's controls: time travel, reset and fault injection, black-box over HTTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accessToken, adminHeaders, ADMIN_TOKEN, backend, call, createPsp, DEMO, DEMO_CLIENT, merchantBody, pspHeaders, startTestServer, type PspClient, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { adminPayment, details, eventually, forceApprove, init, initBody, initOk, uniqueId } from '../support/payments.ts';
import { persistentStorage, startChild, type Child, type Storage } from '../support/child.ts';

const admin = (base: string, method: string, path: string, body?: unknown) => call(base, method, path, { headers: adminHeaders(), body });

async function advance(base: string, body: unknown) {
  const answer = await admin(base, 'POST', '/admin/clock/advance', body);
  assert.equal(answer.status, 200, answer.text);
  return answer.body;
}

async function scheduledRuns(base: string): Promise<any[]> {
  const answer = await admin(base, 'GET', '/admin/status-batch/runs');
  assert.equal(answer.status, 200, answer.text);
  return answer.body.runs.filter((r: { trigger: string }) => r.trigger === 'schedule');
}

async function addFault(base: string, rule: Record<string, unknown>) {
  const answer = await admin(base, 'POST', '/admin/faults', rule);
  assert.equal(answer.status, 201, answer.text);
  return answer.body;
}

async function adminPaymentStatus(base: string, id: string, pspId: string = DEMO.psp.pspId): Promise<number> {
  return (await admin(base, 'GET', `/admin/payments/${pspId}/${id}`)).status;
}

/** A browser: the CSRF cookie and token of a page, kept with any session cookie. */
class Browser {
  cookies = new Map<string, string>();
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }
  private keep(r: Response): void {
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
  }
  private cookie(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  async page(path: string): Promise<string> {
    const r = await fetch(`${this.base}${path}`, { headers: { cookie: this.cookie() } });
    this.keep(r);
    return r.text();
  }
  /** Posts the form of the page at `from` to `to`, with the page's CSRF token. */
  async post(from: string, to: string, fields: Record<string, string>): Promise<Response> {
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await this.page(from))![1];
    const r = await fetch(`${this.base}${to}`, {
      method: 'POST', redirect: 'manual',
      headers: { cookie: this.cookie(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, _csrf: csrf }).toString(),
    });
    this.keep(r);
    return r;
  }
}

describe('time travel', () => {
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

  it('shows the time and a zero offset at first', async () => {
    const answer = await admin(server.url, 'GET', '/admin/clock');
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.offsetSeconds, 0);
    assert.ok(Math.abs(Date.parse(answer.body.now) - Date.now()) < 5000);
  });

  it('advancing 10 minutes times out the waiting payments at once and sends their TIMEOUT makePayments', async () => {
    const a = await initOk(server.url, h, initBody(stub.url));
    const b = await initOk(server.url, h, initBody(stub.url));
    const before = await adminPayment(server.url, a.id);
    assert.equal(before.state, 'INITIATED');
    const moved = await advance(server.url, { seconds: 600 });
    assert.equal(moved.offsetSeconds, 600);
    // The expiry happened in the answer's own sweep, not at a later one.
    assert.equal((await adminPayment(server.url, a.id)).state, 'TIMEOUT');
    assert.equal((await adminPayment(server.url, b.id)).state, 'TIMEOUT');
    for (const id of [a.id, b.id]) {
      const [callMade] = await stub.waitForCalls(id, 1, 5000);
      assert.equal(callMade.body.paymentState, 'TIMEOUT');
    }
    // The payment's times are the server's: created before the jump, timed out after it.
    const view = await adminPayment(server.url, a.id);
    assert.ok(Math.abs(Date.parse(view.createdAt) - Date.now()) < 60_000, `createdAt ${view.createdAt}`);
    assert.ok(Date.parse(view.updatedAt) - Date.now() > 590_000, `updatedAt ${view.updatedAt} follows the moved clock`);
    await admin(server.url, 'POST', '/admin/clock/reset');
  });

  it('never goes back: negative seconds or an earlier time are refused with 400', async () => {
    await advance(server.url, { seconds: 60 });
    const now = (await admin(server.url, 'GET', '/admin/clock')).body;
    const negative = await admin(server.url, 'POST', '/admin/clock/advance', { seconds: -1 });
    assert.equal(negative.status, 400);
    assert.equal(negative.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const earlier = await admin(server.url, 'POST', '/admin/clock/advance', { to: new Date(Date.now() + 1000).toISOString() });
    assert.equal(earlier.status, 400, earlier.text);
    assert.match(earlier.body.detail, /never goes back/);
    for (const to of ['tomorrow', '2099-01-01T02:00:00', 'Jan 1 2099']) {
      const garbage = await admin(server.url, 'POST', '/admin/clock/advance', { to });
      assert.equal(garbage.status, 400, to);
    }
    const both = await admin(server.url, 'POST', '/admin/clock/advance', { seconds: 1, to: now.now });
    assert.equal(both.status, 400);
    const after = (await admin(server.url, 'GET', '/admin/clock')).body;
    assert.equal(after.offsetSeconds, now.offsetSeconds);
  });

  it('moves to a given time', async () => {
    const target = new Date(Date.now() + 3 * 86400_000);
    const moved = await advance(server.url, { to: target.toISOString() });
    assert.ok(Math.abs(Date.parse(moved.now) - target.getTime()) < 2000, moved.now);
    // Reset returns to the real time.
    const reset = await admin(server.url, 'POST', '/admin/clock/reset');
    assert.equal(reset.status, 200);
    assert.equal(reset.body.offsetSeconds, 0);
  });

  it('access tokens expire on the moved clock', async () => {
    const token = await accessToken(server.url);
    const headers = { ...h, authorization: `Bearer ${token}` };
    const id = (await initOk(server.url, headers, initBody(stub.url))).id;
    assert.equal((await details(server.url, headers, id)).status, 200);
    await advance(server.url, { seconds: 3601 });
    const expired = await details(server.url, headers, id);
    assert.equal(expired.status, 401, expired.text);
    // A token issued now lives an hour from the moved time.
    const fresh = { ...h, authorization: `Bearer ${await accessToken(server.url)}` };
    assert.equal((await details(server.url, fresh, id)).status, 200);
    await admin(server.url, 'POST', '/admin/clock/reset');
  });

  it('advancing past the nightly tick runs the batch once', async () => {
    const before = (await scheduledRuns(server.url)).length;
    const { id, token } = await initOk(server.url, h, initBody(stub.url, { amount: 5000 }));
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    const captured = await call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', {
      headers: h, body: { transactions: [{ pspTransactionId: id, status: 'CAPTURED', amount: 5000 }] },
    });
    assert.equal(captured.status, 200, captured.text);
    // Two days on, past the tick of the night after next. Not one: the tick of the coming night is
    // already run when it falls within the hour the test above moved the clock on (in Norway from 01:00
    // to 02:00), and a tick is run once whatever the clock does after.
    await advance(server.url, { seconds: 2 * 86400 });
    const runs = await eventually(() => scheduledRuns(server.url), (r) => r.length > before && r.every((x: { status: string }) => x.status !== 'running'));
    assert.equal(runs.length, before + 1);
    // (The tokens issued before the jump have expired: a fresh one.)
    const d = (await details(server.url, await pspHeaders(server.url), id)).body;
    assert.equal(d.transactionSummary.capturedAmount, 5000);
    // No second run for the same night.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await scheduledRuns(server.url)).length, before + 1);
    await admin(server.url, 'POST', '/admin/clock/reset');
  });
});

describe('time travel with two processes on one PostgreSQL', { skip: backend() === 'pglite' && 'the embedded database serves one process' }, () => {
  let storage: Storage;
  let first: Child;
  let second: Child;
  let stub: PspStub;

  before(async () => {
    stub = await PspStub.start();
    storage = await persistentStorage();
    first = await startChild(storage.env);
    second = await startChild(storage.env);
  });
  after(async () => {
    first?.kill();
    second?.kill();
    await Promise.all([first?.exited, second?.exited]);
    await storage?.drop();
    await stub.close();
  });

  it('the other process follows within a second; expiry and the nightly batch happen exactly once', async () => {
    const h = await pspHeaders(first.url);
    const waiting = await initOk(first.url, h, initBody(stub.url));
    const { id, token } = await initOk(first.url, h, initBody(stub.url, { amount: 7000 }));
    assert.equal((await forceApprove(first.url, h, id, token)).status, 200);
    const captured = await call(first.url, 'POST', '/psp/v3/psppayments/updatestatus', {
      headers: h, body: { transactions: [{ pspTransactionId: id, status: 'CAPTURED', amount: 7000 }] },
    });
    assert.equal(captured.status, 200);

    const changedAt = Date.now();
    const moved = await advance(second.url, { seconds: 86400 });
    assert.equal(moved.offsetSeconds, 86400);
    const seen = await eventually(() => admin(first.url, 'GET', '/admin/clock'), (a) => a.body.offsetSeconds === 86400, 3000);
    assert.equal(seen.body.offsetSeconds, 86400);
    assert.ok(Date.now() - changedAt < 2500, `followed after ${Date.now() - changedAt} ms`);

    // The waiting payment timed out once, and its PSP was told once.
    assert.equal((await adminPayment(first.url, waiting.id)).state, 'TIMEOUT');
    await stub.waitForCalls(waiting.id, 1);
    // The first process's token (1 h) has expired on the moved clock.
    assert.equal((await details(first.url, h, id)).status, 401);

    const h2 = await pspHeaders(first.url);
    const runs = await eventually(() => scheduledRuns(first.url), (r) => r.length >= 1 && r.every((x: { status: string }) => x.status === 'finished'));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await scheduledRuns(second.url)).length, 1, JSON.stringify(runs));
    assert.equal((await details(first.url, h2, id)).body.transactionSummary.capturedAmount, 7000);
    assert.equal(stub.callsFor(waiting.id).length, 1);
  });

  it('a rule added in one process faults "the next N" requests exactly, whichever process answers them', async () => {
    const rule = await addFault(second.url, { route: 'details', status: 503, times: 3 });
    // The first process follows within a second.
    await new Promise((r) => setTimeout(r, 1200));
    const [h1, h2] = await Promise.all([pspHeaders(first.url), pspHeaders(second.url)]);
    const { id } = await initOk(first.url, h1, initBody(stub.url));
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => details(i % 2 ? first.url : second.url, i % 2 ? h1 : h2, id)));
    assert.equal(answers.filter((a) => a.status === 503).length, 3, answers.map((a) => a.status).join(','));
    assert.equal(answers.filter((a) => a.status === 200).length, 9);
    const listed = (await admin(first.url, 'GET', '/admin/faults')).body.faults.find((r: { id: number }) => r.id === rule.id);
    assert.equal(listed.hits, 3);
    assert.equal(listed.remaining, 0);
  });
});

describe('reset', () => {
  let server: TestServer;
  let stub: PspStub;
  let other: PspClient;
  let h: Record<string, string>;
  let ho: Record<string, string>;

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer();
    h = await pspHeaders(server.url);
    other = await createPsp(server.url, 'Second PSP');
    // The second PSP's merchant, through the Signup API.
    const oh = await pspHeaders(server.url, other, undefined);
    const signup = await call(server.url, 'POST', '/merchant-management/psp/v1/merchants', {
      headers: { ...oh, 'idempotency-key': uniqueId('k') },
      body: merchantBody({ name: 'Other shop' }),
    });
    assert.equal(signup.status, 200, signup.text);
    ho = await pspHeaders(server.url, other, signup.body.merchantSerialNumber);
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  it('of one PSP deletes its payments and keeps the other PSP\'s', async () => {
    const mine = await initOk(server.url, h, initBody(stub.url));
    const theirs = await initOk(server.url, ho, initBody(stub.url));
    // Read once, so the details read model (embedded database) holds the payment.
    assert.equal((await details(server.url, h, mine.id)).status, 200);
    const answer = await admin(server.url, 'POST', '/admin/reset', { pspId: DEMO.psp.pspId });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.pspId, DEMO.psp.pspId);
    assert.ok(answer.body.deleted.payments >= 1);
    assert.equal((await details(server.url, h, mine.id)).status, 404);
    assert.equal(await adminPaymentStatus(server.url, mine.id), 404);
    assert.equal((await details(server.url, ho, theirs.id)).status, 200);
    assert.equal((await adminPayment(server.url, theirs.id, other.pspId)).state, 'INITIATED');
    // PSPs, merchants and users stay: the demo PSP can pay again, with the same merchantOrderId even.
    const again = await init(server.url, h, initBody(stub.url));
    assert.equal(again.status, 200, again.text);
  });

  it('of everything deletes every PSP\'s payments, status updates and batch runs, and keeps the PSPs', async () => {
    const { id, token } = await initOk(server.url, ho, initBody(stub.url));
    assert.equal((await forceApprove(server.url, ho, id, token)).status, 200);
    await call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', { headers: ho, body: { transactions: [{ pspTransactionId: id, status: 'CAPTURED', amount: 100 }] } });
    assert.equal((await admin(server.url, 'POST', '/admin/status-batch/run')).status, 200);
    const answer = await call(server.url, 'POST', '/admin/reset', { headers: adminHeaders() });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.pspId, null);
    assert.ok(answer.body.deleted.status_updates >= 1);
    assert.ok(answer.body.deleted.batch_runs >= 1);
    assert.equal((await details(server.url, ho, id)).status, 404);
    const runs = (await admin(server.url, 'GET', '/admin/status-batch/runs')).body;
    assert.equal(runs.runs.length, 0);
    assert.equal(runs.pending, 0);
    const psps = (await admin(server.url, 'GET', '/admin/psps')).body.psps.map((p: { pspId: string }) => p.pspId);
    assert.ok(psps.includes(DEMO.psp.pspId) && psps.includes(other.pspId));
  });

  it('of an unknown PSP is a 404; a bad body a 400', async () => {
    assert.equal((await admin(server.url, 'POST', '/admin/reset', { pspId: 'NOSUCHPSP' })).status, 404);
    assert.equal((await admin(server.url, 'POST', '/admin/reset', { psp: 'x' })).status, 400);
  });
});

describe('fault injection', () => {
  let server: TestServer;
  let stub: PspStub;
  let other: PspClient;
  let h: Record<string, string>;

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer({ MAKE_PAYMENT_TIMEOUT_MS: '1000' });
    h = await pspHeaders(server.url);
    other = await createPsp(server.url, 'Unfaulted PSP');
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  it('a rule for one PSP answers 503 to that PSP only, the given number of times, storing nothing', async () => {
    const rule = await addFault(server.url, { route: 'init', pspId: DEMO.psp.pspId, status: 503, times: 2 });
    assert.equal(rule.remaining, 2);
    // The other PSP is not touched (its token route and the Signup API work as usual).
    const otherToken = await accessToken(server.url, other);
    assert.ok(otherToken);
    const faulted: string[] = [];
    for (let i = 0; i < 2; i++) {
      const body = initBody(stub.url);
      const answer = await init(server.url, h, body);
      assert.equal(answer.status, 503, answer.text);
      assert.equal(answer.body[0].errorCode, '503');
      assert.ok(answer.body[0].contextId);
      faulted.push(body.pspTransactionId as string);
    }
    const third = await init(server.url, h, initBody(stub.url));
    assert.equal(third.status, 200, third.text);
    for (const id of faulted) {
      assert.equal((await details(server.url, h, id)).status, 404);
      assert.equal(await adminPaymentStatus(server.url, id), 404);
    }
    const list = (await admin(server.url, 'GET', '/admin/faults')).body.faults;
    const listed = list.find((r: { id: number }) => r.id === rule.id);
    assert.equal(listed.hits, 2);
    assert.equal(listed.remaining, 0);
  });

  it('429 carries Retry-After, on the token route in its own shape', async () => {
    await addFault(server.url, { route: 'accessToken', pspId: DEMO.psp.pspId, status: 429, retryAfterSeconds: 7, times: 1 });
    const headers = { client_id: DEMO_CLIENT.clientId, client_secret: DEMO_CLIENT.clientSecret, 'Ocp-Apim-Subscription-Key': DEMO_CLIENT.subscriptionKey };
    const otherHeaders = { client_id: other.clientId, client_secret: other.clientSecret, 'Ocp-Apim-Subscription-Key': other.subscriptionKey };
    assert.equal((await call(server.url, 'POST', '/accessToken/get', { headers: otherHeaders })).status, 200);
    const limited = await call(server.url, 'POST', '/accessToken/get', { headers });
    assert.equal(limited.status, 429, limited.text);
    assert.equal(limited.headers.get('retry-after'), '7');
    assert.equal(limited.body.statusCode, 429);
    assert.equal((await call(server.url, 'POST', '/accessToken/get', { headers })).status, 200);
  });

  it('a rule for one pspTransactionId faults only that payment\'s details', async () => {
    const a = await initOk(server.url, h, initBody(stub.url));
    const b = await initOk(server.url, h, initBody(stub.url));
    await addFault(server.url, { route: 'details', pspTransactionId: a.id, status: 502, times: 1 });
    assert.equal((await details(server.url, h, b.id)).status, 200);
    assert.equal((await details(server.url, h, a.id)).status, 502);
    assert.equal((await details(server.url, h, a.id)).status, 200);
  });

  it('delay holds the answer back; drop closes the connection without one', async () => {
    const { id } = await initOk(server.url, h, initBody(stub.url));
    const rule = await addFault(server.url, { route: 'details', pspId: DEMO.psp.pspId, delayMs: 400 });
    const started = Date.now();
    assert.equal((await details(server.url, h, id)).status, 200);
    assert.ok(Date.now() - started >= 400, `answered after ${Date.now() - started} ms`);
    assert.equal((await admin(server.url, 'DELETE', `/admin/faults/${rule.id}`)).status, 204);
    assert.equal((await admin(server.url, 'DELETE', `/admin/faults/${rule.id}`)).status, 404);

    await addFault(server.url, { route: 'updatestatus', drop: true, times: 1 });
    await assert.rejects(call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', {
      headers: h, body: { transactions: [{ pspTransactionId: id, status: 'CAPTURED', amount: 1 }] },
    }));
    assert.equal((await admin(server.url, 'GET', '/admin/status-batch/runs')).body.pending, 0);
  });

  it('the app\'s approve and force approve are faulted without changing the payment', async () => {
    const { id, token } = await initOk(server.url, h, initBody(stub.url));
    await addFault(server.url, { route: 'approve', pspId: DEMO.psp.pspId, status: 500, times: 1 });
    const refused = await forceApprove(server.url, h, id, token);
    assert.equal(refused.status, 500, refused.text);
    assert.equal((await adminPayment(server.url, id)).state, 'INITIATED');
    assert.equal(stub.callsFor(id).length, 0);
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    assert.equal((await adminPayment(server.url, id)).state, 'RESERVED');
  });

  it('the app simulator\'s approve is faulted with an error page, and the payment waits for the user', async () => {
    const { id, token } = await initOk(server.url, h, initBody(stub.url));
    const browser = new Browser(server.url);
    const landed = await browser.post(`/landing?token=${token}`, '/landing', { token, phone: DEMO.userPhone });
    assert.equal(landed.status, 303);
    const payment = await adminPayment(server.url, id);
    assert.equal(payment.state, 'AWAITING_USER');
    assert.equal((await browser.post('/app', '/app/login', { phone: DEMO.userPhone })).status, 303);
    await addFault(server.url, { route: 'approve', msn: DEMO.msn, pspTransactionId: id, status: 503, retryAfterSeconds: 3, times: 1 });
    const screen = `/app/payments/${payment.paymentId}`;
    const refused = await browser.post(screen, `${screen}/pay`, {});
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '3');
    assert.match(refused.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal((await adminPayment(server.url, id)).state, 'AWAITING_USER');
    assert.equal(stub.callsFor(id).length, 0);
    const paid = await browser.post(screen, `${screen}/pay`, {});
    assert.equal(paid.status, 303);
    assert.equal((await adminPayment(server.url, id)).state, 'RESERVED');
  });

  it('the Signup API is faulted for one PSP only, in its problem shape', async () => {
    await addFault(server.url, { route: 'signup', pspId: other.pspId, status: 502, times: 1 });
    const mine = await call(server.url, 'GET', '/merchant-management/psp/v1/merchants', { headers: await pspHeaders(server.url, DEMO_CLIENT, undefined) });
    assert.equal(mine.status, 200, mine.text);
    const theirs = await call(server.url, 'GET', '/merchant-management/psp/v1/merchants', { headers: await pspHeaders(server.url, other, undefined) });
    assert.equal(theirs.status, 502, theirs.text);
    assert.equal(theirs.body.status, 502);
    assert.match(theirs.body.detail, /Injected fault/);
  });

  it('a delayed makePayment arrives late at the PSP and the payment fails as an unanswered one', async () => {
    const { id, token } = await initOk(server.url, h, initBody(stub.url));
    await addFault(server.url, { route: 'makePayment', pspTransactionId: id, delayMs: 1500, times: 1 });
    const started = Date.now();
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    const payment = await adminPayment(server.url, id);
    assert.equal(payment.state, 'FAILED');
    assert.match(payment.deliveries[0].error, /no answer within 1000 ms/);
    const [late] = await stub.waitForCalls(id, 1, 5000);
    assert.ok(late.at - started >= 1400, `arrived after ${late.at - started} ms`);
    assert.equal(late.body.paymentState, 'ACCEPTED');
  });

  it('a makePayment delayed within the timeout arrives late and is answered as usual', async () => {
    const { id, token } = await initOk(server.url, h, initBody(stub.url));
    await addFault(server.url, { route: 'makePayment', pspId: DEMO.psp.pspId, delayMs: 300, times: 1 });
    const started = Date.now();
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    const [arrived] = stub.callsFor(id);
    assert.ok(arrived.at - started >= 300);
    assert.equal((await adminPayment(server.url, id)).state, 'RESERVED');
  });

  it('a probability of 0 never fires; clearing removes every rule', async () => {
    const rule = await addFault(server.url, { route: 'details', probability: 0, status: 503 });
    const { id } = await initOk(server.url, h, initBody(stub.url));
    for (let i = 0; i < 5; i++) assert.equal((await details(server.url, h, id)).status, 200);
    const listed = (await admin(server.url, 'GET', '/admin/faults')).body.faults.find((r: { id: number }) => r.id === rule.id);
    assert.equal(listed.hits, 0);
    const cleared = await admin(server.url, 'DELETE', '/admin/faults');
    assert.equal(cleared.status, 200);
    assert.ok(cleared.body.removed >= 1);
    assert.deepEqual((await admin(server.url, 'GET', '/admin/faults')).body.faults, []);
  });

  it('expires after ttlSeconds on the server clock', async () => {
    await addFault(server.url, { route: 'details', status: 503, ttlSeconds: 60 });
    const { id } = await initOk(server.url, h, initBody(stub.url));
    assert.equal((await details(server.url, h, id)).status, 503);
    await advance(server.url, { seconds: 61 });
    const fresh = await pspHeaders(server.url);
    assert.equal((await details(server.url, fresh, id)).status, 200);
    await admin(server.url, 'DELETE', '/admin/faults');
    await admin(server.url, 'POST', '/admin/clock/reset');
  });

  it('refuses unsound rules with 400', async () => {
    for (const body of [
      { route: 'init' },
      { route: 'nowhere', status: 503 },
      { route: 'init', status: 418 },
      { route: 'init', status: 503, drop: true },
      { route: 'makePayment', status: 503 },
      { route: 'init', status: 503, probability: 1.5 },
      { route: 'accessToken', status: 503, msn: '123456' },
    ]) {
      const answer = await admin(server.url, 'POST', '/admin/faults', body);
      assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
    }
    assert.equal((await admin(server.url, 'POST', '/admin/faults', { route: 'init', pspId: 'NOSUCHPSP', status: 503 })).status, 404);
  });
});

describe('in production', () => {
  let server: TestServer;
  before(async () => { server = await startTestServer({ VIPPS_ENV: 'production', ALLOW_PRIVATE_CALLBACKS: 'true' }); });
  after(async () => { await server.close(); });

  it('every control route answers 403 in the operator API\'s shape', async () => {
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/admin/clock'], ['POST', '/admin/clock/advance', { seconds: 60 }], ['POST', '/admin/clock/reset'],
      ['POST', '/admin/reset', {}], ['GET', '/admin/faults'], ['POST', '/admin/faults', { route: 'init', status: 503 }],
      ['DELETE', '/admin/faults/1'], ['DELETE', '/admin/faults'],
    ];
    for (const [method, path, body] of routes) {
      const answer = await call(server.url, method, path, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body });
      assert.equal(answer.status, 403, `${method} ${path}: ${answer.text}`);
      assert.equal(answer.body.status, 403);
      assert.match(answer.body.detail, /test environment/);
    }
  });
});
