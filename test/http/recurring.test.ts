import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { adminHeaders, call, DEMO, pspHeaders, startTestServer, type Answer, type TestServer } from '../support/server.ts';
import { CardCallbackStub } from '../support/card-callback-stub.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { signedIn, textOf } from '../support/console.ts';

/** A Recurring ErrorV3: a problem with contextId and extraDetails as {name, reason}, in the published media type. */
function assertProblem(answer: Answer, status: number, field?: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json;\s*charset=utf-8$/i);
  assert.equal(answer.body.status, status);
  assert.equal(typeof answer.body.title, 'string');
  assert.equal(typeof answer.body.detail, 'string');
  assert.equal(typeof answer.body.contextId, 'string');
  assert.ok(answer.body.contextId.length > 0);
  assert.ok(Array.isArray(answer.body.extraDetails));
  if (field !== undefined) assert.ok(answer.body.extraDetails.some((d: { name: string; reason: string }) => d.name === field && typeof d.reason === 'string'), answer.text);
}

/** The Norwegian date `days` after the given instant. */
function osloDatePlus(at: Date, days: number): string {
  const d = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Oslo', year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
  const x = new Date(`${d}T00:00:00Z`);
  x.setUTCDate(x.getUTCDate() + days);
  return x.toISOString().slice(0, 10);
}

