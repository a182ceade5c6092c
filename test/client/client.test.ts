// vipps-psp/client and vipps-psp/testing against a server started by startVippsPsp: tokens cached,
// shared and renewed, an init retried with its key, updatestatus split, the API's errors typed, and
// the harness's helpers as a PSP's test uses them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  MAX_STATUS_BODY_BYTES, parseMakePayment, splitStatusUpdates, VippsPspClient, VippsPspError, type InitiatePaymentRequest, type TransactionInfo,
} from '../../src/client/index.ts';
import { startVippsPsp, type VippsPspHarness } from '../../src/testing/index.ts';
import { PspStub } from '../support/psp-stub.ts';

function initRequest(makePaymentUrl: string, overrides: Partial<InitiatePaymentRequest> = {}): InitiatePaymentRequest {
  return {
    pspTransactionId: `tx${randomUUID().replace(/-/g, '').slice(0, 30)}`,
    merchantOrderId: `order-${randomUUID().slice(0, 8)}`,
    amount: 49900,
    currency: 'NOK',
    pspRedirectUrl: 'https://example.com/return',
    makePaymentUrl,
    makePaymentToken: 'WCAG6W5HYWGg4',
    paymentText: 'One pair of socks',
    isApp: false,
    skipLandingPage: false,
    ...overrides,
  };
}

/** A fetch that records each request's method, path and headers before passing it on. */
function recordingFetch(): { fetch: typeof fetch; requests: Array<{ method: string; path: string; headers: Headers; body?: string }> } {
  const requests: Array<{ method: string; path: string; headers: Headers; body?: string }> = [];
  return {
    requests,
    fetch: async (input, init) => {
      requests.push({ method: init?.method ?? 'GET', path: new URL(String(input)).pathname, headers: new Headers(init?.headers), body: init?.body as string | undefined });
      return fetch(input, init);
    },
  };
}

