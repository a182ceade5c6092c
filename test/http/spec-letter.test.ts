// The HTTP letter of the published specs, black-box: the media types the OpenAPI files declare for
// the answers and the makePayment request, 405 for a method a path does not support, 415 for a body
// that is not JSON; each in the shape of its API.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  adminHeaders, call, DEMO, merchantBody, pspHeaders, startTestServer, type Answer, type TestServer,
} from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { forceApprove, initBody, initOk, uniqueId } from '../support/payments.ts';

const SPEC_JSON = 'application/json;charset=UTF-8';
const INIT = '/psp/v3/psppayments/init';
const UPDATESTATUS = '/psp/v3/psppayments/updatestatus';
const SIGNUP = '/merchant-management/psp/v1/merchants';
const TOKEN_HEADERS = {
  client_id: DEMO.psp.clientId, client_secret: DEMO.psp.clientSecret, 'Ocp-Apim-Subscription-Key': DEMO.psp.subscriptionKey,
};

/** A request sent as given: `body` without a Content-Type unless the headers name one. */
function raw(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const req = http.request({ host: url.hostname, port: url.port, method, path: `${url.pathname}${url.search}`, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve({ status: res.statusCode ?? 0, headers: h, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function assertErrorDetails(answer: Answer, status: number, errorCode: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.ok(Array.isArray(answer.body), `an ErrorDetails array: ${answer.text}`);
  assert.equal(answer.body.length, 1);
  assert.equal(answer.body[0].errorCode, errorCode, answer.text);
  assert.equal(typeof answer.body[0].errorMessage, 'string');
  assert.equal(typeof answer.body[0].contextId, 'string');
}

function assertProblem(answer: Answer, status: number, contentType: string): Record<string, any> {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.headers.get('content-type'), contentType);
  const b = answer.body;
  assert.equal(b.status, status, answer.text);
  for (const field of ['type', 'title', 'detail', 'instance']) assert.equal(typeof b[field], 'string', field);
  return b;
}

function assertTokenError(answer: Answer, status: number): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.body.statusCode, status, answer.text);
  assert.equal(typeof answer.body.message, 'string');
}

describe('the HTTP letter of the specs', () => {
  let server: TestServer;
  let stub: PspStub;
  let h: Record<string, string>;
  let signup: Record<string, string>;
  const json = (extra: Record<string, string> = {}) => ({ ...h, 'content-type': 'application/json', ...extra });

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer();
    h = await pspHeaders(server.url);
    signup = await pspHeaders(server.url, undefined, undefined);
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  describe('media types as the OpenAPI files declare them', () => {
    it('PSP API init: application/json;charset=UTF-8 on 200, 400 and 401', async () => {
      const ok = await call(server.url, 'POST', INIT, { headers: h, body: initBody(stub.url) });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.headers.get('content-type'), SPEC_JSON);
      const bad = await call(server.url, 'POST', INIT, { headers: h, body: initBody(stub.url, { amount: 0 }) });
      assert.equal(bad.status, 400, bad.text);
      assert.equal(bad.headers.get('content-type'), SPEC_JSON);
      const unauthorized = await call(server.url, 'POST', INIT, { headers: { ...h, authorization: 'Bearer nope' }, body: initBody(stub.url) });
      assert.equal(unauthorized.status, 401, unauthorized.text);
      assert.equal(unauthorized.headers.get('content-type'), SPEC_JSON);
    });

    it('PSP API updatestatus and details: application/json, as declared for them, on 200 and on errors', async () => {
      const { id } = await initOk(server.url, h, initBody(stub.url));
      const transactions = [{ pspTransactionId: id, status: 'CAPTURED', amount: '49900', currency: 'NOK', paymentText: 'Socks' }];
      const ok = await call(server.url, 'POST', UPDATESTATUS, { headers: h, body: { transactions } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.headers.get('content-type'), 'application/json');
      const bad = await call(server.url, 'POST', '/psp/v3/psppayments/updateStatus/', { headers: h, body: { transactions: 'none' } });
      assert.equal(bad.status, 400, bad.text);
      assert.equal(bad.headers.get('content-type'), 'application/json');
      const found = await call(server.url, 'GET', `/psp/v3/psppayments/${id}/details`, { headers: h });
      assert.equal(found.status, 200, found.text);
      assert.equal(found.headers.get('content-type'), 'application/json');
      const missing = await call(server.url, 'GET', `/psp/v3/psppayments/${uniqueId()}/details`, { headers: h });
      assertErrorDetails(missing, 404, '404');
      assert.equal(missing.headers.get('content-type'), 'application/json');
    });

    it('PSP API: an unknown path is a 404 ErrorDetails in application/json;charset=UTF-8', async () => {
      const answer = await call(server.url, 'GET', '/psp/v3/psppayments/nothing/here', { headers: h });
      assertErrorDetails(answer, 404, '404');
      assert.equal(answer.headers.get('content-type'), SPEC_JSON);
    });

    it('Signup API: application/json;charset=UTF-8 on 200s and on its RFC 7807 errors', async () => {
      const listed = await call(server.url, 'GET', SIGNUP, { headers: signup });
      assert.equal(listed.status, 200, listed.text);
      assert.equal(listed.headers.get('content-type'), SPEC_JSON);
      const one = await call(server.url, 'GET', `${SIGNUP}/${DEMO.msn}`, { headers: signup });
      assert.equal(one.status, 200, one.text);
      assert.equal(one.headers.get('content-type'), SPEC_JSON);
      const created = await call(server.url, 'POST', SIGNUP, { headers: { ...signup, 'idempotency-key': uniqueId('key') }, body: merchantBody() });
      assert.equal(created.status, 200, created.text);
      assert.equal(created.headers.get('content-type'), SPEC_JSON);
      assertProblem(await call(server.url, 'POST', SIGNUP, { headers: signup, body: merchantBody() }), 400, SPEC_JSON);
      assertProblem(await call(server.url, 'GET', `${SIGNUP}/99999`, { headers: signup }), 404, SPEC_JSON);
      assertProblem(await call(server.url, 'GET', SIGNUP), 401, SPEC_JSON);
      // PATCH's 200 declares no content: no body, so no media type.
      const patched = await call(server.url, 'PATCH', `${SIGNUP}/${created.body.merchantSerialNumber}`, { headers: signup, body: { name: 'Renamed' } });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.text, '');
      assert.equal(patched.headers.get('content-type'), null);
    });

    it('the token endpoint, the operator API and the pages keep their own media types', async () => {
      const token = await call(server.url, 'POST', '/accessToken/get', { headers: TOKEN_HEADERS });
      assert.equal(token.status, 200, token.text);
      assert.equal(token.headers.get('content-type'), 'application/json; charset=utf-8');
      const psps = await call(server.url, 'GET', '/admin/psps', { headers: adminHeaders() });
      assert.equal(psps.status, 200, psps.text);
      assert.equal(psps.headers.get('content-type'), 'application/json; charset=utf-8');
      assertProblem(await call(server.url, 'GET', '/admin/psps'), 401, 'application/problem+json; charset=utf-8');
      const page = await call(server.url, 'GET', '/app');
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    });

    it('makePayment is sent as application/json;charset=UTF-8', async () => {
      const { id, token } = await initOk(server.url, h, initBody(stub.url));
      const approved = await forceApprove(server.url, h, id, token);
      assert.equal(approved.status, 200, approved.text);
      const calls = await stub.waitForCalls(id, 1);
      assert.equal(calls[0].headers['content-type'], SPEC_JSON);
      assert.equal(calls[0].body.pspTransactionId, id);
    });
  });

  describe('405 for a method a known path does not support, with Allow', () => {
    it('PSP API: ErrorDetails 405, any casing and trailing slash, parametric paths', async () => {
      const id = uniqueId();
      const cases = [
        ['GET', INIT, 'POST'], ['PUT', '/PSP/V3/PSPPAYMENTS/INIT/', 'POST'], ['GET', UPDATESTATUS, 'POST'],
        ['DELETE', `/psp/v3/psppayments/${id}/details`, 'GET, HEAD'], ['POST', `/psp/v3/psppayments/${id}/details/`, 'GET, HEAD'],
        ['GET', `/psp/v3/integration-test/psppayments/${id}/approve`, 'POST'], ['HEAD', INIT, 'POST'], ['OPTIONS', INIT, 'POST'],
      ] as const;
      for (const [method, path, allow] of cases) {
        const answer = await call(server.url, method, path, { headers: h });
        assert.equal(answer.status, 405, `${method} ${path}: ${answer.text}`);
        assert.equal(answer.headers.get('allow'), allow, `${method} ${path}`);
        if (method !== 'HEAD') assertErrorDetails(answer, 405, '405');
      }
    });

    it('is answered before the body is read: an unparseable body still gets 405', async () => {
      const answer = await call(server.url, 'PUT', INIT, { headers: json(), raw: '{"amount":' });
      assertErrorDetails(answer, 405, '405');
      assert.equal(answer.headers.get('content-type'), SPEC_JSON);
      const plain = await call(server.url, 'PUT', UPDATESTATUS, { headers: json(), raw: '{"amount":' });
      assertErrorDetails(plain, 405, '405');
      assert.equal(plain.headers.get('content-type'), 'application/json');
    });

    it('Signup API: problem details 405 in application/json;charset=UTF-8', async () => {
      const answer = await call(server.url, 'DELETE', `${SIGNUP}/${DEMO.msn}`, { headers: signup });
      const b = assertProblem(answer, 405, SPEC_JSON);
      assert.equal(b.title, 'Request method not supported');
      assert.equal(answer.headers.get('allow'), 'GET, HEAD, PATCH');
      assert.equal((await call(server.url, 'PUT', SIGNUP, { headers: signup, body: merchantBody() })).headers.get('allow'), 'GET, HEAD, POST');
    });

    it('token endpoint: its own error shape, 405', async () => {
      for (const [method, path] of [['GET', '/accessToken/get'], ['DELETE', '/ACCESSTOKEN/GET/'], ['PUT', '/accesstoken/get']] as const) {
        const answer = await call(server.url, method, path, { headers: TOKEN_HEADERS });
        assertTokenError(answer, 405);
        assert.equal(answer.headers.get('allow'), 'POST');
      }
    });

    it('operator API: problem details 405', async () => {
      const cases = [
        ['DELETE', '/admin/psps', 'GET, HEAD, POST'], ['PUT', `/admin/merchants/${DEMO.msn}`, 'PATCH'],
        ['GET', '/admin/status-batch/run', 'POST'], ['DELETE', `/admin/payments/${DEMO.psp.pspId}/x`, 'GET, HEAD'],
        ['GET', `/admin/payments/${DEMO.psp.pspId}/x/reject`, 'POST'],
      ] as const;
      for (const [method, path, allow] of cases) {
        const answer = await call(server.url, method, path, { headers: adminHeaders() });
        assertProblem(answer, 405, 'application/problem+json; charset=utf-8');
        assert.equal(answer.headers.get('allow'), allow, `${method} ${path}`);
      }
    });

    it('unknown paths stay 404 in each API, and the pages keep their HTML 404', async () => {
      assertErrorDetails(await call(server.url, 'DELETE', '/psp/v3/psppayments/x/y/z', { headers: h }), 404, '404');
      assertErrorDetails(await call(server.url, 'GET', '/psp/v3/psppayments/', { headers: h }), 404, '404');
      assertProblem(await call(server.url, 'DELETE', `${SIGNUP}/${DEMO.msn}/logo`, { headers: signup }), 404, SPEC_JSON);
      assertTokenError(await call(server.url, 'GET', '/accessToken/refresh'), 404);
      assertProblem(await call(server.url, 'DELETE', '/admin/nothing', { headers: adminHeaders() }), 404, 'application/problem+json; charset=utf-8');
      const page = await call(server.url, 'DELETE', '/app/');
      assert.equal(page.status, 404);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(page.headers.get('allow'), null);
    });
  });

  describe('415 for a body that is not JSON', () => {
    it('PSP API: ErrorDetails 415 for text/plain, application/xml, a form or no Content-Type', async () => {
      const body = JSON.stringify(initBody(stub.url));
      for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/xml', 'application/x-www-form-urlencoded', 'application/jsonp', undefined]) {
        const answer = await raw(server.url, 'POST', INIT, { ...h, ...(type ? { 'content-type': type } : {}) }, body);
        assertErrorDetails(answer, 415, 'unsupported_media_type');
        assert.equal(answer.headers.get('content-type'), SPEC_JSON, String(type));
      }
      const status = await raw(server.url, 'POST', UPDATESTATUS, { ...h, 'content-type': 'text/plain' }, '{"transactions":[]}');
      assertErrorDetails(status, 415, 'unsupported_media_type');
      assert.equal(status.headers.get('content-type'), 'application/json');
      const approve = await raw(server.url, 'POST', `/psp/v3/integration-test/psppayments/${uniqueId()}/approve`, { ...h, 'content-type': 'text/xml' }, '<a/>');
      assertErrorDetails(approve, 415, 'unsupported_media_type');
    });

    it('PSP API: any JSON media type is accepted', async () => {
      for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8', 'application/vnd.api+json', 'application/merge-patch+json; charset=utf-8']) {
        const answer = await raw(server.url, 'POST', INIT, { ...h, 'content-type': type }, JSON.stringify(initBody(stub.url)));
        assert.equal(answer.status, 200, `${type}: ${answer.text}`);
      }
    });

    it('a request without a body is not refused for its Content-Type', async () => {
      const answer = await raw(server.url, 'POST', `/psp/v3/integration-test/psppayments/${uniqueId()}/approve`, { ...h, 'content-type': 'text/plain' }, '');
      assert.notEqual(answer.status, 415, answer.text);
      assert.equal(answer.status, 400, answer.text);
      const noType = await raw(server.url, 'POST', INIT, h);
      assertErrorDetails(noType, 400, '51');
    });

    it('Signup API and operator API: problem details 415', async () => {
      const created = await raw(server.url, 'POST', SIGNUP, { ...signup, 'idempotency-key': uniqueId('key'), 'content-type': 'text/plain' }, JSON.stringify(merchantBody()));
      assert.equal(assertProblem(created, 415, SPEC_JSON).title, 'Unsupported media type');
      const patched = await raw(server.url, 'PATCH', `${SIGNUP}/${DEMO.msn}`, { ...signup, 'content-type': 'application/xml' }, '<name>x</name>');
      assertProblem(patched, 415, SPEC_JSON);
      const psp = await raw(server.url, 'POST', '/admin/psps', { ...adminHeaders(), 'content-type': 'text/plain' }, '{"name":"Plain PSP"}');
      assertProblem(psp, 415, 'application/problem+json; charset=utf-8');
      const listed = await call(server.url, 'GET', '/admin/psps', { headers: adminHeaders() });
      assert.ok(!JSON.stringify(listed.body).includes('Plain PSP'), 'nothing was created');
    });

    it('the token endpoint keeps taking what real clients send: a form, text, no body, no Content-Type', async () => {
      const variants: Array<[Record<string, string>, string | undefined]> = [
        [{ 'content-type': 'application/x-www-form-urlencoded' }, ''], [{ 'content-type': 'application/x-www-form-urlencoded' }, 'grant_type=client_credentials'],
        [{ 'content-type': 'text/plain' }, 'hello'], [{}, undefined], [{}, 'anything'], [{ 'content-type': 'application/xml' }, '<a/>'],
      ];
      for (const [headers, body] of variants) {
        const answer = await raw(server.url, 'POST', '/accessToken/get', { ...TOKEN_HEADERS, ...headers }, body);
        assert.equal(answer.status, 200, `${JSON.stringify(headers)} ${body}: ${answer.text}`);
      }
    });
  });
});
