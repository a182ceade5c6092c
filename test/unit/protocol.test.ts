import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { apiOf, isJsonMediaType, RouteInventory } from '../../src/http/plugins/protocol.ts';

describe('isJsonMediaType', () => {
  it('accepts application/json and application/*+json, any case and parameters', () => {
    for (const type of [
      'application/json', 'application/json;charset=UTF-8', 'application/json; charset=utf-8', 'Application/JSON',
      ' application/json ; charset=iso-8859-1', 'application/vnd.api+json', 'application/merge-patch+json; charset=utf-8', 'application/problem+json',
    ]) assert.equal(isJsonMediaType(type), true, type);
  });

  it('refuses everything else, and a missing Content-Type', () => {
    for (const type of [
      undefined, '', 'text/plain', 'text/plain;charset=UTF-8', 'application/xml', 'text/xml', 'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x', 'application/jsonp', 'application/json-seq', 'text/json', 'application/+json', 'json', 'application/octet-stream',
    ]) assert.equal(isJsonMediaType(type), false, String(type));
  });

  it('property: the parameters never change the answer', () => {
    fc.assert(fc.property(fc.constantFrom('application/json', 'text/plain', 'application/a+json', 'application/xml'), fc.string(), (type, params) => {
      assert.equal(isJsonMediaType(`${type};${params}`), isJsonMediaType(type));
    }), { numRuns: 300 });
  });
});

describe('apiOf', () => {
  it('names the API of a path by its prefix, in any case', () => {
    assert.equal(apiOf('/psp/v3/psppayments/init'), 'psp');
    assert.equal(apiOf('/PSP/V3/x'), 'psp');
    assert.equal(apiOf('/merchant-management/psp/v1/merchants'), 'signup');
    assert.equal(apiOf('/accessToken/get'), 'token');
    assert.equal(apiOf('/ACCESSTOKEN'), 'token');
    assert.equal(apiOf('/admin/psps'), 'operator');
    for (const path of ['/', '/app', '/landing', '/assets/app.js', '/health', '/ready', '/.well-known/jwks.json', '/mobileintercept', '/pspx', '/administrator', '/accesstokens']) {
      assert.equal(apiOf(path), undefined, path);
    }
  });
});

describe('RouteInventory', () => {
  const inventory = new RouteInventory();
  inventory.add({ url: '/psp/v3/psppayments/init', method: 'POST' });
  inventory.add({ url: '/psp/v3/psppayments/:pspTransactionId/details', method: 'GET', config: { mediaType: 'application/json' } });
  inventory.add({ url: '/psp/v3/psppayments/:pspTransactionId/details', method: 'HEAD', config: { mediaType: 'application/json' } });
  inventory.add({ url: '/admin/payments/:pspId/:pspTransactionId', method: ['GET', 'HEAD'] });
  inventory.add({ url: '/admin/payments/:pspId/:pspTransactionId/reject', method: 'POST' });
  inventory.add({ url: '/app/payments/:id', method: 'GET' });

  it('matches a path in any case, with or without a trailing slash, with the methods and media type of its routes', () => {
    assert.deepEqual(inventory.match('/psp/v3/psppayments/init'), { methods: ['POST'], mediaType: undefined });
    assert.deepEqual(inventory.match('/PSP/V3/PspPayments/INIT/'), { methods: ['POST'], mediaType: undefined });
    assert.deepEqual(inventory.match('/psp/v3/psppayments/abc/details/'), { methods: ['GET', 'HEAD'], mediaType: 'application/json' });
    assert.deepEqual(inventory.match('/psp/v3/psppayments/%61bc/details'), { methods: ['GET', 'HEAD'], mediaType: 'application/json' });
    assert.deepEqual(inventory.match('/admin/payments/P/T'), { methods: ['GET', 'HEAD'], mediaType: undefined });
    assert.deepEqual(inventory.match('/admin/payments/P/T/reject'), { methods: ['POST'], mediaType: undefined });
  });

  it('does not match other paths, nor keep routes outside the four APIs', () => {
    for (const path of [
      '/psp/v3/psppayments', '/psp/v3/psppayments/init/x', '/psp/v3/psppayments/init//', '/psp/v3/psppayments//details', '/psp/v3/psppayments/a/b/details',
      '/admin/payments/P', '/admin/payments/P/T/x', '/app/payments/1', '/xpsp/v3/psppayments/init', '/psp/v3/psppaymentsXinit',
    ]) assert.equal(inventory.match(path), undefined, path);
  });

  it('property: any one segment fills a parameter; a segment with a slash does not', () => {
    const segment = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes('/') && !s.includes('%'));
    fc.assert(fc.property(segment, fc.boolean(), (s, slash) => {
      assert.deepEqual(inventory.match(`/psp/v3/psppayments/${s}/details${slash ? '/' : ''}`)?.methods, ['GET', 'HEAD'], s);
      assert.equal(inventory.match(`/psp/v3/psppayments/${s}/x/details`), undefined, s);
    }), { numRuns: 300 });
  });
});