describe('vipps-psp/client and vipps-psp/testing', () => {
  let psp: VippsPspHarness;
  let stub: PspStub;

  before(async () => {
    stub = await PspStub.start();
    const started = performance.now();
    psp = await startVippsPsp();
    // The first start in a process makes the database image (from the sources no built one exists).
    const second = performance.now();
    const other = await startVippsPsp();
    const secondMs = performance.now() - second;
    await other.close();
    console.log(`# startVippsPsp: first start ${((second - started) / 1000).toFixed(2)} s, second ${(secondMs / 1000).toFixed(2)} s`);
  });

  after(async () => {
    await psp?.close();
    await stub?.close();
  });

  function client(extra: Partial<ConstructorParameters<typeof VippsPspClient>[0]> = {}): VippsPspClient {
    return new VippsPspClient({ baseUrl: psp.url, ...psp.credentials, ...extra });
  }

  it('fetches one access token for concurrent callers and reuses it', async () => {
    const c = client();
    const tokens = await Promise.all(Array.from({ length: 8 }, () => c.accessToken()));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(c.tokenFetches, 1);
    await c.details((await c.init(initRequest(stub.url))).pspTransactionId!);
    assert.equal(c.tokenFetches, 1, 'init and details reuse the token');
  });

  it('renews the access token before it expires', async () => {
    // The server's tokens live 3600 s; renewing 3599 s before the end means after about a second.
    const c = client({ renewBeforeSeconds: 3599 });
    await c.accessToken();
    await c.accessToken();
    assert.equal(c.tokenFetches, 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await Promise.all([c.accessToken(), c.accessToken()]);
    assert.equal(c.tokenFetches, 2, 'one renewal, shared by both callers');
  });

  it('fetches a new token when the API refuses the cached one', async () => {
    // The first API request carries a token the server never issued, as a revoked one would be.
    let forge = true;
    const c = client({
      fetch: async (input, init) => {
        const headers = new Headers(init?.headers);
        if (forge && String(input).includes('/psp/')) {
          forge = false;
          headers.set('authorization', 'Bearer not-a-token');
        }
        return fetch(input, { ...init, headers });
      },
    });
    const answer = await c.init(initRequest(stub.url));
    assert.match(answer.vippsRedirectUrl ?? '', /token=/);
    assert.equal(forge, false);
    assert.equal(c.tokenFetches, 2, 'the refused token was replaced once');
  });

  it('sends an Idempotency-Key with every init; a retry with the same key gets the same answer', async () => {
    const recorder = recordingFetch();
    const c = client({ fetch: recorder.fetch });
    const request = initRequest(stub.url);
    const first = await c.init(request, { idempotencyKey: 'order-42-attempt' });
    const again = await c.init(request, { idempotencyKey: 'order-42-attempt' });
    assert.deepEqual(again, first);
    await c.init(initRequest(stub.url));
    const keys = recorder.requests.filter((r) => r.path.endsWith('/init')).map((r) => r.headers.get('idempotency-key'));
    assert.equal(keys[0], 'order-42-attempt');
    assert.match(keys[2] ?? '', /^[0-9a-f-]{36}$/, 'a generated key when none is given');
    for (const r of recorder.requests.filter((x) => x.path.startsWith('/psp/'))) {
      assert.equal(r.headers.get('psp-id'), psp.credentials.pspId);
      assert.equal(r.headers.get('merchant-serial-number'), psp.credentials.merchantSerialNumber);
      assert.equal(r.headers.get('ocp-apim-subscription-key'), psp.credentials.subscriptionKey);
    }
  });

  it('splits updatestatus into requests of the allowed size, each with its own key', async () => {
    const recorder = recordingFetch();
    const c = client({ fetch: recorder.fetch });
    const updates: TransactionInfo[] = Array.from({ length: 5 }, (_, i) => ({
      pspTransactionId: `split${i}${randomUUID().slice(0, 8)}`, status: 'CAPTURED', amount: 100, currency: 'NOK', operationStatus: 'SUCCESS',
    }));
    const answers = await c.updateStatus(updates, { maxPerRequest: 2, idempotencyKey: 'nightly-7' });
    assert.equal(answers.length, 3);
    for (const a of answers) assert.equal(a.responseInfo?.responseCode, '9000');
    const sent = recorder.requests.filter((r) => r.path.endsWith('/updatestatus'));
    assert.deepEqual(sent.map((r) => (JSON.parse(r.body!) as { transactions: unknown[] }).transactions.length), [2, 2, 1]);
    assert.deepEqual(sent.map((r) => r.headers.get('idempotency-key')), ['nightly-7-1', 'nightly-7-2', 'nightly-7-3']);
    assert.deepEqual(sent.flatMap((r) => (JSON.parse(r.body!) as { transactions: TransactionInfo[] }).transactions), updates, 'every update once, in order');
    await assert.rejects(c.updateStatus(updates, { maxPerRequest: 50_001 }), RangeError);
  });

  it('keeps each updatestatus request under the body limit', () => {
    const text = '€'.repeat(1000);
    const updates: TransactionInfo[] = Array.from({ length: 12_000 }, (_, i) => ({
      pspTransactionId: `big-${i}`, status: 'CAPTURED', amount: 100, currency: 'NOK', operationStatus: 'SUCCESS', paymentText: text,
    }));
    const chunks = splitStatusUpdates(updates);
    assert.ok(chunks.length >= 2, `${chunks.length} requests`);
    for (const chunk of chunks) assert.ok(Buffer.byteLength(JSON.stringify({ transactions: chunk })) <= MAX_STATUS_BODY_BYTES);
    assert.equal(chunks.flat().length, updates.length);
  });

  it('throws the API\'s errors as VippsPspError with status, errorCode, errorMessage and contextId', async () => {
    const c = client();
    const invalid = await c.init(initRequest(stub.url, { pspRedirectUrl: 'not a url' })).then(() => undefined, (err: unknown) => err);
    assert.ok(invalid instanceof VippsPspError, String(invalid));
    assert.equal(invalid.status, 400);
    assert.equal(invalid.errorCode, '51');
    assert.match(invalid.errorMessage, /pspRedirectUrl/);
    assert.match(invalid.contextId ?? '', /\S/);
    assert.match(invalid.message, /init answered 400/);

    const missing = await c.details(`unknown${randomUUID().slice(0, 8)}`).then(() => undefined, (err: unknown) => err);
    assert.ok(missing instanceof VippsPspError);
    assert.equal(missing.status, 404);

    const wrong = new VippsPspClient({ baseUrl: psp.url, ...psp.credentials, clientSecret: 'wrong-secret' });
    const refused = await wrong.accessToken().then(() => undefined, (err: unknown) => err);
    assert.ok(refused instanceof VippsPspError);
    assert.equal(refused.status, 401);
    assert.match(refused.contextId ?? '', /\S/);
  });

  it('approves a payment: the PSP receives a makePayment that parseMakePayment accepts, and details show RESERVED', async () => {
    const request = initRequest(stub.url);
    await psp.client.init(request);
    await psp.approve(request.pspTransactionId);
    const [call] = stub.callsFor(request.pspTransactionId);
    assert.ok(call, `a makePayment arrived: ${JSON.stringify(await psp.payment(request.pspTransactionId)).slice(0, 2000)}; stub calls: ${JSON.stringify(stub.calls.map((c) => c.raw.slice(0, 100)))}`);
    const body = parseMakePayment(call.body);
    assert.equal(body.paymentState, 'ACCEPTED');
    assert.equal(body.pspTransactionId, request.pspTransactionId);
    if (body.paymentState === 'ACCEPTED') assert.equal(body.networkToken.tokenType, 'VISA');
    const details = await psp.client.details(request.pspTransactionId);
    assert.deepEqual(details.transactionLogHistory?.map((entry) => entry.operation), ['RESERVED'], JSON.stringify(details));
    assert.equal((await psp.payment(request.pspTransactionId)).state, 'RESERVED');
  });

  it('approves with a given card brand', async () => {
    const request = initRequest(stub.url);
    await psp.client.init(request);
    await psp.approve(request.pspTransactionId, { card: { brand: 'MASTERCARD' } });
    const body = parseMakePayment(stub.callsFor(request.pspTransactionId)[0].body);
    assert.ok(body.paymentState === 'ACCEPTED' && body.networkToken.tokenType === 'MASTERCARD', JSON.stringify(body));
    await assert.rejects(psp.approve(`never${randomUUID().slice(0, 8)}`), /not initiated through this harness/);
  });

  it('rejects and expires payments; the PSP is told', async () => {
    const rejected = initRequest(stub.url);
    const expired = initRequest(stub.url);
    await psp.client.init(rejected);
    await psp.client.init(expired);
    assert.equal((await psp.reject(rejected.pspTransactionId)).state, 'USER_CANCEL');
    assert.equal((await psp.expire(expired.pspTransactionId)).state, 'TIMEOUT');
    const [cancel] = await stub.waitForCalls(rejected.pspTransactionId, 1);
    const [timeout] = await stub.waitForCalls(expired.pspTransactionId, 1);
    assert.equal(parseMakePayment(cancel.body).paymentState, 'USER_CANCEL');
    assert.equal(parseMakePayment(timeout.body).paymentState, 'TIMEOUT');
  });

  it('moves the clock, injects faults, runs the status batch and resets', async () => {
    const request = initRequest(stub.url);
    await psp.client.init(request);
    const clock = await psp.advanceClock('1d');
    assert.ok(clock.offsetSeconds >= 86400);
    assert.equal((await psp.payment(request.pspTransactionId)).state, 'TIMEOUT');
    await assert.rejects(psp.advanceClock('soon'), RangeError);

    await psp.faults.add({ route: 'init', status: 503, times: 1 });
    const fault = await psp.client.init(initRequest(stub.url)).then(() => undefined, (err: unknown) => err);
    assert.ok(fault instanceof VippsPspError && fault.status === 503, String(fault));
    await psp.faults.add({ route: 'details', status: 500 });
    await psp.faults.clear();

    const reserved = initRequest(stub.url);
    await psp.client.init(reserved);
    await psp.approve(reserved.pspTransactionId);
    await psp.client.updateStatus([{ pspTransactionId: reserved.pspTransactionId, status: 'CAPTURED', amount: 49900, currency: 'NOK', operationStatus: 'SUCCESS' }]);
    const run = await psp.runStatusBatch();
    assert.equal(typeof run, 'object');
    const captured = await psp.client.details(reserved.pspTransactionId);
    assert.equal(captured.transactionSummary?.capturedAmount, 49900, JSON.stringify(captured));

    await psp.reset();
    assert.equal((await fetch(`${psp.url}/admin/clock`, { headers: { authorization: `Bearer ${psp.credentials.adminToken}` } }).then((r) => r.json()) as { offsetSeconds: number }).offsetSeconds, 0);
    const gone = await psp.client.details(reserved.pspTransactionId).then(() => undefined, (err: unknown) => err);
    assert.ok(gone instanceof VippsPspError && gone.status === 404, 'reset deleted the payments');
  });

  it('closes once, however often close() is called, also through await using', async () => {
    let url: string;
    {
      await using other = await startVippsPsp();
      url = other.url;
      assert.equal((await fetch(`${url}/health`)).status, 200);
      await Promise.all([other.close(), other.close()]);
    }
    await assert.rejects(fetch(`${url}/health`));
  });
});
