import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminHeaders, call, createPsp, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { adminPayment, details, eventually, forceApprove, init, initBody, initOk, uniqueId } from '../support/payments.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('payment lifecycle', () => {
  let server: TestServer;
  let stub: PspStub;
  let h: Record<string, string>;

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer({ MAKE_PAYMENT_TIMEOUT_MS: '700' });
    h = await pspHeaders(server.url);
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  it('init → force approve → makePayment with the token → RESERVED in details', async () => {
    const body = initBody(stub.url);
    const answer = await init(server.url, h, body);
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(Object.keys(answer.body).sort(), ['merchantOrderId', 'pspTransactionId', 'vippsRedirectUrl']);
    assert.equal(answer.body.pspTransactionId, body.pspTransactionId);
    assert.equal(answer.body.merchantOrderId, body.merchantOrderId);
    const redirect = new URL(answer.body.vippsRedirectUrl);
    assert.equal(`${redirect.origin}${redirect.pathname}`, `${server.services.config.publicUrl}/landing`);
    const token = redirect.searchParams.get('token')!;
    assert.ok(token.length >= 32, 'the token is long enough to be unguessable');

    const before = await details(server.url, h, body.pspTransactionId as string);
    assert.equal(before.status, 200);
    assert.deepEqual(before.body.transactionLogHistory, []);

    const approved = await forceApprove(server.url, h, body.pspTransactionId as string, token);
    assert.equal(approved.status, 200, approved.text);

    const calls = stub.callsFor(body.pspTransactionId as string);
    assert.equal(calls.length, 1);
    const call0 = calls[0];
    assert.equal(call0.headers.authorization, 'WCAG6W5HYWGg4');
    assert.match(String(call0.headers['content-type']), /^application\/json/);
    assert.equal(call0.body.pspTransactionId, body.pspTransactionId);
    assert.equal(call0.body.merchantSerialNumber, DEMO.msn);
    assert.equal(call0.body.paymentState, 'ACCEPTED');
    assert.equal(call0.body.paymentInstrument, 'TOKEN');
    assert.equal(call0.body.binNumber, '489537');
    assert.deepEqual(call0.body.networkToken, {
      number: '4895370013193500', cryptogram: 'AlhlvxmN2ZKuAAESNFZ4GoABFA==', expiryMonth: '05', expiryYear: '2025', tokenType: 'VISA', eci: '07',
    });
    assert.deepEqual(call0.body.operations.map((o: { operation: string }) => o.operation), ['3dssuccess', '3dscancel', '3dsfailure']);
    for (const op of call0.body.operations) assert.ok(op.url.startsWith(`${server.services.config.publicUrl}/mobileintercept?`));

    const after = await details(server.url, h, body.pspTransactionId as string);
    assert.equal(after.status, 200);
    assert.equal(after.body.pspTransactionId, body.pspTransactionId);
    assert.equal(after.body.merchantOrderId, body.merchantOrderId);
    assert.deepEqual(after.body.transactionSummary, { capturedAmount: 0, remainingAmountToCapture: 49900, refundedAmount: 0, remainingAmountToRefund: 0 });
    assert.equal(after.body.transactionLogHistory.length, 1);
    const entry = after.body.transactionLogHistory[0];
    assert.equal(entry.operation, 'RESERVED');
    assert.equal(entry.operationSuccess, true);
    assert.equal(entry.amount, 49900);
    assert.equal(entry.paymentText, 'One pair of socks');
    assert.match(entry.timeStamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);

    const view = await adminPayment(server.url, body.pspTransactionId as string);
    assert.equal(view.state, 'RESERVED');
    assert.equal(view.deliveries.length, 1);
    const attempt = view.deliveries[0];
    assert.equal(attempt.url, stub.url);
    assert.equal(attempt.responseStatus, 200);
    assert.equal(attempt.outcome, 'RESERVED');
    assert.equal(typeof attempt.latencyMs, 'number');
    assert.equal(JSON.stringify(attempt).includes('WCAG6W5HYWGg4'), false, 'the Authorization value is not recorded');
    assert.equal(JSON.stringify(attempt).includes('AlhlvxmN2ZKuAAESNFZ4GoABFA=='), false, 'the cryptogram is not recorded');
  });

  const magic: Array<[number, string, string, string, string, string]> = [
    [2200, '5226603115488031', '05', '2025', 'MASTERCARD', '06'],
    [3200, '4111111111111111', '03', '2030', 'VISA', '07'],
    [4200, '4895370013193500', '03', '2030', 'VISA', '07'],
    [4300, '5226603115488031', '03', '2030', 'MASTERCARD', '06'],
    [4400, '4895370012792682', '12', '2022', 'VISA', '07'],
    [5100, '4268270087302871', '09', '2024', 'VISA', '07'],
    [5200, '5413330089010442', '12', '2025', 'MASTERCARD', '06'],
    [12345, '4895370013193500', '05', '2025', 'VISA', '07'],
  ];
  for (const [amount, number, month, year, type, eci] of magic) {
    it(`amount ${amount} delivers token ${number}`, async () => {
      const body = initBody(stub.url, { amount });
      const { id, token } = await initOk(server.url, h, body);
      assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
      const [c] = stub.callsFor(id);
      assert.equal(c.body.networkToken.number, number);
      assert.equal(c.body.networkToken.expiryMonth, month);
      assert.equal(c.body.networkToken.expiryYear, year);
      assert.equal(c.body.networkToken.tokenType, type);
      assert.equal(c.body.networkToken.eci, eci);
      assert.equal(c.body.binNumber, number.slice(0, 6));
    });
  }

  it('amount 3100 emulates a card that is not eligible: no token is delivered, the payment fails', async () => {
    const { id, token } = await initOk(server.url, h, initBody(stub.url, { amount: 3100 }));
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    assert.equal(stub.callsFor(id).length, 0);
    const d = await details(server.url, h, id);
    assert.deepEqual(d.body.transactionLogHistory.map((e: any) => [e.operation, e.operationSuccess]), [['RESERVED', false]]);
    const view = await adminPayment(server.url, id);
    assert.equal(view.state, 'FAILED');
    assert.equal(view.failureReason, 'CARD_NOT_ELIGIBLE');
  });

  it('PSP answers FAIL → FAILED, keeping errorId and errorText', async () => {
    const body = initBody(stub.url);
    stub.on(body.pspTransactionId as string, { kind: 'fail', errorId: '82', errorText: 'Refused by Issuer' });
    const { id, token } = await initOk(server.url, h, body);
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    const d = await details(server.url, h, id);
    assert.deepEqual(d.body.transactionLogHistory.map((e: any) => [e.operation, e.operationSuccess]), [['RESERVED', false]]);
    assert.equal(d.body.transactionSummary.remainingAmountToCapture, 0);
    const view = await adminPayment(server.url, id);
    assert.equal(view.state, 'FAILED');
    assert.equal(view.errorId, '82');
    assert.equal(view.errorText, 'Refused by Issuer');
  });

  it('SOFT_DECLINE → 3-D Secure → second makePayment OK → RESERVED', async () => {
    const body = initBody(stub.url);
    const id = body.pspTransactionId as string;
    stub.on(id, { kind: 'soft-decline', url3dSecure: stub.threeDsUrl, then: { kind: 'ok' } });
    const { token } = await initOk(server.url, h, body);
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    const waiting = await adminPayment(server.url, id);
    assert.equal(waiting.state, 'AWAITING_3DS');
    assert.equal(waiting.url3dSecure, stub.threeDsUrl);
    assert.deepEqual((await details(server.url, h, id)).body.transactionLogHistory, []);

    const success = stub.callsFor(id)[0].body.operations.find((o: any) => o.operation === '3dssuccess').url as string;
    const page = await call('', 'GET', success);
    assert.equal(page.status, 200);
    assert.match(page.text, /approved/);
    const calls = stub.callsFor(id);
    assert.equal(calls.length, 2);
    assert.equal(calls[1].body.paymentState, 'ACCEPTED');
    assert.deepEqual(calls[1].body.networkToken, calls[0].body.networkToken);
    const d = await details(server.url, h, id);
    assert.deepEqual(d.body.transactionLogHistory.map((e: any) => [e.operation, e.operationSuccess]), [['RESERVED', true]]);
    // The operations URL works once; a replay changes nothing.
    await call('', 'GET', success);
    assert.equal(stub.callsFor(id).length, 2);
  });

  it('a second SOFT_DECLINE after 3-D Secure counts as FAIL', async () => {
    const body = initBody(stub.url);
    const id = body.pspTransactionId as string;
    stub.on(id, { kind: 'soft-decline', url3dSecure: stub.threeDsUrl, then: { kind: 'soft-decline', url3dSecure: stub.threeDsUrl } });
    const { token } = await initOk(server.url, h, body);
    await forceApprove(server.url, h, id, token);
    const success = stub.callsFor(id)[0].body.operations[0].url as string;
    await call('', 'GET', success);
    assert.equal(stub.callsFor(id).length, 2);
    assert.equal((await adminPayment(server.url, id)).state, 'FAILED');
  });

  it('3-D Secure cancel is a user cancel and tells the PSP USER_CANCEL', async () => {
    const body = initBody(stub.url);
    const id = body.pspTransactionId as string;
    stub.on(id, { kind: 'soft-decline', url3dSecure: stub.threeDsUrl });
    const { token } = await initOk(server.url, h, body);
    await forceApprove(server.url, h, id, token);
    const cancel = stub.callsFor(id)[0].body.operations.find((o: any) => o.operation === '3dscancel').url as string;
    await call('', 'GET', cancel);
    const calls = stub.callsFor(id);
    assert.equal(calls.length, 2);
    assert.equal(calls[1].body.paymentState, 'USER_CANCEL');
    assert.equal((await adminPayment(server.url, id)).state, 'USER_CANCEL');
  });

  it('a PSP slower than MAKE_PAYMENT_TIMEOUT_MS → FAILED', async () => {
    const body = initBody(stub.url);
    stub.on(body.pspTransactionId as string, { kind: 'slow', ms: 1500 });
    const { id, token } = await initOk(server.url, h, body);
    const started = Date.now();
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    assert.ok(Date.now() - started < 1400, 'the call gives up at the timeout');
    const view = await adminPayment(server.url, id);
    assert.equal(view.state, 'FAILED');
    assert.match(view.deliveries[0].error, /no answer within 700 ms/);
    assert.deepEqual((await details(server.url, h, id)).body.transactionLogHistory.map((e: any) => e.operationSuccess), [false]);
  });

  for (const [label, behaviour] of [
    ['HTTP 500', { kind: 'status', status: 500, body: '{"paymentInfo":{"status":"OK"}}', contentType: 'application/json' }],
    ['an HTML page', { kind: 'status', status: 200, body: '<html>hello</html>' }],
    ['JSON without a status', { kind: 'status', status: 200, body: '{"paymentInfo":{}}', contentType: 'application/json' }],
  ] as const) {
    it(`a PSP answering ${label} → FAILED`, async () => {
      const body = initBody(stub.url);
      stub.on(body.pspTransactionId as string, behaviour);
      const { id, token } = await initOk(server.url, h, body);
      assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
      assert.equal((await adminPayment(server.url, id)).state, 'FAILED');
    });
  }

  it('a PSP that cannot be reached → FAILED', async () => {
    const { id, token } = await initOk(server.url, h, initBody('http://127.0.0.1:9/makepayment'));
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    const view = await adminPayment(server.url, id);
    assert.equal(view.state, 'FAILED');
    assert.match(view.deliveries[0].error, /ECONNREFUSED/);
  });

  it('USER_CANCEL: the PSP gets makePayment without card data; the payment stays cancelled', async () => {
    const { id, token } = await initOk(server.url, h, initBody(stub.url));
    const rejected = await call(server.url, 'POST', `/admin/payments/${DEMO.psp.pspId}/${id}/reject`, { headers: adminHeaders() });
    assert.equal(rejected.status, 200, rejected.text);
    const calls = stub.callsFor(id);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].headers.authorization, 'WCAG6W5HYWGg4');
    assert.equal(calls[0].body.paymentState, 'USER_CANCEL');
    assert.equal(calls[0].body.networkToken, undefined);
    assert.equal(calls[0].body.binNumber, undefined);
    const view = await adminPayment(server.url, id);
    assert.equal(view.state, 'USER_CANCEL');
    assert.equal(view.deliveries[0].responseStatus, 200);
    assert.match(view.deliveries[0].responseBody, /"93"/);
    const again = await forceApprove(server.url, h, id, token);
    assert.equal(again.status, 400);
    assert.match(again.body[0].errorMessage, /not awaiting approval/);
  });

  it('force approve: wrong token, unknown user, bad body → 400; unknown payment → 404', async () => {
    const { id, token } = await initOk(server.url, h, initBody(stub.url));
    const wrongToken = await forceApprove(server.url, h, id, `${token}x`);
    assert.equal(wrongToken.status, 400);
    assert.match(wrongToken.body[0].errorMessage, /token does not match/);
    const unknownUser = await forceApprove(server.url, h, id, token, '40000000');
    assert.equal(unknownUser.status, 400);
    assert.match(unknownUser.body[0].errorMessage, /not a known test user/);
    const badBody = await call(server.url, 'POST', `/psp/v3/integration-test/psppayments/${id}/approve`, { headers: h, body: { customerPhoneNumber: 'abc' } });
    assert.equal(badBody.status, 400);
    const unknown = await forceApprove(server.url, h, 'no-such-payment', token);
    assert.equal(unknown.status, 404);
    assert.equal(stub.callsFor(id).length, 0);
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
  });

  it('duplicates: pspTransactionId → 44, merchantOrderId → 99', async () => {
    const body = initBody(stub.url);
    assert.equal((await init(server.url, h, body)).status, 200);
    const dupTx = await init(server.url, h, { ...body, merchantOrderId: uniqueId('other-') });
    assert.equal(dupTx.status, 400);
    assert.equal(dupTx.body[0].errorCode, '44');
    assert.equal(dupTx.body[0].errorMessage, 'PSP Transaction ID already exists');
    assert.match(dupTx.body[0].contextId, UUID);
    const dupOrder = await init(server.url, h, { ...body, pspTransactionId: uniqueId('tx') });
    assert.equal(dupOrder.status, 400);
    assert.equal(dupOrder.body[0].errorCode, '99');
    assert.equal(dupOrder.body[0].errorMessage, 'OrderId already exists');
  });

  it('concurrent duplicates: exactly one of 12 identical inits succeeds', async () => {
    const body = initBody(stub.url);
    const answers = await Promise.all(Array.from({ length: 12 }, () => init(server.url, h, body)));
    assert.equal(answers.filter((a) => a.status === 200).length, 1);
    assert.equal(answers.filter((a) => a.status === 400 && a.body[0].errorCode === '44').length, 11);
  });

  it('concurrent approvals: of two approvals of one payment sent at once exactly one delivers, for 10 payments approved together', async () => {
    const payments = await Promise.all(Array.from({ length: 10 }, () => initOk(server.url, h, initBody(stub.url))));
    const answers = await Promise.all(payments.flatMap(({ id, token }) => [forceApprove(server.url, h, id, token), forceApprove(server.url, h, id, token)]));
    for (const [k, { id }] of payments.entries()) {
      const pair = answers.slice(2 * k, 2 * k + 2);
      assert.deepEqual(pair.map((a) => a.status).sort(), [200, 400], `${id}: ${pair.map((a) => a.text).join(' | ')}`);
      assert.match(pair.find((a) => a.status === 400)!.body[0].errorMessage, /not awaiting approval/);
      assert.equal(stub.callsFor(id).length, 1, `${id} got one makePayment`);
      const stored = await adminPayment(server.url, id);
      assert.equal(stored.state, 'RESERVED');
      assert.equal(stored.deliveries.length, 1, `${id} has one attempt`);
    }
  });

  it('Idempotency-Key: the same body returns the first response; another body → 409', async () => {
    const body = initBody(stub.url);
    const key = uniqueId('key-');
    const first = await call(server.url, 'POST', '/psp/v3/psppayments/init', { headers: { ...h, 'Idempotency-Key': key }, body });
    const retry = await call(server.url, 'POST', '/psp/v3/psppayments/init', { headers: { ...h, 'Idempotency-Key': key }, body });
    assert.equal(first.status, 200);
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.body, first.body);
    const other = await call(server.url, 'POST', '/psp/v3/psppayments/init', { headers: { ...h, 'Idempotency-Key': key }, body: { ...body, amount: 100 } });
    assert.equal(other.status, 409);
    // Request-Id works the same way.
    const body2 = initBody(stub.url);
    const rid = uniqueId('rid-');
    const a = await call(server.url, 'POST', '/psp/v3/psppayments/init', { headers: { ...h, 'Request-Id': rid }, body: body2 });
    const b = await call(server.url, 'POST', '/psp/v3/psppayments/init', { headers: { ...h, 'Request-Id': rid }, body: body2 });
    assert.deepEqual(b.body, a.body);
    // Concurrent retries with one key create one payment.
    const body3 = initBody(stub.url);
    const k3 = uniqueId('key-');
    const all = await Promise.all(Array.from({ length: 6 }, () => call(server.url, 'POST', '/psp/v3/psppayments/init', { headers: { ...h, 'Idempotency-Key': k3 }, body: body3 })));
    const ok = all.filter((x) => x.status === 200);
    assert.ok(ok.length >= 1);
    for (const x of ok) assert.deepEqual(x.body, ok[0].body);
    for (const x of all) assert.ok(x.status === 200 || x.status === 409, `status ${x.status}`);
  });

  it("another PSP's payment is 404 on details and force approve", async () => {
    const { id, token } = await initOk(server.url, h, initBody(stub.url));
    const other = await createPsp(server.url, 'Rival PSP');
    const merchant = await call(server.url, 'POST', '/merchant-management/psp/v1/merchants', {
      headers: { ...(await pspHeaders(server.url, other, undefined)), 'Idempotency-Key': uniqueId('k') },
      body: {
        organizationNumber: '111111111', name: 'Rival Shop', mccCode: '5411', logo: (await import('../support/server.ts')).pngLogo(),
        address: { addressLine1: 'Gate 1', city: 'Oslo', postCode: '0150', country: 'NO' }, companyName: 'Rival AS', companyEmail: 'a@rival.example',
      },
    });
    assert.equal(merchant.status, 200, merchant.text);
    const oh = await pspHeaders(server.url, other, merchant.body.merchantSerialNumber);
    const d = await details(server.url, oh, id);
    assert.equal(d.status, 404);
    assert.equal(d.body[0].errorCode, '404');
    const unknown = await details(server.url, oh, 'never-existed');
    assert.equal(unknown.status, 404);
    assert.equal(d.body[0].errorMessage.replace(id, 'X'), unknown.body[0].errorMessage.replace('never-existed', 'X'), 'no leak of existence');
    assert.equal((await forceApprove(server.url, oh, id, token)).status, 404);
  });
});

