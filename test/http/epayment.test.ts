import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { adminHeaders, call, createPsp, DEMO, pspHeaders, startTestServer, type Answer, type TestServer } from '../support/server.ts';
import { CardCallbackStub } from '../support/card-callback-stub.ts';
import QRCode from 'qrcode';
import { signedIn, textOf } from '../support/console.ts';

const TRACE_ID = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

function reference(): string {
  return `ref-${randomUUID().slice(0, 18)}`;
}

function createBody(callbackUrl: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const ref = reference();
  return {
    amount: { currency: 'NOK', value: 49900 },
    paymentMethod: { type: 'CARD_PASSTHROUGH' },
    cardPassthrough: {
      pspReference: `psp-${ref}`,
      cardCallbackUrl: callbackUrl,
      allowedCardTypes: ['VISA_DEBIT', 'VISA_CREDIT', 'MC_DEBIT', 'MC_CREDIT', 'DANKORT'],
    },
    reference: ref,
    userFlow: 'WEB_REDIRECT',
    returnUrl: 'https://shop.example/return?order=1',
    paymentDescription: 'Purchase of socks',
    ...overrides,
  };
}

/** The ErrorCode of an ePayment problem (undefined when it has none). */
function codeOf(answer: Answer): string | undefined {
  return answer.body?.extraDetails?.find((d: { name: string }) => d.name === 'ErrorCode')?.reason;
}

function assertProblem(answer: Answer, status: number, code?: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(answer.body.status, status);
  assert.equal(answer.body.type, `https://httpstatuses.io/${status}`);
  assert.match(answer.body.traceId, TRACE_ID);
  assert.equal(typeof answer.body.title, 'string');
  assert.equal(typeof answer.body.detail, 'string');
  if (code !== undefined) assert.equal(codeOf(answer), code, answer.text);
}

