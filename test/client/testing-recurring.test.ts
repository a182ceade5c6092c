// vipps-psp/client and vipps-psp/testing for Recurring: a PSP's card-callback endpoint tested end to
// end with the harness — a sign-up with a chosen card, a year's first charges driven by
// advanceToNextDue, a card change and the user's stop — through the typed RecurringClient.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { startVippsPsp, type VippsPspHarness } from '../../src/testing/index.ts';
import { VippsProblemError, cardCallbackAnswer, verifyCardCallback, type CardCallbackRequest, type DraftAgreement } from '../../src/client/index.ts';

describe('vipps-psp/testing and the RecurringClient', () => {
  let vipps: VippsPspHarness;
  let endpoint: http.Server;
  let callbackUrl = '';
  const callbacks: CardCallbackRequest[] = [];

  before(async () => {
    vipps = await startVippsPsp();
    // The PSP's card-callback endpoint under test: verifies each callback and reserves.
    endpoint = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        callbacks.push(verifyCardCallback({ body: Buffer.concat(chunks), headers: req.headers, pathAndQuery: req.url ?? '/', secret: vipps.credentials.clientSecret }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(cardCallbackAnswer.reserve('ntr-r')));
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

  it('signs a user up with a chosen card, bills the next months on their due dates, changes the card and stops', async () => {
    const pspReference = `r-${randomUUID().slice(0, 12)}`;
    const draft: DraftAgreement = {
      pricing: { type: 'LEGACY', currency: 'NOK', amount: 9900 }, interval: { unit: 'MONTH', count: 1 },
      merchantRedirectUrl: 'https://shop.example/r', merchantAgreementUrl: 'https://shop.example/a', productName: 'Magazine',
      cardPassthrough: { pspReference, cardCallbackUrl: callbackUrl, allowedCardTypes: ['VISA_DEBIT', 'MC_DEBIT'] },
    };
    const drafted = await vipps.recurring.draftAgreement(draft);
    assert.match(drafted.agreementId, /^agr_/);
    await vipps.acceptAgreement(drafted.agreementId, { card: 'MASTERCARD' });
    assert.equal(callbacks.at(-1)?.cardInfo.cardType, 'MC-DEBIT');
    assert.equal(callbacks.at(-1)?.amount.value, 0);
    assert.equal((await vipps.recurring.getAgreement(drafted.agreementId)).status, 'ACTIVE');

    const clock = await vipps.advanceClock(0);
    const month = (n: number) => {
      const d = new Date(clock.now);
      d.setUTCDate(d.getUTCDate() + 31 * n);
      return d.toISOString().slice(0, 10);
    };
    const batch = await vipps.recurring.createCharges([1, 2, 3].map((n) => ({
      agreementId: drafted.agreementId, chargeId: `mag-${n}-${pspReference}`, type: 'RECURRING' as const, amount: 9900, transactionType: 'DIRECT_CAPTURE' as const, due: month(n), retryDays: 2,
    })));
    assert.equal(batch.successfulCharges.length, 3);
    for (const n of [1, 2, 3]) {
      const chargeId = `mag-${n}-${pspReference}`;
      await assert.rejects(vipps.recurring.paymentInfo(drafted.agreementId, chargeId), (err: unknown) => err instanceof VippsProblemError && err.status === 409 && typeof err.contextId === 'string');
      await vipps.advanceToNextDue(drafted.agreementId);
      const info = await vipps.recurring.paymentInfo(drafted.agreementId, chargeId);
      assert.equal(info.cardInfo.cardType, 'MC-DEBIT');
      await vipps.recurring.reportResult(drafted.agreementId, chargeId, { status: 'SUCCESS' });
      assert.equal((await vipps.recurring.getCharge(drafted.agreementId, chargeId)).status, 'CHARGED');
    }
    await assert.rejects(vipps.advanceToNextDue(drafted.agreementId), /no DUE charge/);
    assert.equal((await vipps.recurring.listCharges(drafted.agreementId, { status: 'CHARGED' })).length, 3);

    const changed = await vipps.changeAgreementCard(drafted.agreementId, 'VISA');
    assert.deepEqual(changed.cardCallbacks.map((c) => c.purpose), ['SIGNUP', 'CARD_CHANGE']);
    assert.equal(callbacks.at(-1)?.cardInfo.cardType, 'VISA-DEBIT');
    const stopped = await vipps.stopAgreementAsUser(drafted.agreementId);
    assert.equal(stopped.agreement.status, 'STOPPED');
    assert.equal(stopped.stoppedBy, 'USER');
    assert.ok((await vipps.recurring.listAgreements({ status: 'STOPPED' })).some((a) => a.id === drafted.agreementId));

    const refused = await vipps.recurring.createCharges([]).then(() => undefined, (err: unknown) => err);
    assert.ok(refused instanceof VippsProblemError);
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.extraDetails.map((d) => d.name), ['body']);
  });
});
