// The console's PSPs (create, secrets shown once, rotate the client secret), merchants (their flags)
// and test users (add a user, add a card), and the operator API's rotate-secret route.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminHeaders, call, DEMO, DEMO_CLIENT, pspHeaders, startTestServer, type PspClient, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { init, initBody } from '../support/payments.ts';
import { ConsoleBrowser, signedIn, textOf } from '../support/console.ts';

describe('console: PSPs, merchants and test users', () => {
  let server: TestServer;
  let stub: PspStub;
  let browser: ConsoleBrowser;

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer();
    browser = await signedIn(server.url);
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  const tokenStatus = async (c: PspClient) => (await call(server.url, 'POST', '/accessToken/get', {
    headers: { client_id: c.clientId, client_secret: c.clientSecret, 'Ocp-Apim-Subscription-Key': c.subscriptionKey },
  })).status;
  /** The text of an element by id. */
  const byId = (html: string, id: string) => {
    const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html);
    assert.ok(m, `no element ${id}`);
    return m[1].replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  };

  describe('PSPs', () => {
    it('lists the PSPs with links to their payments, merchants and readiness', async () => {
      const page = await browser.get('/console/psps');
      assert.equal(page.status, 200);
      const row = textOf(new RegExp(`<tr id="psp-${DEMO.psp.pspId}">[\\s\\S]*?</tr>`).exec(page.html)![0]);
      assert.match(row, new RegExp(`^Demo PSP ${DEMO.psp.pspId} ${DEMO.psp.clientId} 2 `));
      assert.ok(page.html.includes(`href="/console/readiness?pspId=${DEMO.psp.pspId}"`));
      assert.ok(page.html.includes(`href="/console/payments?psp=${DEMO.psp.pspId}"`));
      assert.ok(page.html.includes(`href="/console/merchants?psp=${DEMO.psp.pspId}"`));
    });

    it('creates a PSP and shows its secrets once, with a curl that gets a token from PUBLIC_URL', async () => {
      assert.equal((await browser.request('POST', '/console/psps', { form: { _csrf: 'forged', name: 'X' } })).status, 403);
      const empty = await browser.post('/console/psps', { name: '   ' });
      assert.equal(empty.status, 400);
      assert.match(textOf(empty.html), /Give the PSP a name of 1 to 200 characters/);

      await browser.get('/console/psps');
      const created = await browser.post('/console/psps', { name: 'Acme <b>Pay</b>' });
      assert.equal(created.status, 201);
      assert.equal(created.headers.get('cache-control'), 'no-store');
      assert.ok(!created.html.includes('<b>Pay</b>'), 'the name is escaped');
      assert.ok(created.html.includes('Acme &lt;b&gt;Pay&lt;/b&gt;'));
      const secret = byId(created.html, 'client-secret');
      const key = byId(created.html, 'subscription-key');
      const curl = byId(created.html, 'token-curl');
      const pspId = /PSP id \(Psp-Id\)<\/dt><dd><code>([^<]+)</.exec(created.html)![1];
      const clientId = /client_id<\/dt><dd><code>([^<]+)</.exec(created.html)![1];
      assert.equal(curl, [
        `curl -X POST '${server.services.config.publicUrl}/accessToken/get' \\`,
        `  -H 'client_id: ${clientId}' \\`,
        `  -H 'client_secret: ${secret}' \\`,
        `  -H 'Ocp-Apim-Subscription-Key: ${key}'`,
      ].join('\n'));
      assert.equal(await tokenStatus({ pspId, clientId, clientSecret: secret, subscriptionKey: key }), 200);

      const list = await browser.get('/console/psps');
      assert.match(textOf(list.html), new RegExp(`Acme <b>Pay</b> ${pspId}`));
      assert.ok(!list.html.includes(secret), 'the secret is not shown again');
      assert.ok(!list.html.includes(key), 'the subscription key is not shown again');
    });

    it('rotates a client secret after a confirmation: the old one stops working at once, the new one works', async () => {
      const psp = await call(server.url, 'POST', '/admin/psps', { headers: adminHeaders(), body: { name: 'Rotating PSP' } });
      const old: PspClient = psp.body;
      assert.equal(await tokenStatus(old), 200, 'the old secret works (and is remembered as verified)');

      const confirm = await browser.get(`/console/psps/${old.pspId}/rotate-secret`);
      assert.equal(confirm.status, 200);
      assert.match(textOf(confirm.html), /The old one stops working/);
      assert.equal(await tokenStatus(old), 200, 'nothing changes before the confirmation');
      assert.equal((await browser.request('POST', `/console/psps/${old.pspId}/rotate-secret`, { form: { _csrf: 'forged' } })).status, 403);
      assert.equal(await tokenStatus(old), 200);

      const rotated = await browser.post(`/console/psps/${old.pspId}/rotate-secret`);
      assert.equal(rotated.status, 200);
      assert.match(textOf(rotated.html), /Client secret rotated: Rotating PSP/);
      const secret = byId(rotated.html, 'client-secret');
      assert.notEqual(secret, old.clientSecret);
      assert.match(byId(rotated.html, 'token-curl'), /Ocp-Apim-Subscription-Key: <your subscription key>'$/);
      assert.equal(await tokenStatus(old), 401, 'the old secret is refused');
      assert.equal(await tokenStatus({ ...old, clientSecret: secret }), 200, 'the new one works');

      assert.equal((await browser.get('/console/psps/NO-SUCH/rotate-secret')).status, 404);
      assert.equal((await browser.post('/console/psps/NO-SUCH/rotate-secret')).status, 404);
    });

    it('POST /admin/psps/{pspId}/rotate-secret does the same for the operator API', async () => {
      const psp = (await call(server.url, 'POST', '/admin/psps', { headers: adminHeaders(), body: { name: 'API rotation' } })).body as PspClient;
      assert.equal(await tokenStatus(psp), 200);
      assert.equal((await call(server.url, 'POST', `/admin/psps/${psp.pspId}/rotate-secret`)).status, 401);
      const answer = await call(server.url, 'POST', `/admin/psps/${psp.pspId}/rotate-secret`, { headers: adminHeaders() });
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(Object.keys(answer.body).sort(), ['clientId', 'clientSecret', 'name', 'note', 'pspId']);
      assert.equal(answer.body.clientId, psp.clientId);
      assert.equal(await tokenStatus(psp), 401);
      assert.equal(await tokenStatus({ ...psp, clientSecret: answer.body.clientSecret }), 200);
      const unknown = await call(server.url, 'POST', '/admin/psps/NOPE/rotate-secret', { headers: adminHeaders() });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal((await call(server.url, 'POST', '/admin/psps/bad%20id/rotate-secret', { headers: adminHeaders() })).status, 400);
    });
  });

  describe('merchants', () => {
    const row = (html: string, msn: string) => textOf(new RegExp(`<tr id="merchant-${msn}">[\\s\\S]*?</tr>`).exec(html)![0]);

    it('lists the merchants, filtered by PSP', async () => {
      const page = await browser.get('/console/merchants');
      assert.equal(page.status, 200);
      assert.match(row(page.html, DEMO.msn), new RegExp(`^${DEMO.msn} ${DEMO.merchantName} .* Demo PSP ACTIVE`));
      assert.ok(page.html.includes(`id="merchant-${DEMO.secondMsn}"`));
      const other = (await call(server.url, 'POST', '/admin/psps', { headers: adminHeaders(), body: { name: 'No merchants' } })).body;
      const none = await browser.get(`/console/merchants?psp=${other.pspId}`);
      assert.match(textOf(none.html), /No merchant for this PSP/);
      assert.equal((await browser.get('/console/merchants?after=x')).status, 400);
    });

    it('deactivates and reactivates a merchant, and sets skip landing page', async () => {
      const h = await pspHeaders(server.url, DEMO_CLIENT, DEMO.secondMsn);
      await browser.get('/console/merchants');
      assert.equal((await browser.request('POST', `/console/merchants/${DEMO.secondMsn}`, { form: { _csrf: 'forged' } })).status, 403);

      const off = await browser.post(`/console/merchants/${DEMO.secondMsn}`, {});
      assert.equal(off.status, 303);
      assert.equal(off.location, `/console/merchants?done=saved#merchant-${DEMO.secondMsn}`);
      const page = await browser.get('/console/merchants?done=saved');
      assert.match(textOf(page.html), /The merchant's flags were saved/);
      assert.match(row(page.html, DEMO.secondMsn), /DEACTIVATED/);
      const refused = await init(server.url, h, initBody(stub.url));
      assert.equal(refused.status, 400);
      assert.equal(refused.body[0].errorCode, '21');

      assert.equal((await browser.post(`/console/merchants/${DEMO.secondMsn}`, { active: 'on', skipLandingPage: 'on' })).status, 303);
      const flags = (await call(server.url, 'GET', '/admin/merchants', { headers: adminHeaders() })).body.merchants
        .find((m: any) => m.merchantSerialNumber === DEMO.secondMsn);
      assert.equal(flags.active, true);
      assert.equal(flags.skipLandingPage, true);
      assert.equal((await init(server.url, h, initBody(stub.url))).status, 200);
      const shown = await browser.get('/console/merchants');
      assert.match(shown.html, new RegExp(`name="skipLandingPage" checked`));

      assert.equal((await browser.post('/console/merchants/99999', { active: 'on' })).status, 404);
      assert.equal((await browser.post('/console/merchants/abc', { active: 'on' })).status, 404);
    });
  });

  describe('test users', () => {
    it('adds a user with a first card and a PIN; refuses a taken number and bad input with a message', async () => {
      await browser.get('/console/users');
      assert.equal((await browser.request('POST', '/console/users', { form: { _csrf: 'forged', phone: '41234567' } })).status, 403);
      const bad = await browser.post('/console/users', { phone: '4123', name: 'X', brand: 'VISA' });
      assert.equal(bad.status, 400);
      assert.match(textOf(bad.html), /The phone number is 8 digits/);
      const badPin = await browser.post('/console/users', { phone: '41234567', pin: '12', brand: 'VISA' });
      assert.equal(badPin.status, 400);
      assert.match(textOf(badPin.html), /The PIN is 4 to 6 digits/);

      const added = await browser.post('/console/users', { phone: '41234567', name: '<script>Eve</script>', pin: '1234', brand: 'MASTERCARD' });
      assert.equal(added.status, 303);
      assert.equal(added.location, '/console/users?done=user-added#user-41234567');
      const page = await browser.get('/console/users?done=user-added');
      assert.ok(!page.html.includes('<script>Eve'), 'the name is escaped');
      const section = textOf(/<section class="card" id="user-41234567">[\s\S]*?<\/section>/.exec(page.html)![0]);
      assert.match(section, /^<script>Eve<\/script> 41234567 Logs in to the app with a PIN\. Mastercard •••• 0020 expires 12\/2030/);

      const api = (await call(server.url, 'GET', '/admin/users', { headers: adminHeaders() })).body.users.find((u: any) => u.phone === '41234567');
      assert.equal(api.hasPin, true);
      assert.equal(api.cards.length, 1);

      const again = await browser.post('/console/users', { phone: '41234567', brand: 'VISA' });
      assert.equal(again.status, 409);
      assert.match(textOf(again.html), /A test user with phone number 41234567 already exists/);
    });

    it('adds a card to a user', async () => {
      await browser.get('/console/users');
      const bad = await browser.post(`/console/users/${DEMO.userPhone}/cards`, { brand: 'VISA', last4: '12' });
      assert.equal(bad.status, 400);
      assert.match(textOf(bad.html), /The last four digits are 4 digits/);
      const added = await browser.post(`/console/users/${DEMO.userPhone}/cards`, { brand: 'VISA', last4: '4242', expiryMonth: '07', expiryYear: '2031' });
      assert.equal(added.status, 303);
      const page = await browser.get('/console/users');
      assert.match(textOf(/<section class="card" id="user-92929292">[\s\S]*?<\/section>/.exec(page.html)![0]), /Visa •••• 4242 expires 07\/2031/);
      const missing = await browser.post('/console/users/11111111/cards', { brand: 'VISA' });
      assert.equal(missing.status, 404);
      assert.match(textOf(missing.html), /No test user with phone number 11111111/);
    });
  });
});