describe('init validation: the guide error codes', () => {
  let server: TestServer;
  let h: Record<string, string>;
  const cb = 'http://127.0.0.1:9/makepayment';
  before(async () => {
    server = await startTestServer();
    h = await pspHeaders(server.url);
  });
  after(async () => { await server.close(); });

  const codeOf = async (overrides: Record<string, unknown>) => {
    const answer = await init(server.url, h, initBody(cb, overrides));
    assert.equal(answer.status, 400, `${JSON.stringify(overrides)} → ${answer.status} ${answer.text}`);
    assert.ok(Array.isArray(answer.body));
    for (const e of answer.body) assert.match(e.contextId, UUID);
    return answer.body as Array<{ errorCode: string; errorMessage: string }>;
  };

  it('amount < 1 → amount.less.than.one; 1–99 → the 100 øre minimum', async () => {
    assert.deepEqual((await codeOf({ amount: 0 })).map((e) => [e.errorCode, e.errorMessage]), [['amount', 'amount.less.than.one']]);
    assert.equal((await codeOf({ amount: '-5' }))[0].errorMessage, 'amount.less.than.one');
    const small = await codeOf({ amount: 99 });
    assert.equal(small[0].errorCode, 'amount');
    assert.match(small[0].errorMessage, /minimum amount is 100 øre/);
    assert.equal((await codeOf({ amount: 'abc' }))[0].errorCode, 'amount');
    assert.equal((await codeOf({ amount: 12.5 }))[0].errorCode, 'amount');
    assert.equal((await codeOf({ amount: 2147483648 }))[0].errorCode, 'amount');
  });

  it('amount as a number and as a numeric string both work', async () => {
    assert.equal((await init(server.url, h, initBody(cb, { amount: 100 }))).status, 200);
    assert.equal((await init(server.url, h, initBody(cb, { amount: '100' }))).status, 200);
  });

  it('currency other than NOK → transaction.currency.invalid', async () => {
    assert.deepEqual((await codeOf({ currency: 'SEK' })).map((e) => [e.errorCode, e.errorMessage]), [['currency', 'transaction.currency.invalid']]);
  });

  it('pspRedirectUrl like UrlValidator → 51 Invalid pspRedirectUrl; not checked with isApp', async () => {
    for (const bad of ['https://localhost', 'not a url', 'ftp://example.com', 'https://exa mple.com', 'https://example', '']) {
      const errors = await codeOf({ pspRedirectUrl: bad });
      assert.equal(errors[0].errorCode, '51', bad);
      assert.match(errors[0].errorMessage, /Invalid pspRedirectUrl/);
    }
    for (const good of ['http://127.0.0.1', 'https://example.com/a?b=c', 'http://shop.example.no:8443/return']) {
      assert.equal((await init(server.url, h, initBody(cb, { pspRedirectUrl: good }))).status, 200, good);
    }
    const app = await init(server.url, h, initBody(cb, { pspRedirectUrl: 'myapp://return', isApp: true }));
    assert.equal(app.status, 200);
    assert.match(app.body.vippsRedirectUrl, /^vippsMT:\/\/\?token=[A-Za-z0-9_-]{32,}$/);
  });

  it('makePaymentUrl → makePaymentUrl Invalid makePaymentUrl', async () => {
    for (const bad of ['ftp://example.com', 'nope', '', 42]) {
      const errors = await codeOf({ makePaymentUrl: bad });
      assert.deepEqual(errors.map((e) => [e.errorCode, e.errorMessage]), [['makePaymentUrl', 'Invalid makePaymentUrl']]);
    }
  });

  it('a host under a top-level domain that is not in IANA\'s list → Invalid pspRedirectUrl / Invalid makePaymentUrl', async () => {
    const redirect = await codeOf({ pspRedirectUrl: 'https://shop.example.invalidtld/back' });
    assert.deepEqual(redirect.map((e) => [e.errorCode, e.errorMessage]), [['51', 'Invalid pspRedirectUrl']]);
    const callback = await codeOf({ makePaymentUrl: 'https://psp.example.invalidtld/makepayment' });
    assert.deepEqual(callback.map((e) => [e.errorCode, e.errorMessage]), [['makePaymentUrl', 'Invalid makePaymentUrl']]);
    for (const good of ['https://shop.example.no/back', 'https://shop.example.xn--p1ai/back']) {
      const answer = await init(server.url, h, initBody(cb, { pspRedirectUrl: good }));
      assert.equal(answer.status, 200, `${good} → ${answer.text}`);
    }
  });

  it('pspTransactionId, merchantOrderId, customerMobileNumber, makePaymentToken, paymentText → 51', async () => {
    const cases: Array<Record<string, unknown>> = [
      { pspTransactionId: 'x'.repeat(37) }, { pspTransactionId: '' }, { pspTransactionId: '---' }, { pspTransactionId: 'a/b' },
      { merchantOrderId: 'has space' }, { merchantOrderId: 'x'.repeat(51) }, { merchantOrderId: undefined },
      { customerMobileNumber: '1234567' }, { customerMobileNumber: 92929292 },
      { makePaymentToken: 'x'.repeat(256) }, { paymentText: 'x'.repeat(101) }, { isApp: 'maybe' },
    ];
    for (const c of cases) {
      const errors = await codeOf(c);
      assert.equal(errors[0].errorCode, '51', JSON.stringify(c));
      assert.match(errors[0].errorMessage, /^Invalid request: /);
    }
  });

  it('malformed JSON, an array body, and no body → 400 ErrorDetails', async () => {
    for (const raw of ['{"amount":', '[]', '']) {
      const answer = await call(server.url, 'POST', '/psp/v3/psppayments/init', { headers: { ...h, 'content-type': 'application/json' }, raw });
      assert.equal(answer.status, 400, raw);
      assert.ok(Array.isArray(answer.body));
      assert.match(answer.body[0].contextId, UUID);
    }
  });

  it('skipLandingPage needs a whitelisted merchant and a known customerMobileNumber', async () => {
    const notListed = await codeOf({ skipLandingPage: true });
    assert.match(notListed[0].errorMessage, /whitelisted/);
    const flag = await call(server.url, 'PATCH', `/admin/merchants/${DEMO.msn}`, { headers: adminHeaders(), body: { skipLandingPage: true } });
    assert.equal(flag.status, 200);
    try {
      assert.match((await codeOf({ skipLandingPage: true, customerMobileNumber: undefined }))[0].errorMessage, /requires customerMobileNumber/);
      assert.match((await codeOf({ skipLandingPage: true, customerMobileNumber: '40000001' }))[0].errorMessage, /not one/);
      const ok = await init(server.url, h, initBody(cb, { skipLandingPage: true }));
      assert.equal(ok.status, 200);
    } finally {
      await call(server.url, 'PATCH', `/admin/merchants/${DEMO.msn}`, { headers: adminHeaders(), body: { skipLandingPage: false } });
    }
  });

  it('an inactive merchant → errorCode 21', async () => {
    await call(server.url, 'PATCH', `/admin/merchants/${DEMO.msn}`, { headers: adminHeaders(), body: { active: false } });
    try {
      const answer = await init(server.url, h, initBody(cb));
      assert.equal(answer.body[0].errorCode, '21');
      assert.equal(answer.body[0].errorMessage, 'Merchant not available or active');
    } finally {
      await call(server.url, 'PATCH', `/admin/merchants/${DEMO.msn}`, { headers: adminHeaders(), body: { active: true } });
    }
    assert.equal((await init(server.url, h, initBody(cb))).status, 200);
  });
});

