// The Recurring document this server serves (/openapi/recurring.yaml): valid OpenAPI 3, the published
// 2.6.17 document's operations this server answers with the PSP parts merged in, a route for every
// operation, and the server's own answers valid against it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { adminHeaders, call, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { CardCallbackStub } from '../support/card-callback-stub.ts';
import { dereference, type Doc } from '../support/openapi.ts';

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

/** OpenAPI 3.0's boolean exclusiveMinimum/exclusiveMaximum (false: the bound is inclusive) as JSON Schema has it: left out. */
function forAjv(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forAjv);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(Object.entries(schema)
    .filter(([k, v]) => !((k === 'exclusiveMinimum' || k === 'exclusiveMaximum') && typeof v === 'boolean'))
    .map(([k, v]) => [k, forAjv(v)]));
}

describe('the Recurring document', () => {
  let server: TestServer;
  let stub: CardCallbackStub;
  let doc: Doc;
  let text: string;
  let h: Record<string, string>;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);

  before(async () => {
    stub = await CardCallbackStub.start(DEMO.psp.clientSecret);
    server = await startTestServer();
    h = await pspHeaders(server.url);
    const answer = await fetch(`${server.url}/openapi/recurring.yaml`);
    assert.equal(answer.status, 200);
    text = await answer.text();
    doc = parse(text);
  });
  after(async () => {
    await server?.close();
    await stub?.close();
  });

  it('is valid OpenAPI 3, points at this server, and lists the PSP parts', async () => {
    const config = await createConfig({ rules: { struct: 'error', 'path-parameters-defined': 'error', 'operation-operationId-unique': 'error', 'no-unresolved-refs': 'error', 'security-defined': 'error' } });
    const problems = (await lintFromString({ source: text, absoluteRef: '/recurring.yaml', config })).filter((p) => p.severity === 'error');
    assert.deepEqual(problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`), []);
    assert.deepEqual(doc.servers.map((s: Doc) => s.url), [server.services.config.publicUrl]);
    assert.doesNotMatch(text, /apitest\.vipps\.no/);
    assert.deepEqual(JSON.parse(await (await fetch(`${server.url}/openapi/recurring.json`)).text()), doc);
    assert.ok(doc.paths['/recurring/v4/agreements/charges'].post);
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/recurring/v2/')), 'no deprecated v2 operations');
    assert.ok(doc.components.schemas.DraftAgreementV3.required.includes('cardPassthrough'));
    for (const item of Object.values(doc.paths) as Doc[]) {
      for (const [method, op] of Object.entries(item) as Array<[string, Doc]>) {
        if (METHODS.has(method)) assert.ok(op.parameters.some((p: Doc) => p.$ref === '#/components/parameters/Psp-Id'), method);
      }
    }
  });

  it('has a route for every operation', async () => {
    for (const [path, item] of Object.entries(doc.paths) as Array<[string, Doc]>) {
      for (const method of Object.keys(item).filter((m) => METHODS.has(m))) {
        const answer = await call(server.url, method.toUpperCase(), path.replace('{agreementId}', 'agr_x').replace('{chargeId}', 'chr-x'), {});
        assert.equal(answer.status, 401, `${method} ${path}: ${answer.text}`);
      }
    }
  });

  it('describes the answers the server gives', async () => {
    let checked = 0;
    const check = async (method: string, docPath: string, path: string, body?: unknown, keyed = method !== 'GET') => {
      const answer = await call(server.url, method, path, { headers: { ...h, ...(keyed ? { 'idempotency-key': randomUUID().slice(0, 36) } : {}) }, ...(body === undefined ? {} : { body }) });
      let response = doc.paths[docPath][method.toLowerCase()].responses[String(answer.status)] ?? doc.paths[docPath][method.toLowerCase()].responses.default;
      assert.ok(response, `${method} ${path} answered ${answer.status}, which the document does not list: ${answer.text}`);
      response = dereference(response, doc) as Doc;
      if (!response.content || answer.status === 204) {
        assert.equal(answer.text, '', `${method} ${path}: no content is documented`);
      } else {
        const type = (answer.headers.get('content-type') ?? '').split(';')[0];
        const key = Object.keys(response.content).find((k) => k.split(';')[0].trim() === type);
        const schema = key === undefined ? undefined : response.content[key].schema;
        assert.ok(schema, `${method} ${path} ${answer.status}: no schema for ${type}`);
        const validate = ajv.compile(forAjv(dereference(schema, doc)) as object);
        assert.ok(validate(answer.body), `${method} ${path} ${answer.status}: ${ajv.errorsText(validate.errors)}\n${answer.text}`);
      }
      checked += 1;
      return answer;
    };
    const drafted = await check('POST', '/recurring/v3/agreements', '/recurring/v3/agreements', {
      pricing: { type: 'LEGACY', currency: 'NOK', amount: 14900 }, interval: { unit: 'MONTH', count: 1 },
      initialCharge: { amount: 14900, description: 'First', transactionType: 'RESERVE_CAPTURE' },
      merchantRedirectUrl: 'https://shop.example/r', merchantAgreementUrl: 'https://shop.example/a', productName: 'Docs',
      cardPassthrough: { pspReference: 'docs-1', cardCallbackUrl: stub.url, allowedCardTypes: ['VISA_DEBIT'] },
    });
    const id = drafted.body.agreementId as string;
    const chargeId = drafted.body.chargeId as string;
    await check('POST', '/recurring/v3/agreements', '/recurring/v3/agreements', { productName: 'x' });
    await check('GET', '/recurring/v3/agreements/{agreementId}', `/recurring/v3/agreements/${id}`);
    await check('PATCH', '/recurring/v3/agreements/{agreementId}/accept', `/recurring/v3/agreements/${id}/accept`, { phoneNumber: `47${DEMO.userPhone}` });
    await check('GET', '/recurring/v3/agreements', '/recurring/v3/agreements?status=ACTIVE');
    await check('GET', '/recurring/v3/agreements/{agreementId}', `/recurring/v3/agreements/${id}`);
    await check('PATCH', '/recurring/v3/agreements/{agreementId}', `/recurring/v3/agreements/${id}`, { productName: 'Docs 2' });
    await check('POST', '/recurring/v3/agreements/{agreementId}/charges/{chargeId}/capture', `/recurring/v3/agreements/${id}/charges/${chargeId}/capture`, { amount: 14900, description: 'all' });
    await check('POST', '/recurring/v3/agreements/{agreementId}/charges/{chargeId}/refund', `/recurring/v3/agreements/${id}/charges/${chargeId}/refund`, { amount: 100, description: 'some' });
    await check('GET', '/recurring/v3/agreements/{agreementId}/charges/{chargeId}', `/recurring/v3/agreements/${id}/charges/${chargeId}`);
    await check('GET', '/recurring/v3/charges/{chargeId}', `/recurring/v3/charges/${chargeId}`);
    const today = (await call(server.url, 'GET', '/admin/clock', { headers: adminHeaders() })).body.now as string;
    const due = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Oslo' }).format(new Date(today));
    const batch = await check('POST', '/recurring/v4/agreements/charges', '/recurring/v4/agreements/charges', [
      { agreementId: id, chargeId: 'docs-r1', type: 'RECURRING', amount: 14900, transactionType: 'RESERVE_CAPTURE', due, retryDays: 2 },
      { agreementId: id, chargeId: 'docs-u1', type: 'UNSCHEDULED', amount: 500, transactionType: 'DIRECT_CAPTURE' },
      { agreementId: id, chargeId: 'docs-bad', type: 'RECURRING', amount: 0, transactionType: 'DIRECT_CAPTURE' },
    ]);
    assert.equal(batch.body.successfulCharges.length, 2, batch.text);
    await check('POST', '/recurring/v4/agreements/charges', '/recurring/v4/agreements/charges', []);
    await check('POST', '/recurring/v4/agreements/{agreementId}/charges/{chargeId}/result', `/recurring/v4/agreements/${id}/charges/docs-r1/result`, { status: 'SUCCESS' });
    await check('GET', '/recurring/v4/agreements/{agreementId}/charges/{chargeId}/payment-info', `/recurring/v4/agreements/${id}/charges/docs-r1/payment-info`);
    await check('POST', '/recurring/v4/agreements/{agreementId}/charges/{chargeId}/result', `/recurring/v4/agreements/${id}/charges/docs-r1/result`, { status: 'SUCCESS' });
    await check('GET', '/recurring/v4/agreements/{agreementId}/charges/{chargeId}/payment-info', `/recurring/v4/agreements/${id}/charges/docs-u1/payment-info`);
    await check('GET', '/recurring/v3/agreements/{agreementId}/charges', `/recurring/v3/agreements/${id}/charges`);
    await check('DELETE', '/recurring/v3/agreements/{agreementId}/charges/{chargeId}', `/recurring/v3/agreements/${id}/charges/docs-u1`);
    await check('PATCH', '/recurring/v3/agreements/{agreementId}', `/recurring/v3/agreements/${id}`, { status: 'STOPPED' });
    assert.equal(checked, 20);
  });
});
