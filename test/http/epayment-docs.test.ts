// The ePayment document this server serves (/openapi/epayment.yaml): valid OpenAPI 3, the published
// 1.4.1 document with the PSP parts merged in, every operation answered by a route, and the server's
// own answers — and the card callbacks it sends — valid against it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { call, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { CardCallbackStub } from '../support/card-callback-stub.ts';
import { cardCallbackSchema, dereference, type Doc } from '../support/openapi.ts';

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

describe('the ePayment document', () => {
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
    const answer = await fetch(`${server.url}/openapi/epayment.yaml`);
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type') ?? '', /^application\/yaml/);
    text = await answer.text();
    doc = parse(text);
  });
  after(async () => {
    await server?.close();
    await stub?.close();
  });

  it('is valid OpenAPI 3, points at this server and says the same in JSON', async () => {
    const config = await createConfig({ rules: { struct: 'error', 'path-parameters-defined': 'error', 'operation-operationId-unique': 'error', 'no-unresolved-refs': 'error', 'security-defined': 'error' } });
    const problems = (await lintFromString({ source: text, absoluteRef: '/epayment.yaml', config })).filter((p) => p.severity === 'error');
    assert.deepEqual(problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`), []);
    assert.deepEqual(doc.servers.map((s: Doc) => s.url), [server.services.config.publicUrl]);
    assert.doesNotMatch(text, /raw\.githubusercontent\.com|apitest\.vipps\.no/);
    const json = JSON.parse(await (await fetch(`${server.url}/openapi/epayment.json`)).text());
    assert.deepEqual(json, doc);
  });

  it('is the published document with the PSP parts merged in', () => {
    const published = parse(readFileSync(new URL('../../openapi/epayment.openapi.yaml', import.meta.url), 'utf8'));
    assert.deepEqual(Object.keys(doc.paths).sort(), Object.keys(published.paths).sort());
    assert.ok(doc.components.schemas.PaymentMethodType.enum.includes('CARD_PASSTHROUGH'));
    assert.equal(doc.components.schemas.CreatePaymentRequest.properties.cardPassthrough.$ref, '#/components/schemas/CardPassthrough');
    assert.ok(doc.paths['/epayment/v1/payments'].post.callbacks.cardCallback['{$request.body#/cardPassthrough/cardCallbackUrl}'].post);
    assert.equal(doc.components.schemas.Receipt.properties.orderLines.items.$ref, '#/components/schemas/OrderLine');
    for (const item of Object.values(doc.paths) as Doc[]) {
      for (const [method, op] of Object.entries(item) as Array<[string, Doc]>) {
        if (METHODS.has(method)) assert.ok(op.parameters.some((p: Doc) => p.$ref === '#/components/parameters/Psp-Id'), method);
      }
    }
    // Everything else of each published schema is as published.
    for (const name of ['Amount', 'Aggregate', 'GetPaymentResponse', 'ModificationResponse', 'CreatePaymentResponse']) {
      assert.deepEqual(doc.components.schemas[name], published.components.schemas[name], name);
    }
  });

  it('has a route for every operation', async () => {
    for (const [path, item] of Object.entries(doc.paths) as Array<[string, Doc]>) {
      for (const method of Object.keys(item).filter((m) => METHODS.has(m))) {
        const answer = await call(server.url, method.toUpperCase(), path.replace('{reference}', 'some-reference-1'), {});
        assert.equal(answer.status, 401, `${method} ${path}: ${answer.text}`);
      }
    }
  });

  it('describes the answers the server gives, and the card callbacks it sends', async () => {
    let checked = 0;
    const check = async (method: string, docPath: string, path: string, body?: unknown, headers: Record<string, string> = h) => {
      const answer = await call(server.url, method, path, { headers, ...(body === undefined ? {} : { body }) });
      let response = doc.paths[docPath][method.toLowerCase()].responses[String(answer.status)];
      assert.ok(response, `${method} ${path} answered ${answer.status}, which the document does not list: ${answer.text}`);
      response = dereference(response, doc) as Doc;
      if (!response.content) {
        assert.equal(answer.text, '', `${method} ${path}: no content is documented`);
      } else {
        const type = (answer.headers.get('content-type') ?? '').split(';')[0];
        const schema = response.content[type]?.schema;
        assert.ok(schema, `${method} ${path} ${answer.status}: no schema for ${type}`);
        const validate = ajv.compile(dereference(schema, doc) as object);
        assert.ok(validate(answer.body), `${method} ${path} ${answer.status}: ${ajv.errorsText(validate.errors)}\n${answer.text}`);
      }
      checked += 1;
      return answer;
    };
    const reference = `docs-${randomUUID().slice(0, 12)}`;
    const body = {
      amount: { currency: 'NOK', value: 49900 }, paymentMethod: { type: 'CARD_PASSTHROUGH' }, reference, userFlow: 'WEB_REDIRECT',
      returnUrl: 'https://shop.example/return', paymentDescription: 'Socks', metadata: { order: '1' },
      cardPassthrough: { pspReference: 'docs-psp-1', cardCallbackUrl: stub.url, allowedCardTypes: ['VISA_DEBIT', 'MC_DEBIT'] },
      receipt: {
        orderLines: [{ name: 'Socks', id: 'sock-1', totalAmount: 49900, totalAmountExcludingTax: 39920, totalTaxAmount: 9980, taxPercentage: 25 }],
        bottomLine: { currency: 'NOK' },
      },
    };
    await check('POST', '/epayment/v1/payments', '/epayment/v1/payments', body, { ...h, 'idempotency-key': reference });
    await check('POST', '/epayment/v1/payments', '/epayment/v1/payments', body, { ...h, 'idempotency-key': `${reference}-2` });
    await check('POST', '/epayment/v1/payments', '/epayment/v1/payments', { ...body, reference: 'x' }, { ...h, 'idempotency-key': `${reference}-3` });
    await check('GET', '/epayment/v1/payments/{reference}', `/epayment/v1/payments/${reference}`);
    await check('POST', '/epayment/v1/test/payments/{reference}/approve', `/epayment/v1/test/payments/${reference}/approve`, { customer: { phoneNumber: `47${DEMO.userPhone}` } });
    await check('GET', '/epayment/v1/payments/{reference}', `/epayment/v1/payments/${reference}`);
    await check('GET', '/epayment/v1/payments/{reference}/events', `/epayment/v1/payments/${reference}/events`);
    await check('POST', '/epayment/v1/payments/{reference}/capture', `/epayment/v1/payments/${reference}/capture`, { modificationAmount: { currency: 'NOK', value: 100 } }, { ...h, 'idempotency-key': randomUUID() });
    await check('POST', '/epayment/v1/payments/{reference}/capture', `/epayment/v1/payments/${reference}/capture`, { modificationAmount: { currency: 'NOK', value: 99999 } }, { ...h, 'idempotency-key': randomUUID() });
    await check('POST', '/epayment/v1/payments/{reference}/refund', `/epayment/v1/payments/${reference}/refund`, { modificationAmount: { currency: 'NOK', value: 100 } }, { ...h, 'idempotency-key': randomUUID() });
    await check('POST', '/epayment/v1/payments/{reference}/cancel', `/epayment/v1/payments/${reference}/cancel`, undefined, { ...h, 'idempotency-key': randomUUID() });
    await check('POST', '/epayment/v1/payments/{reference}/cancel', '/epayment/v1/payments/no-such-payment-1/cancel', undefined, { ...h, 'idempotency-key': randomUUID() });
    assert.equal(checked, 12);

    const sent = stub.callsFor('docs-psp-1');
    assert.equal(sent.length, 1);
    const callback = doc.paths['/epayment/v1/payments'].post.callbacks.cardCallback['{$request.body#/cardPassthrough/cardCallbackUrl}'].post;
    const validate = ajv.compile(cardCallbackSchema(doc) as object);
    assert.ok(validate(sent[0].body), ajv.errorsText(validate.errors));
    for (const p of callback.parameters) assert.ok(sent[0].headers[p.name.toLowerCase()], `the callback carries ${p.name}`);
  });
});