describe('init with ALLOW_PRIVATE_CALLBACKS=false: makePaymentUrl must be a public address in every spelling', () => {
  let server: TestServer;
  let h: Record<string, string>;
  before(async () => {
    server = await startTestServer({ ALLOW_PRIVATE_CALLBACKS: 'false' });
    h = await pspHeaders(server.url);
  });
  after(async () => { await server.close(); });

  it('IPv6 forms of loopback, private and reserved addresses → makePaymentUrl Invalid makePaymentUrl', async () => {
    for (const url of ['https://[::127.0.0.1]/', 'https://[::7f00:1]/', 'https://[::ffff:0:7f00:1]/', 'https://[2002:7f00:1::]/', 'https://[100::1]/',
      'https://[::ffff:127.0.0.1]/mp', 'https://[::ffff:a9fe:a9fe]/latest/meta-data', 'https://[64:ff9b::a00:1]/mp', 'https://[fe80::1]/mp',
      'https://[fd00:ec2::254]/mp', 'https://[2001:db8::1]/mp', 'https://[2001:0:7f00:1::1]/mp', 'https://127.0.0.1/mp', 'https://localhost/mp']) {
      const answer = await init(server.url, h, initBody(url));
      assert.equal(answer.status, 400, `${url} → ${answer.status} ${answer.text}`);
      assert.ok(Array.isArray(answer.body), answer.text);
      assert.deepEqual(answer.body.map((e: { errorCode: string }) => e.errorCode), ['makePaymentUrl'], url);
      assert.match(answer.body[0].errorMessage, /^Invalid makePaymentUrl/, url);
      assert.match(answer.body[0].contextId, UUID);
    }
  });

  it('public addresses, also written as IPv6, are accepted', async () => {
    for (const url of ['https://[2001:4860:4860::8888]/mp', 'https://[::ffff:8.8.8.8]/mp', 'https://[64:ff9b::808:808]/mp', 'https://8.8.8.8/mp']) {
      const answer = await init(server.url, h, initBody(url));
      assert.equal(answer.status, 200, `${url} → ${answer.status} ${answer.text}`);
    }
  });
});

