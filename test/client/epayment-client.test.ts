// vipps-psp/client against this server: the ePayment and Webhooks clients, and a PSP's card-callback
// and webhook endpoints built on verifyCardCallback, verifyWebhook and cardCallbackAnswer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { DEMO, startTestServer, type TestServer } from '../support/server.ts';
import {
  EpaymentClient, SignatureError, VippsProblemError, cardCallbackAnswer, verifyCardCallback, verifyWebhook,
  type CardCallbackRequest, type WebhookEvent,
} from '../../src/client/index.ts';
import { signRequest } from '../../src/security/request-signature.ts';

/** A PSP's endpoints as a PSP would write them with the client's helpers. */
async function pspEndpoints(clientSecret: string) {
  const callbacks: CardCallbackRequest[] = [];
  const webhooks: WebhookEvent[] = [];
  const refused: string[] = [];
  let webhookSecret = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      try {
        if (req.url?.startsWith('/card-callback')) {
          const callback = verifyCardCallback({ body, headers: req.headers, pathAndQuery: req.url, secret: clientSecret });
          callbacks.push(callback);
          const answer = callback.amount.value === 999 ? cardCallbackAnswer.fail(300, 'Refused by Issuer') : cardCallbackAnswer.reserve('ntr-42');
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        } else {
          webhooks.push(verifyWebhook({ body, headers: req.headers, pathAndQuery: req.url ?? '', secret: webhookSecret }));
          res.writeHead(204).end();
        }
      } catch (err) {
        refused.push(err instanceof SignatureError ? err.reason : String(err));
        res.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    callbacks, webhooks, refused, callbackUrl: `${base}/card-callback?shop=1`, webhookUrl: `${base}/webhooks`,
    setWebhookSecret: (s: string) => { webhookSecret = s; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe('vipps-psp/client: ePayment and Webhooks', () => {
  let server: TestServer;
  let psp: Awaited<ReturnType<typeof pspEndpoints>>;
  let client: EpaymentClient;

  before(async () => {
    server = await startTestServer();
    psp = await pspEndpoints(DEMO.psp.clientSecret);
    client = new EpaymentClient({
      baseUrl: server.url, clientId: DEMO.psp.clientId, clientSecret: DEMO.psp.clientSecret, subscriptionKey: DEMO.psp.subscriptionKey,
      pspId: DEMO.psp.pspId, merchantSerialNumber: DEMO.msn, systemHeaders: { 'Vipps-System-Name': 'acme-psp', 'Vipps-System-Version': '1.0' },
    });
  });
  after(async () => {
    await server?.close();
    await psp?.close();
  });

  const request = (reference: string, value = 25000) => ({
    amount: { currency: 'NOK' as const, value }, paymentMethod: { type: 'CARD_PASSTHROUGH' as const },
    cardPassthrough: { pspReference: `psp-${reference}`, cardCallbackUrl: psp.callbackUrl, allowedCardTypes: ['VISA_DEBIT' as const] },
    reference, userFlow: 'WEB_REDIRECT' as const, returnUrl: 'https://shop.example/back', paymentDescription: 'Client',
  });

  it('creates, approves (the card callback verified and answered RESERVE), captures, refunds and cancels, with webhooks verified', async () => {
    const registered = await client.registerWebhook({ url: psp.webhookUrl, events: ['epayments.payment.authorized.v1', 'epayments.payment.captured.v1'] });
    psp.setWebhookSecret(registered.secret);
    assert.ok((await client.listWebhooks()).some((w) => w.id === registered.id));
    assert.ok(!(await client.listWebhooks({ merchantSerialNumber: null })).some((w) => w.id === registered.id), 'the PSP\'s own list is another');

    const reference = `cl-${randomUUID().slice(0, 20)}`;
    const created = await client.createPayment(request(reference), { idempotencyKey: `create-${reference}` });
    assert.equal(created.reference, reference);
    assert.match(created.redirectUrl ?? '', /\/landing\?token=/);
    assert.deepEqual(await client.createPayment(request(reference), { idempotencyKey: `create-${reference}` }), created, 'a retry gets the same answer');

    await client.forceApprove(reference, { customer: { phoneNumber: DEMO.userPhone } });
    assert.equal(psp.callbacks.length, 1);
    assert.equal(psp.callbacks[0].pspReference, `psp-${reference}`);
    assert.equal(psp.callbacks[0].cardInfo.cardDataType, 'TOKEN');
    const got = await client.getPayment(reference);
    assert.equal(got.state, 'AUTHORIZED');

    const captured = await client.capture(reference, { currency: 'NOK', value: 20000 });
    assert.equal(captured.aggregate.capturedAmount.value, 20000);
    assert.equal((await client.refund(reference, { currency: 'NOK', value: 5000 })).aggregate.refundedAmount.value, 5000);
    assert.equal((await client.cancel(reference)).aggregate.cancelledAmount.value, 5000);
    assert.deepEqual((await client.getEvents(reference)).map((e) => e.name), ['CREATED', 'AUTHORIZED', 'CAPTURED', 'REFUNDED', 'CANCELLED']);

    const tooMuch = await client.capture(reference, { currency: 'NOK', value: 1 }).catch((e: unknown) => e);
    assert.ok(tooMuch instanceof VippsProblemError);
    assert.equal(tooMuch.status, 400);
    assert.equal(tooMuch.code, '6070');
    assert.match(tooMuch.message, /capture answered 400 \(6070\)/);

    for (let i = 0; i < 100 && psp.webhooks.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(psp.webhooks.map((w) => [w.reference, w.name]), [[reference, 'AUTHORIZED'], [reference, 'CAPTURED']]);
    assert.deepEqual(psp.refused, []);
    await client.deleteWebhook(registered.id);
    assert.ok(!(await client.listWebhooks()).some((w) => w.id === registered.id));
  });

  it('reports a FAIL answer as a failed approve, and schema errors with their fields', async () => {
    const reference = `cl-${randomUUID().slice(0, 20)}`;
    await client.createPayment(request(reference, 999));
    const failed = await client.forceApprove(reference, { customer: { phoneNumber: DEMO.userPhone } }).catch((e: unknown) => e);
    assert.ok(failed instanceof VippsProblemError);
    assert.equal(failed.code, '10010');
    const bad = await client.createPayment({ ...request(`cl-${randomUUID().slice(0, 20)}`), reference: 'x' }).catch((e: unknown) => e);
    assert.ok(bad instanceof VippsProblemError);
    assert.ok(bad.extraDetails.some((d) => d.name === 'reference'), JSON.stringify(bad.extraDetails));
  });

  it('verifyCardCallback refuses what the wallet did not send: a wrong secret, a changed body, another path, an old date', () => {
    const url = 'https://psp.example/card-callback?shop=1';
    const body = JSON.stringify({
      pspReference: 'p', authorizationAttemptId: 'a', merchantSerialNumber: '123456', amount: { currency: 'NOK', value: 100 },
      softDeclineCompletedRedirectUrl: 'https://x', cardInfo: { maskedCardNumber: '4', cardType: 'VISA-DEBIT', cardIssuedInCountryCode: 'NO', cardDataType: 'TOKEN', networkToken: {} },
    });
    const headers = signRequest(url, body, 'secret-1', new Date());
    const ok = { body, headers: { ...headers }, pathAndQuery: '/card-callback?shop=1', secret: 'secret-1' };
    assert.equal(verifyCardCallback(ok).pspReference, 'p');
    const reason = (f: () => unknown) => { try { f(); return 'accepted'; } catch (e) { return (e as SignatureError).reason; } };
    assert.match(reason(() => verifyCardCallback({ ...ok, secret: 'secret-2' })), /signature does not match/);
    assert.match(reason(() => verifyCardCallback({ ...ok, body: body.replace('"p"', '"q"') })), /SHA-256 of the body/);
    assert.match(reason(() => verifyCardCallback({ ...ok, pathAndQuery: '/card-callback' })), /signature does not match/);
    assert.match(reason(() => verifyCardCallback({ ...ok, now: new Date(Date.now() + 3600_000) })), /away from now/);
    assert.match(reason(() => verifyCardCallback({ ...ok, headers: { ...headers, authorization: 'Bearer x' } })), /not "HMAC-SHA256/);
    const { 'x-ms-date': _d, ...noDate } = headers;
    assert.match(reason(() => verifyCardCallback({ ...ok, headers: noDate })), /x-ms-date header is missing/);
    // A Headers object works as well as Node's plain headers.
    assert.equal(verifyCardCallback({ ...ok, headers: new Headers(headers as unknown as Record<string, string>) }).merchantSerialNumber, '123456');
    assert.deepEqual(cardCallbackAnswer.softDecline('https://psp.example/3ds'), { status: 'SOFT_DECLINE', softDeclineUrl: 'https://psp.example/3ds' });
    assert.deepEqual(cardCallbackAnswer.fail(), { status: 'FAIL' });
  });
});
