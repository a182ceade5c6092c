// A Recurring agreement on the user's side, in real Chromium: the vippsConfirmationUrl, the app
// simulator's agreement screen with the cards allowedCardTypes permits, the sign-up card callback to a
// PSP stub that checks every signature, 3-D Secure on the PSP's page after a soft decline, and later a
// card change (a zero-amount callback) and a stop from the app; and a rejection.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { call, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { CardCallbackStub } from '../support/card-callback-stub.ts';
import { launchChromium, phoneContext, plain, screenshot, skipWithoutChromium } from '../support/browser.ts';

describe('Recurring agreements in Chromium', { skip: skipWithoutChromium }, () => {
  let server: TestServer;
  let stub: CardCallbackStub;
  let browser: Browser;
  let h: Record<string, string>;

  before(async () => {
    stub = await CardCallbackStub.start(DEMO.psp.clientSecret);
    server = await startTestServer();
    h = await pspHeaders(server.url);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await stub?.close();
  });

  const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name }).waitFor();
  const mainText = async (page: Page) => plain(await page.locator('main').innerText());
  const agreement = async (id: string) => (await call(server.url, 'GET', `/recurring/v3/agreements/${id}`, { headers: h })).body;

  it('a person accepts an agreement with a chosen card after 3-D Secure, and later changes the card and stops it', async () => {
    const pspReference = `web-${randomUUID().slice(0, 12)}`;
    stub.on(pspReference, { kind: 'sequence', steps: [{ kind: 'soft-decline' }, { kind: 'reserve' }] });
    const drafted = await call(server.url, 'POST', '/recurring/v3/agreements', {
      headers: { ...h, 'idempotency-key': pspReference },
      body: {
        pricing: { type: 'LEGACY', currency: 'NOK', amount: 14900 }, interval: { unit: 'MONTH', count: 1 },
        initialCharge: { amount: 4900, description: 'First month', transactionType: 'DIRECT_CAPTURE' },
        campaign: { type: 'PERIOD_CAMPAIGN', price: 4900, period: { unit: 'MONTH', count: 1 } },
        merchantRedirectUrl: `${stub.storeUrl}/return?agreement=1`, merchantAgreementUrl: 'https://shop.example/agreement',
        productName: 'Film club', productDescription: 'Two films a month',
        cardPassthrough: { pspReference, cardCallbackUrl: stub.url, allowedCardTypes: ['VISA_DEBIT', 'MC_DEBIT'] },
      },
    });
    assert.equal(drafted.status, 201, drafted.text);
    const id = drafted.body.agreementId as string;

    const context = await phoneContext(browser);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));
    try {
      await page.goto(drafted.body.vippsConfirmationUrl);
      await heading(page, 'Log in to Vipps');
      await page.getByLabel('Phone number').fill(DEMO.userPhone);
      await page.getByRole('button', { name: 'Log in' }).click();
      await heading(page, 'Acme Shop');
      const shown = await mainText(page);
      for (const text of ['Film club', 'Two films a month', '149,00 kr', 'every month', 'Campaign: 49,00 kr for the first month', 'First payment now: 49,00 kr (First month)']) {
        assert.ok(shown.includes(text), `${text} in ${shown}`);
      }
      // Only the cards the agreement allows: Visa debit, Mastercard debit, and the Visa/Dankort as a Visa.
      assert.equal(await page.getByRole('radio').count(), 3);
      assert.equal(await page.getByRole('radio', { name: /· as Visa$/ }).count(), 1);
      await screenshot(page, 'recurring-1-agreement');
      await page.getByRole('radio', { name: /Mastercard/ }).check();
      await page.getByRole('button', { name: 'Accept agreement' }).click();

      // The PSP soft-declined: its 3-D Secure page, then back to the app, which sends the second callback.
      await page.getByRole('link', { name: 'Verify with your bank' }).click();
      await heading(page, 'Bank 3-D Secure');
      assert.equal((await agreement(id)).status, 'PENDING');
      await page.getByRole('link', { name: 'Complete' }).click();
      await page.getByText('Active', { exact: true }).waitFor();
      const calls = stub.callsFor(pspReference);
      assert.equal(calls.length, 2);
      for (const c of calls) {
        assert.equal(c.signatureProblem, undefined);
        assert.equal(c.body.cardInfo.cardType, 'MC-DEBIT', 'the chosen card');
        assert.deepEqual(c.body.amount, { currency: 'NOK', value: 4900 });
      }
      assert.equal(calls[1].body.authorizationAttemptId, calls[0].body.authorizationAttemptId);
      assert.equal((await agreement(id)).status, 'ACTIVE');
      const initial = await call(server.url, 'GET', `/recurring/v3/agreements/${id}/charges/${drafted.body.chargeId}`, { headers: h });
      assert.equal(initial.body.status, 'CHARGED');
      await screenshot(page, 'recurring-2-active');

      // Later: the person changes the card (to the Visa), then stops the agreement.
      await page.goto(`${server.services.config.publicUrl}/app/agreements`);
      await heading(page, 'Agreements');
      await page.getByRole('link', { name: /Film club/ }).click();
      assert.ok((await mainText(page)).includes('Paid with Mastercard'));
      await page.getByRole('radio', { name: /Visa •••• \d{4}$/ }).check();
      await page.getByRole('button', { name: 'Change card' }).click();
      await page.getByText(/Paid with Visa/).waitFor();
      const change = stub.callsFor(pspReference)[2];
      assert.equal(change.signatureProblem, undefined);
      assert.deepEqual(change.body.amount, { currency: 'NOK', value: 0 });
      assert.equal(change.body.cardInfo.cardType, 'VISA-DEBIT');

      await page.getByRole('button', { name: 'Stop agreement' }).click();
      await page.getByText('Stopped', { exact: true }).waitFor();
      assert.equal((await agreement(id)).status, 'STOPPED');

      // Another agreement, rejected on its confirmation screen.
      const other = await call(server.url, 'POST', '/recurring/v3/agreements', {
        headers: { ...h, 'idempotency-key': `${pspReference}-2` },
        body: {
          pricing: { type: 'FLEXIBLE', currency: 'NOK' }, merchantRedirectUrl: `${stub.storeUrl}/return?agreement=2`, merchantAgreementUrl: 'https://shop.example/agreement',
          productName: 'Pay per film', cardPassthrough: { pspReference: `${pspReference}-2`, cardCallbackUrl: stub.url, allowedCardTypes: ['VISA_DEBIT'] },
        },
      });
      assert.equal(other.status, 201, other.text);
      await page.goto(other.body.vippsConfirmationUrl);
      await page.getByRole('button', { name: 'Reject' }).click();
      await page.getByText('Stopped', { exact: true }).waitFor();
      assert.equal((await agreement(other.body.agreementId)).status, 'STOPPED');
      assert.equal(stub.callsFor(`${pspReference}-2`).length, 0, 'no card callback for a rejected agreement');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
