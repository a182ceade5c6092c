// vipps-psp/testing for ePayment: a PSP's card-callback endpoint tested end to end with the harness —
// approve with a chosen card, reject, expire — and a webhook receiver that verifies every delivery.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { startVippsPsp, type VippsPspHarness } from '../../src/testing/index.ts';
import { VippsProblemError, cardCallbackAnswer, verifyCardCallback, type CardCallbackRequest } from '../../src/client/index.ts';

describe('vipps-psp/testing: ePayment and webhooks', () => {
  let vipps: VippsPspHarness;
  let endpoint: http.Server;
  let callbackUrl = '';
  const callbacks: CardCallbackRequest[] = [];

  before(async () => {
    vipps = await startVippsPsp();
    // The PSP's card-callback endpoint under test: declines Mastercard, reserves the rest.
    endpoint = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const callback = verifyCardCallback({ body: Buffer.concat(chunks), headers: req.headers, pathAndQuery: req.url ?? '/', secret: vipps.credentials.clientSecret });
        callbacks.push(callback);
        const answer = callback.cardInfo.cardType.startsWith('MC') ? cardCallbackAnswer.fail(300, 'Refused by Issuer') : cardCallbackAnswer.reserve('ntr-1');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/card-callback`;
  });
  after(async () => {
    await vipps?.close();
    endpoint?.closeAllConnections();
    await new Promise<void>((resolve) => endpoint ? endpoint.close(() => resolve()) : resolve());
  });

  const create = async () => {
    const reference = `h-${randomUUID().slice(0, 20)}`;
    await vipps.epayment.createPayment({
      amount: { currency: 'NOK', value: 15000 }, paymentMethod: { type: 'CARD_PASSTHROUGH' }, reference, userFlow: 'WEB_REDIRECT',
      returnUrl: 'https://shop.example/back', paymentDescription: 'Harness',
      cardPassthrough: { pspReference: `psp-${reference}`, cardCallbackUrl: callbackUrl, allowedCardTypes: ['VISA_DEBIT', 'VISA_CREDIT', 'MC_DEBIT'] },
    });
    return reference;
  };

  it('approves with a chosen card; the endpoint\'s FAIL fails the approve; webhooks arrive verified', async () => {
    await using hooks = await vipps.webhooks.receiver({ events: ['epayments.payment.authorized.v1', 'epayments.payment.aborted.v1', 'epayments.payment.expired.v1'] });
    const paid = await create();
    await vipps.approveEpayment(paid, { card: 'VISA_CREDIT' });
    assert.equal(callbacks.at(-1)!.cardInfo.cardType, 'VISA-CREDIT');
    assert.equal((await vipps.epayment.getPayment(paid)).state, 'AUTHORIZED');

    const declined = await create();
    const failed = await vipps.approveEpayment(declined, { card: 'MASTERCARD' }).catch((e: unknown) => e);
    assert.ok(failed instanceof VippsProblemError && failed.code === '10010', String(failed));
    // A new user holding only a Visa pays it after all (a FAIL with a code lets the user try again).
    await vipps.approveEpayment(declined, { card: { brand: 'VISA', last4: '4242' }, newUser: true });
    assert.match(callbacks.at(-1)!.cardInfo.maskedCardNumber, /4242$/);

    const rejected = await create();
    assert.equal((await vipps.rejectEpayment(rejected)).state, 'ABORTED');
    const expired = await create();
    assert.equal((await vipps.expireEpayment(expired)).state, 'EXPIRED');
    const view = await vipps.epaymentView(expired);
    assert.deepEqual(view.events.map((e) => e.name), ['CREATED', 'EXPIRED']);

    const events = await hooks.waitFor(4);
    assert.deepEqual(events.map((e) => [e.reference, e.name]).sort(), [[paid, 'AUTHORIZED'], [declined, 'AUTHORIZED'], [rejected, 'ABORTED'], [expired, 'EXPIRED']].sort());
    assert.deepEqual(hooks.refused(), []);
    await assert.rejects(hooks.waitFor(5, 200), /did not arrive within 200 ms/);
  });
});