describe('PSP API authentication', () => {
  let server: TestServer;
  let h: Record<string, string>;
  before(async () => {
    server = await startTestServer();
    h = await pspHeaders(server.url);
  });
  after(async () => { await server.close(); });

  const detailsWith = (headers: Record<string, string>, path = '/psp/v3/psppayments/unknown-id/details') => call(server.url, 'GET', path, { headers });

  it('a valid token passes: an unknown payment is a 404, not an auth error', async () => {
    const answer = await detailsWith(h);
    assert.equal(answer.status, 404);
  });

  it('paths are case-insensitive and tolerate a trailing slash', async () => {
    for (const path of ['/PSP/V3/PSPPAYMENTS/unknown-id/DETAILS', '/psp/v3/psppayments/unknown-id/details/']) {
      assert.equal((await detailsWith(h, path)).status, 404, path);
    }
    const cb = 'http://127.0.0.1:9/x';
    const body = initBody(cb, { pspTransactionId: 'MixedCase1x' });
    assert.equal((await call(server.url, 'POST', '/PSP/v3/PspPayments/Init/', { headers: h, body })).status, 200);
    assert.equal((await detailsWith(h, '/psp/v3/psppayments/MixedCase1x/details')).status, 200, 'the id keeps its case');
  });

  it('token and key failures → 401', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['no token', { ...h, authorization: '' }],
      ['not bearer', { ...h, authorization: 'Basic abc' }],
      ['garbage token', { ...h, authorization: 'Bearer abc.def.ghi' }],
      ['tampered token', { ...h, authorization: `${h.authorization.slice(0, -4)}AAAA` }],
      ['no subscription key', { ...h, 'ocp-apim-subscription-key': '' }],
      ['unknown subscription key', { ...h, 'ocp-apim-subscription-key': '00000000000000000000000000000000' }],
    ];
    for (const [label, headers] of cases) {
      const answer = await detailsWith(headers);
      assert.equal(answer.status, 401, label);
      assert.ok(Array.isArray(answer.body), label);
      assert.match(answer.body[0].contextId, UUID);
    }
  });

  it("another PSP's token with this PSP's key → 401", async () => {
    const other = await createPsp(server.url, 'Token PSP');
    const otherHeaders = await pspHeaders(server.url, other, undefined);
    const answer = await detailsWith({ ...h, authorization: otherHeaders.authorization });
    assert.equal(answer.status, 401);
  });

  it('Psp-Id: missing → 401, another → 403; case and dashes do not matter', async () => {
    assert.equal((await detailsWith({ ...h, 'psp-id': '' })).status, 401);
    assert.equal((await detailsWith({ ...h, 'psp-id': '00000000000000000000000000000000' })).status, 403);
    assert.equal((await detailsWith({ ...h, 'psp-id': DEMO.psp.pspId.toLowerCase() })).status, 404);
  });

  it('Merchant-Serial-Number: missing → 400; another PSP\'s → 403 with the documented message', async () => {
    const missing = await detailsWith({ ...h, 'merchant-serial-number': '' });
    assert.equal(missing.status, 400);
    const other = await createPsp(server.url, 'MSN PSP');
    const created = await call(server.url, 'POST', '/merchant-management/psp/v1/merchants', {
      headers: { ...(await pspHeaders(server.url, other, undefined)), 'Idempotency-Key': uniqueId('k') },
      body: {
        organizationNumber: '222222222', name: 'Other Shop', mccCode: '5411', logo: (await import('../support/server.ts')).pngLogo(),
        address: { addressLine1: 'Gate 2', city: 'Oslo', postCode: '0150', country: 'NO' }, companyName: 'Other AS', companyEmail: 'b@other.example',
      },
    });
    const msn = created.body.merchantSerialNumber as string;
    const answer = await detailsWith({ ...h, 'merchant-serial-number': msn });
    assert.equal(answer.status, 403);
    assert.equal(answer.body[0].errorMessage, `Invalid MSN: ${msn}. This MSN is not valid for the provided PSP id.`);
    const unknown = await detailsWith({ ...h, 'merchant-serial-number': '654321' });
    assert.equal(unknown.status, 403);
    assert.equal(unknown.body[0].errorMessage, 'Invalid MSN: 654321. This MSN is not valid for the provided PSP id.');
  });

  it('Vipps-System-* headers: up to 30 characters accepted, longer → 400', async () => {
    for (const name of ['Vipps-System-Name', 'Vipps-System-Version', 'Vipps-System-Plugin-Name', 'Vipps-System-Plugin-Version']) {
      assert.equal((await detailsWith({ ...h, [name]: 'x'.repeat(30) })).status, 404, name);
      const long = await detailsWith({ ...h, [name]: 'x'.repeat(31) });
      assert.equal(long.status, 400, name);
      assert.match(long.body[0].errorMessage, new RegExp(name));
    }
  });

  it('force approve is refused in production', async () => {
    const prod = await startTestServer({ VIPPS_ENV: 'production' });
    try {
      const psp = await (await import('../support/server.ts')).createPsp(prod.url, 'Prod PSP');
      const ph = await pspHeaders(prod.url, psp, undefined);
      const answer = await call(prod.url, 'POST', '/psp/v3/integration-test/psppayments/abc/approve', {
        headers: { ...ph, 'merchant-serial-number': '123456' }, body: { customerPhoneNumber: '92929292', token: 'x' },
      });
      assert.ok(answer.status === 403, `${answer.status} ${answer.text}`);
    } finally {
      await prod.close();
    }
  });
});