describe('Recurring PSP API', () => {
  let server: TestServer;
  let stub: CardCallbackStub;
  let h: Record<string, string>;

  const key = () => ({ 'idempotency-key': randomUUID().slice(0, 36) });
  const draft = (body: unknown, headers: Record<string, string> = { ...h, ...key() }) => call(server.url, 'POST', '/recurring/v3/agreements', { headers, body });
  const getAgreement = (id: string) => call(server.url, 'GET', `/recurring/v3/agreements/${id}`, { headers: h });
  const accept = (id: string, body: unknown = { phoneNumber: `47${DEMO.userPhone}` }) =>
    call(server.url, 'PATCH', `/recurring/v3/agreements/${id}/accept`, { headers: { ...h, ...key() }, body });
  const charges = (items: unknown, headers: Record<string, string> = { ...h, ...key() }) => call(server.url, 'POST', '/recurring/v4/agreements/charges', { headers, body: items });
  const paymentInfo = (aid: string, cid: string) => call(server.url, 'GET', `/recurring/v4/agreements/${aid}/charges/${cid}/payment-info`, { headers: h });
  const result = (aid: string, cid: string, body: unknown) => call(server.url, 'POST', `/recurring/v4/agreements/${aid}/charges/${cid}/result`, { headers: { ...h, ...key() }, body });
  const getCharge = (aid: string, cid: string) => call(server.url, 'GET', `/recurring/v3/agreements/${aid}/charges/${cid}`, { headers: h });
  const clock = async () => new Date((await call(server.url, 'GET', '/admin/clock', { headers: adminHeaders() })).body.now);
  // Time travel outdates the access token (its expiry is on the shared clock): a new one, as a PSP would get.
  const advanceTo = async (to: Date) => {
    const a = await call(server.url, 'POST', '/admin/clock/advance', { headers: adminHeaders(), body: { to: to.toISOString() } });
    assert.equal(a.status, 200, a.text);
    h = await pspHeaders(server.url);
  };
  const advance = async (seconds: number) => {
    const a = await call(server.url, 'POST', '/admin/clock/advance', { headers: adminHeaders(), body: { seconds } });
    assert.equal(a.status, 200, a.text);
    h = await pspHeaders(server.url);
  };
  /** Polls until `check` holds (the sweep runs every SWEEP_INTERVAL_MS). */
  async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`not within 5 s: ${what}`);
  }

  function draftBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      pricing: { type: 'LEGACY', currency: 'NOK', amount: 14900 },
      interval: { unit: 'MONTH', count: 1 },
      merchantRedirectUrl: 'https://shop.example/redirect',
      merchantAgreementUrl: 'https://shop.example/agreement',
      productName: 'Streaming subscription',
      cardPassthrough: {
        pspReference: `sub-${randomUUID().slice(0, 12)}`,
        cardCallbackUrl: stub.url,
        allowedCardTypes: ['VISA_DEBIT', 'VISA_CREDIT', 'ELEC_DEBIT', 'MC_CREDIT', 'MC_DEBIT', 'DANKORT'],
      },
      ...overrides,
    };
  }

  /** A drafted and accepted agreement; its id and the pspReference its callbacks carry. */
  async function active(overrides: Record<string, unknown> = {}): Promise<{ id: string; pspReference: string; chargeId: string | null }> {
    const body = draftBody(overrides);
    const drafted = await draft(body);
    assert.equal(drafted.status, 201, drafted.text);
    const accepted = await accept(drafted.body.agreementId);
    assert.equal(accepted.status, 204, accepted.text);
    return { id: drafted.body.agreementId, pspReference: (body.cardPassthrough as { pspReference: string }).pspReference, chargeId: drafted.body.chargeId };
  }

  before(async () => {
    stub = await CardCallbackStub.start(DEMO.psp.clientSecret);
    server = await startTestServer({ CARD_CALLBACK_TIMEOUT_MS: '5000', SWEEP_INTERVAL_MS: '50' });
    h = await pspHeaders(server.url);
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  it('drafts an agreement with an initial charge; the user accepts and the signed sign-up callback carries the initial charge', async () => {
    const body = draftBody({ initialCharge: { amount: 9900, description: 'First month', transactionType: 'RESERVE_CAPTURE' }, productDescription: 'All films' });
    const drafted = await draft(body);
    assert.equal(drafted.status, 201, drafted.text);
    assert.match(drafted.body.agreementId, /^agr_[A-Za-z0-9]{10}$/);
    assert.match(drafted.body.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(drafted.body.chargeId, /^chr-[A-Za-z0-9]{11}$/);
    assert.equal(new URL(drafted.body.vippsConfirmationUrl).pathname, '/recurring/confirm', drafted.body.vippsConfirmationUrl);
    const id = drafted.body.agreementId as string;

    const pending = await getAgreement(id);
    assert.equal(pending.status, 200, pending.text);
    assert.equal(pending.body.status, 'PENDING');
    assert.deepEqual(pending.body.pricing, { type: 'LEGACY', currency: 'NOK', amount: 14900 });
    assert.deepEqual(pending.body.interval, { unit: 'MONTH', count: 1, text: 'every month' });
    assert.equal(pending.body.productDescription, 'All films');
    assert.equal(pending.body.start, null);

    const initialBefore = await getCharge(id, drafted.body.chargeId);
    assert.equal(initialBefore.status, 200, initialBefore.text);
    assert.equal(initialBefore.body.status, 'PENDING');
    assert.equal(initialBefore.body.type, 'INITIAL');

    const pspReference = (body.cardPassthrough as { pspReference: string }).pspReference;
    const accepted = await accept(id);
    assert.equal(accepted.status, 204, accepted.text);
    const calls = stub.callsFor(pspReference);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].signatureProblem, undefined);
    assert.equal(calls[0].body.merchantSerialNumber, DEMO.msn);
    assert.deepEqual(calls[0].body.amount, { currency: 'NOK', value: 9900 });
    assert.equal(calls[0].body.cardInfo.cardDataType, 'TOKEN');
    assert.equal(calls[0].body.cardInfo.cardType, 'VISA-DEBIT');

    const activeNow = await getAgreement(id);
    assert.equal(activeNow.body.status, 'ACTIVE');
    assert.ok(activeNow.body.start !== null);
    assert.equal(activeNow.body.vippsConfirmationUrl, undefined);
    const initial = await getCharge(id, drafted.body.chargeId);
    assert.equal(initial.body.status, 'RESERVED');
    assert.deepEqual(initial.body.history.map((e: { event: string }) => e.event), ['CREATE', 'RESERVE']);

    const captured = await call(server.url, 'POST', `/recurring/v3/agreements/${id}/charges/${drafted.body.chargeId}/capture`, { headers: { ...h, ...key() }, body: { amount: 9900, description: 'First month' } });
    assert.equal(captured.status, 204, captured.text);
    const charged = await getCharge(id, drafted.body.chargeId);
    assert.equal(charged.body.status, 'CHARGED');
    assert.deepEqual(charged.body.summary, { captured: 9900, refunded: 0, cancelled: 0 });
  });

  it('verifies the card with a zero-amount callback when there is no initial charge; DIRECT_CAPTURE charges the initial charge at once', async () => {
    const plain = await active();
    const calls = stub.callsFor(plain.pspReference);
    assert.deepEqual(calls[0].body.amount, { currency: 'NOK', value: 0 });
    assert.equal(plain.chargeId, null);

    const direct = await active({ initialCharge: { amount: 5000, description: 'Setup', transactionType: 'DIRECT_CAPTURE' } });
    const charge = await getCharge(direct.id, direct.chargeId!);
    assert.equal(charge.body.status, 'CHARGED');
    assert.equal(charge.body.transactionType, 'DIRECT_CAPTURE');
    assert.deepEqual(charge.body.summary, { captured: 5000, refunded: 0, cancelled: 0 });
  });

  it('runs the 3-D Secure loop on SOFT_DECLINE: the second callback has the same authorizationAttemptId', async () => {
    const body = draftBody();
    const pspReference = (body.cardPassthrough as { pspReference: string }).pspReference;
    stub.on(pspReference, { kind: 'sequence', steps: [{ kind: 'soft-decline', softDeclineUrl: 'https://psp.example/3ds' }, { kind: 'reserve' }] });
    const drafted = await draft(body);
    const accepted = await accept(drafted.body.agreementId);
    assert.equal(accepted.status, 204, accepted.text);
    const calls = stub.callsFor(pspReference);
    assert.equal(calls.length, 2);
    assert.equal(calls[1].body.authorizationAttemptId, calls[0].body.authorizationAttemptId);
    assert.equal((await getAgreement(drafted.body.agreementId)).body.status, 'ACTIVE');
  });

  it('leaves an agreement whose sign-up callback failed for good PENDING until it expires after 10 minutes; its initial charge fails', async () => {
    const body = draftBody({ initialCharge: { amount: 9900, description: 'First', transactionType: 'RESERVE_CAPTURE' } });
    const pspReference = (body.cardPassthrough as { pspReference: string }).pspReference;
    stub.on(pspReference, { kind: 'fail', errorCode: 183, errorMessage: 'Suspected fraud' });
    const drafted = await draft(body);
    const id = drafted.body.agreementId;
    const refused = await accept(id);
    assertProblem(refused, 400);
    assert.match(refused.body.detail, /FAIL \(errorCode 183/);
    assert.equal((await getAgreement(id)).body.status, 'PENDING');
    const again = await accept(id);
    assertProblem(again, 400);
    assert.match(again.body.detail, /no more attempts/);

    await advance(10 * 60 + 1);
    await eventually(async () => (await getAgreement(id)).body.status === 'EXPIRED', 'the agreement expires');
    const initial = await getCharge(id, drafted.body.chargeId);
    assert.equal(initial.body.status, 'FAILED');
    assert.equal(initial.body.failureReason, 'user_action_required');
    assertProblem(await accept(id), 400);
  });

  it('answers a bad draft with ErrorV3 naming each field, and requires the Idempotency-Key', async () => {
    const bad = await draft({ ...draftBody(), pricing: { type: 'LEGACY', currency: 'XXX' }, productName: 'x'.repeat(46), cardPassthrough: { pspReference: 'p', cardCallbackUrl: 'ftp://x', allowedCardTypes: ['AMEX'] } });
    assertProblem(bad, 400, 'pricing.currency');
    for (const field of ['pricing.amount', 'productName', 'cardPassthrough.cardCallbackUrl', 'cardPassthrough.allowedCardTypes']) {
      assert.ok(bad.body.extraDetails.some((d: { name: string }) => d.name === field), `${field} in ${bad.text}`);
    }
    assertProblem(await draft(draftBody(), h), 400, 'Idempotency-Key');
    assertProblem(await draft(draftBody(), { ...h, 'idempotency-key': 'a/b' }), 400, 'Idempotency-Key');
    assertProblem(await draft([1, 2]), 400, 'body');
    const flexible = await draft(draftBody({ pricing: { type: 'FLEXIBLE', currency: 'EUR' }, interval: undefined }));
    assert.equal(flexible.status, 201, flexible.text);
    assert.equal((await getAgreement(flexible.body.agreementId)).body.interval, undefined);
    assertProblem(await getAgreement('agr_doesnotexist'), 404);
  });

  it('answers a retried draft with the same agreement, and the key with another body with 409', async () => {
    const body = draftBody();
    const headers = { ...h, ...key() };
    const first = await draft(body, headers);
    const second = await draft(body, headers);
    assert.equal(first.status, 201, first.text);
    assert.equal(second.status, 201, second.text);
    assert.equal(second.body.agreementId, first.body.agreementId);
    assertProblem(await draft({ ...body, productName: 'Another' }, headers), 409);
  });

  it('runs a year of monthly RECURRING charges on the shared clock: payment-info on the due date, results, retries, and a stop', async () => {
    const a = await active({ pricing: { type: 'VARIABLE', currency: 'NOK', suggestedMaxAmount: 50000 } });
    const now = await clock();
    const due = (month: number) => osloDatePlus(now, 30 * month);
    const monthly = (month: number, extra: Record<string, unknown> = {}) => ({
      agreementId: a.id, chargeId: `m${month}-${a.id.slice(4)}`, type: 'RECURRING', amount: 14900, transactionType: 'DIRECT_CAPTURE', due: due(month), retryDays: 3, ...extra,
    });
    const created = await charges(Array.from({ length: 12 }, (_, i) => monthly(i + 1)));
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.successfulCharges.length, 12, created.text);
    assert.deepEqual(created.body.failedCharges, []);
    assert.deepEqual(created.body.retryableCharges, []);
    assert.equal(created.body.successfulCharges[0].status, 'DUE');
    assert.equal(created.body.successfulCharges[0].cardInfo, undefined);

    // Not yet due: payment-info is refused; a result before payment-info is a 409.
    const early = await paymentInfo(a.id, monthly(1).chargeId);
    assertProblem(early, 409);
    assert.match(early.body.detail, /not due yet/);
    assertProblem(await result(a.id, monthly(1).chargeId, { status: 'SUCCESS' }), 409);

    const outcomes: string[] = [];
    for (let month = 1; month <= 12; month++) {
      const cid = monthly(month).chargeId;
      await advanceTo(new Date(now.getTime() + (30 * month * 24 + 1) * 3600_000));
      const info = await paymentInfo(a.id, cid);
      assert.equal(info.status, 200, info.text);
      assert.equal(info.body.amount, 14900);
      assert.equal(info.body.cardInfo.cardDataType, 'TOKEN');
      assert.match(info.body.cardInfo.networkToken.number, /^\d{16}$/);
      assert.equal(typeof info.body.cardInfo.networkToken.cryptogram, 'string');
      if (month === 2) {
        // A retryable failure: DUE again; the retry fetches fresh card data and succeeds.
        const failed = await result(a.id, cid, { status: 'FAILED', error: { code: 300, retry: true, message: 'Refused by Issuer' } });
        assert.equal(failed.status, 204, failed.text);
        assert.equal((await getCharge(a.id, cid)).body.status, 'DUE');
        assertProblem(await result(a.id, cid, { status: 'SUCCESS' }), 409);
        const again = await paymentInfo(a.id, cid);
        assert.notEqual(again.body.cardInfo.networkToken.cryptogram, info.body.cardInfo.networkToken.cryptogram);
      }
      if (month === 3) {
        assert.equal((await result(a.id, cid, { status: 'FAILED', error: { code: 51, retry: false, message: 'Insufficient funds' } })).status, 204);
      } else if (month === 4) {
        // Retryable, but never retried: FAILED when its retry days are over.
        assert.equal((await result(a.id, cid, { status: 'FAILED', error: { code: 300, retry: true } })).status, 204);
        await advance(4 * 24 * 3600);
        await eventually(async () => (await getCharge(a.id, cid)).body.status === 'FAILED', 'the charge fails after its retry days');
      } else {
        const ok = await result(a.id, cid, { status: 'SUCCESS' });
        assert.equal(ok.status, 204, ok.text);
        // The same result again: 204; another one after it: 409.
        assert.equal((await result(a.id, cid, { status: 'SUCCESS' })).status, 204);
        assertProblem(await result(a.id, cid, { status: 'FAILED', error: { retry: false } }), 409);
      }
      const charge = await getCharge(a.id, cid);
      outcomes.push(`${charge.body.status}${charge.body.failureReason ? `:${charge.body.failureReason}` : ''}`);
    }
    assert.deepEqual(outcomes, ['CHARGED', 'CHARGED', 'FAILED:non_technical_error', 'FAILED:technical_error', ...Array(8).fill('CHARGED')]);
    // The next year's first charge, then the merchant stops the agreement.
    assert.equal((await charges([monthly(13)])).body.successfulCharges.length, 1);
    const stopped = await call(server.url, 'PATCH', `/recurring/v3/agreements/${a.id}`, { headers: { ...h, ...key() }, body: { status: 'STOPPED' } });
    assert.equal(stopped.status, 204, stopped.text);
    const agreement = await getAgreement(a.id);
    assert.equal(agreement.body.status, 'STOPPED');
    assert.ok(agreement.body.stop !== null);
    // The charges not yet paid were cancelled with it; a new charge is refused.
    const list = await call(server.url, 'GET', `/recurring/v3/agreements/${a.id}/charges?status=CANCELLED`, { headers: h });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.map((c: { id: string }) => c.id), [monthly(13).chargeId]);
    const refused = await charges([monthly(14)]);
    assert.equal(refused.status, 200, refused.text);
    assert.equal(refused.body.failedCharges[0].error.code, 'agreement_not_active');
    assertProblem(await call(server.url, 'PATCH', `/recurring/v3/agreements/${a.id}`, { headers: { ...h, ...key() }, body: { productName: 'New' } }), 400);
  });

  it('gives an UNSCHEDULED charge its card data at once, sorts a batch into its three lists, and keeps chargeIds unique', async () => {
    const a = await active({ pricing: { type: 'VARIABLE', currency: 'NOK', suggestedMaxAmount: 20000 } });
    const cid = `u-${randomUUID().slice(0, 8)}`;
    const item = { agreementId: a.id, chargeId: cid, type: 'UNSCHEDULED', amount: 5000, transactionType: 'RESERVE_CAPTURE', description: 'Top-up' };
    const batch = await charges([
      item,
      { ...item, chargeId: `${cid}-big`, amount: 20001 },
      { ...item, chargeId: `${cid}-bad`, type: 'SOMETIMES' },
      { ...item, chargeId: `${cid}-none`, agreementId: 'agr_nothere' },
      { ...item, chargeId: cid, amount: 1 },
    ]);
    assert.equal(batch.status, 200, batch.text);
    assert.equal(batch.body.successfulCharges.length, 1, batch.text);
    const ok = batch.body.successfulCharges[0];
    assert.equal(ok.chargeId, cid);
    assert.equal(ok.cardInfo.cardDataType, 'TOKEN');
    assert.equal(ok.cardInfo.cardType, 'VISA-DEBIT');
    assert.deepEqual(batch.body.failedCharges.map((f: { chargeId: string; error: { code: string } }) => `${f.chargeId}:${f.error.code}`), [
      `${cid}-big:charge_amount_too_high`, `${cid}-bad:invalid_charge`, `${cid}-none:agreement_not_found`, `${cid}:duplicate_charge_id`,
    ]);
    // The same charge again in a new batch: successful as it was; another with its chargeId: failed.
    const again = await charges([item, { ...item, amount: 6000 }]);
    assert.equal(again.body.successfulCharges[0].chargeId, cid);
    assert.equal(again.body.failedCharges[0].error.code, 'duplicate_charge_id');
    const reused = await charges([{ ...item, amount: 6000 }]);
    assert.equal(reused.body.failedCharges[0].error.code, 'charge_id_used');

    assertProblem(await paymentInfo(a.id, cid), 409);
    // An UNSCHEDULED charge that fails is FAILED, retry or not: it has no retry days.
    const once = `${cid}-once`;
    assert.equal((await charges([{ ...item, chargeId: once }])).body.successfulCharges.length, 1);
    assert.equal((await result(a.id, once, { status: 'FAILED', error: { code: 300, retry: true } })).status, 204);
    assert.equal((await getCharge(a.id, once)).body.status, 'FAILED');
    assert.equal((await result(a.id, cid, { status: 'SUCCESS' })).status, 204);
    assert.equal((await getCharge(a.id, cid)).body.status, 'RESERVED');
    const cancelled = await call(server.url, 'DELETE', `/recurring/v3/agreements/${a.id}/charges/${cid}`, { headers: { ...h, ...key() } });
    assert.equal(cancelled.status, 204, cancelled.text);
    assert.equal((await getCharge(a.id, cid)).body.status, 'CANCELLED');

    assertProblem(await charges([]), 400, 'body');
    assertProblem(await charges(Array.from({ length: 51 }, () => item)), 400, 'body');
    assertProblem(await charges({ items: [] }), 400, 'body');
  });

  it('captures, refunds and cancels charges by the amount rules', async () => {
    const a = await active({ initialCharge: { amount: 10000, description: 'First', transactionType: 'RESERVE_CAPTURE' } });
    const path = `/recurring/v3/agreements/${a.id}/charges/${a.chargeId}`;
    const post = (kind: string, amount: number, headers = { ...h, ...key() }) => call(server.url, 'POST', `${path}/${kind}`, { headers, body: { amount, description: kind } });
    assertProblem(await post('refund', 100), 400);
    assertProblem(await post('capture', 10001), 400);
    const keyed = { ...h, ...key() };
    assert.equal((await post('capture', 4000, keyed)).status, 204);
    assert.equal((await post('capture', 4000, keyed)).status, 204, 'a retry with its key is answered as the first');
    assertProblem(await post('capture', 3000, keyed), 409);
    assert.equal((await getCharge(a.id, a.chargeId!)).body.status, 'PARTIALLY_CAPTURED');
    assert.equal((await post('refund', 1000)).status, 204);
    const cancelled = await call(server.url, 'DELETE', path, { headers: { ...h, ...key() } });
    assert.equal(cancelled.status, 204, cancelled.text);
    const charge = await getCharge(a.id, a.chargeId!);
    assert.equal(charge.body.status, 'PARTIALLY_REFUNDED');
    assert.deepEqual(charge.body.summary, { captured: 4000, refunded: 1000, cancelled: 6000 });
    assert.deepEqual(charge.body.history.map((e: { event: string }) => e.event), ['CREATE', 'RESERVE', 'CAPTURE', 'REFUND', 'CANCEL']);
    assertProblem(await call(server.url, 'POST', `${path}/capture`, { headers: { ...h, ...key() }, body: { amount: 100 } }), 400, 'description');
  });

  it('lets the user change the card (a zero-amount callback) and stop the agreement; charges then use the new card', async () => {
    const a = await active();
    const before = await call(server.url, 'GET', `/admin/agreements/${a.id}`, { headers: adminHeaders() });
    assert.equal(before.status, 200, before.text);
    const changed = await call(server.url, 'POST', `/admin/agreements/${a.id}/change-card`, { headers: adminHeaders(), body: {} });
    assert.equal(changed.status, 200, changed.text);
    const calls = stub.callsFor(a.pspReference);
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1].body.amount, { currency: 'NOK', value: 0 });
    assert.notEqual(calls[1].body.cardInfo.maskedCardNumber, calls[0].body.cardInfo.maskedCardNumber);
    assert.deepEqual(changed.body.cardCallbacks.map((c: { purpose: string; outcome: string }) => `${c.purpose}:${c.outcome}`), ['SIGNUP:RESERVE', 'CARD_CHANGE:RESERVE']);
    const unscheduled = await charges([{ agreementId: a.id, chargeId: `cc-${randomUUID().slice(0, 8)}`, type: 'UNSCHEDULED', amount: 100, transactionType: 'DIRECT_CAPTURE' }]);
    assert.equal(unscheduled.body.successfulCharges[0].cardInfo.maskedCardNumber, calls[1].body.cardInfo.maskedCardNumber);

    // A declined card change leaves the old card.
    stub.on(a.pspReference, { kind: 'fail', errorCode: 300 });
    const refused = await call(server.url, 'POST', `/admin/agreements/${a.id}/change-card`, { headers: adminHeaders(), body: {} });
    assert.equal(refused.status, 400, refused.text);
    assert.match(refused.body.detail, /old card stays/);

    const stopped = await call(server.url, 'POST', `/admin/agreements/${a.id}/stop`, { headers: adminHeaders() });
    assert.equal(stopped.status, 200, stopped.text);
    assert.equal(stopped.body.stoppedBy, 'USER');
    assert.equal((await getAgreement(a.id)).body.status, 'STOPPED');
  });

  it('lists a sales unit\'s agreements by status, a page at a time', async () => {
    const a = await active();
    const list = await call(server.url, 'GET', '/recurring/v3/agreements?status=ACTIVE&pageSize=2', { headers: h });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.length, 2);
    assert.ok(list.body.every((x: { status: string }) => x.status === 'ACTIVE'));
    const token = list.headers.get('continuation-token');
    assert.ok(token);
    const ids: string[] = list.body.map((x: { id: string }) => x.id);
    let next: string | null = token;
    while (next) {
      const page: Answer = await call(server.url, "GET", "/recurring/v3/agreements?status=ACTIVE&pageSize=2", { headers: { ...h, "continuation-token": next } });
      ids.push(...page.body.map((x: { id: string }) => x.id));
      next = page.headers.get('continuation-token');
    }
    assert.ok(ids.includes(a.id));
    assert.equal(new Set(ids).size, ids.length);
    assertProblem(await call(server.url, 'GET', '/recurring/v3/agreements?status=SOMETIMES', { headers: h }), 400, 'status');
    const other = await call(server.url, 'GET', `/recurring/v3/agreements/${a.id}`, { headers: { ...h, 'merchant-serial-number': DEMO.secondMsn } });
    assertProblem(other, 404);
  });

  it('answers a charge of an agreement whose card the user is changing at that moment as retryable', async () => {
    const a = await active();
    stub.on(a.pspReference, { kind: 'slow', ms: 1500, then: { kind: 'reserve' } });
    const changing = call(server.url, 'POST', `/admin/agreements/${a.id}/change-card`, { headers: adminHeaders(), body: {} });
    await eventually(async () => (await call(server.url, 'GET', `/admin/agreements/${a.id}`, { headers: adminHeaders() })).body.cardCallbacks.some((c: { outcome: string }) => c.outcome === 'IN_FLIGHT'), 'the card change is in flight');
    const item = { agreementId: a.id, chargeId: `rt-${randomUUID().slice(0, 8)}`, type: 'UNSCHEDULED', amount: 100, transactionType: 'DIRECT_CAPTURE' };
    const during = await charges([item]);
    assert.equal(during.status, 200, during.text);
    assert.equal(during.body.retryableCharges.length, 1, during.text);
    assert.equal(during.body.retryableCharges[0].error.code, 'card_change_in_progress');
    assert.equal((await changing).status, 200);
    const after = await charges([item]);
    assert.equal(after.body.successfulCharges.length, 1, after.text);
  });

  it('sends Recurring webhooks, signed, in order: activated, the initial charge reserved and captured, stopped with its actor, the unpaid charge canceled', async () => {
    const receiver = await WebhookReceiver.start();
    try {
      const events = ['recurring.agreement-activated.v1', 'recurring.agreement-rejected.v1', 'recurring.agreement-stopped.v1', 'recurring.agreement-expired.v1', 'recurring.charge-reserved.v1',
        'recurring.charge-captured.v1', 'recurring.charge-canceled.v1', 'recurring.charge-refunded.v1', 'recurring.charge-failed.v1'];
      const registered = await call(server.url, 'POST', '/webhooks/v1/webhooks', { headers: h, body: { url: receiver.url, events } });
      assert.equal(registered.status, 201, registered.text);
      receiver.secret = registered.body.secret;
      const a = await active({ initialCharge: { amount: 7000, description: 'First', transactionType: 'RESERVE_CAPTURE' } });
      const cid = a.chargeId!;
      assert.equal((await call(server.url, 'POST', `/recurring/v3/agreements/${a.id}/charges/${cid}/capture`, { headers: { ...h, ...key() }, body: { amount: 7000, description: 'all' } })).status, 204);
      const due = osloDatePlus(await clock(), 5);
      assert.equal((await charges([{ agreementId: a.id, chargeId: `wh-${a.id.slice(4)}`, type: 'RECURRING', amount: 7000, transactionType: 'DIRECT_CAPTURE', due }])).body.successfulCharges.length, 1);
      assert.equal((await call(server.url, 'PATCH', `/recurring/v3/agreements/${a.id}`, { headers: { ...h, ...key() }, body: { status: 'STOPPED' } })).status, 204);
      const mine = async () => (await receiver.until(receiver.received.length + 1, 300)).filter((r) => r.body?.agreementId === a.id);
      let got = await mine();
      for (let i = 0; i < 40 && got.length < 5; i++) got = await mine();
      assert.deepEqual(got.map((r) => r.body.eventType), [
        'recurring.agreement-activated.v1', 'recurring.charge-reserved.v1', 'recurring.charge-captured.v1', 'recurring.agreement-stopped.v1', 'recurring.charge-canceled.v1',
      ]);
      for (const r of got) {
        assert.equal(r.signatureProblem, undefined);
        assert.equal(r.body.msn, DEMO.msn);
        assert.match(r.body.occurred, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      }
      assert.equal(got[3].body.actor, 'MERCHANT');
      assert.deepEqual({ ...got[2].body, occurred: undefined }, {
        msn: DEMO.msn, agreementId: a.id, chargeId: cid, chargeType: 'INITIAL', amount: 7000, currency: 'NOK', status: 'CHARGED', eventType: 'recurring.charge-captured.v1', occurred: undefined,
      });
      assert.equal(got[4].body.status, 'CANCELLED');
      // A PENDING agreement the user stops (rejects in the app): rejected, without an actor.
      const pending = await draft(draftBody());
      const rejected = await call(server.url, 'POST', `/admin/agreements/${pending.body.agreementId}/stop`, { headers: adminHeaders() });
      assert.equal(rejected.status, 200, rejected.text);
      let theirs = receiver.received.filter((r) => r.body?.agreementId === pending.body.agreementId);
      for (let i = 0; i < 40 && theirs.length < 1; i++) theirs = (await receiver.until(receiver.received.length + 1, 300)).filter((r) => r.body?.agreementId === pending.body.agreementId);
      assert.deepEqual(theirs.map((r) => [r.body.eventType, r.body.actor]), [['recurring.agreement-rejected.v1', undefined]]);
      const removed = await call(server.url, 'DELETE', `/webhooks/v1/webhooks/${registered.body.id}`, { headers: h });
      assert.equal(removed.status, 204);
    } finally {
      await receiver.close();
    }
  });

  it('shows the console the agreements, each charge\'s timeline (payment-info, results), the due ones not reported, and every card callback', async () => {
    const a = await active();
    const today = osloDatePlus(await clock(), 0);
    const paid = `cs-paid-${a.id.slice(4)}`;
    const waiting = `cs-wait-${a.id.slice(4)}`;
    const batch = await charges([paid, waiting].map((chargeId) => ({ agreementId: a.id, chargeId, type: 'RECURRING', amount: 2500, transactionType: 'DIRECT_CAPTURE', due: today, retryDays: 5 })));
    assert.equal(batch.body.successfulCharges.length, 2, batch.text);
    assert.equal((await paymentInfo(a.id, paid)).status, 200);
    assert.equal((await result(a.id, paid, { status: 'SUCCESS' })).status, 204);
    const browser = await signedIn(server.url);
    const list = await browser.get('/console/agreements');
    assert.equal(list.status, 200);
    assert.ok(list.html.includes(`href="/console/agreements/${a.id}"`), 'the agreement is listed');
    const page = await browser.get(`/console/agreements/${a.id}`);
    assert.equal(page.status, 200);
    const text = textOf(page.html);
    assert.match(text, /ACTIVE/);
    assert.match(text, new RegExp(`${paid} · RECURRING · .* · CHARGED`));
    assert.match(text, /payment-info fetched/);
    assert.match(text, new RegExp(`${waiting} · RECURRING · .* · DUE · due, not reported`));
    assert.match(text, /sign-up · round 1 · RESERVE · HTTP 200/);
    assert.match(text, /HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256/);
    assert.equal((await browser.get('/console/agreements/agr_nothere')).status, 404);
  });

  it('takes cardCallback fault rules for an agreement\'s callbacks, and reset empties agreements and charges', async () => {
    const body = draftBody();
    const drafted = await draft(body);
    const id = drafted.body.agreementId as string;
    const rule = await call(server.url, 'POST', '/admin/faults', { headers: adminHeaders(), body: { route: 'cardCallback', pspTransactionId: id, status: 500, times: 1 } });
    assert.equal(rule.status, 201, rule.text);
    const refused = await accept(id);
    assertProblem(refused, 400);
    assert.match(refused.body.detail, /HTTP 500/);
    assert.equal(stub.callsFor((body.cardPassthrough as { pspReference: string }).pspReference).length, 0, 'the fault answered in the PSP\'s place');
    const view = await call(server.url, 'GET', `/admin/agreements/${id}`, { headers: adminHeaders() });
    assert.equal(view.body.cardCallbacks[0].responseStatus, 500);
    assert.equal(view.body.closedReason, 'HTTP 500');

    const reset = await call(server.url, 'POST', '/admin/reset', { headers: adminHeaders(), body: { pspId: DEMO.psp.pspId } });
    assert.equal(reset.status, 200, reset.text);
    assertProblem(await getAgreement(id), 404);
    assert.deepEqual((await call(server.url, 'GET', '/recurring/v3/agreements', { headers: h })).body, []);
  });
});
