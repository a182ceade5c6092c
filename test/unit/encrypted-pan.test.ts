import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import fc from 'fast-check';
import { dotnetTicks, encryptPan, luhnCheckDigit, luhnValid, panPlaintext, testCardNumber } from '../../src/domain/epayment/encrypted-pan.ts';

describe('encryptedPan', () => {
  it('counts .NET ticks from 0001-01-01, exactly beyond 2^53', () => {
    assert.equal(dotnetTicks(new Date('1970-01-01T00:00:00Z')), 621355968000000000n);
    assert.equal(dotnetTicks(new Date('2000-01-01T00:00:00Z')), 630822816000000000n);
    assert.equal(dotnetTicks(new Date('2026-12-06T11:16:39.123Z')) % 10_000_000n, 1_230_000n);
  });

  it('computes Luhn check digits', () => {
    assert.equal(luhnCheckDigit('7992739871'), '3');
    assert.ok(luhnValid('79927398713'));
    assert.ok(luhnValid('4111111111111111'));
    assert.ok(!luhnValid('4111111111111112'));
    assert.ok(!luhnValid('41111111111x1111'));
  });

  it('makes a Luhn-valid 16-digit number with the BIN and last 4 it is given, the same for the same card', () => {
    fc.assert(fc.property(
      fc.stringMatching(/^[0-9]{8}$/), fc.uuid(), fc.stringMatching(/^[0-9]{4}$/),
      (bin, cardId, last4) => {
        const n = testCardNumber(bin, cardId, last4);
        assert.equal(n.length, 16);
        assert.ok(n.startsWith(bin) && n.endsWith(last4));
        assert.ok(luhnValid(n), n);
        assert.equal(testCardNumber(bin, cardId, last4), n);
      },
    ));
  });

  it('writes the payload with the ticks as an exact integer and encrypts it for the private key', () => {
    const at = new Date('2026-12-06T10:00:00Z');
    const card = { cardNumber: '5019000012340050', expiryMonth: '12', expiryYear: '2030' };
    const plain = panPlaintext(card, at);
    assert.equal(plain, '{"timestampticks":639321480000000000,"encryptedCardData":{"cardNumber":"5019000012340050","expiryMonth":"12","expiryYear":"2030"}}');
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const sealed = encryptPan(pem, card, at);
    assert.equal(Buffer.from(sealed, 'base64').length, 256);
    assert.equal(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(sealed, 'base64')).toString(), plain);
    // Not plain PKCS#1 v1.5, nor OAEP with SHA-1.
    assert.throws(() => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, Buffer.from(sealed, 'base64')));
  });
});