describe('timeouts', () => {
  let server: TestServer;
  let stub: PspStub;
  let h: Record<string, string>;
  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer({ LANDING_TIMEOUT_SECONDS: '1', APP_TIMEOUT_SECONDS: '1', SWEEP_INTERVAL_MS: '100' });
    h = await pspHeaders(server.url);
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  it('a payment nobody acts on expires: one TIMEOUT makePayment without card data, and it cannot be approved after', async () => {
    const { id, token } = await initOk(server.url, h, initBody(stub.url));
    const calls = await stub.waitForCalls(id, 1, 5000);
    assert.equal(calls[0].body.paymentState, 'TIMEOUT');
    assert.equal(calls[0].body.networkToken, undefined);
    assert.equal(calls[0].body.binNumber, undefined);
    assert.equal(calls[0].headers.authorization, 'WCAG6W5HYWGg4');
    const view = await eventually(() => adminPayment(server.url, id), (v) => v.deliveries.length === 1);
    assert.equal(view.state, 'TIMEOUT');
    assert.equal(view.deliveries[0].paymentState, 'TIMEOUT');
    const late = await forceApprove(server.url, h, id, token);
    assert.equal(late.status, 400);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(stub.callsFor(id).length, 1, 'exactly one TIMEOUT delivery');
  });

  it('3-D Secure not completed in time → TIMEOUT', async () => {
    const body = initBody(stub.url);
    const id = body.pspTransactionId as string;
    stub.on(id, { kind: 'soft-decline', url3dSecure: stub.threeDsUrl });
    const { token } = await initOk(server.url, h, body);
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    const calls = await stub.waitForCalls(id, 2, 5000);
    assert.equal(calls[1].body.paymentState, 'TIMEOUT');
    const page = await call('', 'GET', calls[0].body.operations[0].url);
    assert.equal(page.status, 200);
    assert.equal(stub.callsFor(id).length, 2, 'a late 3-D Secure return sends nothing');
  });
});