describe('ePayment API (card passthrough)', () => {
  let server: TestServer;
  let stub: CardCallbackStub;
  let h: Record<string, string>;

  const create = (body: Record<string, unknown>, key: string | null = randomUUID(), headers = h) =>
    call(server.url, 'POST', '/epayment/v1/payments', { headers: { ...headers, ...(key === null ? {} : { 'idempotency-key': key }) }, body });
  const get = (ref: string) => call(server.url, 'GET', `/epayment/v1/payments/${ref}`, { headers: h });
  const events = (ref: string) => call(server.url, 'GET', `/epayment/v1/payments/${ref}/events`, { headers: h });
  const approve = (ref: string, body: unknown = { customer: { phoneNumber: `47${DEMO.userPhone}` } }) =>
    call(server.url, 'POST', `/epayment/v1/test/payments/${ref}/approve`, { headers: h, body });
  const modify = (ref: string, kind: 'capture' | 'refund' | 'cancel', body?: unknown, key: string | null = randomUUID()) =>
    call(server.url, 'POST', `/epayment/v1/payments/${ref}/${kind}`, { headers: { ...h, ...(key === null ? {} : { 'idempotency-key': key }) }, ...(body === undefined ? {} : { body }) });
  const value = (v: number) => ({ modificationAmount: { currency: 'NOK', value: v } });

  async function authorized(overrides: Record<string, unknown> = {}): Promise<string> {
    const body = createBody(stub.url, overrides);
    const created = await create(body);
    assert.equal(created.status, 201, created.text);
    const approved = await approve(body.reference as string);
    assert.equal(approved.status, 200, approved.text);
    return body.reference as string;
  }

  before(async () => {
    stub = await CardCallbackStub.start(DEMO.psp.clientSecret);
    server = await startTestServer({ CARD_CALLBACK_TIMEOUT_MS: '500' });
    h = await pspHeaders(server.url);
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  it('serves the token at the lower-case /accesstoken/get as well, and its token works on both APIs', async () => {
    const answer = await call(server.url, 'POST', '/accesstoken/get', {
      headers: { client_id: DEMO.psp.clientId, client_secret: DEMO.psp.clientSecret, 'Ocp-Apim-Subscription-Key': DEMO.psp.subscriptionKey },
    });
    assert.equal(answer.status, 200, answer.text);
    for (const v of Object.values(answer.body)) assert.equal(typeof v, 'string');
    const body = createBody(stub.url);
    const created = await create(body, randomUUID(), { ...h, authorization: `Bearer ${answer.body.access_token}` });
    assert.equal(created.status, 201, created.text);
  });

  it('creates a payment: 201 with reference and a landing redirectUrl; GET shows it CREATED with an empty aggregate', async () => {
    const body = createBody(stub.url, { metadata: { orderId: '1512202' } });
    const created = await create(body);
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(Object.keys(created.body).sort(), ['redirectUrl', 'reference']);
    assert.equal(created.body.reference, body.reference);
    const url = new URL(created.body.redirectUrl);
    assert.equal(`${url.origin}${url.pathname}`, `${server.services.config.publicUrl}/landing`);
    assert.ok((url.searchParams.get('token') ?? '').length >= 32);

    const got = await get(body.reference as string);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.state, 'CREATED');
    assert.deepEqual(got.body.amount, { currency: 'NOK', value: 49900 });
    assert.deepEqual(got.body.aggregate, {
      authorizedAmount: { currency: 'NOK', value: 0 }, cancelledAmount: { currency: 'NOK', value: 0 },
      capturedAmount: { currency: 'NOK', value: 0 }, refundedAmount: { currency: 'NOK', value: 0 },
    });
    assert.deepEqual(got.body.paymentMethod, { type: 'CARD_PASSTHROUGH' });
    assert.deepEqual(got.body.metadata, { orderId: '1512202' });
    assert.match(got.body.pspReference, /^\d{10}$/);
    assert.equal(got.body.redirectUrl, created.body.redirectUrl);

    const log = await events(body.reference as string);
    assert.equal(log.status, 200);
    assert.equal(log.body.length, 1);
    assert.equal(log.body[0].name, 'CREATED');
    assert.equal(log.body[0].pspReference, got.body.pspReference, 'GET\'s pspReference is the CREATED event\'s');
    assert.equal(log.body[0].success, true);
  });

  it('gives each userFlow its redirectUrl: a deeplink for NATIVE_REDIRECT, a QR image link for QR, none for PUSH_MESSAGE', async () => {
    const native = await create(createBody(stub.url, { userFlow: 'NATIVE_REDIRECT', returnUrl: undefined }));
    assert.equal(native.status, 201, native.text);
    assert.match(native.body.redirectUrl, /^vippsMT:\/\/\?token=/);
    const qr = await create(createBody(stub.url, { userFlow: 'QR', returnUrl: undefined, customerInteraction: 'CUSTOMER_PRESENT' }));
    assert.equal(qr.status, 201, qr.text);
    assert.ok(qr.body.redirectUrl.startsWith(`${server.services.config.publicUrl}/qr/v1?token=`));
    const text = await create(createBody(stub.url, { userFlow: 'QR', returnUrl: undefined, qrFormat: { format: 'TEXT/TARGETURL' } }));
    assert.ok(text.body.redirectUrl.startsWith(`${server.services.config.publicUrl}/landing?token=`));
    const push = await create(createBody(stub.url, { userFlow: 'PUSH_MESSAGE', returnUrl: undefined, customer: { phoneNumber: `47${DEMO.userPhone}` } }));
    assert.equal(push.status, 201, push.text);
    assert.deepEqual(Object.keys(push.body), ['reference']);
  });

  it('serves the QR code of a QR payment: an SVG (or a PNG of the size asked for) of its landing page', async () => {
    const svgPayment = await create(createBody(stub.url, { userFlow: 'QR', returnUrl: undefined }));
    const svg = await fetch(svgPayment.body.redirectUrl);
    assert.equal(svg.status, 200);
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
    const token = new URL(svgPayment.body.redirectUrl).searchParams.get('token')!;
    const target = `${server.services.config.publicUrl}/landing?token=${encodeURIComponent(token)}`;
    assert.equal(await svg.text(), await QRCode.toString(target, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' }), 'it encodes the landing page');

    const pngPayment = await create(createBody(stub.url, { userFlow: 'QR', returnUrl: undefined, qrFormat: { format: 'IMAGE/PNG', size: 300 } }));
    const png = await fetch(pngPayment.body.redirectUrl);
    assert.equal(png.headers.get('content-type'), 'image/png');
    const bytes = Buffer.from(await png.arrayBuffer());
    assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
    assert.equal(bytes.readUInt32BE(16), 300, 'as wide as qrFormat.size');
    const landing = await fetch(target);
    assert.equal(landing.status, 200, 'scanning it opens the landing page');

    const other = await create(createBody(stub.url));
    const notQr = await fetch(`${server.services.config.publicUrl}/qr/v1?token=${new URL(other.body.redirectUrl).searchParams.get('token')}`);
    assert.equal(notQr.status, 404);
    await notQr.text();
  });

  it('sends a PUSH_MESSAGE payment straight to the user\'s app', async () => {
    const body = createBody(stub.url, { userFlow: 'PUSH_MESSAGE', returnUrl: undefined, customer: { phoneNumber: `47${DEMO.userPhone}` } });
    assert.equal((await create(body)).status, 201);
    const shown = await call(server.url, 'GET', `/admin/epayments/${DEMO.msn}/${body.reference}`, { headers: adminHeaders() });
    assert.equal(shown.body.phone, DEMO.userPhone, 'the request waits in the app of the customer');
    assert.equal(shown.body.customerPhone, DEMO.userPhone);
  });

  it('answers schema errors with 400 problems naming each field, and domain errors with their published code', async () => {
    const bad = await create(createBody(stub.url, { reference: 'short', userFlow: 'TELEPATHY' }));
    assertProblem(bad, 400);
    assert.equal(bad.body.title, 'Bad Request');
    assert.equal(bad.body.instance, '/v1/payments');
    const names = bad.body.extraDetails.map((d: { name: string }) => d.name).sort();
    assert.deepEqual(names, ['reference', 'userFlow']);
    assert.equal(bad.body.extraDetails.find((d: { name: string }) => d.name === 'reference').reason,
      "The field Reference must match the regular expression '^[a-zA-Z0-9-]{8,64}$'.");

    const cases: Array<[string, Record<string, unknown>, number, string]> = [
      ['WALLET is not for PSPs', { paymentMethod: { type: 'WALLET' } }, 400, '4160'],
      ['too small', { amount: { currency: 'NOK', value: 99 } }, 400, '6010'],
      ['decimals', { amount: { currency: 'NOK', value: 100.5 } }, 400, '4040'],
      ['returnUrl missing for WEB_REDIRECT', { returnUrl: undefined }, 400, '4140'],
      ['returnUrl javascript:', { returnUrl: 'javascript:alert(1)' }, 400, '4090'],
      ['unknown customer', { customer: { phoneNumber: '4712345678' } }, 400, '7010'],
      ['bad phone number', { customer: { phoneNumber: '+47 92' } }, 400, '4070'],
      ['six metadata pairs', { metadata: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, 'v'])) }, 400, '4100'],
      ['expiresAt too soon', { expiresAt: new Date(Date.now() + 60_000).toISOString() }, 400, '6120'],
    ];
    for (const [what, overrides, status, code] of cases) {
      const answer = await create(createBody(stub.url, overrides));
      assertProblem(answer, status, code);
      assert.ok(answer.body.detail.length > 0, what);
    }
    const noPassthrough = await create(createBody(stub.url, { cardPassthrough: undefined }));
    assertProblem(noPassthrough, 400, '4140');
    const badCallback = await create(createBody(stub.url, { cardPassthrough: { pspReference: 'p', cardCallbackUrl: 'ftp://psp.example/cb', allowedCardTypes: ['VISA_DEBIT'] } }));
    assertProblem(badCallback, 400, '4090');
    const badTypes = await create(createBody(stub.url, { cardPassthrough: { pspReference: 'p', cardCallbackUrl: stub.url, allowedCardTypes: ['VISA_DANKORT'] } }));
    assertProblem(badTypes, 400);
    assert.equal(badTypes.body.extraDetails[0].name, 'cardPassthrough.allowedCardTypes');
    const sek = await create(createBody(stub.url, { amount: { currency: 'SEK', value: 1000 } }));
    assert.equal(sek.status, 201, 'a PSP may charge SEK');
  });

  it('refuses a reused reference (409, 4150) and answers a retried create with its first answer', async () => {
    const body = createBody(stub.url);
    const key = randomUUID();
    const first = await create(body, key);
    assert.equal(first.status, 201);
    const retry = await create(body, key);
    assert.equal(retry.status, 201);
    assert.deepEqual(retry.body, first.body);
    const log = await events(body.reference as string);
    assert.equal(log.body.length, 1, 'one payment, one CREATED event');

    const reused = await create(body, randomUUID());
    assertProblem(reused, 409, '4150');
    const other = await create({ ...body, paymentDescription: 'Another body' }, key);
    assertProblem(other, 409, '4020');
    const missing = await create(createBody(stub.url), null);
    assertProblem(missing, 400);
    assert.equal(missing.body.extraDetails[0].name, 'Idempotency-Key');
  });

  it('settles creates that race: one key once, another body under it 409 4020, one reference once (4150 for the others)', async () => {
    const body = createBody(stub.url);
    const key = randomUUID();
    const same = await Promise.all(Array.from({ length: 6 }, () => create(body, key)));
    for (const a of same) assert.equal(a.status, 201, a.text);
    assert.equal(new Set(same.map((a) => a.body.redirectUrl)).size, 1);
    assert.equal((await events(body.reference as string)).body.length, 1, 'one payment');

    const shared = randomUUID();
    const bodies = Array.from({ length: 4 }, () => createBody(stub.url));
    const mixed = await Promise.all(bodies.map((b) => create(b, shared)));
    assert.equal(mixed.filter((a) => a.status === 201).length, 1, mixed.map((a) => a.text).join('\n'));
    for (const a of mixed.filter((x) => x.status !== 201)) assertProblem(a, 409, '4020');
    const made = bodies.filter((_, i) => mixed[i].status === 201)[0];
    for (const b of bodies.filter((x) => x !== made)) assertProblem(await get(b.reference as string), 404, '5090');

    const ref = createBody(stub.url);
    const keys = Array.from({ length: 5 }, () => randomUUID());
    const refs = await Promise.all(keys.map((k) => create(ref, k)));
    assert.equal(refs.filter((a) => a.status === 201).length, 1, refs.map((a) => a.text).join('\n'));
    for (const a of refs.filter((x) => x.status !== 201)) assertProblem(a, 409, '4150');
    // Each losing key keeps its 4150.
    const loser = keys[refs.findIndex((a) => a.status !== 201)];
    assertProblem(await create(ref, loser), 409, '4150');
  });

  it('keeps a 4xx bound to its Idempotency-Key: the same request again gets the same error, even once it would succeed', async () => {
    const body = createBody(stub.url, { customer: { phoneNumber: '4799887766' } });
    const key = randomUUID();
    const first = await create(body, key);
    assertProblem(first, 400, '7010');
    const user = await call(server.url, 'POST', '/admin/users', { headers: adminHeaders(), body: { phone: '99887766', name: 'Late User', cards: [{ brand: 'VISA' }] } });
    assert.equal(user.status, 201, user.text);
    const again = await create(body, key);
    assertProblem(again, 400, '7010');
    const fresh = await create(body, randomUUID());
    assert.equal(fresh.status, 201, 'with a new key the request runs again');
  });

  it('checks Psp-Id and the Merchant-Serial-Number on every call', async () => {
    const body = createBody(stub.url);
    const noPsp = await create(body, randomUUID(), { ...h, 'psp-id': '' });
    assertProblem(noPsp, 400);
    assert.equal(noPsp.body.extraDetails[0].name, 'Psp-Id');
    const wrongPsp = await create(body, randomUUID(), { ...h, 'psp-id': 'SOMEONE-ELSE' });
    assertProblem(wrongPsp, 403);
    const other = await createPsp(server.url, 'Another PSP');
    const otherHeaders = await pspHeaders(server.url, other, DEMO.msn);
    const foreignMsn = await create(body, randomUUID(), otherHeaders);
    assertProblem(foreignMsn, 403);
    const noToken = await create(body, randomUUID(), { ...h, authorization: '' });
    assertProblem(noToken, 401);
    // A payment of one sales unit is unknown under another of the same PSP.
    const created = await create(body);
    assert.equal(created.status, 201);
    const elsewhere = await call(server.url, 'GET', `/epayment/v1/payments/${body.reference}`, { headers: { ...h, 'merchant-serial-number': DEMO.secondMsn } });
    assertProblem(elsewhere, 404, '5090');
  });

  it('force approve sends a signed card callback; RESERVE makes the payment AUTHORIZED', async () => {
    stub.on('psp-signed-1', { kind: 'reserve', networkTransactionReference: 'ntr-777' });
    const body = createBody(stub.url);
    (body.cardPassthrough as Record<string, unknown>).pspReference = 'psp-signed-1';
    assert.equal((await create(body)).status, 201);
    const approved = await approve(body.reference as string);
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.text, '');

    const calls = stub.callsFor('psp-signed-1');
    assert.equal(calls.length, 1);
    const c = calls[0];
    assert.equal(c.signatureProblem, undefined, 'the HMAC signature verifies with the PSP\'s client secret');
    assert.equal(c.path, '/psp-callback?acquirer=test');
    assert.match(String(c.headers['x-ms-date']), /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    assert.match(String(c.headers.authorization), /^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=/);
    assert.equal(c.body.pspReference, 'psp-signed-1');
    assert.match(c.body.authorizationAttemptId, /^[0-9a-f-]{36}$/);
    assert.equal(c.body.merchantSerialNumber, DEMO.msn);
    assert.deepEqual(c.body.amount, { currency: 'NOK', value: 49900 });
    assert.ok(c.body.softDeclineCompletedRedirectUrl.startsWith(`${server.services.config.publicUrl}/mobileintercept?`));
    assert.equal(c.body.cardInfo.cardType, 'VISA-DEBIT');
    assert.equal(c.body.cardInfo.cardDataType, 'TOKEN');
    assert.match(c.body.cardInfo.maskedCardNumber, /^\d{8}XXXX\d{4}$/);
    assert.equal(c.body.cardInfo.cardIssuedInCountryCode, 'NO');
    const t = c.body.cardInfo.networkToken;
    assert.equal(t.tokenType, 'VISA');
    assert.equal(t.number, '4895370013193500');
    assert.ok(t.cryptogram.length > 10);
    assert.equal(t.paymentAccountReference.length, 29);

    const got = await get(body.reference as string);
    assert.equal(got.body.state, 'AUTHORIZED');
    assert.equal(got.body.aggregate.authorizedAmount.value, 49900);
    assert.equal(got.body.paymentMethod.cardBin, c.body.cardInfo.maskedCardNumber.slice(0, 6));
    assert.equal(got.body.redirectUrl, undefined);
    const log = await events(body.reference as string);
    assert.deepEqual(log.body.map((e: { name: string }) => e.name), ['CREATED', 'AUTHORIZED']);

    const again = await approve(body.reference as string);
    assertProblem(again, 400, '10020');
    assert.equal(stub.callsFor('psp-signed-1').length, 1, 'no second callback for an authorised payment');
  });

  it('applies capture, refund and cancel to the aggregate, with their events, while the state stays AUTHORIZED', async () => {
    const ref = await authorized();
    const captured = await modify(ref, 'capture', value(20000));
    assert.equal(captured.status, 200, captured.text);
    assert.equal(captured.body.state, 'AUTHORIZED');
    assert.equal(captured.body.aggregate.capturedAmount.value, 20000);
    assert.match(captured.body.pspReference, /^\d{10}$/);
    assert.deepEqual(Object.keys(captured.body).sort(), ['aggregate', 'amount', 'pspReference', 'reference', 'state']);
    assertProblem(await modify(ref, 'capture', value(30000)), 400, '6090');
    assert.equal((await modify(ref, 'capture', value(29900))).status, 200);
    assertProblem(await modify(ref, 'refund', value(50000)), 400, '6150');
    const refunded = await modify(ref, 'refund', value(10000));
    assert.equal(refunded.body.aggregate.refundedAmount.value, 10000);
    assertProblem(await modify(ref, 'cancel'), 400, '6040');
    const log = await events(ref);
    assert.deepEqual(log.body.map((e: { name: string }) => e.name), ['CREATED', 'AUTHORIZED', 'CAPTURED', 'CAPTURED', 'REFUNDED']);
    const pspRefs = log.body.map((e: { pspReference: string }) => e.pspReference);
    assert.equal(new Set(pspRefs).size, pspRefs.length, 'each event has its own pspReference');

    const partial = await authorized();
    assert.equal((await modify(partial, 'capture', value(10000))).status, 200);
    assertProblem(await modify(partial, 'cancel', { cancelTransactionOnly: true }), 400, '6060');
    const cancelled = await modify(partial, 'cancel');
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.body.state, 'AUTHORIZED');
    assert.equal(cancelled.body.aggregate.cancelledAmount.value, 39900);
    assertProblem(await modify(partial, 'capture', value(1)), 400, '6070');
    assert.equal((await modify(partial, 'cancel')).status, 200, 'cancelling again changes nothing');
    assert.deepEqual((await events(partial)).body.map((e: { name: string }) => e.name), ['CREATED', 'AUTHORIZED', 'CAPTURED', 'CANCELLED']);
  });

  it('refuses capture and refund before authorisation, and a cancel then terminates the payment', async () => {
    const body = createBody(stub.url);
    const ref = body.reference as string;
    assert.equal((await create(body)).status, 201);
    assertProblem(await modify(ref, 'capture', value(100)), 400, '6080');
    assertProblem(await modify(ref, 'refund', value(100)), 400, '6020');
    assertProblem(await modify(ref, 'capture', { modificationAmount: { currency: 'DKK', value: 100 } }), 400, '4040');
    assertProblem(await modify(ref, 'capture', value(100), null), 400);
    const cancelled = await modify(ref, 'cancel', undefined, null);
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.body.state, 'TERMINATED');
    assert.equal(cancelled.body.aggregate.cancelledAmount.value, 49900);
    assert.deepEqual((await events(ref)).body.map((e: { name: string }) => e.name), ['CREATED', 'TERMINATED']);
    assertProblem(await approve(ref), 400, '10020');
    assertProblem(await modify('no-such-reference-1', 'capture', value(100)), 404, '5090');
  });

  it('answers a retried capture once, also when the retries race; another body under the key is 409 4010', async () => {
    const ref = await authorized();
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 5 }, () => modify(ref, 'capture', value(1000), key)));
    for (const a of answers) assert.equal(a.status, 200, a.text);
    assert.equal(new Set(answers.map((a) => a.body.pspReference)).size, 1, 'every retry gets the first answer');
    assert.equal((await get(ref)).body.aggregate.capturedAmount.value, 1000);
    assertProblem(await modify(ref, 'capture', value(2000), key), 409, '4010');
    // A key is scoped to its operation: the same key on a refund is a request of its own.
    assert.equal((await modify(ref, 'refund', value(1), key)).status, 200);
  });

  it('lets the user try again after a retryable FAIL, with a new authorizationAttemptId', async () => {
    stub.on('psp-fail-then-ok', { kind: 'sequence', steps: [{ kind: 'fail', errorCode: 300, errorMessage: 'Refused by Issuer' }, { kind: 'reserve' }] });
    const body = createBody(stub.url);
    (body.cardPassthrough as Record<string, unknown>).pspReference = 'psp-fail-then-ok';
    assert.equal((await create(body)).status, 201);
    const failed = await approve(body.reference as string);
    assertProblem(failed, 400, '10010');
    assert.match(failed.body.detail, /errorCode 300/);
    assert.equal((await get(body.reference as string)).body.state, 'CREATED');
    const retried = await approve(body.reference as string);
    assert.equal(retried.status, 200, retried.text);
    const calls = stub.callsFor('psp-fail-then-ok');
    assert.equal(calls.length, 2);
    assert.notEqual(calls[0].body.authorizationAttemptId, calls[1].body.authorizationAttemptId);
    assert.equal((await get(body.reference as string)).body.state, 'AUTHORIZED');
  });

  it('after SOFT_DECLINE sends a second callback with the same authorizationAttemptId and a fresh cryptogram', async () => {
    stub.on('psp-3ds', { kind: 'sequence', steps: [{ kind: 'soft-decline', softDeclineUrl: 'https://psp.example/3ds?id=1' }, { kind: 'reserve' }] });
    const body = createBody(stub.url);
    (body.cardPassthrough as Record<string, unknown>).pspReference = 'psp-3ds';
    assert.equal((await create(body)).status, 201);
    const approved = await approve(body.reference as string);
    assert.equal(approved.status, 200, approved.text);
    const calls = stub.callsFor('psp-3ds');
    assert.equal(calls.length, 2);
    assert.equal(calls[1].body.authorizationAttemptId, calls[0].body.authorizationAttemptId);
    assert.notEqual(calls[1].body.cardInfo.networkToken.cryptogram, calls[0].body.cardInfo.networkToken.cryptogram);
    for (const c of calls) assert.equal(c.signatureProblem, undefined);
    assert.equal((await get(body.reference as string)).body.state, 'AUTHORIZED');
  });

  it('ends the attempts after HTTP 500, a timeout, a malformed answer or a final FAIL: the payment stays CREATED and takes no more', async () => {
    const behaviours: Array<[string, Parameters<CardCallbackStub['on']>[1]]> = [
      ['psp-500', { kind: 'status', status: 500 }],
      ['psp-slow', { kind: 'slow', ms: 1500 }],
      ['psp-garbage', { kind: 'status', status: 200, body: 'not json' }],
      ['psp-fraud', { kind: 'fail', errorCode: 183, errorMessage: 'Suspected fraud' }],
    ];
    for (const [pspRef, behaviour] of behaviours) {
      stub.on(pspRef, behaviour);
      const body = createBody(stub.url);
      (body.cardPassthrough as Record<string, unknown>).pspReference = pspRef;
      assert.equal((await create(body)).status, 201);
      const failed = await approve(body.reference as string);
      assertProblem(failed, 400, '10010');
      assert.equal((await get(body.reference as string)).body.state, 'CREATED', pspRef);
      const again = await approve(body.reference as string);
      assertProblem(again, 400, '10020');
      assert.equal(stub.callsFor(pspRef).length, 1, `${pspRef}: the callback is never retried`);
      // The PSP can still end the payment.
      assert.equal((await modify(body.reference as string, 'cancel')).body.state, 'TERMINATED');
    }
  });

  it('offers only the cards allowedCardTypes permits (10050 when the user has none)', async () => {
    const created = await call(server.url, 'POST', '/admin/users', { headers: adminHeaders(), body: { phone: '41999001', cards: [{ brand: 'MASTERCARD' }, { brand: 'DANKORT' }] } });
    assert.equal(created.status, 201, created.text);
    const body = createBody(stub.url, {});
    (body.cardPassthrough as Record<string, unknown>).allowedCardTypes = ['VISA_DEBIT', 'DANKORT'];
    assert.equal((await create(body)).status, 201);
    // A Mastercard is not allowed, and a standalone Dankort not offered without publicEncryptionKeyId.
    assertProblem(await approve(body.reference as string, { customer: { phoneNumber: '41999001' } }), 400, '10050');
    assertProblem(await approve(body.reference as string, {}), 400, '10030');
    assert.equal((await approve(body.reference as string)).status, 200, 'the seeded user pays with the Visa');
  });

  it('expires a payment 10 minutes after create on the shared clock', async () => {
    const body = createBody(stub.url);
    assert.equal((await create(body)).status, 201);
    const advanced = await call(server.url, 'POST', '/admin/clock/advance', { headers: adminHeaders(), body: { seconds: 601 } });
    assert.equal(advanced.status, 200, advanced.text);
    const got = await get(body.reference as string);
    assert.equal(got.body.state, 'EXPIRED');
    assert.deepEqual((await events(body.reference as string)).body.map((e: { name: string }) => e.name), ['CREATED', 'EXPIRED']);
    assertProblem(await approve(body.reference as string), 400, '10020');
  });

  it('shows the operator each payment with its events and every card callback: signature headers, answer, latency; no card data', async () => {
    stub.on('psp-admin', { kind: 'sequence', steps: [{ kind: 'soft-decline' }, { kind: 'reserve', networkTransactionReference: 'ntr-admin' }] });
    const body = createBody(stub.url);
    (body.cardPassthrough as Record<string, unknown>).pspReference = 'psp-admin';
    assert.equal((await create(body)).status, 201);
    assert.equal((await approve(body.reference as string)).status, 200);
    const shown = await call(server.url, 'GET', `/admin/epayments/${DEMO.msn}/${body.reference}`, { headers: adminHeaders() });
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.body.state, 'AUTHORIZED');
    assert.equal(shown.body.networkTransactionReference, 'ntr-admin');
    assert.equal(shown.body.phone, DEMO.userPhone);
    assert.deepEqual(shown.body.events.map((e: { name: string }) => e.name), ['CREATED', 'AUTHORIZED']);
    assert.deepEqual(shown.body.cardCallbacks.map((c: { round: number; outcome: string }) => [c.round, c.outcome]), [[1, 'SOFT_DECLINE'], [2, 'RESERVE']]);
    for (const c of shown.body.cardCallbacks) {
      assert.match(c.requestHeaders.authorization, /^HMAC-SHA256 /);
      assert.equal(c.requestHeaders['x-ms-content-sha256'].length, 44);
      assert.equal(c.responseStatus, 200);
      assert.ok(c.latencyMs >= 0);
      assert.equal(c.request.cardInfo.networkToken.cryptogram, '[redacted]');
      assert.match(c.request.cardInfo.networkToken.number, /^\d{6}\*+\d{4}$/);
    }
    const sent = stub.callsFor('psp-admin')[0];
    assert.equal(shown.body.cardCallbacks[0].requestHeaders.authorization, sent.headers.authorization, 'the record is what was sent');
    const text = JSON.stringify(shown.body);
    assert.ok(!text.includes(sent.body.cardInfo.networkToken.cryptogram), 'no cryptogram in the record');
    assert.ok(!text.includes(DEMO.psp.clientSecret), 'no secret in the record');

    const list = await call(server.url, 'GET', `/admin/epayments?psp=${DEMO.psp.pspId}&limit=2`, { headers: adminHeaders() });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.payments.length, 2);
    assert.ok(list.body.next);
    const next = await call(server.url, 'GET', `/admin/epayments?psp=${DEMO.psp.pspId}&limit=2&after=${list.body.next}`, { headers: adminHeaders() });
    assert.equal(next.status, 200);
    assert.ok(next.body.payments.every((p: { createdAt: string }) => p.createdAt <= list.body.payments[1].createdAt));
    assert.ok(!next.body.payments.some((p: { reference: string }) => list.body.payments.some((q: { reference: string }) => q.reference === p.reference)));
  });

  it('takes fault rules: an ePayment route answers the rule\'s status in its problem shape; a card callback is held back', async () => {
    const body = createBody(stub.url);
    const rule = await call(server.url, 'POST', '/admin/faults', { headers: adminHeaders(), body: { route: 'epaymentCreate', pspTransactionId: body.reference, status: 503, retryAfterSeconds: 2, times: 1 } });
    assert.equal(rule.status, 201, rule.text);
    const faulted = await create(body);
    assertProblem(faulted, 503);
    assert.equal(faulted.headers.get('retry-after'), '2');
    assert.equal((await create(body)).status, 201, 'once');

    const slow = await call(server.url, 'POST', '/admin/faults', { headers: adminHeaders(), body: { route: 'cardCallback', pspTransactionId: body.reference, delayMs: 900 } });
    assert.equal(slow.status, 201, slow.text);
    const approved = await approve(body.reference as string);
    assertProblem(approved, 400, '10010');
    assert.match(approved.body.detail, /no answer within 500 ms/);
    // A makePayment rule only delays; a cardCallback rule may also fail the callback (webhooks.test.ts).
    const refused = await call(server.url, 'POST', '/admin/faults', { headers: adminHeaders(), body: { route: 'makePayment', status: 500 } });
    assert.equal(refused.status, 400, 'a makePayment rule only delays');
    await call(server.url, 'DELETE', '/admin/faults', { headers: adminHeaders() });
  });

  it('shows the console the payments and, for one, its events and card callbacks', async () => {
    stub.on('psp-console', { kind: 'sequence', steps: [{ kind: 'fail', errorCode: 300 }, { kind: 'reserve', networkTransactionReference: 'ntr-console' }] });
    const body = createBody(stub.url);
    (body.cardPassthrough as Record<string, unknown>).pspReference = 'psp-console';
    assert.equal((await create(body)).status, 201);
    assertProblem(await approve(body.reference as string), 400, '10010');
    assert.equal((await approve(body.reference as string)).status, 200);
    const browser = await signedIn(server.url);
    const list = await browser.get(`/console/epayments?psp=${DEMO.psp.pspId}&state=AUTHORIZED`);
    assert.equal(list.status, 200);
    const link = new RegExp(`href="(/console/epayments/[0-9a-f-]{36})">${body.reference}<`).exec(list.html);
    assert.ok(link, 'the payment is listed');
    const page = await browser.get(link[1]);
    assert.equal(page.status, 200);
    const text = textOf(page.html);
    assert.match(text, /AUTHORIZED/);
    assert.match(text, /ntr-console/);
    assert.match(text, /round 1 · FAIL · HTTP 200/);
    assert.match(text, /round 1 · RESERVE · HTTP 200/);
    assert.match(text, /HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256/);
    assert.ok(!text.includes(stub.callsFor('psp-console')[0].body.cardInfo.networkToken.cryptogram), 'no cryptogram');
    assert.equal((await browser.get('/console/epayments/not-an-id')).status, 404);
  });

  it('answers an unknown route under /epayment with a 404 problem and a wrong method with 405', async () => {
    const unknown = await call(server.url, 'GET', '/epayment/v1/nothing-here', { headers: h });
    assertProblem(unknown, 404);
    const method = await call(server.url, 'DELETE', '/epayment/v1/payments/some-reference-1', { headers: h });
    assertProblem(method, 405);
  });

  // Last: it rotates the demo PSP's client secret.
  it('signs with the new client secret as soon as it is rotated', async () => {
    const before = createBody(stub.url);
    assert.equal((await create(before)).status, 201);
    assert.equal((await approve(before.reference as string)).status, 200, 'signed with the secret of now');
    const rotated = await call(server.url, 'POST', `/admin/psps/${DEMO.psp.pspId}/rotate-secret`, { headers: adminHeaders() });
    assert.equal(rotated.status, 200, rotated.text);
    stub.secret = rotated.body.clientSecret;
    const after = createBody(stub.url);
    (after.cardPassthrough as Record<string, unknown>).pspReference = 'psp-rotated';
    assert.equal((await create(after)).status, 201);
    const approved = await approve(after.reference as string);
    assert.equal(approved.status, 200, approved.text);
    const call0 = stub.callsFor('psp-rotated')[0];
    assert.equal(call0.signatureProblem, undefined, 'the callback verifies with the rotated secret');
  });
});
