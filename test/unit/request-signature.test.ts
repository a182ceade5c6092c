import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contentHash, signRequest, verifyRequest } from '../../src/security/request-signature.ts';

// The published test vector of the Webhooks API's request authentication.
const SECRET = 'A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A==';
const URL_ = 'https://webhook.site/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63';
const BODY = '{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}';
const DATE = new Date('Thu, 30 Mar 2023 08:38:32 GMT');

describe('HMAC-SHA256 request signature (Webhooks scheme, also the card callback)', () => {
  it('reproduces the published test vector', () => {
    assert.equal(contentHash(BODY), 'lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4=');
    const headers = signRequest(URL_, BODY, SECRET, DATE);
    assert.deepEqual(headers, {
      'x-ms-date': 'Thu, 30 Mar 2023 08:38:32 GMT',
      'x-ms-content-sha256': 'lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4=',
      host: 'webhook.site',
      authorization: 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U=',
    });
  });

  it('verifies what it signs, and refuses another secret, body, path or host', () => {
    const url = 'http://127.0.0.1:8080/cb?x=1';
    const headers = signRequest(url, BODY, SECRET, DATE);
    const req = { method: 'POST', pathAndQuery: '/cb?x=1', headers: { ...headers, host: '127.0.0.1:8080' }, body: BODY };
    assert.equal(verifyRequest(req, SECRET), undefined);
    assert.match(verifyRequest(req, 'another secret') ?? '', /signature does not match/);
    assert.match(verifyRequest({ ...req, body: `${BODY} ` }, SECRET) ?? '', /hash of the body/);
    assert.match(verifyRequest({ ...req, pathAndQuery: '/cb?x=2' }, SECRET) ?? '', /signature does not match/);
    assert.match(verifyRequest({ ...req, headers: { ...req.headers, host: '127.0.0.1:8081' } }, SECRET) ?? '', /signature does not match/);
    assert.match(verifyRequest({ ...req, headers: { ...req.headers, authorization: undefined } }, SECRET) ?? '', /missing/);
  });
});
