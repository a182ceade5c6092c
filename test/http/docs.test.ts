// The API documents under /openapi and the explorer at /docs: each document is served, parses, points
// at PUBLIC_URL, is valid OpenAPI 3 and matches the routes the server has; the published documents are
// served as published but for the documented changes; the operator API's answers are what its
// document says.
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { adminHeaders, call, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { CardCallbackStub } from '../support/card-callback-stub.ts';
import { forceApprove, initBody, initOk } from '../support/payments.ts';
import { dereference, type Doc } from '../support/openapi.ts';
import { MAKE_PAYMENT_CALLBACK, MAKE_PAYMENT_PSEUDO_PATH } from '../../src/http/docs/published.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const PUBLISHED_DIR = new URL('../../openapi/', import.meta.url);

/** The operations of a document: method (upper case) and path as written. */
function operationsOf(doc: Doc): Array<{ method: string; path: string; operation: Doc }> {
  const out: Array<{ method: string; path: string; operation: Doc }> = [];
  for (const [path, item] of Object.entries(doc.paths as Doc)) {
    for (const method of METHODS) if (item[method]) out.push({ method: method.toUpperCase(), path, operation: item[method] });
  }
  return out;
}

/** A document path as a Fastify route pattern: {name} → :name. */
function routePattern(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

/**
 * The routes the server has, from printRoutes: each line of the tree adds its text to its parent's
 * path (the radix tree may split a path anywhere, e.g. `/admin/status-batch/run` + `s`).
 */
function registeredRoutes(tree: string): Array<{ path: string; methods: string[] }> {
  const out: Array<{ path: string; methods: string[] }> = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    const path = (depth > 0 ? stack[depth - 1] : '') + m[2];
    stack[depth] = path;
    stack.length = depth + 1;
    if (m[3]) out.push({ path, methods: m[3].split(', ').filter((x) => x !== 'HEAD') });
  }
  return out;
}

/** Problems @redocly/openapi-core's structural rules find in a document (YAML or JSON text). */
async function lint(text: string, name: string): Promise<string[]> {
  const config = await createConfig({
    rules: {
      struct: 'error',
      'path-parameters-defined': 'error',
      'operation-operationId-unique': 'error',
      'operation-parameters-unique': 'error',
      'no-identical-paths': 'error',
      'security-defined': 'error',
      'no-unresolved-refs': 'error',
    },
  });
  const problems = await lintFromString({ source: text, absoluteRef: `/${name}`, config });
  return problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
}

describe('API documents and explorer', () => {
  let server: TestServer;
  let stub: PspStub;
  let publicUrl: string;
  const text: Record<string, string> = {};
  const docs: Record<string, Doc> = {};

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer();
    publicUrl = server.services.config.publicUrl;
    for (const path of ['/openapi/psp-api.yaml', '/openapi/psp-signup-api.yaml', '/openapi/admin.json']) {
      const answer = await fetch(`${server.url}${path}`);
      assert.equal(answer.status, 200, path);
      text[path] = await answer.text();
      docs[path] = parse(text[path]);
    }
  });
  after(async () => {
    await server?.close();
    await stub?.close();
  });

  describe('the documents', () => {
    it('are served with their media types, an ETag answered 304, and may be read from any origin', async () => {
      const types: Array<[string, RegExp]> = [
        ['/openapi/psp-api.yaml', /^application\/yaml; charset=utf-8$/], ['/openapi/psp-api.json', /^application\/json; charset=utf-8$/],
        ['/openapi/psp-signup-api.yaml', /^application\/yaml/], ['/openapi/psp-signup-api.json', /^application\/json/],
        ['/openapi/admin.json', /^application\/json; charset=utf-8$/], ['/openapi/admin.yaml', /^application\/yaml/],
      ];
      for (const [path, type] of types) {
        const answer = await fetch(`${server.url}${path}`);
        assert.equal(answer.status, 200, path);
        assert.match(answer.headers.get('content-type') ?? '', type, path);
        assert.equal(answer.headers.get('access-control-allow-origin'), '*', path);
        const etag = answer.headers.get('etag');
        assert.match(etag ?? '', /^"[A-Za-z0-9_-]+"$/, path);
        const body = await answer.text();
        const again = await fetch(`${server.url}${path}`, { headers: { 'if-none-match': etag! } });
        assert.equal(again.status, 304, path);
        assert.equal(await again.text(), '');
        const changed = await fetch(`${server.url}${path}`, { headers: { 'if-none-match': '"something-else"' } });
        assert.equal(changed.status, 200, path);
        assert.equal(await changed.text(), body, path);
      }
    });

    it('say the same in JSON and in YAML', async () => {
      for (const name of ['psp-api', 'psp-signup-api', 'admin']) {
        const yaml = parse(await (await fetch(`${server.url}/openapi/${name}.yaml`)).text());
        const json = JSON.parse(await (await fetch(`${server.url}/openapi/${name}.json`)).text());
        assert.deepEqual(json, yaml, name);
      }
    });

    it('point at PUBLIC_URL: the published servers\' paths kept, on this server', () => {
      assert.deepEqual(docs['/openapi/psp-api.yaml'].servers.map((s: Doc) => s.url), [`${publicUrl}/psp`]);
      assert.deepEqual(docs['/openapi/psp-signup-api.yaml'].servers.map((s: Doc) => s.url), [publicUrl]);
      assert.deepEqual(docs['/openapi/admin.json'].servers.map((s: Doc) => s.url), [publicUrl]);
      for (const body of Object.values(text)) assert.doesNotMatch(body, /apitest\.vipps\.no|api\.vipps\.no\/psp/);
    });

    it('follow PUBLIC_URL when it is set', async () => {
      const other = await startTestServer({ PUBLIC_URL: 'https://psp.example.test/' });
      try {
        for (const [name, url] of [['psp-api', 'https://psp.example.test/psp'], ['psp-signup-api', 'https://psp.example.test'], ['admin', 'https://psp.example.test']]) {
          const doc = parse(await (await fetch(`${other.url}/openapi/${name}.yaml`)).text());
          assert.equal(doc.servers[0].url, url, name);
        }
      } finally {
        await other.close();
      }
    });

    it('are valid OpenAPI 3 (the published PSP API document is not: its makePaymentUrl pseudo-path)', async () => {
      const published = readFileSync(new URL('psp-api.openapi.yaml', PUBLISHED_DIR), 'utf8');
      assert.ok((await lint(published, 'published-psp-api.yaml')).some((p) => p.includes(MAKE_PAYMENT_PSEUDO_PATH)));
      for (const [path, body] of Object.entries(text)) assert.deepEqual(await lint(body, path.slice(1)), [], path);
      for (const doc of Object.values(docs)) assert.match(doc.openapi, /^3\.0\.\d$/);
    });

    it('are the published documents but for servers, the access token scheme, the note and the makePayment callback', () => {
      for (const [path, file] of [['/openapi/psp-api.yaml', 'psp-api.openapi.yaml'], ['/openapi/psp-signup-api.yaml', 'psp-signup-api.openapi.yaml']]) {
        const published = parse(readFileSync(new URL(file, PUBLISHED_DIR), 'utf8'));
        const served = structuredClone(docs[path]);
        assert.deepEqual(served.security, [{ accessToken: [] }]);
        assert.equal(served.components.securitySchemes.accessToken.scheme, 'bearer');
        assert.ok(served.info.description.startsWith(published.info.description.trimEnd()), path);
        assert.match(served.info.description, /Authorize/);
        delete served.security;
        delete served.components.securitySchemes;
        served.info.description = published.info.description;
        served.servers = published.servers;
        const init = served.paths['/v3/psppayments/init']?.post;
        if (init?.callbacks) {
          const callback = init.callbacks.makePayment[MAKE_PAYMENT_CALLBACK];
          assert.deepEqual(callback.post.security, [], 'the makePayment call is authenticated by the makePaymentToken');
          delete callback.post.security;
          served.paths = Object.fromEntries(Object.entries(served.paths).flatMap(([p, item]) =>
            p === '/v3/psppayments/init' ? [[p, item], [MAKE_PAYMENT_PSEUDO_PATH, callback]] : [[p, item]]));
          delete init.callbacks;
        }
        assert.deepEqual(served, published, path);
      }
      assert.ok(docs['/openapi/psp-api.yaml'].paths['/v3/psppayments/init'].post.callbacks, 'the PSP API has the makePayment callback');
    });
  });

  describe('the published documents and the routes', () => {
    it('every operation of the PSP and Signup API documents is answered by a route of this server', async () => {
      for (const path of ['/openapi/psp-api.yaml', '/openapi/psp-signup-api.yaml']) {
        const doc = docs[path];
        const base = new URL(doc.servers[0].url).pathname.replace(/\/$/, '');
        const operations = operationsOf(doc);
        assert.ok(operations.length >= 4, path);
        for (const { method, path: opPath } of operations) {
          const url = `${base}${routePattern(opPath)}`;
          assert.ok(server.app.hasRoute({ method, url }), `${method} ${url} (${path}) is a route`);
          // And a request to it reaches it: refused for want of credentials, not unknown.
          const probe = await call(server.url, method, `${base}${opPath.replace(/\{[^}]+\}/g, '123456')}`, method === 'GET' ? {} : { body: {} });
          assert.ok(![404, 405].includes(probe.status), `${method} ${url}: ${probe.status} ${probe.text}`);
        }
      }
    });

    it('every route of the PSP and Signup APIs is in their documents', () => {
      const documented = new Set<string>();
      for (const path of ['/openapi/psp-api.yaml', '/openapi/psp-signup-api.yaml']) {
        const base = new URL(docs[path].servers[0].url).pathname.replace(/\/$/, '');
        for (const { method, path: p } of operationsOf(docs[path])) documented.add(`${method} ${base}${routePattern(p)}`.toLowerCase());
      }
      const routes = registeredRoutes(server.app.printRoutes({ commonPrefix: false }))
        .filter((r) => r.path.startsWith('/psp/') || r.path.startsWith('/merchant-management/'));
      assert.ok(routes.length >= 4);
      for (const route of routes) {
        for (const method of route.methods) assert.ok(documented.has(`${method} ${route.path}`.toLowerCase()), `${method} ${route.path} is documented`);
      }
    });
  });

  describe('the operator API document', () => {
    it('has exactly the /admin routes of this server, each with a summary, a tag and the bearer scheme', () => {
      const doc = docs['/openapi/admin.json'];
      assert.deepEqual(doc.components.securitySchemes.adminToken, {
        type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN, sent as `Authorization: Bearer <ADMIN_TOKEN>`.',
      });
      assert.deepEqual(doc.security, [{ adminToken: [] }]);
      const documented = operationsOf(doc).map(({ method, path }) => `${method} ${routePattern(path)}`).sort();
      const registered = registeredRoutes(server.app.printRoutes({ commonPrefix: false }))
        .filter((r) => r.path.startsWith('/admin/'))
        .flatMap((r) => r.methods.map((m) => `${m} ${r.path}`)).sort();
      assert.ok(registered.length >= 13, registered.join('\n'));
      assert.deepEqual(documented, registered);
      for (const { method, path, operation } of operationsOf(doc)) {
        assert.ok(operation.summary, `${method} ${path} has a summary`);
        assert.equal(operation.tags?.length, 1, `${method} ${path} has a tag`);
        assert.ok(operation.responses['401'], `${method} ${path} documents 401`);
        assert.ok(Object.keys(operation.responses).some((code) => /^2\d\d$/.test(code)), `${method} ${path} documents its answer`);
      }
      assert.deepEqual(Object.keys(doc.components.schemas).sort(),
        ['BatchRun', 'Card', 'EPayment', 'Merchant', 'Payment', 'Problem', 'PspCredentials', 'PspSummary', 'RejectedUpdate', 'TestUser']);
      const tags = new Set(doc.tags.map((t: Doc) => t.name));
      for (const { operation } of operationsOf(doc)) assert.ok(tags.has(operation.tags[0]), operation.tags[0]);
    });

    it('describes the answers the operator API gives', async () => {
      const doc = docs['/openapi/admin.json'];
      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormats.default(ajv);
      let checked = 0;
      /** Checks an answer against the schema the document gives for its method, path and status. */
      const check = async (method: string, docPath: string, path: string, body?: unknown, headers = adminHeaders()) => {
        const answer = await call(server.url, method, path, { headers, ...(body === undefined ? {} : { body }) });
        const response = doc.paths[docPath][method.toLowerCase()].responses[String(answer.status)];
        assert.ok(response, `${method} ${path} answered ${answer.status}, which its document does not list: ${answer.text}`);
        const type = (answer.headers.get('content-type') ?? '').split(';')[0];
        const schema = response.content?.[type]?.schema;
        assert.ok(schema, `${method} ${path} ${answer.status}: no schema for ${type}`);
        const validate = ajv.compile(dereference(schema, doc) as object);
        assert.ok(validate(answer.body), `${method} ${path} ${answer.status}: ${ajv.errorsText(validate.errors)}\n${answer.text}`);
        checked += 1;
        return answer;
      };

      const h = await pspHeaders(server.url);
      const { id, token } = await initOk(server.url, h, initBody(stub.url));
      assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
      const cancelled = await initOk(server.url, h, initBody(stub.url));
      const updated = await call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', {
        headers: h, body: { transactions: [{ pspTransactionId: 'no-such-payment', status: 'CAPTURED', amount: '100', paymentText: 'x' }] },
      });
      assert.equal(updated.status, 200, updated.text);

      await check('GET', '/admin/psps', '/admin/psps');
      await check('POST', '/admin/psps', '/admin/psps', { name: 'Documented PSP' });
      await check('POST', '/admin/psps', '/admin/psps', { name: '' });
      await check('GET', '/admin/psps', '/admin/psps', undefined, { authorization: 'Bearer wrong' });
      await check('GET', '/admin/merchants', '/admin/merchants');
      await check('PATCH', '/admin/merchants/{msn}', `/admin/merchants/${DEMO.secondMsn}`, { skipLandingPage: false });
      await check('PATCH', '/admin/merchants/{msn}', '/admin/merchants/99999', { active: true });
      await check('POST', '/admin/users', '/admin/users', { phone: '48000001', pin: '1234', cards: [{ brand: 'MASTERCARD' }] });
      await check('POST', '/admin/users', '/admin/users', { phone: '48000001' });
      await check('GET', '/admin/users', '/admin/users');
      await check('PATCH', '/admin/users/{phone}', '/admin/users/48000001', { pin: null });
      await check('POST', '/admin/users/{phone}/cards', '/admin/users/48000001/cards', { brand: 'VISA', last4: '4242' });
      await check('POST', '/admin/users/{phone}/cards', '/admin/users/48000002/cards', { brand: 'VISA' });
      await check('GET', '/admin/payments/{pspId}/{pspTransactionId}', `/admin/payments/${DEMO.psp.pspId}/${id}`);
      await check('GET', '/admin/payments/{pspId}/{pspTransactionId}', `/admin/payments/${DEMO.psp.pspId}/nothing`);
      await check('POST', '/admin/payments/{pspId}/{pspTransactionId}/reject', `/admin/payments/${DEMO.psp.pspId}/${cancelled.id}/reject`);
      await check('POST', '/admin/status-batch/run', '/admin/status-batch/run');
      await check('GET', '/admin/status-batch/runs', '/admin/status-batch/runs?limit=5');
      await check('GET', '/admin/status-batch/runs', '/admin/status-batch/runs?limit=many');
      const rejected = await check('GET', '/admin/status-batch/rejected', '/admin/status-batch/rejected');
      assert.ok(rejected.body.rejected.length > 0, 'a rejected update was checked');
      const payment = await call(server.url, 'GET', `/admin/payments/${DEMO.psp.pspId}/${id}`, { headers: adminHeaders() });
      assert.ok(payment.body.deliveries.length > 0, 'a makePayment attempt was checked');

      // An ePayment payment, authorised through a card callback, then captured.
      const callbacks = await CardCallbackStub.start(DEMO.psp.clientSecret);
      try {
        const reference = `docs-${Date.now()}`;
        const created = await call(server.url, 'POST', '/epayment/v1/payments', {
          headers: { ...h, 'idempotency-key': reference },
          body: {
            amount: { currency: 'NOK', value: 1000 }, paymentMethod: { type: 'CARD_PASSTHROUGH' }, reference, userFlow: 'WEB_REDIRECT',
            returnUrl: 'https://shop.example/return',
            cardPassthrough: { pspReference: 'docs-1', cardCallbackUrl: callbacks.url, allowedCardTypes: ['VISA_DEBIT'] },
          },
        });
        assert.equal(created.status, 201, created.text);
        const approved = await call(server.url, 'POST', `/epayment/v1/test/payments/${reference}/approve`, { headers: h, body: { customer: { phoneNumber: DEMO.userPhone } } });
        assert.equal(approved.status, 200, approved.text);
        await check('GET', '/admin/epayments', '/admin/epayments?limit=5');
        await check('GET', '/admin/epayments', '/admin/epayments?after=nonsense');
        const shown = await check('GET', '/admin/epayments/{msn}/{reference}', `/admin/epayments/${DEMO.msn}/${reference}`);
        assert.equal(shown.body.cardCallbacks.length, 1, 'a card callback was checked');
        assert.equal(shown.body.cardCallbacks[0].outcome, 'RESERVE');
        await check('GET', '/admin/epayments/{msn}/{reference}', `/admin/epayments/${DEMO.msn}/nothing-here`);
      } finally {
        await callbacks.close();
      }
      assert.equal(checked, 24);
    });
  });

  describe('the explorer', () => {
    it('is a page whose scripts and styles are files of this server, under a CSP that allows nothing else', async () => {
      for (const path of ['/docs', '/docs/']) {
        const answer = await fetch(`${server.url}${path}`);
        assert.equal(answer.status, 200, path);
        assert.match(answer.headers.get('content-type') ?? '', /^text\/html/);
        const csp = answer.headers.get('content-security-policy') ?? '';
        assert.match(csp, /default-src 'none'/);
        assert.match(csp, /script-src 'self'(;|$)/);
        assert.match(csp, /style-src 'self'(;|$)/);
        assert.match(csp, /connect-src 'self'(;|$)/);
        assert.match(csp, /frame-ancestors 'none'/);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https:/);
        const html = await answer.text();
        assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'no inline script');
        assert.doesNotMatch(html, /<style|\sstyle=/, 'no inline style');
        assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'nothing from elsewhere');
        const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1], `${server.url}${path}`).pathname);
        assert.ok(assets.some((a) => a.endsWith('/swagger-initializer.js')));
        for (const asset of assets) {
          const file = await fetch(`${server.url}${asset}`);
          assert.equal(file.status, 200, asset);
          assert.equal(file.headers.get('content-security-policy'), csp, asset);
          await file.arrayBuffer();
        }
      }
    });

    it('offers the six documents, the PSP API first', async () => {
      const initializer = await (await fetch(`${server.url}/docs/static/swagger-initializer.js`)).text();
      const urls = [...initializer.matchAll(/\{"url":"([^"]+)","name":"([^"]+)"\}/g)].map((m) => [m[1], m[2]]);
      assert.deepEqual(urls, [
        ['/openapi/psp-api.yaml', 'PSP API'], ['/openapi/psp-signup-api.yaml', 'Signup API'], ['/openapi/epayment.yaml', 'ePayment API (PSP)'],
        ['/openapi/webhooks.yaml', 'Webhooks API'], ['/openapi/recurring.yaml', 'Recurring API (PSP)'], ['/openapi/admin.json', 'Operator API'],
      ]);
      assert.match(initializer, /"urls\.primaryName":"PSP API"/);
    });
  });
});
