// Operator API under /admin, plus /health and /ready.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_TOKEN, adminHeaders, backend, call, DEMO, pspHeaders, startTestServer, type Answer, type PspClient, type TestServer,
} from '../support/server.ts';

const SIGNUP = '/merchant-management/psp/v1/merchants';

function assertProblem(answer: Answer, status: number): Record<string, any> {
  assert.equal(answer.status, status, answer.text);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const b = answer.body;
  assert.equal(b.status, status);
  for (const field of ['type', 'title', 'detail', 'instance']) assert.equal(typeof b[field], 'string', `${field} in ${answer.text}`);
  return b;
}

// Both servers start together; the production one has no ADMIN_TOKEN.
let server: TestServer;
let production: TestServer;
before(async () => {
  [server, production] = await Promise.all([startTestServer(), startTestServer({ VIPPS_ENV: 'production', ADMIN_TOKEN: '' })]);
});
after(async () => { await Promise.all([server?.close(), production?.close()]); });

describe('operator API', () => {
  const admin = (method: string, path: string, body?: unknown) =>
    call(server.url, method, path, { headers: adminHeaders(), ...(body === undefined ? {} : { body }) });

  describe('authentication', () => {
    it('answers 401 problem without a token or with a wrong one, on every route', async () => {
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/admin/psps'], ['POST', '/admin/psps', { name: 'Nope' }], ['GET', '/admin/merchants'],
        ['PATCH', `/admin/merchants/${DEMO.msn}`, { active: false }], ['GET', '/admin/users'],
        ['POST', '/admin/users', { phone: '40000000' }], ['POST', `/admin/users/${DEMO.userPhone}/cards`, { brand: 'VISA' }],
        ['PATCH', `/admin/users/${DEMO.userPhone}`, { pin: '1234' }],
      ];
      const wrong: Array<Record<string, string>> = [
        {}, { authorization: `Bearer ${ADMIN_TOKEN}x` }, { authorization: 'Bearer wrong-token-wrong-token' },
        { authorization: ADMIN_TOKEN }, { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
      ];
      for (const [method, path, body] of routes) {
        for (const headers of wrong) {
          const answer = await call(server.url, method, path, { headers, ...(body === undefined ? {} : { body }) });
          const b = assertProblem(answer, 401);
          assert.match(b.detail, /ADMIN_TOKEN/, `${method} ${path}`);
        }
      }
      // Nothing above had an effect.
      const merchants = (await admin('GET', '/admin/merchants')).body.merchants;
      assert.equal(merchants.find((m: { merchantSerialNumber: string }) => m.merchantSerialNumber === DEMO.msn).status, 'ACTIVE');
      const users = (await admin('GET', '/admin/users')).body.users;
      assert.ok(!users.some((u: { phone: string }) => u.phone === '40000000'));
    });

    it('accepts the token case-insensitively on the scheme', async () => {
      const answer = await call(server.url, 'GET', '/admin/psps', { headers: { authorization: `bearer ${ADMIN_TOKEN}` } });
      assert.equal(answer.status, 200, answer.text);
    });
  });

  describe('PSPs', () => {
    let created: PspClient & { name: string };

    it('POST /admin/psps returns credentials once', async () => {
      const answer = await admin('POST', '/admin/psps', { name: 'Operator Made PSP' });
      assert.equal(answer.status, 201, answer.text);
      created = answer.body;
      assert.equal(created.name, 'Operator Made PSP');
      assert.match(created.pspId, /^[0-9A-F]{32}$/);
      assert.match(created.clientId, /^[0-9a-f-]{36}$/);
      assert.equal(typeof created.clientSecret, 'string');
      assert.ok(created.clientSecret.length >= 16);
      assert.match(created.subscriptionKey, /^[0-9a-f]{32}$/);
    });

    it('the new credentials work at POST /accessToken/get and on the Signup API', async () => {
      const token = await call(server.url, 'POST', '/accessToken/get', {
        headers: { client_id: created.clientId, client_secret: created.clientSecret, 'Ocp-Apim-Subscription-Key': created.subscriptionKey },
      });
      assert.equal(token.status, 200, token.text);
      assert.equal(token.body.token_type, 'Bearer');
      const list = await call(server.url, 'GET', SIGNUP, {
        headers: { authorization: `Bearer ${token.body.access_token}`, 'ocp-apim-subscription-key': created.subscriptionKey },
      });
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(list.body.merchants, [], 'a new PSP has no merchants');
    });

    it('GET /admin/psps lists it without secrets', async () => {
      const answer = await admin('GET', '/admin/psps');
      assert.equal(answer.status, 200, answer.text);
      const psp = answer.body.psps.find((p: { pspId: string }) => p.pspId === created.pspId);
      assert.ok(psp, 'created PSP is listed');
      assert.equal(psp.name, 'Operator Made PSP');
      assert.equal(psp.clientId, created.clientId);
      assert.ok(!Number.isNaN(Date.parse(psp.createdAt)));
      assert.ok(answer.body.psps.some((p: { pspId: string }) => p.pspId === DEMO.psp.pspId), 'demo PSP is listed');
      for (const p of answer.body.psps) {
        assert.equal(p.clientSecret, undefined);
        assert.equal(p.subscriptionKey, undefined);
        assert.equal(p.clientSecretHash, undefined);
        assert.equal(p.subscriptionKeyHash, undefined);
      }
      assert.ok(!answer.text.includes(created.clientSecret), 'the secret appears nowhere');
      assert.ok(!answer.text.includes(created.subscriptionKey), 'the subscription key appears nowhere');
      assert.ok(!answer.text.includes(DEMO.psp.clientSecret));
    });

    it('validates the PSP body', async () => {
      for (const body of [{}, { name: '' }, { name: 7 }, { name: 'x', extra: 1 }, { name: 'Nul\u0000PSP' }]) {
        const b = assertProblem(await admin('POST', '/admin/psps', body), 400);
        assert.ok(Array.isArray(b.extraDetails) && b.extraDetails.length > 0, JSON.stringify(body));
      }
    });
  });

  describe('test users and cards', () => {
    it('POST /admin/users creates a user with cards; GET /admin/users lists it', async () => {
      const answer = await admin('POST', '/admin/users', {
        phone: '41234567', name: 'Kari Nordmann', cards: [{ brand: 'VISA' }, { brand: 'MASTERCARD', last4: '4444', expiryMonth: '06', expiryYear: '2031' }],
      });
      assert.equal(answer.status, 201, answer.text);
      assert.equal(answer.body.phone, '41234567');
      assert.equal(answer.body.name, 'Kari Nordmann');
      assert.deepEqual(answer.body.cards.map((c: { brand: string }) => c.brand), ['VISA', 'MASTERCARD']);
      const mc = answer.body.cards[1];
      assert.equal(mc.last4, '4444');
      assert.equal(mc.expiryMonth, '06');
      assert.equal(mc.expiryYear, '2031');
      assert.equal(typeof mc.cardId, 'string');

      const users = (await admin('GET', '/admin/users')).body.users;
      const kari = users.find((u: { phone: string }) => u.phone === '41234567');
      assert.ok(kari, 'user is listed');
      assert.equal(kari.name, 'Kari Nordmann');
      assert.deepEqual(kari.cards.map((c: { brand: string; last4: string }) => `${c.brand} ${c.last4}`), [`VISA ${answer.body.cards[0].last4}`, 'MASTERCARD 4444']);
      const demoUser = users.find((u: { phone: string }) => u.phone === DEMO.userPhone);
      assert.ok(demoUser, 'the demo user is listed');
      assert.equal(demoUser.cards[0].brand, 'VISA');
    });

    it('gives a user without cards one VISA card', async () => {
      const answer = await admin('POST', '/admin/users', { phone: '41234568' });
      assert.equal(answer.status, 201, answer.text);
      assert.deepEqual(answer.body.cards.map((c: { brand: string }) => c.brand), ['VISA']);
    });

    it('answers 409 for a duplicate user and keeps the first', async () => {
      const again = await admin('POST', '/admin/users', { phone: '41234567', name: 'Someone Else', cards: [{ brand: 'MASTERCARD' }] });
      assertProblem(again, 409);
      const kari = (await admin('GET', '/admin/users')).body.users.find((u: { phone: string }) => u.phone === '41234567');
      assert.equal(kari.name, 'Kari Nordmann');
      assert.equal(kari.cards.length, 2);
    });

    it('answers 400 for a bad phone number or card', async () => {
      for (const phone of ['4123456', '412345678', '4123456a', '+4741234567', 41234569]) {
        const b = assertProblem(await admin('POST', '/admin/users', { phone }), 400);
        assert.ok(b.extraDetails.some((d: { name: string }) => d.name === 'phone'), JSON.stringify(b.extraDetails));
      }
      assertProblem(await admin('POST', '/admin/users', {}), 400);
      assertProblem(await admin('POST', '/admin/users', { phone: '41234570', cards: [{ brand: 'AMEX' }] }), 400);
      assertProblem(await admin('POST', '/admin/users', { phone: '41234570', cards: [{ brand: 'VISA', last4: '12' }] }), 400);
      assertProblem(await admin('POST', '/admin/users', { phone: '41234570', name: 'Nul\u0000Name' }), 400);
      const users = (await admin('GET', '/admin/users')).body.users;
      assert.ok(!users.some((u: { phone: string }) => u.phone === '41234570'), 'no user stored for a rejected body');
    });

    it('POST /admin/users/:phone/cards adds a MASTERCARD', async () => {
      const answer = await admin('POST', `/admin/users/${DEMO.userPhone}/cards`, { brand: 'MASTERCARD' });
      assert.equal(answer.status, 201, answer.text);
      assert.equal(answer.body.brand, 'MASTERCARD');
      assert.match(answer.body.last4, /^\d{4}$/);
      const demoUser = (await admin('GET', '/admin/users')).body.users.find((u: { phone: string }) => u.phone === DEMO.userPhone);
      assert.deepEqual(demoUser.cards.map((c: { brand: string }) => c.brand), ['VISA', 'VISA_CREDIT', 'MASTERCARD', 'MASTERCARD_CREDIT', 'DANKORT', 'VISA_DANKORT', 'MASTERCARD']);
    });

    it('answers 404 for cards of an unknown phone and 400 for a malformed one', async () => {
      assertProblem(await admin('POST', '/admin/users/49999999/cards', { brand: 'VISA' }), 404);
      assertProblem(await admin('POST', '/admin/users/4999/cards', { brand: 'VISA' }), 400);
      assertProblem(await admin('POST', `/admin/users/${DEMO.userPhone}/cards`, { brand: 'DINERS' }), 400);
    });

    it('an app login PIN: set on create, changed and removed with PATCH, shown only as hasPin', async () => {
      const created = await admin('POST', '/admin/users', { phone: '41234580', pin: '2468' });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.hasPin, true);
      assert.doesNotMatch(created.text, /2468|pinHash|scrypt/);
      const listed = await admin('GET', '/admin/users');
      assert.doesNotMatch(listed.text, /2468|pinHash|scrypt/);
      const byPhone = (phone: string) => listed.body.users.find((u: { phone: string }) => u.phone === phone);
      assert.equal(byPhone('41234580').hasPin, true);
      assert.equal(byPhone(DEMO.userPhone).hasPin, false, 'the demo user needs no PIN');

      const changed = await admin('PATCH', '/admin/users/41234580', { pin: '135790' });
      assert.equal(changed.status, 200, changed.text);
      assert.deepEqual({ phone: changed.body.phone, hasPin: changed.body.hasPin }, { phone: '41234580', hasPin: true });
      const renamed = await admin('PATCH', '/admin/users/41234580', { name: 'Pin Person' });
      assert.deepEqual({ name: renamed.body.name, hasPin: renamed.body.hasPin }, { name: 'Pin Person', hasPin: true });
      const removed = await admin('PATCH', '/admin/users/41234580', { pin: null });
      assert.equal(removed.status, 200, removed.text);
      assert.equal(removed.body.hasPin, false);

      for (const pin of ['123', '1234567', '12a4', 1234, '']) {
        assertProblem(await admin('POST', '/admin/users', { phone: '41234581', pin }), 400);
        assertProblem(await admin('PATCH', '/admin/users/41234580', { pin }), 400);
      }
      assertProblem(await admin('PATCH', '/admin/users/41234580', {}), 400);
      assertProblem(await admin('PATCH', '/admin/users/41234580', { pin: '1234', cards: [] }), 400);
      assertProblem(await admin('PATCH', '/admin/users/49999999', { pin: '1234' }), 404);
      const after = (await admin('GET', '/admin/users')).body.users;
      assert.ok(!after.some((u: { phone: string }) => u.phone === '41234581'), 'no user stored for a bad PIN');
      assert.equal(after.find((u: { phone: string }) => u.phone === '41234580').hasPin, false, 'rejected PATCHes changed nothing');
    });
  });

  describe('merchant flags', () => {
    it('PATCH {active:false} deactivates; the Signup GET still works and shows DEACTIVATED', async () => {
      const answer = await admin('PATCH', `/admin/merchants/${DEMO.msn}`, { active: false });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.merchantSerialNumber, DEMO.msn);
      assert.equal(answer.body.active, false);
      assert.equal(answer.body.status, 'DEACTIVATED');
      const headers = await pspHeaders(server.url, undefined, undefined);
      const got = await call(server.url, 'GET', `${SIGNUP}/${DEMO.msn}`, { headers });
      assert.equal(got.status, 200, got.text);
      assert.equal(got.body.name, 'Acme Shop');
      assert.equal(got.body.status, 'DEACTIVATED');
      const listed = (await call(server.url, 'GET', SIGNUP, { headers })).body.merchants;
      assert.equal(listed.find((m: { merchantSerialNumber: string }) => m.merchantSerialNumber === DEMO.msn).status, 'DEACTIVATED');
    });

    it('PATCH {active:true} reactivates (the operator may, the PSP may not)', async () => {
      const answer = await admin('PATCH', `/admin/merchants/${DEMO.msn}`, { active: true });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.status, 'ACTIVE');
      const headers = await pspHeaders(server.url, undefined, undefined);
      assert.equal((await call(server.url, 'GET', `${SIGNUP}/${DEMO.msn}`, { headers })).body.status, 'ACTIVE');
    });

    it('PATCH {skipLandingPage:true} is visible in GET /admin/merchants', async () => {
      const before = (await admin('GET', '/admin/merchants')).body.merchants.find((m: { merchantSerialNumber: string }) => m.merchantSerialNumber === DEMO.msn);
      assert.equal(before.skipLandingPage, false);
      const answer = await admin('PATCH', `/admin/merchants/${DEMO.msn}`, { skipLandingPage: true });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.skipLandingPage, true);
      const listed = await admin('GET', '/admin/merchants');
      assert.equal(listed.status, 200);
      const acme = listed.body.merchants.find((m: { merchantSerialNumber: string }) => m.merchantSerialNumber === DEMO.msn);
      assert.equal(acme.skipLandingPage, true);
      assert.equal(acme.pspId, DEMO.psp.pspId);
      assert.equal(acme.mccCode, '5411');
      assert.equal(acme.active, true);
      assert.equal(acme.status, 'ACTIVE');
    });

    it('answers 404 for an unknown MSN and 400 for a bad body', async () => {
      assertProblem(await admin('PATCH', '/admin/merchants/999999', { active: false }), 404);
      assertProblem(await admin('PATCH', '/admin/merchants/abc', { active: false }), 400);
      assertProblem(await admin('PATCH', `/admin/merchants/${DEMO.msn}`, {}), 400);
      assertProblem(await admin('PATCH', `/admin/merchants/${DEMO.msn}`, { active: 'no' }), 400);
      assertProblem(await admin('PATCH', `/admin/merchants/${DEMO.msn}`, { name: 'Renamed' }), 400);
      const acme = (await admin('GET', '/admin/merchants')).body.merchants.find((m: { merchantSerialNumber: string }) => m.merchantSerialNumber === DEMO.msn);
      assert.equal(acme.status, 'ACTIVE');
      assert.equal(acme.name, 'Acme Shop');
    });
  });

  describe('health', () => {
    it('GET /health answers 200', async () => {
      const answer = await call(server.url, 'GET', '/health');
      assert.equal(answer.status, 200);
      assert.equal(answer.body.status, 'ok');
    });

    it('GET /ready answers 200 {status: "ready"} with the database kind', async () => {
      const answer = await call(server.url, 'GET', '/ready');
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.status, 'ready');
      assert.equal(typeof answer.body.database, 'string');
      assert.match(answer.body.database, backend() === 'postgres' ? /postgres/i : /pglite/i);
    });
  });
});

describe('operator API in production without ADMIN_TOKEN', () => {
  it('answers 401 saying the operator API is disabled, whatever token is sent', async () => {
    for (const headers of [{}, adminHeaders(), { authorization: 'Bearer anything-at-all-0123456789' }]) {
      for (const [method, path] of [['GET', '/admin/psps'], ['GET', '/admin/users'], ['POST', '/admin/psps']] as const) {
        const answer = await call(production.url, method, path, { headers, ...(method === 'POST' ? { body: { name: 'Nope' } } : {}) });
        const b = assertProblem(answer, 401);
        assert.match(b.detail, /disabled/);
      }
    }
  });

  it('still serves /health and /ready', async () => {
    assert.equal((await call(production.url, 'GET', '/health')).status, 200);
    const ready = await call(production.url, 'GET', '/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
  });
});
