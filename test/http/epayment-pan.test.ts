// encryptedPan: a PSP registers an RSA public key, names it in cardPassthrough.publicEncryptionKeyId,
// and a standalone Dankort then pays with its card number encrypted for the PSP (cardDataType PAN).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, privateDecrypt, randomUUID } from 'node:crypto';
import { adminHeaders, call, createPsp, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { CardCallbackStub } from '../support/card-callback-stub.ts';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { luhnValid } from '../../src/domain/epayment/encrypted-pan.ts';
import { cardCallbackSchema } from '../support/openapi.ts';

function rsaPair(bits = 2048) {
  return generateKeyPairSync('rsa', { modulusLength: bits, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
}

const codeOf = (body: any) => body?.extraDetails?.find((d: { name: string }) => d.name === 'ErrorCode')?.reason;

describe('ePayment: encryptedPan for a standalone Dankort', () => {
  let server: TestServer;
  let stub: CardCallbackStub;
  let h: Record<string, string>;
  const pair = rsaPair();
  let keyId = '';
  let dankortId = '';
  let visaId = '';

  const admin = (method: string, path: string, body?: unknown) => call(server.url, method, path, { headers: adminHeaders(), ...(body === undefined ? {} : { body }) });
  const keysPath = `/admin/psps/${DEMO.psp.pspId}/encryption-keys`;

  function createBody(pspReference: string, cardPassthrough: Record<string, unknown> = {}) {
    const reference = `pan-${randomUUID().slice(0, 20)}`;
    return {
      amount: { currency: 'DKK', value: 12500 },
      paymentMethod: { type: 'CARD_PASSTHROUGH' },
      cardPassthrough: { pspReference, cardCallbackUrl: stub.url, allowedCardTypes: ['DANKORT', 'VISA_DEBIT'], ...cardPassthrough },
      reference, userFlow: 'WEB_REDIRECT', returnUrl: 'https://shop.example/return', paymentDescription: 'Smørrebrød',
    };
  }
  const create = (body: unknown) => call(server.url, 'POST', '/epayment/v1/payments', { headers: { ...h, 'idempotency-key': randomUUID() }, body });
  const approve = (reference: string, cardId: string) =>
    call(server.url, 'POST', `/epayment/v1/test/payments/${reference}/approve`, { headers: h, body: { customer: { phoneNumber: DEMO.userPhone }, cardId } });

  before(async () => {
    stub = await CardCallbackStub.start(DEMO.psp.clientSecret);
    server = await startTestServer({ CARD_CALLBACK_TIMEOUT_MS: '2000' });
    h = await pspHeaders(server.url);
    const users = await admin('GET', '/admin/users');
    const demo = users.body.users.find((u: { phone: string }) => u.phone === DEMO.userPhone);
    dankortId = demo.cards.find((c: { brand: string }) => c.brand === 'DANKORT').cardId;
    visaId = demo.cards.find((c: { brand: string }) => c.brand === 'VISA').cardId;
  });
  after(async () => {
    await server?.close();
    await stub?.close();
  });

  it('the seeded test user holds a card of every kind, Visa debit first', async () => {
    const users = await admin('GET', '/admin/users');
    const demo = users.body.users.find((u: { phone: string }) => u.phone === DEMO.userPhone);
    assert.deepEqual(demo.cards.map((c: { brand: string }) => c.brand), ['VISA', 'VISA_CREDIT', 'MASTERCARD', 'MASTERCARD_CREDIT', 'DANKORT', 'VISA_DANKORT']);
  });

  it('registers a PSP\'s RSA public key, lists it, and refuses what is not a usable key', async () => {
    const created = await admin('POST', keysPath, { publicKey: pair.publicKey });
    assert.equal(created.status, 201, created.text);
    assert.match(created.body.keyId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(created.body.bits, 2048);
    assert.equal(created.body.algorithm, 'RSA-OAEP-256');
    assert.match(created.body.fingerprint, /^[0-9a-f]{64}$/);
    keyId = created.body.keyId;
    const listed = await admin('GET', keysPath);
    assert.equal(listed.status, 200);
    assert.ok(listed.body.keys.some((k: { keyId: string }) => k.keyId === keyId));

    // A chosen id: the same key again is the stored one (200); another key under it is 409.
    const chosen = randomUUID();
    assert.equal((await admin('POST', keysPath, { publicKey: pair.publicKey, keyId: chosen })).status, 201);
    const again = await admin('POST', keysPath, { publicKey: pair.publicKey, keyId: chosen.toUpperCase() });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.keyId, chosen);
    assert.equal((await admin('POST', keysPath, { publicKey: rsaPair().publicKey, keyId: chosen })).status, 409);
    // Another PSP may not take it either.
    const other = await createPsp(server.url, 'Key PSP');
    assert.equal((await admin('POST', `/admin/psps/${other.pspId}/encryption-keys`, { publicKey: pair.publicKey, keyId: chosen })).status, 409);

    for (const [publicKey, pattern] of [
      ['not a key', /PEM RSA public key/],
      [pair.privateKey, /PEM RSA public key/],
      ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', /not a readable/],
      [rsaPair(1024).publicKey, /2048 to 8192 bits/],
      [generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }).publicKey, /must be an RSA key/],
    ] as const) {
      const refused = await admin('POST', keysPath, { publicKey });
      assert.equal(refused.status, 400, refused.text);
      assert.match(refused.body.detail, pattern);
    }
    assert.equal((await admin('POST', keysPath, { publicKey: pair.publicKey, keyId: 'not-a-guid' })).status, 400);
    assert.equal((await admin('POST', '/admin/psps/NOSUCHPSP/encryption-keys', { publicKey: pair.publicKey })).status, 404);
    assert.equal((await admin('DELETE', `${keysPath}/${randomUUID()}`)).status, 404);
  });

  it('refuses a payment naming a key the PSP has not registered', async () => {
    const body = createBody('pan-unknown-key', { publicEncryptionKeyId: randomUUID() });
    const refused = await create(body);
    assert.equal(refused.status, 400, refused.text);
    assert.ok(refused.body.extraDetails.some((d: { name: string; reason: string }) => d.name === 'cardPassthrough.publicEncryptionKeyId' && /No public key/.test(d.reason)), refused.text);
  });

  it('sends a standalone Dankort as cardDataType PAN: the number, encrypted with RSA-OAEP-256, decrypts with the PSP\'s private key', async () => {
    const body = createBody('pan-dankort-1', { publicEncryptionKeyId: keyId.toUpperCase() });
    const created = await create(body);
    assert.equal(created.status, 201, created.text);
    const approved = await approve(body.reference, dankortId);
    assert.equal(approved.status, 200, approved.text);

    const [c] = stub.callsFor('pan-dankort-1');
    assert.equal(c.signatureProblem, undefined);
    // As the served document describes it.
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(cardCallbackSchema(parse(await (await fetch(`${server.url}/openapi/epayment.yaml`)).text())) as object);
    const sent: unknown = c.body;
    assert.ok(validate(sent), ajv.errorsText(validate.errors));
    const info = c.body.cardInfo;
    assert.equal(info.cardDataType, 'PAN');
    assert.equal(info.cardType, 'DANKORT');
    assert.equal(info.cardIssuedInCountryCode, 'DK');
    assert.equal(info.networkToken, undefined);
    assert.match(info.maskedCardNumber, /^50190000XXXX0050$/);
    const plain = privateDecrypt({ key: pair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(info.encryptedPan, 'base64')).toString('utf8');
    const ticks = /^\{"timestampticks":(\d+),/.exec(plain);
    assert.ok(ticks, plain);
    const ms = Number(BigInt(ticks[1]) / 10_000n - 62_135_596_800_000n);
    assert.ok(Math.abs(ms - Date.now()) < 60_000, `the ticks are the time of sending (${new Date(ms).toISOString()})`);
    const data = JSON.parse(plain).encryptedCardData;
    assert.deepEqual(Object.keys(data), ['cardNumber', 'expiryMonth', 'expiryYear']);
    assert.match(data.cardNumber, /^50190000\d{4}0050$/);
    assert.ok(luhnValid(data.cardNumber), `${data.cardNumber} passes the Luhn check`);
    assert.equal(data.expiryMonth, '12');
    assert.equal(data.expiryYear, '2030');

    const got = await call(server.url, 'GET', `/epayment/v1/payments/${body.reference}`, { headers: h });
    assert.equal(got.body.state, 'AUTHORIZED');
    assert.equal(got.body.paymentMethod.cardBin, '501900');

    // The same card, the same number, in the next payment.
    const second = createBody('pan-dankort-2', { publicEncryptionKeyId: keyId });
    assert.equal((await create(second)).status, 201);
    assert.equal((await approve(second.reference, dankortId)).status, 200);
    const plain2 = privateDecrypt({ key: pair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(stub.callsFor('pan-dankort-2')[0].body.cardInfo.encryptedPan, 'base64')).toString('utf8');
    assert.equal(JSON.parse(plain2).encryptedCardData.cardNumber, data.cardNumber);
    assert.notEqual(stub.callsFor('pan-dankort-2')[0].body.cardInfo.encryptedPan, info.encryptedPan, 'OAEP is randomised');
  });

  it('does not offer a standalone Dankort without publicEncryptionKeyId; the co-brand still goes as a Visa token', async () => {
    const body = createBody('pan-no-key');
    assert.equal((await create(body)).status, 201);
    const refused = await approve(body.reference, dankortId);
    assert.equal(refused.status, 400, refused.text);
    assert.equal(codeOf(refused.body), '10050');
    assert.equal(stub.callsFor('pan-no-key').length, 0);
    const users = await admin('GET', '/admin/users');
    const coBrand = users.body.users.find((u: { phone: string }) => u.phone === DEMO.userPhone).cards.find((c: { brand: string }) => c.brand === 'VISA_DANKORT');
    assert.equal((await approve(body.reference, coBrand.cardId)).status, 200);
    const info = stub.callsFor('pan-no-key')[0].body.cardInfo;
    assert.equal(info.cardType, 'DANKORT');
    assert.equal(info.cardDataType, 'TOKEN');
    assert.equal(info.networkToken.tokenType, 'VISA');
  });

  it('fails the attempt when the key was removed after create, and the user may pay with another card', async () => {
    const extra = await admin('POST', keysPath, { publicKey: rsaPair().publicKey });
    const body = createBody('pan-removed-key', { publicEncryptionKeyId: extra.body.keyId });
    assert.equal((await create(body)).status, 201);
    const removed = await admin('DELETE', `${keysPath}/${extra.body.keyId}`);
    assert.equal(removed.status, 204, removed.text);
    assert.ok(!(await admin('GET', keysPath)).body.keys.some((k: { keyId: string }) => k.keyId === extra.body.keyId));

    const failed = await approve(body.reference, dankortId);
    assert.equal(failed.status, 400, failed.text);
    assert.equal(codeOf(failed.body), '10010');
    assert.match(failed.body.detail, /publicEncryptionKeyId/);
    assert.equal(stub.callsFor('pan-removed-key').length, 0, 'nothing sent without a key');
    const view = await admin('GET', `/admin/epayments/${DEMO.msn}/${body.reference}`);
    assert.equal(view.body.cardCallbacks.length, 1);
    assert.match(view.body.cardCallbacks[0].error, /^not sent: .*not a registered key/);

    const paid = await approve(body.reference, visaId);
    assert.equal(paid.status, 200, paid.text);
    assert.equal(stub.callsFor('pan-removed-key')[0].body.cardInfo.cardDataType, 'TOKEN');
  });
});
