import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { call, DEMO, DEMO_CLIENT, startTestServer, type TestServer } from '../support/server.ts';

describe('POST /accessToken/get', () => {
  let server: TestServer;
  before(async () => { server = await startTestServer(); });
  after(async () => { await server.close(); });

  const demoHeaders = {
    client_id: DEMO.psp.clientId,
    client_secret: DEMO.psp.clientSecret,
    'Ocp-Apim-Subscription-Key': DEMO.psp.subscriptionKey,
  };

  it('issues a token for the documented demo credentials, as curl --data "" sends it', async () => {
    const answer = await call(server.url, 'POST', '/accessToken/get', {
      headers: { ...demoHeaders, 'content-type': 'application/x-www-form-urlencoded' }, raw: '',
    });
    assert.equal(answer.status, 200);
    const b = answer.body;
    assert.equal(b.token_type, 'Bearer');
    for (const field of ['expires_in', 'ext_expires_in', 'expires_on', 'not_before']) {
      assert.match(b[field], /^\d+$/, `${field} is a string of digits`);
    }
    assert.equal(b.expires_in, '3600');
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Math.abs(Number(b.not_before) - now) < 60);
    assert.equal(Number(b.expires_on) - Number(b.not_before), 3600);
    assert.equal(typeof b.resource, 'string');
    assert.equal(b.access_token.split('.').length, 3);
  });

  it('accepts no body, a JSON content type with an empty body, and a JSON body', async () => {
    const variants: Array<{ headers?: Record<string, string>; raw?: string; body?: unknown }> = [
      {}, { headers: { 'content-type': 'application/json' }, raw: '' }, { body: {} },
    ];
    for (const extra of variants) {
      const answer = await call(server.url, 'POST', '/accessToken/get', { ...extra, headers: { ...demoHeaders, ...extra.headers } });
      assert.equal(answer.status, 200, answer.text);
    }
  });

  it('answers any casing and a trailing slash', async () => {
    for (const path of ['/accesstoken/get', '/ACCESSTOKEN/GET/', '/accessToken/get/']) {
      const answer = await call(server.url, 'POST', path, { headers: demoHeaders });
      assert.equal(answer.status, 200, path);
    }
  });

  it('signs an RS256 JWT verifiable with the published JWKS', async () => {
    const answer = await call(server.url, 'POST', '/accessToken/get', { headers: demoHeaders });
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(answer.body.access_token, jwks);
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.psp_id, DEMO_CLIENT.pspId);
    assert.equal(payload.client_id, DEMO_CLIENT.clientId);
    const keys = (await call(server.url, 'GET', '/.well-known/jwks.json')).body.keys;
    assert.equal(keys.length, 1);
    assert.equal(keys[0].d, undefined, 'no private part in the JWKS');
  });

  it('says which credential is wrong', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ client_id: DEMO.psp.clientId, client_secret: DEMO.psp.clientSecret }, 'missing subscription key'],
      [{ ...demoHeaders, 'Ocp-Apim-Subscription-Key': 'ffffffffffffffffffffffffffffffff' }, 'invalid subscription key'],
      [{ ...demoHeaders, client_secret: 'wrong' }, 'Invalid client credentials'],
      [{ ...demoHeaders, client_id: '00000000-0000-0000-0000-000000000000' }, 'Invalid client credentials'],
      [{ 'Ocp-Apim-Subscription-Key': DEMO.psp.subscriptionKey }, 'Missing client credentials'],
    ];
    for (const [headers, expected] of cases) {
      const answer = await call(server.url, 'POST', '/accessToken/get', { headers });
      assert.equal(answer.status, 401, expected);
      assert.equal(answer.body.statusCode, 401);
      assert.ok(answer.body.message.includes(expected), `${answer.body.message} should mention ${expected}`);
      assert.equal(answer.body.access_token, undefined);
    }
  });

  it("rejects one PSP's client credentials with another PSP's subscription key", async () => {
    const other = (await call(server.url, 'POST', '/admin/psps', {
      headers: { authorization: 'Bearer test-admin-token-0123456789' }, body: { name: 'Second PSP' },
    })).body;
    const answer = await call(server.url, 'POST', '/accessToken/get', {
      headers: { ...demoHeaders, 'Ocp-Apim-Subscription-Key': other.subscriptionKey },
    });
    assert.equal(answer.status, 401);
    assert.match(answer.body.message, /Invalid client credentials/);
    const own = await call(server.url, 'POST', '/accessToken/get', {
      headers: { client_id: other.clientId, client_secret: other.clientSecret, 'Ocp-Apim-Subscription-Key': other.subscriptionKey },
    });
    assert.equal(own.status, 200);
  });

  it('rejects an over-long Vipps-System-Name with 400', async () => {
    const answer = await call(server.url, 'POST', '/accessToken/get', { headers: { ...demoHeaders, 'Vipps-System-Name': 'x'.repeat(31) } });
    assert.equal(answer.status, 400);
  });
});

describe('ACCESS_TOKEN_TTL_SECONDS and VIPPS_ENV', () => {
  it('uses the configured lifetime', async () => {
    const server = await startTestServer({ ACCESS_TOKEN_TTL_SECONDS: '120' });
    try {
      const answer = await call(server.url, 'POST', '/accessToken/get', {
        headers: { client_id: DEMO.psp.clientId, client_secret: DEMO.psp.clientSecret, 'Ocp-Apim-Subscription-Key': DEMO.psp.subscriptionKey },
      });
      assert.equal(answer.body.expires_in, '120');
    } finally {
      await server.close();
    }
  });

  it('seeds nothing in production', async () => {
    const server = await startTestServer({ VIPPS_ENV: 'production' });
    try {
      const answer = await call(server.url, 'POST', '/accessToken/get', {
        headers: { client_id: DEMO.psp.clientId, client_secret: DEMO.psp.clientSecret, 'Ocp-Apim-Subscription-Key': DEMO.psp.subscriptionKey },
      });
      assert.equal(answer.status, 401);
      assert.match(answer.body.message, /invalid subscription key/);
    } finally {
      await server.close();
    }
  });
});
