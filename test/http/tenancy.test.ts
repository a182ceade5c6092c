// A team's shared server: two PSPs, each with a console credential the operator issued, see and act on
// only their own objects. Every operator API route (from its own OpenAPI document) and every console
// page and action is tried by one PSP's person with the other PSP's objects: 404 or 403, never their
// data, and nothing of theirs changed. A revoked credential is refused at once; every action is in the
// audit log.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  ADMIN_TOKEN, adminHeaders, call, createPsp, DEMO, merchantBody, pspHeaders, startTestServer, type PspClient, type TestServer,
} from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { CardCallbackStub } from '../support/card-callback-stub.ts';
import { initBody, initOk, uniqueId } from '../support/payments.ts';
import { ConsoleBrowser } from '../support/console.ts';

/** What one PSP owns, and text only its own views may contain. */
interface Tenant {
  pspId: string;
  msn: string;
  credential: { credentialId: string; token: string };
  paymentId: string;
  pspTransactionId: string;
  epaymentId: string;
  reference: string;
  agreementId: string;
  webhookId: string;
  deliveryId: number;
  userPhone: string;
  faultId: number;
  /** Strings that appear only in this PSP's objects. */
  secrets: string[];
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe('each PSP sees only its own', () => {
  let server: TestServer;
  let psp: PspStub;
  let cards: CardCallbackStub;
  let a: Tenant;
  let b: Tenant;

  async function tenant(client: PspClient, msnGiven: string | undefined, tag: string, phone: string): Promise<Tenant> {
    const base = server.url;
    let msn = msnGiven;
    if (msn === undefined) {
      const signup = await pspHeaders(base, client, undefined);
      const made = await call(base, 'POST', '/merchant-management/psp/v1/merchants', { headers: { ...signup, 'idempotency-key': uniqueId('k') }, body: merchantBody({ name: `Shop ${tag}` }) });
      assert.equal(made.status, 200, made.text);
      msn = made.body.merchantSerialNumber as string;
    }
    const h = await pspHeaders(base, client, msn);
    const issued = await call(base, 'POST', `/admin/psps/${client.pspId}/console-credentials`, { headers: adminHeaders(), body: { name: `Person of ${tag}` } });
    assert.equal(issued.status, 201, issued.text);
    assert.match(issued.body.token, /^vpc_[A-Za-z0-9_-]{43}$/);

    const order = `order-${tag}-${randomUUID().slice(0, 8)}`;
    const v3 = await initOk(base, h, initBody(psp.url, { pspTransactionId: uniqueId(`t${tag}`), merchantOrderId: order }));
    const adminPayment = await call(base, 'GET', `/admin/payments/${client.pspId}/${v3.id}`, { headers: adminHeaders() });
    const hook = await call(base, 'POST', '/webhooks/v1/webhooks', {
      headers: h, body: { url: `http://127.0.0.1:9/hook-${tag}-${randomUUID().slice(0, 6)}`, events: ['epayments.payment.created.v1'] },
    });
    assert.equal(hook.status, 201, hook.text);
    const reference = `ref-${tag}-${randomUUID().slice(0, 12)}`;
    const created = await call(base, 'POST', '/epayment/v1/payments', {
      headers: { ...h, 'idempotency-key': reference },
      body: {
        amount: { currency: 'NOK', value: 1000 }, paymentMethod: { type: 'CARD_PASSTHROUGH' }, reference, userFlow: 'WEB_REDIRECT', returnUrl: 'https://shop.example/return',
        cardPassthrough: { pspReference: `psp-${reference}`, cardCallbackUrl: cards.url, allowedCardTypes: ['VISA_DEBIT'] },
      },
    });
    assert.equal(created.status, 201, created.text);
    const epayment = await call(base, 'GET', `/admin/epayments/${msn}/${reference}`, { headers: adminHeaders() });
    const product = `Product of ${tag} ${randomUUID().slice(0, 6)}`;
    const agreement = await call(base, 'POST', '/recurring/v3/agreements', {
      headers: { ...h, 'idempotency-key': uniqueId('k') },
      body: {
        pricing: { type: 'LEGACY', currency: 'NOK', amount: 14900 }, interval: { unit: 'MONTH', count: 1 },
        merchantRedirectUrl: 'https://shop.example/redirect', merchantAgreementUrl: 'https://shop.example/agreement', productName: product,
        cardPassthrough: { pspReference: `sub-${randomUUID().slice(0, 12)}`, cardCallbackUrl: cards.url, allowedCardTypes: ['VISA_DEBIT'] },
      },
    });
    assert.equal(agreement.status, 201, agreement.text);
    let deliveryId = 0;
    for (let i = 0; i < 100 && deliveryId === 0; i++) {
      const d = await call(base, 'GET', `/admin/webhooks/${hook.body.id}/deliveries`, { headers: adminHeaders() });
      deliveryId = d.body.deliveries?.[0]?.deliveryId ?? 0;
      if (deliveryId === 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(deliveryId > 0, 'the registration has a delivery');
    const userName = `User of ${tag} ${randomUUID().slice(0, 6)}`;
    const user = await call(base, 'POST', '/admin/users', { headers: auth(issued.body.token), body: { phone, name: userName } });
    assert.equal(user.status, 201, user.text);
    const fault = await call(base, 'POST', '/admin/faults', { headers: auth(issued.body.token), body: { route: 'init', pspTransactionId: `never-${tag}`, delayMs: 1 } });
    assert.equal(fault.status, 201, fault.text);
    assert.equal(fault.body.pspId, client.pspId, 'a PSP\'s person\'s fault rule is its own PSP\'s');
    return {
      pspId: client.pspId, msn, credential: { credentialId: issued.body.credentialId, token: issued.body.token },
      paymentId: adminPayment.body.paymentId, pspTransactionId: v3.id, epaymentId: epayment.body.paymentId, reference,
      agreementId: agreement.body.agreementId, webhookId: hook.body.id, deliveryId, userPhone: phone, faultId: fault.body.id,
      secrets: [order, reference, product, hook.body.id, userName, v3.id, agreement.body.agreementId, epayment.body.paymentId],
    };
  }

  before(async () => {
    server = await startTestServer();
    psp = await PspStub.start();
    cards = await CardCallbackStub.start(DEMO.psp.clientSecret);
    const other = await createPsp(server.url, 'Second PSP');
    a = await tenant({ pspId: DEMO.psp.pspId, clientId: DEMO.psp.clientId, clientSecret: DEMO.psp.clientSecret, subscriptionKey: DEMO.psp.subscriptionKey }, DEMO.msn, 'a', '41000001');
    b = await tenant(other, undefined, 'b', '41000002');
  });
  after(async () => {
    await server?.close();
    await psp?.close();
    await cards?.close();
  });

  /** A's objects, as the operator sees them: all still there and unchanged by anything B did. */
  async function assertUntouched(t: Tenant): Promise<void> {
    const payment = await call(server.url, 'GET', `/admin/payments/${t.pspId}/${t.pspTransactionId}`, { headers: adminHeaders() });
    assert.equal(payment.status, 200);
    assert.equal(payment.body.state, 'INITIATED');
    const epayment = await call(server.url, 'GET', `/admin/epayments/${t.msn}/${t.reference}`, { headers: adminHeaders() });
    assert.equal(epayment.body.state, 'CREATED');
    const agreement = await call(server.url, 'GET', `/admin/agreements/${t.agreementId}`, { headers: adminHeaders() });
    assert.equal(agreement.body.agreement.status, 'PENDING');
    const faults = await call(server.url, 'GET', '/admin/faults', { headers: adminHeaders() });
    assert.ok(faults.body.faults.some((f: { id: number }) => f.id === t.faultId), 'its fault rule is still there');
    const users = await call(server.url, 'GET', '/admin/users', { headers: adminHeaders() });
    assert.ok(users.body.users.some((u: { phone: string }) => u.phone === t.userPhone));
    const creds = await call(server.url, 'GET', `/admin/psps/${t.pspId}/console-credentials`, { headers: adminHeaders() });
    assert.equal(creds.body.credentials.find((c: { credentialId: string }) => c.credentialId === t.credential.credentialId)?.revokedAt, null);
  }

  it('the operator API: every route, with the other PSP\'s objects, is 404 or 403 and shows none of them', async () => {
    const doc = (await call(server.url, 'GET', '/openapi/admin.json')).body as { paths: Record<string, Record<string, unknown>> };
    const paths = Object.entries(doc.paths);
    assert.ok(paths.length >= 35, `the operator API document lists its routes (${paths.length})`);
    const value = (path: string, name: string): string => {
      switch (name) {
        case 'pspId': return a.pspId;
        case 'pspTransactionId': return a.pspTransactionId;
        case 'msn': return a.msn;
        case 'reference': return a.reference;
        case 'agreementId': return a.agreementId;
        case 'deliveryId': return String(a.deliveryId);
        case 'credentialId': return a.credential.credentialId;
        case 'keyId': return randomUUID();
        case 'phone': return a.userPhone;
        case 'id': return path.startsWith('/admin/faults') ? String(a.faultId) : a.webhookId;
        default: throw new Error(`no value for {${name}} in ${path}`);
      }
    };
    const bodies: Record<string, unknown> = {
      'POST /admin/psps': { name: 'Made by B' }, 'POST /admin/users': { phone: '41000003', name: 'B made this' },
      'POST /admin/faults': { route: 'init', pspTransactionId: 'b-rule', delayMs: 1 }, 'PATCH /admin/merchants/{msn}': { active: false },
      'PATCH /admin/users/{phone}': { name: 'Renamed by B' }, 'POST /admin/users/{phone}/cards': { brand: 'VISA' },
      'POST /admin/psps/{pspId}/console-credentials': { name: 'Made by B' }, 'POST /admin/clock/advance': { seconds: 1 },
      'POST /admin/psps/{pspId}/encryption-keys': { publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' },
      'POST /admin/agreements/{agreementId}/change-card': {}, 'POST /admin/reset': {},
    };
    // Resets last: it deletes B's own data.
    const ordered = paths.flatMap(([path, ops]) => Object.keys(ops).filter((m) => ['get', 'post', 'patch', 'put', 'delete'].includes(m)).map((m) => ({ path, method: m.toUpperCase() })))
      .sort((x, y) => Number(x.path === '/admin/reset') - Number(y.path === '/admin/reset'));
    let tried = 0;
    for (const { path, method } of ordered) {
      if (!path.startsWith('/admin')) continue;
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(value(path, name)));
      const body = bodies[`${method} ${path}`];
      const answer = await call(server.url, method, url, { headers: auth(b.credential.token), ...(body !== undefined ? { body } : {}) });
      tried++;
      const what = `${method} ${url}: ${answer.status} ${answer.text.slice(0, 300)}`;
      assert.notEqual(answer.status, 401, `the credential is accepted: ${what}`);
      assert.ok(answer.status < 500, what);
      if (params.length > 0) assert.ok(answer.status === 404 || answer.status === 403, `another PSP's object: ${what}`);
      for (const secret of a.secrets) {
        // A path naming the object may be echoed in a 404's message; its data never.
        if (params.length > 0 && url.includes(encodeURIComponent(secret))) continue;
        assert.ok(!answer.text.includes(secret), `${what} shows A's ${secret}`);
      }
    }
    assert.ok(tried >= 40, `every route tried (${tried})`);
    // What B may do to itself it did to itself alone.
    await assertUntouched(a);
    const clock = await call(server.url, 'GET', '/admin/clock', { headers: adminHeaders() });
    assert.equal(clock.body.offsetSeconds, 0, 'a PSP\'s person cannot move the shared clock');
    const psps = await call(server.url, 'GET', '/admin/psps', { headers: adminHeaders() });
    assert.ok(!psps.body.psps.some((p: { name: string }) => p.name === 'Made by B'), 'nor create a PSP');
  });

  it('the operator API: a PSP\'s person\'s lists hold its own objects', async () => {
    const h = auth(a.credential.token);
    const list = async (path: string) => {
      const r = await call(server.url, 'GET', path, { headers: h });
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      return r;
    };
    const payments = (await list('/admin/payments')).body.payments as Array<{ pspId: string; pspTransactionId: string }>;
    assert.ok(payments.some((p) => p.pspTransactionId === a.pspTransactionId));
    assert.ok(payments.every((p) => p.pspId === a.pspId));
    // Asking for the other PSP's list gives one's own.
    assert.ok(((await list(`/admin/payments?psp=${b.pspId}`)).body.payments as Array<{ pspId: string }>).every((p) => p.pspId === a.pspId));
    assert.deepEqual(((await list('/admin/psps')).body.psps as Array<{ pspId: string }>).map((p) => p.pspId), [a.pspId]);
    assert.ok(((await list('/admin/merchants')).body.merchants as Array<{ pspId: string }>).every((m) => m.pspId === a.pspId));
    assert.deepEqual(((await list('/admin/users')).body.users as Array<{ phone: string }>).map((u) => u.phone), [a.userPhone]);
    assert.ok(((await list('/admin/epayments')).body.payments as Array<{ reference: string }>).some((p) => p.reference === a.reference));
    assert.deepEqual(((await list('/admin/agreements')).body.agreements as Array<{ id: string }>).map((x) => x.id), [a.agreementId]);
    assert.deepEqual(((await list('/admin/webhooks')).body.webhooks as Array<{ id: string }>).map((w) => w.id), [a.webhookId]);
    assert.deepEqual(((await list('/admin/faults')).body.faults as Array<{ id: number }>).map((f) => f.id), [a.faultId]);
    const detail = await list(`/admin/agreements/${a.agreementId}`);
    assert.equal(detail.body.agreement.id, a.agreementId, 'its own agreement in full');
    assert.equal(detail.body.pspId, a.pspId);
  });

  it('the console: every page and action, with the other PSP\'s objects, is 404 or 403 and shows none of them', async () => {
    const browser = new ConsoleBrowser(server.url);
    await browser.signIn(b.credential.token);
    const home = await browser.get('/console');
    assert.equal(home.status, 200);
    assert.match(home.html, /Signed in as Person of b \(PSP /);
    const pages = [
      '/console', '/console/payments', '/console/epayments', '/console/agreements', '/console/webhooks', '/console/batch', '/console/batch/progress',
      '/console/psps', '/console/merchants', '/console/users', '/console/readiness', '/console/audit', '/console/sessions',
      `/console/payments?psp=${a.pspId}`, `/console/epayments?psp=${a.pspId}`, `/console/agreements?psp=${a.pspId}`, `/console/merchants?psp=${a.pspId}`,
      `/console/batch?psp=${a.pspId}`,
    ];
    for (const path of pages) {
      const page = await browser.get(path);
      assert.equal(page.status, 200, `${path}: ${page.status}`);
      // The audit log shows B's own attempts on A's objects (what B sent); A's people's actions never.
      if (path === '/console/audit') assert.ok(!page.html.includes('Person of a'), 'the audit log shows none of A\'s people\'s actions');
      else for (const secret of a.secrets) assert.ok(!page.html.includes(secret), `${path} shows A's ${secret}`);
    }
    const objects = [
      `/console/payments/${a.paymentId}`, `/console/payments/${a.paymentId}/approve`, `/console/payments/${a.paymentId}/reject`,
      `/console/payments/${a.paymentId}/expire`, `/console/payments/${a.paymentId}/redeliver`, `/console/epayments/${a.epaymentId}`,
      `/console/agreements/${a.agreementId}`, `/console/webhooks/${a.webhookId}`, `/console/readiness?pspId=${a.pspId}`,
      `/console/readiness.json?pspId=${a.pspId}`, `/console/psps/${a.pspId}/rotate-secret`,
    ];
    for (const path of objects) {
      const page = await browser.get(path);
      assert.equal(page.status, 404, `${path}: ${page.status}`);
      for (const secret of a.secrets) {
        if (path.includes(secret)) continue;
        assert.ok(!page.html.includes(secret), `${path} shows A's ${secret}`);
      }
    }
    await browser.get('/console/users');
    const actions: Array<[string, Record<string, string>, number[]]> = [
      [`/console/payments/${a.paymentId}/approve`, { phone: DEMO.userPhone }, [404]], [`/console/payments/${a.paymentId}/reject`, {}, [404]],
      [`/console/payments/${a.paymentId}/expire`, {}, [404]], [`/console/payments/${a.paymentId}/redeliver`, {}, [404]],
      [`/console/webhooks/${a.webhookId}/deliveries/${a.deliveryId}/resend`, {}, [404]], [`/console/merchants/${a.msn}`, { active: 'on' }, [404]],
      [`/console/users/${a.userPhone}/cards`, { brand: 'VISA' }, [404]], [`/console/psps/${a.pspId}/rotate-secret`, {}, [404]],
      ['/console/psps', { name: 'Made by B in the console' }, [403]], ['/console/batch/run', {}, [403]],
      [`/console/psps/${b.pspId}/console-credentials`, { name: 'B issuing' }, [403]],
      [`/console/psps/${a.pspId}/console-credentials/${a.credential.credentialId}/revoke`, {}, [403]],
    ];
    for (const [path, fields, statuses] of actions) {
      const answer = await browser.post(path, fields);
      assert.ok(statuses.includes(answer.status), `POST ${path}: ${answer.status}`);
    }
    await assertUntouched(a);
  });

  it('the console: a PSP\'s person sees its own objects', async () => {
    const browser = new ConsoleBrowser(server.url);
    await browser.signIn(a.credential.token);
    const payments = await browser.get('/console/payments');
    assert.ok(payments.html.includes(a.pspTransactionId));
    for (const secret of b.secrets) assert.ok(!payments.html.includes(secret));
    assert.equal((await browser.get(`/console/payments/${a.paymentId}`)).status, 200);
    assert.equal((await browser.get(`/console/agreements/${a.agreementId}`)).status, 200);
    const users = await browser.get('/console/users');
    assert.ok(users.html.includes(a.userPhone));
    assert.ok(!users.html.includes(DEMO.userPhone), 'the seeded users are the operator\'s');
    const readiness = await browser.get('/console/readiness');
    assert.equal(readiness.status, 200);
    assert.match(readiness.html, /Go-live readiness: /);
  });

  it('a revoked credential is refused at once: the API, its console session, and a new sign-in', async () => {
    const t = await call(server.url, 'POST', `/admin/psps/${b.pspId}/console-credentials`, { headers: adminHeaders(), body: { name: 'Short-lived' } });
    const token = t.body.token as string;
    const browser = new ConsoleBrowser(server.url);
    await browser.signIn(token);
    assert.equal((await browser.get('/console/payments')).status, 200);
    assert.equal((await call(server.url, 'GET', '/admin/payments', { headers: auth(token) })).status, 200);
    // A PSP's person cannot revoke another PSP's credential, nor issue one.
    assert.equal((await call(server.url, 'DELETE', `/admin/psps/${a.pspId}/console-credentials/${a.credential.credentialId}`, { headers: auth(token) })).status, 404);
    assert.equal((await call(server.url, 'POST', `/admin/psps/${b.pspId}/console-credentials`, { headers: auth(token), body: { name: 'x' } })).status, 403);
    const revoked = await call(server.url, 'DELETE', `/admin/psps/${b.pspId}/console-credentials/${t.body.credentialId}`, { headers: adminHeaders() });
    assert.equal(revoked.status, 200, revoked.text);
    assert.ok(revoked.body.revokedAt);
    assert.equal((await call(server.url, 'GET', '/admin/payments', { headers: auth(token) })).status, 401);
    const page = await browser.get('/console/payments');
    assert.equal(page.status, 303, 'the session ended with its credential');
    assert.match(page.location ?? '', /^\/console\/sign-in/);
    const again = new ConsoleBrowser(server.url);
    await again.get('/console/sign-in');
    assert.equal((await again.post('/console/sign-in', { token })).status, 401);
    // The operator token still works, and signs in to the whole view.
    const operator = new ConsoleBrowser(server.url);
    await operator.signIn(ADMIN_TOKEN);
    const all = await operator.get(`/console/payments?psp=${a.pspId}`);
    assert.ok(all.html.includes(a.pspTransactionId));
  });

  it('the operator issues and revokes console credentials in the console', async () => {
    const operator = new ConsoleBrowser(server.url);
    await operator.signIn(ADMIN_TOKEN);
    const psps = await operator.get('/console/psps');
    assert.match(psps.html, /Person of a/);
    const issued = await operator.post(`/console/psps/${a.pspId}/console-credentials`, { name: 'Grace at the demo PSP' });
    assert.equal(issued.status, 201);
    const token = /id="credential-token">(vpc_[A-Za-z0-9_-]{43})</.exec(issued.html)?.[1];
    assert.ok(token, 'the token is on the page');
    const person = new ConsoleBrowser(server.url);
    await person.signIn(token);
    assert.match((await person.get('/console')).html, /Signed in as Grace at the demo PSP/);
    const list = await call(server.url, 'GET', `/admin/psps/${a.pspId}/console-credentials`, { headers: adminHeaders() });
    const id = list.body.credentials.find((c: { name: string }) => c.name === 'Grace at the demo PSP').credentialId as string;
    await operator.get('/console/psps');
    const revoked = await operator.post(`/console/psps/${a.pspId}/console-credentials/${id}/revoke`);
    assert.equal(revoked.status, 303);
    assert.equal((await person.get('/console')).status, 303, 'signed out at once');
  });

  it('the audit log lists each action: who, what, which object, when, from where; a PSP\'s person sees its own', async () => {
    const h = auth(a.credential.token);
    const renamed = await call(server.url, 'PATCH', `/admin/users/${a.userPhone}`, { headers: h, body: { name: 'Renamed by A' } });
    assert.equal(renamed.status, 200, renamed.text);
    const log = await call(server.url, 'GET', '/admin/audit?limit=500', { headers: adminHeaders() });
    assert.equal(log.status, 200, log.text);
    const entries = log.body.entries as Array<{ id: number; at: string; actor: { kind: string; pspId: string | null; name: string }; via: string; method: string; route: string; object: Record<string, string>; status: number; address: string }>;
    const rename = entries.find((e) => e.method === 'PATCH' && e.route === '/admin/users/:phone' && e.object.phone === a.userPhone);
    assert.ok(rename, 'the rename is recorded');
    assert.deepEqual(rename.actor, { kind: 'psp', pspId: a.pspId, credentialId: a.credential.credentialId, name: 'Person of a' });
    assert.equal(rename.via, 'operator-api');
    assert.equal(rename.status, 200);
    assert.match(rename.address, /127\.0\.0\.1/);
    assert.ok(Math.abs(Date.parse(rename.at) - Date.now()) < 60_000);
    // The operator's issuing, B's refused attempts and B's console actions are there too.
    assert.ok(entries.some((e) => e.actor.kind === 'operator' && e.route === '/admin/psps/:pspId/console-credentials' && e.method === 'POST' && e.status === 201));
    assert.ok(entries.some((e) => e.actor.pspId === b.pspId && e.method === 'POST' && e.route === '/admin/clock/advance' && e.status === 403));
    assert.ok(entries.some((e) => e.actor.pspId === b.pspId && e.via === 'console' && e.route === '/console/payments/:id/reject' && e.status === 404));
    assert.ok(entries.some((e) => e.via === 'console' && e.route === '/console/sign-in' && e.status === 303));
    // Reads are not actions.
    assert.ok(!entries.some((e) => e.method === 'GET'));
    const own = await call(server.url, 'GET', '/admin/audit', { headers: h });
    const mine = own.body.entries as Array<{ actor: { pspId: string | null }; pspId: string | null }>;
    assert.ok(mine.length > 0);
    assert.ok(mine.every((e) => e.actor.pspId === a.pspId || e.pspId === a.pspId), 'only its own people\'s actions and those on its objects');
    // And in the console.
    const browser = new ConsoleBrowser(server.url);
    await browser.signIn(ADMIN_TOKEN);
    const page = await browser.get('/console/audit');
    assert.equal(page.status, 200);
    assert.match(page.html, /PATCH \/admin\/users\/:phone/);
    assert.match(page.html, /Person of a \(PSP /);
  });
});

describe('a revoked credential, with two processes on one PostgreSQL', { skip: process.env.DATABASE_URL ? false : 'needs PostgreSQL (DATABASE_URL): one embedded database serves one process' }, () => {
  it('is refused at once by the other process too: its API calls and its console session there', async () => {
    const one = await startTestServer();
    const two = await startTestServer({}, { databaseUrl: one.databaseUrl });
    try {
      const issued = await call(one.url, 'POST', `/admin/psps/${DEMO.psp.pspId}/console-credentials`, { headers: adminHeaders(), body: { name: 'Two processes' } });
      const token = issued.body.token as string;
      const browser = new ConsoleBrowser(two.url);
      await browser.signIn(token);
      assert.equal((await browser.get('/console/payments')).status, 200);
      assert.equal((await call(two.url, 'GET', '/admin/payments', { headers: auth(token) })).status, 200);
      const revoked = await call(one.url, 'DELETE', `/admin/psps/${DEMO.psp.pspId}/console-credentials/${issued.body.credentialId}`, { headers: adminHeaders() });
      assert.equal(revoked.status, 200);
      assert.equal((await call(two.url, 'GET', '/admin/payments', { headers: auth(token) })).status, 401);
      assert.equal((await browser.get('/console/payments')).status, 303);
    } finally {
      await two.close();
      await one.close();
    }
  });
});
